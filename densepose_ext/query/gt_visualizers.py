"""Ground-truth visualizers of `query_db.py show`: annotations drawn onto the entry's image.

DensePose annotations live in the box frame: `dp_x`, `dp_y` in [0, 256] map to the image point
(x0 + dp_x * w / 256, y0 + dp_y * h / 256) of the XYWH box, and the 14 `dp_masks` are 256x256
grids over the box. Each visualizer draws every annotation of an entry that has its data and
ignores the others (a CSE visualizer on a chart annotation draws nothing, for instance).
"""

import logging
from typing import Any, Callable, Dict, List, Optional, Sequence

import cv2
import numpy as np
from detectron2.structures import BoxMode

from ..structures.constants import BOX_FRAME_SIZE, N_COARSE_PARTS, N_FINE_PARTS
from ..structures.rle import RLEError, decode_rle
from ..vis.base import VisStyle, apply_colormap, blend_in_box

__all__ = [
    "GT_VISUALIZERS",
    "GroundTruthVisualizer",
    "annotation_box_xywh",
    "build_gt_visualizers",
    "densepose_points_in_image",
]

logger = logging.getLogger(__name__)

BOX_COLOR_BGR = (18, 127, 15)
POINT_COLOR_BGR = (0, 255, 255)
POINT_RADIUS = 2
SEGM_COLORMAP = "parula"
POINT_COLORMAP = "jet"


def annotation_box_xywh(ann: Dict[str, Any]) -> Optional[np.ndarray]:
    """float64 [4] XYWH box of an annotation (converted from its `bbox_mode`), None if absent."""
    if "bbox" not in ann:
        return None
    box = np.asarray(ann["bbox"], dtype=np.float64).reshape(-1)
    if box.size != 4 or not np.isfinite(box).all():
        return None
    mode = ann.get("bbox_mode", BoxMode.XYWH_ABS)
    if mode != BoxMode.XYWH_ABS:
        box = np.asarray(BoxMode.convert(box.tolist(), mode, BoxMode.XYWH_ABS), dtype=np.float64)
    return box


def densepose_points_in_image(ann: Dict[str, Any]) -> Optional[np.ndarray]:
    """float64 [N, 2] image (x, y) of the annotated points, None without points or box."""
    box = annotation_box_xywh(ann)
    if box is None or "dp_x" not in ann or "dp_y" not in ann:
        return None
    x0, y0, w, h = box
    xs = x0 + np.asarray(ann["dp_x"], dtype=np.float64) * w / BOX_FRAME_SIZE
    ys = y0 + np.asarray(ann["dp_y"], dtype=np.float64) * h / BOX_FRAME_SIZE
    return np.stack([xs, ys], axis=1)


class GroundTruthVisualizer:
    """Draws one kind of annotation of a dataset entry onto a BGR canvas, in place."""

    name = ""

    def draw(self, canvas: np.ndarray, entry: Dict[str, Any]) -> None:
        for ann in entry.get("annotations", []):
            self.draw_annotation(canvas, ann)

    def draw_annotation(self, canvas: np.ndarray, ann: Dict[str, Any]) -> None:
        raise NotImplementedError


class BoxGT(GroundTruthVisualizer):
    """`bbox`: 1-px rectangles, with the annotation id at the top-left corner when it has one."""

    name = "bbox"

    def draw_annotation(self, canvas: np.ndarray, ann: Dict[str, Any]) -> None:
        box = annotation_box_xywh(ann)
        if box is None:
            return
        x, y, w, h = (int(v) for v in box)
        cv2.rectangle(canvas, (x, y), (x + w, y + h), BOX_COLOR_BGR, 1)
        if "id" in ann:
            cv2.putText(
                canvas,
                str(ann["id"]),
                (x + 2, y + 10),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.35,
                BOX_COLOR_BGR,
                1,
                cv2.LINE_AA,
            )


class CoarseSegmentationGT(GroundTruthVisualizer):
    """`dp_segm`: the 14 coarse-part masks (`dp_masks`), coloured by part, blended over the box."""

    name = "dp_segm"

    def __init__(self, style: VisStyle = VisStyle()):
        self.style = style

    def draw_annotation(self, canvas: np.ndarray, ann: Dict[str, Any]) -> None:
        box = annotation_box_xywh(ann)
        masks = ann.get("dp_masks")
        if box is None or not masks:
            return
        masks = [masks] if isinstance(masks, dict) else list(masks)
        labels = np.zeros((BOX_FRAME_SIZE, BOX_FRAME_SIZE), np.uint8)
        for index, rle in enumerate(masks[:N_COARSE_PARTS]):
            if not rle:
                continue
            try:
                labels[decode_rle(rle, (BOX_FRAME_SIZE, BOX_FRAME_SIZE)) > 0] = index + 1
            except RLEError as e:
                logger.warning(f"dp_segm: annotation {ann.get('id')}: bad mask {index + 1}: {e}")
        x, y, w, h = (int(v) for v in box)
        if w < 1 or h < 1:
            return
        labels = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
        values = (labels.astype(np.float32) * (255.0 / N_COARSE_PARTS)).astype(np.uint8)
        overlay = apply_colormap(values, self.style.colormap or SEGM_COLORMAP)
        blend_in_box(canvas, (x, y, w, h), overlay, labels > 0, self.style.alpha)


class PointsGT(GroundTruthVisualizer):
    """Filled circles at the annotated points,
    coloured by `values(ann)` in [0, 1] (or one colour)."""

    def __init__(
        self,
        name: str,
        values: Optional[Callable[[Dict[str, Any]], Optional[np.ndarray]]],
        style: VisStyle = VisStyle(),
    ):
        self.name = name
        self.values = values
        self.style = style

    def draw_annotation(self, canvas: np.ndarray, ann: Dict[str, Any]) -> None:
        points = densepose_points_in_image(ann)
        if points is None or len(points) == 0:
            return
        if self.values is None:
            colors = np.tile(np.array(POINT_COLOR_BGR, np.uint8), (len(points), 1))
        else:
            values = self.values(ann)
            if values is None or len(values) != len(points):
                return
            scaled = np.clip(np.nan_to_num(values) * 255.0, 0, 255).astype(np.uint8)
            colormap = self.style.colormap or POINT_COLORMAP
            colors = apply_colormap(scaled[None, :], colormap)[0]
        for (x, y), color in zip(points, colors):
            center = (int(round(x)), int(round(y)))
            cv2.circle(canvas, center, POINT_RADIUS, tuple(int(c) for c in color), -1)


def _field(key: str, scale: float = 1.0) -> Callable[[Dict[str, Any]], Optional[np.ndarray]]:
    def values(ann: Dict[str, Any]) -> Optional[np.ndarray]:
        if key not in ann:
            return None
        return np.asarray(ann[key], dtype=np.float64) / scale

    return values


class _VertexValues:
    """Per-point values of `dp_vertex`: the per-vertex scalar of `ref_model`'s mesh (as
    `apply_net.py show dp_vertex` colours predictions), or the vertex index / largest index when
    the mesh cannot be loaded (warned once per mesh)."""

    def __init__(self):
        self._scalars: Dict[str, Optional[np.ndarray]] = {}

    def _mesh_scalars(self, mesh_name: str) -> Optional[np.ndarray]:
        if mesh_name not in self._scalars:
            from ..vis.cse_vertex import SMPL_MDS_URL, default_vertex_scalars

            try:
                self._scalars[mesh_name] = default_vertex_scalars({"smpl_27554": SMPL_MDS_URL})(
                    mesh_name
                )
            except Exception as e:  # unknown mesh, file missing or unreadable
                logger.warning(f"dp_vertex: cannot load mesh {mesh_name!r} ({e}); colouring by id")
                self._scalars[mesh_name] = None
        return self._scalars[mesh_name]

    def __call__(self, ann: Dict[str, Any]) -> Optional[np.ndarray]:
        if "dp_vertex" not in ann:
            return None
        vertices = np.asarray(ann["dp_vertex"], dtype=np.int64)
        scalars = self._mesh_scalars(str(ann.get("ref_model", "")))
        if scalars is not None and vertices.size and 0 <= vertices.min() < len(scalars):
            if vertices.max() < len(scalars):
                return scalars[vertices].astype(np.float64)
        top = max(int(vertices.max()), 1) if vertices.size else 1
        return vertices / top


class KeypointsGT(GroundTruthVisualizer):
    """`kp`: visible keypoints (v > 0) as circles, joined by the dataset's
    `keypoint_connection_rules` when the metadata has them."""

    name = "kp"

    def __init__(self, metadata: Any = None):
        names = list(getattr(metadata, "keypoint_names", []) or [])
        rules = list(getattr(metadata, "keypoint_connection_rules", []) or [])
        index = {n: i for i, n in enumerate(names)}
        self.edges = [
            (index[a], index[b], tuple(int(c) for c in color[::-1]))  # rules are RGB
            for a, b, color in rules
            if a in index and b in index
        ]

    def draw_annotation(self, canvas: np.ndarray, ann: Dict[str, Any]) -> None:
        if "keypoints" not in ann:
            return
        kps = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)
        visible = kps[:, 2] > 0
        for i, j, color in self.edges:
            if i < len(kps) and j < len(kps) and visible[i] and visible[j]:
                p, q = kps[i, :2].round().astype(int), kps[j, :2].round().astype(int)
                cv2.line(canvas, tuple(int(v) for v in p), tuple(int(v) for v in q), color, 1)
        for x, y in kps[visible, :2]:
            cv2.circle(canvas, (int(round(x)), int(round(y))), POINT_RADIUS + 1, (0, 0, 255), -1)


GT_VISUALIZERS: Dict[str, Callable[..., GroundTruthVisualizer]] = {
    "bbox": lambda style, metadata: BoxGT(),
    "dp_segm": lambda style, metadata: CoarseSegmentationGT(style),
    "dp_i": lambda style, metadata: PointsGT("dp_i", _field("dp_I", N_FINE_PARTS), style),
    "dp_u": lambda style, metadata: PointsGT("dp_u", _field("dp_U"), style),
    "dp_v": lambda style, metadata: PointsGT("dp_v", _field("dp_V"), style),
    "dp_pts": lambda style, metadata: PointsGT("dp_pts", None, style),
    "dp_vertex": lambda style, metadata: PointsGT("dp_vertex", _VertexValues(), style),
    "kp": lambda style, metadata: KeypointsGT(metadata),
}


def build_gt_visualizers(
    names: Sequence[str], style: VisStyle = VisStyle(), metadata: Any = None
) -> List[GroundTruthVisualizer]:
    """Visualizers for `names` (drawn in that order); unknown names raise one `ValueError`."""
    unknown = [n for n in names if n not in GT_VISUALIZERS]
    if unknown:
        raise ValueError(
            f"unknown visualization {', '.join(unknown)}; known: {', '.join(GT_VISUALIZERS)}"
        )
    if not names:
        raise ValueError(f"no visualization given; known: {', '.join(GT_VISUALIZERS)}")
    return [GT_VISUALIZERS[n](style, metadata) for n in names]
