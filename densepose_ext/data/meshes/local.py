"""Local copies of mesh files: `--mesh NAME=PATH` and the `DENSEPOSE_MESH_DIR` directory.

The built-in meshes point at the DensePose download site. A local copy replaces those locations,
so that visualisers, losses and evaluation read the files from disk with no download. A directory
of mesh files has the layout of the download site, or the same files side by side:

    smpl_27554.pkl
    texcoords/texcoords_smpl_27554.pkl   (or texcoords_smpl_27554.pkl)
    geodists/geodists_smpl_27554.pkl     (or geodists_smpl_27554.pkl)
    symmetry/symmetry_smpl_27554.pkl     (or symmetry_smpl_27554.pkl)

Extras without a local copy keep their registered location.
"""

import difflib
import logging
import os
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ...utils.files import resolve_file
from .builtin import BUILTIN_MESH_NAMES, builtin_mesh_infos
from .catalog import MeshCatalog, MeshInfo, create_mesh, register_mesh

__all__ = [
    "MESH_DIR_ENV",
    "MESH_OPTION_HINT",
    "LocalMeshError",
    "add_mesh_option",
    "check_mesh_names",
    "check_mesh_vertex_counts",
    "parse_mesh_options",
    "register_local_meshes",
    "register_meshes_from_environment",
    "require_meshes",
]

logger = logging.getLogger(__name__)

MESH_DIR_ENV = "DENSEPOSE_MESH_DIR"
MESH_OPTION_HINT = (
    "give local mesh files with --mesh NAME=PATH (the NAME.pkl file, or a directory holding it) "
    f"or set {MESH_DIR_ENV} to a directory of mesh files"
)
_EXTRAS = ("geodists", "symmetry", "texcoords")


class LocalMeshError(ValueError):
    """A `--mesh` option or mesh directory that does not name usable mesh files."""


def add_mesh_option(parser) -> None:
    """`--mesh NAME=PATH` (repeatable) on an argparse parser; read it with `parse_mesh_options`."""
    parser.add_argument(
        "--mesh",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="local mesh file (or directory holding NAME.pkl) for CSE mesh NAME; repeatable. "
        f"${MESH_DIR_ENV} gives a directory of mesh files",
    )


def parse_mesh_options(options: Optional[Sequence[str]]) -> Dict[str, str]:
    """`["NAME=PATH", ...]` -> {NAME: PATH}; a malformed item raises `LocalMeshError`."""
    meshes = {}
    for option in options or []:
        name, sep, path = option.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise LocalMeshError(f"--mesh expects NAME=PATH, got {option!r}")
        meshes[name.strip()] = path.strip()
    return meshes


def _relative_names(name: str) -> Dict[str, str]:
    """extra -> file name relative to a mesh directory, as on the download site."""
    for info in builtin_mesh_infos():
        if info.name == name:
            return {extra: getattr(info, extra) for extra in _EXTRAS}
    return {extra: f"{extra}/{extra}_{name}.pkl" for extra in _EXTRAS}


def _local_extra(folder: str, relative: str) -> Optional[str]:
    for candidate in (relative, os.path.basename(relative)):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def _local_info(name: str, data: str) -> MeshInfo:
    """MeshInfo with `data` and the extras found next to it (else the registered ones)."""
    folder = os.path.dirname(os.path.abspath(data))
    registered = MeshCatalog.get(name) if name in MeshCatalog else None
    extras = {}
    for extra, relative in _relative_names(name).items():
        local = _local_extra(folder, relative)
        extras[extra] = local or (getattr(registered, extra) if registered else None)
    return MeshInfo(name=name, data=data, **extras)


def _mesh_file(name: str, path: str) -> str:
    path = os.path.expanduser(path)
    if os.path.isdir(path):
        path = os.path.join(path, f"{name}.pkl")
    if not os.path.isfile(path):
        raise LocalMeshError(f"--mesh {name}={path}: no such file (expected the mesh's {name}.pkl)")
    return path


def _directory_meshes(mesh_dir: str, extra_names: Iterable[str]) -> Dict[str, str]:
    """name -> NAME.pkl in `mesh_dir` for the built-in and registered meshes found there."""
    if not os.path.isdir(mesh_dir):
        raise LocalMeshError(f"{MESH_DIR_ENV}={mesh_dir}: not a directory")
    names = list(dict.fromkeys([*BUILTIN_MESH_NAMES, *MeshCatalog.names(), *extra_names]))
    found = {}
    for name in names:
        path = os.path.join(mesh_dir, f"{name}.pkl")
        if os.path.isfile(path):
            found[name] = path
    return found


def register_local_meshes(
    meshes: Optional[Mapping[str, str]] = None,
    mesh_dir: Optional[str] = None,
    names: Iterable[str] = (),
) -> List[Tuple[str, str]]:
    """Registers local mesh files; returns [(name, mesh file)] in registration order.

    `meshes`: name -> mesh file or directory holding `<name>.pkl` (what `--mesh NAME=PATH`
    gives); `mesh_dir`: a directory of mesh files (what `DENSEPOSE_MESH_DIR` gives), searched for
    the built-in and registered meshes and `names` (e.g. a config's embedders). An entry of
    `meshes` wins over the directory. Raises `LocalMeshError` for a missing file or directory.
    """
    meshes = dict(meshes or {})
    wanted = [*meshes, *names]
    chosen = _directory_meshes(os.path.expanduser(mesh_dir), wanted) if mesh_dir else {}
    chosen.update({name: _mesh_file(name, path) for name, path in meshes.items()})
    for name, path in chosen.items():
        register_mesh(_local_info(name, path), warn_on_replace=False)
        logger.info(f"Mesh {name}: local files next to {path}")
    return list(chosen.items())


def register_meshes_from_environment() -> List[Tuple[str, str]]:
    """Registers the meshes of `$DENSEPOSE_MESH_DIR` if set; a bad directory only warns here
    (the command-line tools report it as an error)."""
    mesh_dir = os.environ.get(MESH_DIR_ENV, "")
    if not mesh_dir:
        return []
    try:
        return register_local_meshes(mesh_dir=mesh_dir)
    except LocalMeshError as e:
        logger.warning(str(e))
        return []


def require_meshes(names: Iterable[str], extras: Sequence[str] = (), load: bool = True) -> None:
    """Makes sure each mesh (and the named extras, e.g. "texcoords") is available now, so that a
    missing file is one error before a run starts: loads them, or with `load=False` only fetches
    the files (for extras too large to load twice, such as geodesic distances).

    Raises `LocalMeshError` naming the mesh, the file and the options that give local copies.
    """
    for name in dict.fromkeys(names):
        what = "mesh"
        try:
            if not load:
                info = MeshCatalog.get(name)
                for what in ("data", *extras):
                    location = getattr(info, what)
                    if not location:
                        raise LocalMeshError(f"no {what} file is registered")
                    resolve_file(location, what=f"{what} file of mesh {name!r}")
                continue
            mesh = create_mesh(name)
            for what in extras:
                getattr(mesh, what)
        except Exception as e:  # missing / unreachable / malformed file, unknown mesh
            what = "mesh" if what == "data" else what
            reason = _first_line(e).rstrip(".")
            raise LocalMeshError(
                f"cannot load the {what} file of mesh {name!r}: {reason}; {MESH_OPTION_HINT}"
            ) from e


def check_mesh_names(given: Iterable[str], known: Sequence[str], owner: str = "the model") -> None:
    """A `--mesh` name that `owner` does not use is a misspelling (the run would then fetch the
    real mesh): `LocalMeshError` naming it, the closest known name and `owner`'s meshes."""
    known = list(dict.fromkeys(known))
    for name in given:
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}? " if close else ""
        raise LocalMeshError(
            f"--mesh {name}: {name!r} is not a mesh of {owner}; {hint}its meshes: "
            + (", ".join(known) or "none")
        )


def check_mesh_vertex_counts(expected: Mapping[str, int]) -> None:
    """Loads each mesh and compares its vertex count with the model's (`expected`: name ->
    NUM_VERTICES of its embedder), so that a wrong mesh file is one error when a run starts, not
    an index error in the middle of it."""
    for name, count in expected.items():
        mesh = create_mesh(name)
        if mesh.num_vertices != int(count):
            raise LocalMeshError(
                f"mesh {name!r} ({MeshCatalog.get(name).data}) has {mesh.num_vertices} vertices, "
                f"but the model's embedder for it has {int(count)}: give the {name} mesh file "
                "with --mesh NAME=PATH"
            )


def _first_line(error: BaseException) -> str:
    text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    return " ".join(str(text).split())
