"""Per-box chart results in box coordinates (labels + U/V), their quantised and compressed forms."""

import base64
from dataclasses import dataclass
from io import BytesIO
from typing import Optional

import numpy as np
import torch

__all__ = [
    "DensePoseChartResult",
    "DensePoseChartResultWithConfidences",
    "DensePoseChartResultQuantized",
    "DensePoseChartResultCompressed",
    "quantize_densepose_chart_result",
    "compress_quantized_densepose_chart_result",
    "decompress_compressed_densepose_chart_result",
]


@dataclass
class DensePoseChartResult:
    """`labels` int64 [h, w] (0 = background, 1..24 parts); `uv` float32 [2, h, w] (U, V; not clamped).

    h, w are the truncated integer box size.
    """

    labels: torch.Tensor
    uv: torch.Tensor

    def to(self, device):
        return type(self)(
            **{
                k: (v.to(device) if isinstance(v, torch.Tensor) else v)
                for k, v in self.__dict__.items()
            }
        )


@dataclass
class DensePoseChartResultWithConfidences(DensePoseChartResult):
    """Chart result plus confidences [h, w]; per-part ones taken at channel `labels` (0 on bg)."""

    sigma_1: Optional[torch.Tensor] = None
    sigma_2: Optional[torch.Tensor] = None
    kappa_u: Optional[torch.Tensor] = None
    kappa_v: Optional[torch.Tensor] = None
    fine_segm_confidence: Optional[torch.Tensor] = None
    coarse_segm_confidence: Optional[torch.Tensor] = None


@dataclass
class DensePoseChartResultQuantized:
    """`labels_uv_uint8` uint8 [3, h, w]: labels, then U·255 and V·255 clamped and truncated."""

    labels_uv_uint8: torch.Tensor

    def to(self, device):
        return DensePoseChartResultQuantized(self.labels_uv_uint8.to(device))


@dataclass
class DensePoseChartResultCompressed:
    """`labels_uv_str`: base64 of a PNG holding the HWC uint8 quantised result; `shape_chw`."""

    shape_chw: tuple
    labels_uv_str: str


def quantize_densepose_chart_result(result: DensePoseChartResult) -> DensePoseChartResultQuantized:
    """Labels in row 0; U, V scaled to 0..255 (clamped, then truncated) in rows 1-2."""
    h, w = result.labels.shape
    out = torch.empty((3, h, w), dtype=torch.uint8, device=result.labels.device)
    out[0] = result.labels.to(torch.uint8)
    out[1:] = (result.uv * 255.0).clamp(0, 255).to(torch.uint8)
    return DensePoseChartResultQuantized(out)


def compress_quantized_densepose_chart_result(
    result: DensePoseChartResultQuantized,
) -> DensePoseChartResultCompressed:
    """PNG-encodes the quantised result (lossless) and base64-encodes the bytes."""
    from PIL import Image

    chw = result.labels_uv_uint8.cpu().numpy()
    buffer = BytesIO()
    Image.fromarray(np.ascontiguousarray(np.moveaxis(chw, 0, -1))).save(buffer, format="png")
    return DensePoseChartResultCompressed(
        tuple(chw.shape), base64.encodebytes(buffer.getvalue()).decode()
    )


def decompress_compressed_densepose_chart_result(
    result: DensePoseChartResultCompressed,
) -> DensePoseChartResultQuantized:
    from PIL import Image

    data = base64.decodebytes(result.labels_uv_str.encode())
    hwc = np.array(Image.open(BytesIO(data)), dtype=np.uint8)
    chw = np.moveaxis(hwc, -1, 0).reshape(result.shape_chw)
    return DensePoseChartResultQuantized(torch.from_numpy(np.ascontiguousarray(chw)))
