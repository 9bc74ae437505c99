"""Mesh catalog of the CSE models; importing registers the built-in meshes."""

from .builtin import BUILTIN_MESH_NAMES, BUILTIN_MESHES_BASE_URL, register_builtin_meshes
from .catalog import MeshCatalog, MeshInfo, create_mesh, register_mesh, register_meshes

register_builtin_meshes()

__all__ = [
    "BUILTIN_MESH_NAMES",
    "BUILTIN_MESHES_BASE_URL",
    "MeshCatalog",
    "MeshInfo",
    "create_mesh",
    "register_builtin_meshes",
    "register_mesh",
    "register_meshes",
]
