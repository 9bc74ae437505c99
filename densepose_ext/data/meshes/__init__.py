"""Mesh catalog of the CSE models; importing registers the built-in meshes, then the local copies
in `$DENSEPOSE_MESH_DIR` (see `local.py`)."""

from .builtin import BUILTIN_MESH_NAMES, BUILTIN_MESHES_BASE_URL, register_builtin_meshes
from .catalog import MeshCatalog, MeshInfo, create_mesh, register_mesh, register_meshes
from .local import (
    MESH_DIR_ENV,
    MESH_OPTION_HINT,
    LocalMeshError,
    add_mesh_option,
    check_mesh_names,
    check_mesh_vertex_counts,
    parse_mesh_options,
    register_local_meshes,
    register_meshes_from_environment,
    require_meshes,
)

register_builtin_meshes()
register_meshes_from_environment()

__all__ = [
    "BUILTIN_MESH_NAMES",
    "BUILTIN_MESHES_BASE_URL",
    "LocalMeshError",
    "MESH_DIR_ENV",
    "MESH_OPTION_HINT",
    "MeshCatalog",
    "MeshInfo",
    "add_mesh_option",
    "check_mesh_names",
    "check_mesh_vertex_counts",
    "create_mesh",
    "parse_mesh_options",
    "register_builtin_meshes",
    "register_local_meshes",
    "register_meshes_from_environment",
    "register_mesh",
    "register_meshes",
    "require_meshes",
]
