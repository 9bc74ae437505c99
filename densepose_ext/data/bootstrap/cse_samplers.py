"""CSE predictions -> pseudo ground truth: sampled foreground pixels with their closest mesh vertex.

Per detection: `embedding` and `coarse_segm` resized to the integer box (bilinear,
align_corners=False); mask = coarse argmax > 0; min(count_per_class, k) mask pixels chosen
(uniformly, or among the highest `coarse_segm_confidence` values); vertex = closest vertex of the
mesh `class_to_mesh_name[class]` (raw pixel embedding vs the embedder's vertex embeddings).
`dp_masks` = coarse argmax resized to 256 x 256.
"""

from typing import Any, Dict, Mapping, Optional

import torch
from detectron2.structures import Instances

from ...converters.boxes import int_boxes_xywh
from ...converters.cse_vertices import closest_vertices
from ...converters.resample import channel_argmax, resize_maps
from ...structures.constants import BOX_FRAME_SIZE
from ...structures.data_relative import DensePoseDataRelative
from ...structures.densepose_list import DensePoseList
from ..meshes.catalog import MeshCatalog
from .point_selection import select_per_group

__all__ = ["DensePoseCSEUniformSampler", "DensePoseCSEConfidenceBasedSampler"]


def _mesh_id(mesh_name: str) -> int:
    return MeshCatalog.get_mesh_id(mesh_name) if mesh_name in MeshCatalog else -1


class DensePoseCSEUniformSampler:
    """Up to `count_per_class` foreground pixels per detection, uniformly, with vertex ids."""

    confidence_channel: Optional[str] = None

    def __init__(
        self,
        embedder: Any,
        class_to_mesh_name: Mapping[Any, str],
        count_per_class: int = 8,
        use_gt_categories: bool = False,
        generator: Optional[torch.Generator] = None,
    ):
        if embedder is None:
            raise ValueError(
                "CSE samplers need an embedder (MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS is empty)"
            )
        self.embedder = embedder
        self.class_to_mesh_name = {int(k): v for k, v in class_to_mesh_name.items()}
        self.count_per_class = int(count_per_class)
        self.use_gt_categories = use_gt_categories
        self.generator = generator

    def _mesh_name(self, class_id: int) -> str:
        if class_id not in self.class_to_mesh_name:
            raise KeyError(
                f"no mesh for class {class_id}; DATASETS.CLASS_TO_MESH_NAME_MAPPING: "
                f"{self.class_to_mesh_name}"
            )
        return self.class_to_mesh_name[class_id]

    def __call__(self, instances: Instances) -> DensePoseList:
        """`instances` with `pred_boxes`, `pred_classes` (or `dataset_classes`),
        CSE `pred_densepose`."""
        output = instances.pred_densepose
        boxes = instances.pred_boxes.tensor.detach()
        classes = instances.dataset_classes if self.use_gt_categories else instances.pred_classes
        int_boxes = int_boxes_xywh(boxes)
        coarse_256 = channel_argmax(
            resize_maps(output.coarse_segm.float(), BOX_FRAME_SIZE, BOX_FRAME_SIZE)
        ).cpu()
        datas = []
        for i in range(len(output)):
            w, h = int(int_boxes[i, 2]), int(int_boxes[i, 3])
            annotation = self._sample(output[i], h, w, self._mesh_name(int(classes[i])))
            annotation["dp_masks"] = coarse_256[i]
            datas.append(DensePoseDataRelative(annotation, mesh_name_to_id=_mesh_id))
        return DensePoseList(datas, boxes.cpu(), instances.image_size)

    def _select(self, num: int, confidences: Optional[torch.Tensor]) -> torch.Tensor:
        groups = torch.zeros(num, dtype=torch.int64)
        return select_per_group(groups, self.count_per_class, generator=self.generator)

    def _sample(self, output_i, h: int, w: int, mesh_name: str) -> Dict[str, Any]:
        """One detection (outputs with leading dim 1) at box size (h, w) ->
        dp_x/dp_y/dp_vertex/ref_model."""
        embedding = resize_maps(output_i.embedding.float(), h, w)[0]  # [D, h, w]
        mask = channel_argmax(resize_maps(output_i.coarse_segm.float(), h, w))[0] > 0  # [h, w]
        pixels = torch.nonzero(mask.reshape(-1)).flatten().cpu()
        confidences = None
        if self.confidence_channel is not None:
            values = getattr(output_i, self.confidence_channel, None)
            if values is None:
                raise ValueError(
                    f"{type(self).__name__} needs {self.confidence_channel!r}, which the model "
                    "does not predict"
                )
            confidences = resize_maps(values[:, :1].float(), h, w).reshape(-1).cpu()[pixels]
        pixels = pixels[self._select(pixels.numel(), confidences)]
        pixel_embeddings = embedding.reshape(embedding.shape[0], -1)[
            :, pixels.to(embedding.device)
        ].t()
        with torch.no_grad():
            vertex_embeddings = self.embedder(mesh_name)
        vertices, _ = closest_vertices(
            pixel_embeddings, vertex_embeddings.to(pixel_embeddings.device)
        )
        rows, cols = pixels // w, pixels % w
        return {
            "dp_x": (cols.double() + 0.5).div(w).mul(BOX_FRAME_SIZE).float(),
            "dp_y": (rows.double() + 0.5).div(h).mul(BOX_FRAME_SIZE).float(),
            "dp_vertex": vertices.cpu(),
            "ref_model": mesh_name,
        }


class DensePoseCSEConfidenceBasedSampler(DensePoseCSEUniformSampler):
    """`count` pixels drawn uniformly among the min(max(floor(0.5 k), count), k) mask pixels with
    the
    HIGHEST `coarse_segm_confidence` (unlike the chart samplers, which take the lowest)."""

    def __init__(
        self,
        embedder: Any,
        class_to_mesh_name: Mapping[Any, str],
        confidence_channel: str,
        count_per_class: int = 8,
        use_gt_categories: bool = False,
        search_proportion: float = 0.5,
        generator: Optional[torch.Generator] = None,
    ):
        super().__init__(
            embedder, class_to_mesh_name, count_per_class, use_gt_categories, generator
        )
        self.confidence_channel = confidence_channel
        self.search_proportion = float(search_proportion)

    def _select(self, num: int, confidences: Optional[torch.Tensor]) -> torch.Tensor:
        groups = torch.zeros(num, dtype=torch.int64)
        return select_per_group(
            groups,
            self.count_per_class,
            keys=confidences,
            descending=True,
            window_fraction=self.search_proportion,
            generator=self.generator,
        )
