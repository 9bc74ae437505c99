"""DensePose data: datasets, mappers, the mesh catalog (importing registers the built-in meshes)."""

from . import datasets, meshes  # noqa: F401  (register the built-in dataset names and meshes)
from .synthetic.register import register_builtin_synthetic_datasets

register_builtin_synthetic_datasets()
