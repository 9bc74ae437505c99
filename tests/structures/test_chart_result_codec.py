import base64
import io

import cv2
import numpy as np
import torch
from PIL import Image

from densepose_ext.structures.chart_result import (
    DensePoseChartResult,
    DensePoseChartResultCompressed,
    compress_quantized_densepose_chart_result,
    decode_png_base64,
    decompress_compressed_densepose_chart_result,
    encode_png_base64,
    quantize_densepose_chart_result,
)


def _chart_result(h=5, w=7):
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 25, (h, w), generator=generator)
    uv = torch.rand((2, h, w), generator=generator) * 1.2 - 0.1  # some values outside [0, 1]
    return DensePoseChartResult(labels=labels, uv=uv)


def test_quantize_clamps_and_truncates():
    result = _chart_result()
    quantized = quantize_densepose_chart_result(result).labels_uv_uint8
    assert quantized.dtype == torch.uint8 and quantized.shape == (3, 5, 7)
    np.testing.assert_array_equal(quantized[0].numpy(), result.labels.numpy())
    expected_uv = np.floor(np.clip(result.uv.numpy() * np.float32(255), 0, 255))
    np.testing.assert_array_equal(quantized[1:].numpy(), expected_uv.astype(np.uint8))


def test_png_base64_round_trip_is_exact_and_one_line():
    image = np.random.default_rng(0).integers(0, 256, size=(9, 4, 3), dtype=np.uint8)
    text = encode_png_base64(image)
    assert "\n" not in text
    np.testing.assert_array_equal(decode_png_base64(text), image)
    # channel k is PNG channel k for any reader
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(text))).convert("RGB"))
    np.testing.assert_array_equal(decoded, image)
    # the bytes the apply_net JSON writer wrote before the codec moved here
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(image[:, :, ::-1]))
    assert ok and text == base64.b64encode(encoded.tobytes()).decode("ascii")


def test_compression_round_trip_and_original_format():
    quantized = quantize_densepose_chart_result(_chart_result())
    compressed = compress_quantized_densepose_chart_result(quantized)
    assert compressed.shape_chw == (3, 5, 7)
    restored = decompress_compressed_densepose_chart_result(compressed)
    assert torch.equal(restored.labels_uv_uint8, quantized.labels_uv_uint8)
    # the original DensePose wrote PIL PNGs with base64.encodebytes (line breaks)
    hwc = np.moveaxis(quantized.labels_uv_uint8.numpy(), 0, -1)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(hwc)).save(buffer, format="png")
    original = DensePoseChartResultCompressed(
        (3, 5, 7), base64.encodebytes(buffer.getvalue()).decode()
    )
    restored = decompress_compressed_densepose_chart_result(original)
    assert torch.equal(restored.labels_uv_uint8, quantized.labels_uv_uint8)
