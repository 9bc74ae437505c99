"""Chart predictions -> pseudo ground truth (`DensePoseList`) by sampling points per part.

Per detection, labels / U / V (and a confidence channel) are taken at the detection's integer box
resolution (the rules of `chart_outputs_to_results`). For each fine part p with k pixels,
min(count_per_class, k) pixels are sampled; point coordinates are box-relative in [0, 256):
x = (col + 0.5) / w * 256, y = (row + 0.5) / h * 256; U, V are clamped to [0, 1]. `dp_masks` is a
256 x 256 coarse-part mask (fine labels gated by coarse foreground, mapped fine -> coarse).
"""

from typing import Dict, Optional

import torch
from detectron2.structures import Instances

from ...converters.chart_result import chart_outputs_to_results, resample_labels
from ...structures.constants import BOX_FRAME_SIZE
from ...structures.constants import FINE_TO_COARSE_PART as _FINE_TO_COARSE_PART
from ...structures.data_relative import DensePoseDataRelative
from ...structures.densepose_list import DensePoseList
from .point_selection import select_per_group

__all__ = [
    "FINE_TO_COARSE_PART",
    "DensePoseUniformSampler",
    "DensePoseConfidenceBasedSampler",
    "chart_part_masks",
]

# fine part label (0..24) -> coarse part label (0..14)
FINE_TO_COARSE_PART = torch.tensor(_FINE_TO_COARSE_PART, dtype=torch.int64)


def chart_part_masks(output) -> torch.Tensor:
    """Chart outputs [N, ...] -> int64 [N, 256, 256] coarse part labels (0 = background)."""
    size = BOX_FRAME_SIZE
    fine = resample_labels(output.coarse_segm.float(), output.fine_segm.float(), size, size)
    return FINE_TO_COARSE_PART.to(fine.device)[fine]


class DensePoseUniformSampler:
    """Up to `count_per_class` points per fine part, uniformly without replacement."""

    confidence_channel: Optional[str] = None

    def __init__(self, count_per_class: int = 8, generator: Optional[torch.Generator] = None):
        self.count_per_class = int(count_per_class)
        self.generator = generator

    def _select(self, parts: torch.Tensor, confidences: Optional[torch.Tensor]) -> torch.Tensor:
        return select_per_group(parts, self.count_per_class, generator=self.generator)

    def __call__(self, instances: Instances) -> DensePoseList:
        """`instances` with `pred_boxes`, `pred_densepose` (chart) -> `DensePoseList` on CPU."""
        output = instances.pred_densepose
        boxes = instances.pred_boxes.tensor.detach()
        results = chart_outputs_to_results(output, boxes, with_confidences=True)
        masks = chart_part_masks(output).cpu()
        datas = []
        for i, result in enumerate(results):
            annotation = self._sample(result)
            annotation["dp_masks"] = masks[i]
            datas.append(DensePoseDataRelative(annotation))
        return DensePoseList(datas, boxes.cpu(), instances.image_size)

    def _confidences(self, result) -> Optional[torch.Tensor]:
        if self.confidence_channel is None:
            return None
        values = getattr(result, self.confidence_channel, None)
        if values is None:
            raise ValueError(
                f"{type(self).__name__} samples by {self.confidence_channel!r}, "
                "which the model does not "
                "predict (enable the corresponding confidence in MODEL.ROI_DENSEPOSE_HEAD)"
            )
        return values

    def _sample(self, result) -> Dict[str, torch.Tensor]:
        """One `DensePoseChartResultWithConfidences` ([h, w] maps) -> dp_x/dp_y/dp_I/dp_U/dp_V."""
        labels = result.labels.cpu()
        h, w = labels.shape
        flat_labels = labels.reshape(-1)
        pixels = torch.nonzero(flat_labels > 0).flatten()  # [k] flat indices of foreground pixels
        parts = flat_labels[pixels]
        confidences = self._confidences(result)
        if confidences is not None:
            confidences = confidences.detach().cpu().reshape(-1)[pixels]
        chosen = self._select(parts, confidences)
        chosen = chosen[torch.argsort(parts[chosen], stable=True)]  # grouped by part
        pixels, parts = pixels[chosen], parts[chosen]
        rows, cols = pixels // w, pixels % w
        uv = result.uv.detach().cpu().reshape(2, -1)[:, pixels].clamp(0.0, 1.0)
        return {
            "dp_x": (cols.double() + 0.5).div(w).mul(BOX_FRAME_SIZE).float(),
            "dp_y": (rows.double() + 0.5).div(h).mul(BOX_FRAME_SIZE).float(),
            "dp_I": parts.float(),
            "dp_U": uv[0],
            "dp_V": uv[1],
        }


class DensePoseConfidenceBasedSampler(DensePoseUniformSampler):
    """Per part, `count` points drawn uniformly among the min(max(floor(0.5 k), count), k) pixels
    with
    the LOWEST values of `confidence_channel` (`sigma_2`, `fine_segm_confidence` or
    `coarse_segm_confidence`), as the original does for every channel."""

    def __init__(
        self,
        confidence_channel: str,
        count_per_class: int = 8,
        search_proportion: float = 0.5,
        generator: Optional[torch.Generator] = None,
    ):
        super().__init__(count_per_class, generator)
        self.confidence_channel = confidence_channel
        self.search_proportion = float(search_proportion)

    def _select(self, parts: torch.Tensor, confidences: Optional[torch.Tensor]) -> torch.Tensor:
        return select_per_group(
            parts,
            self.count_per_class,
            keys=confidences,
            descending=False,
            window_fraction=self.search_proportion,
            generator=self.generator,
        )
