"""Per-box chart results in box coordinates (labels + U/V), their quantised and compressed forms."""

import base64
from dataclasses import dataclass
from io import BytesIO

import numpy as np
import torch

from .predictor_outputs import ChartConfidences

__all__ = [
    "DensePoseChartResult",
    "DensePoseChartResultWithConfidences",
    "DensePoseChartResultQuantized",
    "DensePoseChartResultCompressed",
    "quantize_densepose_chart_result",
    "compress_quantized_densepose_chart_result",
    "decompress_compressed_densepose_chart_result",
    "decode_png_base64",
    "encode_png_base64",
]


@dataclass
class DensePoseChartResult:
    """`labels` int64 [h, w] (0 = background, 1..24 parts);
    `uv` float32 [2, h, w] (U, V; not clamped).

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
class DensePoseChartResultWithConfidences(ChartConfidences, DensePoseChartResult):
    """Chart result plus confidences [h, w]; per-part ones taken at channel `labels` (0 on bg)."""


@dataclass
class DensePoseChartResultQuantized:
    """`labels_uv_uint8` uint8 [3, h, w]: labels, then U·255 and V·255 clamped and truncated."""

    labels_uv_uint8: torch.Tensor

    def to(self, device):
        return DensePoseChartResultQuantized(self.labels_uv_uint8.to(device))


@dataclass
class DensePoseChartResultCompressed:
    """`labels_uv_str`: base64 of a PNG holding the HWC uint8 quantised result (see
    `encode_png_base64`); `shape_chw`."""

    shape_chw: tuple
    labels_uv_str: str


def quantize_densepose_chart_result(result: DensePoseChartResult) -> DensePoseChartResultQuantized:
    """Labels in row 0; U, V scaled to 0..255 (clamped, then truncated) in rows 1-2."""
    h, w = result.labels.shape
    out = torch.empty((3, h, w), dtype=torch.uint8, device=result.labels.device)
    out[0] = result.labels.to(torch.uint8)
    out[1:] = (result.uv * 255.0).clamp(0, 255).to(torch.uint8)
    return DensePoseChartResultQuantized(out)


def encode_png_base64(image_hwc: np.ndarray) -> str:
    """One-line base64 text of a lossless PNG of a uint8 [h, w, 3] image.

    Channel k of the image is PNG channel k (R, G, B), as PIL and most readers decode it.
    """
    import cv2

    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(np.asarray(image_hwc)[:, :, ::-1]))
    if not ok:
        raise ValueError(f"PNG encoding of an image of shape {np.shape(image_hwc)} failed")
    return base64.b64encode(encoded.tobytes()).decode("ascii")


def decode_png_base64(text: str) -> np.ndarray:
    """uint8 [h, w, 3] (R, G, B) of base64 PNG text; line breaks are allowed (the original
    DensePose wrote them)."""
    from PIL import Image

    image = Image.open(BytesIO(base64.b64decode(text)))
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def compress_quantized_densepose_chart_result(
    result: DensePoseChartResultQuantized,
) -> DensePoseChartResultCompressed:
    """PNG-encodes the quantised result (lossless) and base64-encodes the bytes."""
    chw = result.labels_uv_uint8.cpu().numpy()
    return DensePoseChartResultCompressed(
        tuple(chw.shape), encode_png_base64(np.moveaxis(chw, 0, -1))
    )


def decompress_compressed_densepose_chart_result(
    result: DensePoseChartResultCompressed,
) -> DensePoseChartResultQuantized:
    """The quantised result of `compress_quantized_densepose_chart_result` (exact)."""
    hwc = decode_png_base64(result.labels_uv_str)
    chw = np.moveaxis(hwc, -1, 0).reshape(result.shape_chw)
    return DensePoseChartResultQuantized(torch.from_numpy(np.ascontiguousarray(chw)))
