"""Undoing a horizontal image flip on chart predictor outputs (used by test-time augmentation)."""

import dataclasses
import warnings

import torch

from ..structures.predictor_outputs import DensePoseChartPredictorOutput
from ..structures.transform_data import DensePoseTransformData

__all__ = ["HFlipConverter", "hflip_chart_predictor_output"]  # the latter deprecated


def _flip_uv_values(u: torch.Tensor, v: torch.Tensor, transform_data: DensePoseTransformData):
    """Maps U, V of parts 1..C-1 through the symmetry tables of their own channel's part.

    u, v [N, C, S, S] (channel 0 = background, left unchanged). Table lookup index:
    [part - 1, floor(255 * clamp(v)), floor(255 * clamp(u))].
    """
    tables = transform_data.uv_symmetries
    n, c, h, w = u.shape
    u_idx = (u[:, 1:].clamp(0, 1) * 255).to(torch.int64)
    v_idx = (v[:, 1:].clamp(0, 1) * 255).to(torch.int64)
    part = torch.arange(c - 1, device=u.device).view(1, c - 1, 1, 1).expand(n, c - 1, h, w)
    u_new, v_new = u.clone(), v.clone()
    u_new[:, 1:] = tables["U_transforms"].to(u.device, u.dtype)[part, v_idx, u_idx]
    v_new[:, 1:] = tables["V_transforms"].to(v.device, v.dtype)[part, v_idx, u_idx]
    return u_new, v_new


class HFlipConverter:
    """Undoes a horizontal flip on chart predictor outputs (KeyError for other outputs)."""

    @staticmethod
    def convert(output, transform_data: DensePoseTransformData):
        """Returns a new output as predicted on the mirrored image (the input is not modified).

        All tensor fields (confidences too) are flipped along width; U/V values are remapped with
        the UV tables; fine_segm / u / v channels are permuted by POINT_LABEL_SYMMETRIES;
        coarse_segm by MASK_LABEL_SYMMETRIES when it has more than 2 channels. Confidences are not
        permuted.
        """
        if not isinstance(output, DensePoseChartPredictorOutput):
            raise KeyError(f"no horizontal-flip conversion for {type(output).__name__}")
        if len(output) == 0:
            return output
        values = {
            f.name: (
                torch.flip(getattr(output, f.name), [3])
                if getattr(output, f.name) is not None
                else None
            )
            for f in dataclasses.fields(output)
        }
        values["u"], values["v"] = _flip_uv_values(values["u"], values["v"], transform_data)
        point_sym = transform_data.point_label_symmetries.to(values["u"].device)
        for name in ("fine_segm", "u", "v"):
            values[name] = values[name][:, point_sym]
        if values["coarse_segm"].shape[1] > 2:
            mask_sym = transform_data.mask_label_symmetries.to(values["coarse_segm"].device)
            values["coarse_segm"] = values["coarse_segm"][:, mask_sym]
        return type(output)(**values)


def hflip_chart_predictor_output(output, transform_data: DensePoseTransformData):
    """Deprecated: `HFlipConverter.convert(output, transform_data)`."""
    warnings.warn(
        "hflip_chart_predictor_output is deprecated; use HFlipConverter.convert",
        DeprecationWarning,
        stacklevel=2,
    )
    return HFlipConverter.convert(output, transform_data)
