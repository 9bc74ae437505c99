"""Raw per-ROI predictor outputs (`instances.pred_densepose`) with the original's field names.

All tensors have a leading dimension N (one entry per ROI). Indexing keeps that dimension
(an int index gives N = 1), so per-image splits and `Instances.cat` work field by field.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional, TypeVar, Union

import torch

__all__ = [
    "ChartConfidences",
    "PredictorOutput",
    "DensePoseChartPredictorOutput",
    "DensePoseChartPredictorOutputWithConfidences",
    "DensePoseEmbeddingPredictorOutput",
    "DensePoseEmbeddingPredictorOutputWithConfidences",
]

T = TypeVar("T", bound="PredictorOutput")
Index = Union[int, slice, torch.Tensor, list]


class PredictorOutput:
    """Common behaviour of the output dataclasses: len, indexing, device moves, concatenation."""

    def __len__(self) -> int:
        return self.coarse_segm.size(0)

    def _map(self: T, fn) -> T:
        values = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            values[field.name] = fn(value) if isinstance(value, torch.Tensor) else value
        return type(self)(**values)

    def __getitem__(self: T, item: Index) -> T:
        if isinstance(item, int):
            return self._map(lambda t: t[item].unsqueeze(0))
        if isinstance(item, list):
            item = torch.as_tensor(item, dtype=torch.long)
        return self._map(lambda t: t[item])

    def to(self: T, device: Any) -> T:
        return self._map(lambda t: t.to(device))

    @classmethod
    def cat(cls: type, outputs: list) -> Any:
        """Concatenates outputs of the same class along N (used by `Instances.cat`)."""
        assert len(outputs) > 0
        kind = type(outputs[0])
        values = {}
        for field in dataclasses.fields(kind):
            parts = [getattr(o, field.name) for o in outputs]
            if all(p is None for p in parts):
                values[field.name] = None
            elif any(p is None for p in parts):
                raise ValueError(
                    f"cannot concatenate {kind.__name__}: field {field.name} is None in some"
                )
            else:
                values[field.name] = torch.cat(parts, dim=0)
        return kind(**values)

    def fields(self) -> dict:
        """Name -> tensor for every field that is not None."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None
        }


@dataclass
class DensePoseChartPredictorOutput(PredictorOutput):
    """Chart outputs: logits `coarse_segm` [N,K,S,S], `fine_segm` [N,C,S,S], raw `u`,
    `v` [N,C,S,S]."""

    coarse_segm: torch.Tensor
    fine_segm: torch.Tensor
    u: torch.Tensor
    v: torch.Tensor


@dataclass
class ChartConfidences:
    """The optional confidence fields of chart outputs and chart results: per-part `sigma_1`,
    `sigma_2`, `kappa_u`, `kappa_v` and single-channel `fine_segm_confidence`,
    `coarse_segm_confidence`. Listed after the fields of the class it is mixed into."""

    sigma_1: Optional[torch.Tensor] = None
    sigma_2: Optional[torch.Tensor] = None
    kappa_u: Optional[torch.Tensor] = None
    kappa_v: Optional[torch.Tensor] = None
    fine_segm_confidence: Optional[torch.Tensor] = None
    coarse_segm_confidence: Optional[torch.Tensor] = None


@dataclass
class DensePoseChartPredictorOutputWithConfidences(ChartConfidences, DensePoseChartPredictorOutput):
    """Chart outputs plus optional confidences.

    `sigma_2`, `kappa_u`, `kappa_v` [N,C,S,S] are raw (softplus only in the loss); `sigma_1` is
    always None in the shipped models; segm confidences [N,1,S,S] are softplus + eps and are already
    multiplied into `fine_segm` / `coarse_segm`.
    """


@dataclass
class DensePoseEmbeddingPredictorOutput(PredictorOutput):
    """CSE outputs: un-normalised `embedding` [N,D,S,S] and `coarse_segm` logits [N,K,S,S]."""

    embedding: torch.Tensor
    coarse_segm: torch.Tensor


@dataclass
class DensePoseEmbeddingPredictorOutputWithConfidences(DensePoseEmbeddingPredictorOutput):
    """CSE outputs plus `coarse_segm_confidence` [N,1,S,S] (already multiplied into coarse_segm)."""

    coarse_segm_confidence: Optional[torch.Tensor] = None
