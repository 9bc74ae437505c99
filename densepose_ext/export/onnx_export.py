"""ONNX artefacts: `torch.onnx.export` (TorchScript-based exporter) of the export module.

The antialiased bilinear resize of the input (`aten::_upsample_bilinear2d_aa`) has no built-in
ONNX symbolic; it is mapped to opset-18 `Resize(mode=linear, antialias=1, exclude_outside=1)`,
which onnxruntime evaluates like torch (and PIL) up to float rounding.
"""

import warnings
from typing import Dict, List

import numpy as np
import torch

from .metadata import METADATA_KEY
from .module import VERTEX_EMBEDDINGS_PREFIX

__all__ = ["export_onnx", "register_antialias_resize"]

ONNX_OPSET = 18


def _antialiased_bilinear(g, input, output_size, *_args):
    """Symbolic of `_upsample_bilinear2d_aa.vec` for [N, C, H, W] inputs and a traced size."""
    empty = g.op("Constant", value_t=torch.tensor([], dtype=torch.float32))
    leading = g.op(
        "Slice",
        g.op("Shape", input),
        g.op("Constant", value_t=torch.tensor([0])),
        g.op("Constant", value_t=torch.tensor([2])),
    )
    sizes = g.op("Concat", leading, g.op("Cast", output_size, to_i=7), axis_i=0)  # int64 [4]
    return g.op(
        "Resize",
        input,
        empty,
        empty,
        sizes,
        mode_s="linear",
        coordinate_transformation_mode_s="half_pixel",
        antialias_i=1,
        exclude_outside_i=1,
    )


def register_antialias_resize() -> None:
    torch.onnx.register_custom_op_symbolic(
        "aten::_upsample_bilinear2d_aa", _antialiased_bilinear, ONNX_OPSET
    )


def _dynamic_axes(output_names: List[str]) -> dict:
    axes = {"image": {0: "height", 1: "width"}}
    for name in output_names:
        if not name.startswith(VERTEX_EMBEDDINGS_PREFIX):
            axes[name] = {0: "num_instances"}
    return axes


def _set_initializers(model, values: Dict[str, float]) -> None:
    """Writes `values` into the initializers traced from the module's buffers of those names."""
    from onnx import numpy_helper

    found = set()
    for init in model.graph.initializer:
        if init.name in values:
            array = np.array(values[init.name], dtype=numpy_helper.to_array(init).dtype)
            init.CopyFrom(numpy_helper.from_array(array, init.name))
            found.add(init.name)
    missing = set(values) - found
    if missing:
        raise RuntimeError(f"ONNX export: initializers {sorted(missing)} not found in the graph")


def export_onnx(
    module: torch.nn.Module,
    example: torch.Tensor,
    path: str,
    metadata_json: str,
    initializer_values: Dict[str, float],
) -> None:
    """Exports `module` (traced on `example` with its current buffers) and stores metadata.

    `initializer_values` (buffer name -> value) are written into the initializers after tracing.
    Constant folding is off so that these buffers stay initializers (onnxruntime folds constants
    itself when it loads the model).
    """
    import onnx

    register_antialias_resize()
    output_names = list(module.output_names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (example,),
            path,
            dynamo=False,
            opset_version=ONNX_OPSET,
            input_names=["image"],
            output_names=output_names,
            dynamic_axes=_dynamic_axes(output_names),
            do_constant_folding=False,
        )
    model = onnx.load(path)
    _set_initializers(model, initializer_values)
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, metadata_json
    onnx.save(model, path)
