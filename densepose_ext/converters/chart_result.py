"""Chart predictor outputs -> per-box results (part labels, U/V, confidences) in box coordinates.

For a box with integer size (h, w) (see `int_boxes_xywh`): coarse and fine logits are resized
bilinearly (align_corners=False) to (h, w); labels = fine argmax where coarse argmax > 0, else 0.
U, V and per-part confidences are the values of channel `labels` of the equally resized maps
(0 on background); single-channel confidences are resized channel 0 over the whole box.
"""

import warnings
from typing import List, Optional, Union

import torch
from detectron2.structures import Boxes

from ..structures.chart_result import DensePoseChartResult, DensePoseChartResultWithConfidences
from ..structures.predictor_outputs import DensePoseChartPredictorOutput
from .boxes import group_by_size, int_boxes_xywh
from .resample import channel_argmax, resize_maps, sample_channel_at

__all__ = [
    "PER_PART_CONFIDENCES",
    "SEGM_CONFIDENCES",
    "resample_labels",
    "chart_outputs_to_results",
    "ToChartResultConverter",  # deprecated
    "ToChartResultConverterWithConfidences",  # deprecated
]

PER_PART_CONFIDENCES = ("sigma_1", "sigma_2", "kappa_u", "kappa_v")
SEGM_CONFIDENCES = ("fine_segm_confidence", "coarse_segm_confidence")


def resample_labels(
    coarse_segm: torch.Tensor, fine_segm: torch.Tensor, h: int, w: int
) -> torch.Tensor:
    """[n, K, S, S], [n, C, S, S] logits -> int64 [n, h, w] part labels (0 = background)."""
    foreground = channel_argmax(resize_maps(coarse_segm, h, w)) > 0
    return channel_argmax(resize_maps(fine_segm, h, w)) * foreground


def _check_chart_output(output) -> None:
    if not isinstance(output, DensePoseChartPredictorOutput):
        raise KeyError(f"no chart-result conversion for {type(output).__name__}")


def _convert_group(output, idx: torch.Tensor, h: int, w: int, with_confidences: bool) -> dict:
    """Fields of the results of equally sized boxes `idx`,
    each batched with leading dim len(idx)."""
    labels = resample_labels(output.coarse_segm[idx].float(), output.fine_segm[idx].float(), h, w)
    fields = {"labels": labels}
    uv = torch.stack(
        [
            sample_channel_at(output.u[idx].float(), labels),
            sample_channel_at(output.v[idx].float(), labels),
        ],
        dim=1,
    )  # [n, 2, h, w], 0 on background
    fields["uv"] = uv
    if not with_confidences:
        return fields
    for name in PER_PART_CONFIDENCES:
        value: Optional[torch.Tensor] = getattr(output, name, None)
        if value is not None:
            fields[name] = sample_channel_at(value[idx].float(), labels)
    for name in SEGM_CONFIDENCES:
        value = getattr(output, name, None)
        if value is not None:
            fields[name] = resize_maps(value[idx, :1].float(), h, w)[:, 0]
    return fields


def chart_outputs_to_results(
    output: DensePoseChartPredictorOutput,
    boxes_xyxy: Union[torch.Tensor, Boxes],
    with_confidences: bool = True,
) -> List[DensePoseChartResult]:
    """Converts N chart outputs and their [N, 4] XYXY boxes to N per-box results, in box order.

    Boxes of equal integer size are resized in one batch. Returns
    `DensePoseChartResultWithConfidences` (absent confidences None), or plain
    `DensePoseChartResult` if `with_confidences` is False.
    """
    _check_chart_output(output)
    if isinstance(boxes_xyxy, Boxes):
        boxes_xyxy = boxes_xyxy.tensor
    if len(output) != len(boxes_xyxy):
        raise ValueError(f"{len(output)} outputs but {len(boxes_xyxy)} boxes")
    int_boxes = int_boxes_xywh(boxes_xyxy)
    result_cls = DensePoseChartResultWithConfidences if with_confidences else DensePoseChartResult
    results: List[Optional[DensePoseChartResult]] = [None] * len(int_boxes)
    device = output.coarse_segm.device
    for (h, w), indices in group_by_size(int_boxes).items():
        idx = torch.as_tensor(indices, dtype=torch.int64, device=device)
        fields = _convert_group(output, idx, h, w, with_confidences)
        for j, i in enumerate(indices):
            results[i] = result_cls(**{k: v[j] for k, v in fields.items()})
    return results


def _deprecated_single_conversion(name: str, output, boxes, with_confidences: bool):
    warnings.warn(
        f"{name} is deprecated; use chart_outputs_to_results(output, boxes_xyxy)",
        DeprecationWarning,
        stacklevel=3,
    )
    if len(output) != 1 or len(boxes) != 1:
        raise ValueError(f"{name} converts exactly one instance; use chart_outputs_to_results")
    return chart_outputs_to_results(output, boxes, with_confidences)[0]


class ToChartResultConverter:
    """Deprecated (the original's name): one chart output + its box -> `DensePoseChartResult`;
    use `chart_outputs_to_results`."""

    @staticmethod
    def convert(predictor_output: DensePoseChartPredictorOutput, boxes) -> DensePoseChartResult:
        return _deprecated_single_conversion(
            "ToChartResultConverter", predictor_output, boxes, with_confidences=False
        )


class ToChartResultConverterWithConfidences:
    """Deprecated (the original's name): one chart output + its box ->
    `DensePoseChartResultWithConfidences`; use `chart_outputs_to_results`."""

    @staticmethod
    def convert(
        predictor_output: DensePoseChartPredictorOutput, boxes
    ) -> DensePoseChartResultWithConfidences:
        return _deprecated_single_conversion(
            "ToChartResultConverterWithConfidences", predictor_output, boxes, with_confidences=True
        )
