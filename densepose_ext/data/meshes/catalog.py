"""Mesh catalog: name -> files of a mesh, with stable integer ids in registration order."""

import functools
import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import torch

from ...structures.mesh import Mesh, load_mesh

__all__ = ["MeshInfo", "MeshCatalog", "register_mesh", "register_meshes", "create_mesh"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MeshInfo:
    """Where the files of a mesh live (local paths or URLs; None = not available).

    data: pickle dict(vertices [N,3], faces [M,3]); geodists: pickle [N,N]; symmetry: pickle
    dict(vertex_transforms=[N]); texcoords: pickle [N,2].
    """

    name: str
    data: str
    geodists: Optional[str] = None
    symmetry: Optional[str] = None
    texcoords: Optional[str] = None


class _MeshCatalog:
    """Registered meshes; ids are assigned in registration order and kept on re-registration."""

    def __init__(self):
        self._infos: Dict[str, MeshInfo] = {}
        self._ids: Dict[str, int] = {}

    def register(self, info: MeshInfo, warn_on_replace: bool = True) -> None:
        if not isinstance(info, MeshInfo):
            raise TypeError(f"register expects a MeshInfo, got {type(info).__name__}")
        if info.name in self._infos:
            if warn_on_replace:
                logger.warning(f"Mesh {info.name!r} is already registered; replacing its files")
        else:
            self._ids[info.name] = len(self._ids)
        self._infos[info.name] = info

    def get(self, name: str) -> MeshInfo:
        if name not in self._infos:
            raise KeyError(f"mesh {name!r} is not registered; known meshes: {self.names()}")
        return self._infos[name]

    def get_mesh_id(self, name: str) -> int:
        self.get(name)
        return self._ids[name]

    def get_mesh_name(self, mesh_id: int) -> str:
        for name, i in self._ids.items():
            if i == mesh_id:
                return name
        raise KeyError(f"no mesh with id {mesh_id}; {len(self._ids)} meshes registered")

    def names(self) -> List[str]:
        return list(self._infos)

    def __contains__(self, name: str) -> bool:
        return name in self._infos

    def __len__(self) -> int:
        return len(self._infos)


MeshCatalog = _MeshCatalog()


def register_mesh(info: MeshInfo, warn_on_replace: bool = True) -> None:
    """Registers (or replaces) a mesh; `create_mesh(info.name)` then loads it."""
    MeshCatalog.register(info, warn_on_replace=warn_on_replace)


def register_meshes(infos: List[MeshInfo], base_path: Optional[str] = None) -> None:
    """Registers meshes whose file names are relative to `base_path` (a directory or URL prefix)."""
    for info in infos:
        if base_path:
            info = MeshInfo(
                name=info.name,
                data=_join(base_path, info.data),
                geodists=_join(base_path, info.geodists),
                symmetry=_join(base_path, info.symmetry),
                texcoords=_join(base_path, info.texcoords),
            )
        register_mesh(info)


def _join(base: str, rel: Optional[str]) -> Optional[str]:
    if rel is None:
        return None
    return base.rstrip("/") + "/" + rel


@functools.cache
def _create_mesh_cached(info: MeshInfo, device: str) -> Mesh:
    return load_mesh(info, device=device)


def create_mesh(name: str, device: Any = "cpu") -> Mesh:
    """The registered mesh `name` on `device` (cached per registered files and device)."""
    return _create_mesh_cached(MeshCatalog.get(name), str(torch.device(device)))
