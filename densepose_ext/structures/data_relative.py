"""`DensePoseDataRelative`: the DensePose ground truth of one instance, in its box frame.

Frame: point coordinates `x`, `y` and the `segm` mask live in the GT box normalised so that the box
spans [0, 256) on both axes (x_image = x0 + x * w / 256). Labels: `i` fine part 1..24 (0 = none),
`segm` coarse part 1..14 (list form of `dp_masks`) or 0 / 1 (single-mask form).
"""

from typing import Any, Callable, Dict, Optional

import numpy as np
import torch
import torch.nn.functional as F

from .constants import (
    BOX_FRAME_SIZE,
    DENSEPOSE_ANNOTATION_KEYS,
    DENSEPOSE_CHART_KEYS,
    DENSEPOSE_CSE_KEYS,
    DENSEPOSE_INPAINTED_KEY,
    N_COARSE_PARTS,
    N_FINE_PARTS,
)
from .rle import decode_rle

__all__ = ["DensePoseDataRelative"]


class DensePoseDataRelative:
    """Per-instance DensePose GT: x, y [P] float32; i [P] int64; u, v [P] float32; vertex_ids [P]
    int64; mesh_id int; segm float32 [256, 256]; inpainted [P] bool (teacher-inpainted points,
    from `dp_inpainted`). Absent parts are None (chart-only data has no vertex_ids, CSE-only data
    no i / u / v, data without `dp_masks` no segm, data without `dp_inpainted` no inpainted)."""

    MASK_SIZE = BOX_FRAME_SIZE
    N_BODY_PARTS = N_COARSE_PARTS
    N_PART_LABELS = N_FINE_PARTS

    def __init__(
        self,
        annotation: Dict[str, Any],
        cleanup: bool = False,
        mesh_name_to_id: Optional[Callable[[str], int]] = None,
    ):
        """`mesh_name_to_id` resolves `ref_model` (e.g. `MeshCatalog.get_mesh_id`); without it
        `mesh_id` is -1 and only `mesh_name` is kept."""
        self.x = torch.as_tensor(annotation["dp_x"], dtype=torch.float32).reshape(-1)
        self.y = torch.as_tensor(annotation["dp_y"], dtype=torch.float32).reshape(-1)
        self.i = self.u = self.v = None
        self.vertex_ids = None
        self.mesh_id = -1
        self.mesh_name = None
        if all(k in annotation for k in DENSEPOSE_CHART_KEYS):
            self.i = torch.as_tensor(annotation["dp_I"]).reshape(-1).round().to(torch.int64)
            self.u = torch.as_tensor(annotation["dp_U"], dtype=torch.float32).reshape(-1)
            self.v = torch.as_tensor(annotation["dp_V"], dtype=torch.float32).reshape(-1)
        if all(k in annotation for k in DENSEPOSE_CSE_KEYS):
            self.vertex_ids = torch.as_tensor(annotation["dp_vertex"]).reshape(-1).to(torch.int64)
            self.mesh_name = str(annotation["ref_model"])
            if mesh_name_to_id is not None:
                self.mesh_id = int(mesh_name_to_id(self.mesh_name))
        self.inpainted = None
        if DENSEPOSE_INPAINTED_KEY in annotation:
            flags = torch.as_tensor(annotation[DENSEPOSE_INPAINTED_KEY]).reshape(-1)
            self.inpainted = flags != 0
        self.segm = None
        if "dp_masks" in annotation:
            self.segm = self.extract_segmentation_mask(annotation)
        self.device = torch.device("cpu")
        if cleanup:
            DensePoseDataRelative.cleanup_annotation(annotation)

    # ------------------------------------------------------------------ annotation helpers
    @staticmethod
    def has_annotation(annotation: Dict[str, Any]) -> bool:
        """True iff the annotation has points and chart (dp_I/U/V) or CSE (dp_vertex, ref_model)
        GT."""
        if not ("dp_x" in annotation and "dp_y" in annotation):
            return False
        return all(k in annotation for k in DENSEPOSE_CHART_KEYS) or all(
            k in annotation for k in DENSEPOSE_CSE_KEYS
        )

    @staticmethod
    def validate_annotation(annotation: Dict[str, Any]) -> None:
        """Raises ValueError naming the missing keys unless `has_annotation(annotation)`."""
        if DensePoseDataRelative.has_annotation(annotation):
            return
        present = [k for k in DENSEPOSE_ANNOTATION_KEYS if k in annotation]
        raise ValueError(
            "DensePose annotation needs dp_x, dp_y and either dp_I, dp_U, dp_V or dp_vertex, "
            f"ref_model; it has {present}"
        )

    @staticmethod
    def cleanup_annotation(annotation: Dict[str, Any]) -> None:
        """Removes every DensePose key (dp_* and ref_model) from the annotation dict, in place."""
        for key in DENSEPOSE_ANNOTATION_KEYS:
            annotation.pop(key, None)

    @staticmethod
    def extract_segmentation_mask(annotation: Dict[str, Any]) -> torch.Tensor:
        """Decodes `dp_masks` into float32 [256, 256]: list -> part labels (later parts win),
        dict -> 0 / 1, tensor -> used as is."""
        masks = annotation["dp_masks"]
        size = DensePoseDataRelative.MASK_SIZE
        if isinstance(masks, torch.Tensor):
            return masks.to(torch.float32)
        if isinstance(masks, dict):
            return torch.from_numpy(decode_rle(masks, (size, size)).astype(np.float32))
        segm = np.zeros((size, size), dtype=np.float32)
        for index, rle in enumerate(masks):
            if not rle:  # empty entry: part not annotated
                continue
            segm[decode_rle(rle, (size, size)) > 0] = index + 1
        return torch.from_numpy(segm)

    # ------------------------------------------------------------------ containers
    def __len__(self) -> int:
        """Number of annotated points."""
        return int(self.x.numel())

    def to(self, device: Any) -> "DensePoseDataRelative":
        """A shallow copy with every tensor on `device`."""
        device = torch.device(device)
        if device == self.device:
            return self
        moved = object.__new__(DensePoseDataRelative)
        for key, value in self.__dict__.items():
            setattr(moved, key, value.to(device) if isinstance(value, torch.Tensor) else value)
        moved.device = device
        return moved

    def __repr__(self) -> str:
        kinds = [k for k in ("i", "vertex_ids", "segm") if getattr(self, k) is not None]
        return f"DensePoseDataRelative(points={len(self)}, has={kinds}, mesh={self.mesh_name})"

    # ------------------------------------------------------------------ geometric transforms
    def apply_transform(
        self,
        transforms: Any,
        densepose_transform_data: Any = None,
        vertex_transforms: Optional[torch.Tensor] = None,
    ) -> None:
        """Applies the geometric part of a detectron2 `TransformList` in place.

        Resizes and crops need nothing (the data are box-relative). An odd number of horizontal
        flips mirrors the data (`densepose_transform_data`: `DensePoseTransformData` for chart GT,
        `vertex_transforms`: int64 [V] mesh symmetry for CSE GT); rotations rotate points and mask.
        """
        from detectron2.data.transforms import HFlipTransform, RotationTransform

        items = getattr(transforms, "transforms", [transforms])
        if sum(isinstance(t, HFlipTransform) for t in items) % 2 == 1:
            self.hflip(densepose_transform_data, vertex_transforms)
        for t in items:
            if isinstance(t, RotationTransform):
                self.rotate(t)

    def hflip(self, densepose_transform_data: Any = None, vertex_transforms=None) -> None:
        """Mirrors the data: x <- 256 - x, parts swapped, UV remapped, vertices via symmetry."""
        self.x = self.MASK_SIZE - self.x
        if self.i is not None:
            if densepose_transform_data is None:
                raise ValueError("flipping chart annotations needs DensePoseTransformData")
            self._flip_chart_points(densepose_transform_data)
        if self.vertex_ids is not None:
            if vertex_transforms is None:
                raise ValueError(
                    f"flipping CSE annotations needs the symmetry of mesh {self.mesh_name!r}"
                )
            self.vertex_ids = vertex_transforms.to(self.vertex_ids.device)[self.vertex_ids]
        if self.segm is not None:
            if densepose_transform_data is None:
                raise ValueError("flipping a part mask needs DensePoseTransformData")
            symmetries = densepose_transform_data.mask_label_symmetries.to(self.segm.device)
            flipped = self.segm.flip(dims=[1])
            self.segm = symmetries[flipped.long()].to(torch.float32)

    def _flip_chart_points(self, transform_data: Any) -> None:
        """Swaps fine labels and maps (u, v) through the table of the original part."""
        device = self.i.device
        fg = self.i > 0
        parts = (self.i[fg] - 1).clamp(0, self.N_PART_LABELS - 1)
        col = (self.u[fg].clamp(0, 1) * 255).long()  # table index: row from V, column from U
        row = (self.v[fg].clamp(0, 1) * 255).long()
        u_tables = transform_data.uv_symmetries["U_transforms"].to(device)
        v_tables = transform_data.uv_symmetries["V_transforms"].to(device)
        u_new, v_new = self.u.clone(), self.v.clone()
        u_new[fg] = u_tables[parts, row, col]
        v_new[fg] = v_tables[parts, row, col]
        self.u, self.v = u_new, v_new
        self.i = transform_data.point_label_symmetries.to(device)[self.i]

    def rotate(self, rotation: Any) -> None:
        """Rotates points and mask with a detectron2 `RotationTransform` (image size h x w).

        As in the original, the box frame is stretched to the image size, rotated with the image
        transform, and scaled back.
        """
        h, w = rotation.h, rotation.w
        scale = np.array([w / self.MASK_SIZE, h / self.MASK_SIZE], dtype=np.float64)
        coords = torch.stack([self.x, self.y], dim=1).cpu().numpy().astype(np.float64) * scale
        rotated = rotation.apply_coords(coords) / scale
        rotated = torch.as_tensor(rotated, dtype=torch.float32, device=self.x.device)
        self.x, self.y = rotated[:, 0].contiguous(), rotated[:, 1].contiguous()
        if self.segm is not None:
            size = self.MASK_SIZE
            image_frame = F.interpolate(self.segm[None, None], size=(h, w), mode="nearest")[0, 0]
            turned = rotation.apply_segmentation(image_frame.cpu().numpy().astype(np.uint8))
            turned = torch.as_tensor(turned.astype(np.float32), device=self.segm.device)
            self.segm = F.interpolate(turned[None, None], size=(size, size), mode="nearest")[0, 0]
