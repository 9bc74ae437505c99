"""The 13 meshes of the DensePose CSE models, registered in the original order (ids 0..12)."""

from .catalog import MeshInfo, register_meshes

__all__ = [
    "BUILTIN_MESHES_BASE_URL",
    "BUILTIN_MESH_NAMES",
    "builtin_mesh_infos",
    "register_builtin_meshes",
]

BUILTIN_MESHES_BASE_URL = "https://dl.fbaipublicfiles.com/densepose/meshes/"

BUILTIN_MESH_NAMES = (
    "smpl_27554",
    "chimp_5029",
    "cat_5001",
    "cat_7466",
    "sheep_5004",
    "zebra_5002",
    "horse_5004",
    "giraffe_5002",
    "elephant_5002",
    "dog_5002",
    "dog_7466",
    "cow_5002",
    "bear_4936",
)

# horse_5004 has no texture coordinates of its own; it uses the zebra ones
_TEXCOORDS_SOURCE = {"horse_5004": "zebra_5002"}


def builtin_mesh_infos():
    """MeshInfo of every built-in mesh, with file names relative to the mesh base URL."""
    infos = []
    for name in BUILTIN_MESH_NAMES:
        tex = _TEXCOORDS_SOURCE.get(name, name)
        infos.append(
            MeshInfo(
                name=name,
                data=f"{name}.pkl",
                geodists=f"geodists/geodists_{name}.pkl",
                symmetry=f"symmetry/symmetry_{name}.pkl",
                texcoords=f"texcoords/texcoords_{tex}.pkl",
            )
        )
    return infos


def register_builtin_meshes(base_path: str = BUILTIN_MESHES_BASE_URL) -> None:
    """Registers the built-in meshes with files under `base_path` (URL or local directory)."""
    register_meshes(builtin_mesh_infos(), base_path)
