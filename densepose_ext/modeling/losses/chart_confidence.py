"""`DensePoseChartWithConfidenceLoss`: chart losses with Gaussian U / V uncertainty.

With UV_CONFIDENCE enabled `loss_densepose_UV` replaces U and V (summed over fg points, weighted by
POINT_REGRESSION_WEIGHTS); sigma^2 = softplus(sigma_2) + EPSILON, delta = (u_est - u, v_est - v):
  iid_iso:     1/2 [log 2pi + 2 log sigma^2 + |delta|^2 / sigma^2]
  indep_aniso: 1/2 [log 2pi + log(sigma^2 (sigma^2 + |r|^2)) + |delta|^2 / sigma^2
                    - <delta, r>^2 / (sigma^2 (sigma^2 + |r|^2))],  r = (kappa_u, kappa_v)
Segmentation confidences have no loss of their own (they scale the logits in the predictor).
"""

import math
from typing import Any, Dict, Optional

import torch
import torch.nn.functional as F

from ..registry import DENSEPOSE_LOSS_REGISTRY
from .chart import DensePoseChartLoss
from .utils import PackedDensePoseGT, PointSamples, zero_loss

__all__ = [
    "DensePoseChartWithConfidenceLoss",
    "iid_isotropic_gaussian_uv_loss",
    "indep_anisotropic_gaussian_uv_loss",
]

_LOG_2PI = math.log(2 * math.pi)


def _sum(terms: torch.Tensor, weights: Optional[torch.Tensor]) -> torch.Tensor:
    return terms.sum() if weights is None else (terms * weights).sum()


def iid_isotropic_gaussian_uv_loss(
    u, v, sigma_u, target_u, target_v, eps: float, weights: Optional[torch.Tensor] = None
) -> torch.Tensor:
    """Negative log-likelihood of (u, v) under an isotropic Gaussian, summed over points
    (weighted by `weights` [P] if given)."""
    sigma2 = F.softplus(sigma_u) + eps
    delta_sq = (u - target_u) ** 2 + (v - target_v) ** 2
    return _sum(0.5 * (_LOG_2PI + 2 * torch.log(sigma2) + delta_sq / sigma2), weights)


def indep_anisotropic_gaussian_uv_loss(
    u,
    v,
    sigma_u,
    kappa_u,
    kappa_v,
    target_u,
    target_v,
    eps: float,
    weights: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """Negative log-likelihood with covariance sigma^2 I + r r^T, summed over points (weighted by
    `weights` [P] if given)."""
    sigma2 = F.softplus(sigma_u) + eps
    r_sq = kappa_u**2 + kappa_v**2
    du, dv = u - target_u, v - target_v
    delta_sq = du**2 + dv**2
    delta_r = du * kappa_u + dv * kappa_v
    denom = sigma2 * (sigma2 + r_sq)
    return _sum(
        0.5 * (_LOG_2PI + torch.log(denom) + delta_sq / sigma2 - delta_r**2 / denom), weights
    )


@DENSEPOSE_LOSS_REGISTRY.register()
class DensePoseChartWithConfidenceLoss(DensePoseChartLoss):
    """Chart loss; with UV_CONFIDENCE.ENABLED the U / V terms become `loss_densepose_UV`."""

    def __init__(self, cfg):
        super().__init__(cfg)
        uv_conf = cfg.MODEL.ROI_DENSEPOSE_HEAD.UV_CONFIDENCE
        self.uv_confidence = uv_conf.ENABLED
        self.confidence_type = uv_conf.TYPE
        self.epsilon = uv_conf.EPSILON
        if self.uv_confidence and self.confidence_type not in ("iid_iso", "indep_aniso"):
            raise ValueError(f"unknown UV_CONFIDENCE.TYPE {self.confidence_type!r}")

    def _confidence_fields(self):
        return (
            ("sigma_2",) if self.confidence_type == "iid_iso" else ("sigma_2", "kappa_u", "kappa_v")
        )

    def produce_uv_losses(
        self, outputs: Any, packed: PackedDensePoseGT, samples: PointSamples
    ) -> Dict[str, torch.Tensor]:
        if not self.uv_confidence:
            return super().produce_uv_losses(outputs, packed, samples)
        fg = self._fg_points(packed, samples)
        if not bool(fg.any()):
            return self.produce_fake_uv_losses(outputs)
        names = ("u", "v") + self._confidence_fields()
        sampled = self._sample_uv_channels(outputs, names, packed, samples, fg)
        u_gt, v_gt = packed.u_gt[fg], packed.v_gt[fg]
        weights = self.point_weights(packed)
        weights = weights[fg] if weights is not None else None
        if self.confidence_type == "iid_iso":
            u, v, sigma = sampled
            loss = iid_isotropic_gaussian_uv_loss(u, v, sigma, u_gt, v_gt, self.epsilon, weights)
        else:
            u, v, sigma, kappa_u, kappa_v = sampled
            loss = indep_anisotropic_gaussian_uv_loss(
                u, v, sigma, kappa_u, kappa_v, u_gt, v_gt, self.epsilon, weights
            )
        return {"loss_densepose_UV": loss * self.w_points}

    def produce_fake_uv_losses(self, outputs: Any) -> Dict[str, torch.Tensor]:
        if not self.uv_confidence:
            return super().produce_fake_uv_losses(outputs)
        fields = [getattr(outputs, n) for n in ("u", "v") + self._confidence_fields()]
        return {"loss_densepose_UV": zero_loss(*fields)}
