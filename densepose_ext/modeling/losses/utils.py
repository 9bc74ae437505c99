"""Ground-truth packing and bilinear point sampling shared by the DensePose losses.

Packing walks the images and their (filtered) proposals in order, keeping a global proposal index
that indexes the batched predictor outputs. Instances with no DensePose data, or no data of the
kind the loss needs, advance the index but contribute nothing.
"""

from dataclasses import dataclass
from typing import List, Optional

import torch
from detectron2.structures import BoxMode, Instances

from ...structures.constants import BOX_FRAME_SIZE

__all__ = [
    "PackedDensePoseGT",
    "PointSamples",
    "pack_densepose_gt",
    "sample_point_locations",
    "extract_at_points",
    "zero_loss",
]


@dataclass
class PackedDensePoseGT:
    """GT of the M used instances and their P points, concatenated.

    x_gt, y_gt [P] box-frame coordinates; chart: fine_segm_labels_gt [P] int64, u_gt, v_gt [P];
    CSE: vertex_ids_gt, vertex_mesh_ids_gt [P] int64; coarse_segm_gt [M, 256, 256] (None unless
    every used instance has a mask); bbox_xywh_gt / bbox_xywh_est [M, 4] absolute XYWH;
    point_bbox_with_dp_indices [P] (index among used instances); point_bbox_indices [P] and
    bbox_indices [M] (global proposal index = row of the predictor outputs); point_inpainted [P]
    bool (teacher-inpainted points; None unless some used instance carries the flags).
    """

    x_gt: torch.Tensor
    y_gt: torch.Tensor
    fine_segm_labels_gt: Optional[torch.Tensor]
    u_gt: Optional[torch.Tensor]
    v_gt: Optional[torch.Tensor]
    vertex_ids_gt: Optional[torch.Tensor]
    vertex_mesh_ids_gt: Optional[torch.Tensor]
    coarse_segm_gt: Optional[torch.Tensor]
    bbox_xywh_gt: torch.Tensor
    bbox_xywh_est: torch.Tensor
    point_bbox_with_dp_indices: torch.Tensor
    point_bbox_indices: torch.Tensor
    bbox_indices: torch.Tensor
    point_inpainted: Optional[torch.Tensor] = None


def _uses(data, kind: str) -> bool:
    if data is None or len(data) == 0:
        return False
    return data.i is not None if kind == "chart" else data.vertex_ids is not None


def _point_subsets(used: list, max_points: int, device) -> List[Optional[torch.Tensor]]:
    """Per instance: sorted indices of a random subset of `max_points` points, or None (all)."""
    if max_points <= 0:
        return [None] * len(used)
    return [
        torch.randperm(len(d), device=device)[:max_points].sort().values
        if len(d) > max_points
        else None
        for d in used
    ]


def _inpainted_flags(data, count: int, device) -> torch.Tensor:
    flags = getattr(data, "inpainted", None)
    if flags is None:
        return torch.zeros(count, dtype=torch.bool, device=device)
    return flags.to(device)


def pack_densepose_gt(
    proposals_with_gt: List[Instances], kind: str = "chart", max_points_per_roi: int = 0
) -> Optional[PackedDensePoseGT]:
    """Packs the GT of `kind` ("chart" or "cse") from filtered proposals; None if nothing is usable.

    With `max_points_per_roi` > 0, every proposal whose GT has more points keeps a random subset
    of that many (drawn from torch's global generator); 0 keeps all points.
    """
    assert kind in ("chart", "cse"), kind
    used, boxes_gt, boxes_est, bbox_indices = [], [], [], []
    offset = 0
    for instances in proposals_with_gt:
        n = len(instances)
        if n and instances.has("gt_densepose"):
            gt_boxes = instances.gt_boxes.tensor
            est_boxes = instances.proposal_boxes.tensor
            for k, data in enumerate(instances.gt_densepose):
                if _uses(data, kind):
                    used.append(data)
                    boxes_gt.append(gt_boxes[k])
                    boxes_est.append(est_boxes[k])
                    bbox_indices.append(offset + k)
        offset += n
    if not used:
        return None
    device = boxes_gt[0].device
    subsets = _point_subsets(used, max_points_per_roi, device)
    counts = torch.tensor(
        [len(d) if sub is None else sub.numel() for d, sub in zip(used, subsets)],
        dtype=torch.long,
        device=device,
    )
    index_of_used = torch.arange(len(used), device=device)
    bbox_indices_t = torch.tensor(bbox_indices, dtype=torch.long, device=device)

    def take(values: torch.Tensor, sub: Optional[torch.Tensor]) -> torch.Tensor:
        values = values.to(device)
        return values if sub is None else values[sub]

    def cat(field: str) -> torch.Tensor:
        return torch.cat([take(getattr(d, field), sub) for d, sub in zip(used, subsets)])

    flagged = any(getattr(d, "inpainted", None) is not None for d in used)
    point_inpainted = (
        torch.cat([take(_inpainted_flags(d, len(d), device), sub) for d, sub in zip(used, subsets)])
        if flagged
        else None
    )

    chart = kind == "chart"
    segms = [d.segm for d in used]
    return PackedDensePoseGT(
        x_gt=cat("x"),
        y_gt=cat("y"),
        fine_segm_labels_gt=cat("i").long() if chart else None,
        u_gt=cat("u") if chart else None,
        v_gt=cat("v") if chart else None,
        vertex_ids_gt=None if chart else cat("vertex_ids").long(),
        vertex_mesh_ids_gt=None
        if chart
        else torch.repeat_interleave(
            torch.tensor([d.mesh_id for d in used], dtype=torch.long, device=device), counts
        ),
        coarse_segm_gt=torch.stack([s.to(device) for s in segms])
        if all(s is not None for s in segms)
        else None,
        bbox_xywh_gt=BoxMode.convert(torch.stack(boxes_gt), BoxMode.XYXY_ABS, BoxMode.XYWH_ABS),
        bbox_xywh_est=BoxMode.convert(torch.stack(boxes_est), BoxMode.XYXY_ABS, BoxMode.XYWH_ABS),
        point_bbox_with_dp_indices=torch.repeat_interleave(index_of_used, counts),
        point_bbox_indices=torch.repeat_interleave(bbox_indices_t, counts),
        bbox_indices=bbox_indices_t,
        point_inpainted=point_inpainted,
    )


@dataclass
class PointSamples:
    """Where each GT point falls on the S x S output grid of its proposal.

    valid [P] bool (inside the proposal box); x_lo, x_hi, y_lo, y_hi [P] int64 grid indices;
    w_x, w_y [P] weights of the hi neighbours (lo neighbours get 1 - w).
    """

    valid: torch.Tensor
    x_lo: torch.Tensor
    x_hi: torch.Tensor
    y_lo: torch.Tensor
    y_hi: torch.Tensor
    w_x: torch.Tensor
    w_y: torch.Tensor


def _grid_coords(v_norm, v0_gt, size_gt, v0_est, size_est, side: int):
    """One axis: image coordinate -> (inside, lo, hi, weight of hi) on the output grid."""
    v = v0_gt + v_norm * size_gt / BOX_FRAME_SIZE
    inside = (v >= v0_est) & (v < v0_est + size_est)
    g = (v - v0_est) * side / size_est
    lo = g.floor().clamp(0, side - 1).long()
    hi = (lo + 1).clamp(max=side - 1)
    weight = torch.minimum(hi.to(g.dtype), g) - lo.to(g.dtype)
    return inside, lo, hi, weight


def sample_point_locations(packed: PackedDensePoseGT, side: int) -> PointSamples:
    """Grid locations of all packed points on outputs of side `side` (no half-pixel shift)."""
    gt = packed.bbox_xywh_gt[packed.point_bbox_with_dp_indices]  # [P, 4]
    est = packed.bbox_xywh_est[packed.point_bbox_with_dp_indices]
    in_x, x_lo, x_hi, w_x = _grid_coords(
        packed.x_gt, gt[:, 0], gt[:, 2], est[:, 0], est[:, 2], side
    )
    in_y, y_lo, y_hi, w_y = _grid_coords(
        packed.y_gt, gt[:, 1], gt[:, 3], est[:, 1], est[:, 3], side
    )
    return PointSamples(in_x & in_y, x_lo, x_hi, y_lo, y_hi, w_x, w_y)


def extract_at_points(
    values: torch.Tensor,
    box_indices: torch.Tensor,
    samples: PointSamples,
    channels: Optional[torch.Tensor] = None,
    mask: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """Bilinear samples of `values` [N, C, S, S] at the points selected by `mask` [P] (all if None).

    With `channels` [P] one channel per point -> [P']; otherwise all channels -> [P', C].
    """
    s = samples
    if mask is not None:
        box_indices = box_indices[mask]
        channels = channels[mask] if channels is not None else None
        s = PointSamples(*(getattr(samples, f)[mask] for f in PointSamples.__dataclass_fields__))
    if channels is None:
        # [P', C] per neighbour
        def at(y, x):
            return values[box_indices, :, y, x]

        w_x, w_y = s.w_x[:, None], s.w_y[:, None]
    else:

        def at(y, x):
            return values[box_indices, channels, y, x]

        w_x, w_y = s.w_x, s.w_y
    return (
        at(s.y_lo, s.x_lo) * (1 - w_x) * (1 - w_y)
        + at(s.y_lo, s.x_hi) * w_x * (1 - w_y)
        + at(s.y_hi, s.x_lo) * (1 - w_x) * w_y
        + at(s.y_hi, s.x_hi) * w_x * w_y
    )


def zero_loss(*tensors: Optional[torch.Tensor]) -> torch.Tensor:
    """0 connected to every given tensor (so DDP sees the same graph on every process)."""
    present = [t for t in tensors if t is not None]
    total = present[0].sum() * 0
    for t in present[1:]:
        total = total + t.sum() * 0
    return total
