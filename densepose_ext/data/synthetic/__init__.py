"""Synthetic DensePose data: a procedural 24-part body, a z-buffer renderer, DensePose-COCO export.

Quick start (see docs/synthetic.md)::

    python -m densepose_ext.data.synthetic --out datasets/synth --num-images 1000 --split-val 100

    from densepose_ext.data.synthetic import register_synthetic_datasets
    register_synthetic_datasets("datasets/synth", num_train=900, num_val=100)  # densepose_synth_*
"""

from .body import FINE_TO_COARSE, PART_NAMES, BodyTemplate, build_body_template
from .body_files import BodyFiles, flip_tables, synthetic_body_surface, write_body_files
from .generate import SyntheticDataset, body_template, generate_synthetic_dataset, render_example
from .register import (
    register_builtin_synthetic_datasets,
    register_synthetic_dataset,
    register_synthetic_datasets,
    synthetic_metadata,
)
from .scene import RenderedScene, mirror_scene, render_scene, sample_scene

__all__ = [
    "FINE_TO_COARSE",
    "PART_NAMES",
    "BodyFiles",
    "BodyTemplate",
    "RenderedScene",
    "SyntheticDataset",
    "body_template",
    "build_body_template",
    "flip_tables",
    "generate_synthetic_dataset",
    "mirror_scene",
    "register_synthetic_dataset",
    "register_synthetic_datasets",
    "render_example",
    "render_scene",
    "sample_scene",
    "synthetic_body_surface",
    "synthetic_metadata",
    "write_body_files",
]
