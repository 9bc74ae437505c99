#!/usr/bin/env bash
# Creates (or refreshes) the project's virtual environment on a bare machine.
#
#   scripts/setup_env.sh            # -> .venv/ with torch, torchvision, detectron2, deps, densepose_ext -e
#   VENV=/path/to/venv scripts/setup_env.sh
#
# Re-running when everything is in place only checks a stamp and takes a second or two.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
TORCH_VERSION="2.14.1"
TORCHVISION_VERSION="0.29.1"
D2_REUPLOAD="sal-detectron2==0.7.2"

# The web app's browser tests (tests/app) drive Debian's Chromium: installed when missing, as root
# with apt-get; elsewhere the tests skip and print the command (they fail when CI=true).
if ! command -v chromium >/dev/null 2>&1; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "setup_env: installing chromium (apt-get) for the app's browser tests"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
      >/dev/null 2>&1 || echo "setup_env: could not install chromium; browser tests will skip"
  else
    echo "setup_env: no chromium; the app's browser tests need it: sudo apt-get install -y chromium"
  fi
fi

# Everything that decides the environment's content goes into the stamp.
stamp_src="$(cat "$0" "$ROOT/setup.py" "$ROOT/requirements-dev.txt" 2>/dev/null)"
stamp="$(printf '%s' "$stamp_src" | sha256sum | cut -d' ' -f1)"
stamp_file="$VENV/.densepose_ext_stamp"
if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]] \
    && "$VENV/bin/python" -c "import torch, detectron2, densepose_ext" >/dev/null 2>&1; then
  echo "setup_env: $VENV is up to date"
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup_env: creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip wheel "setuptools<81"

if ! "$PY" -c "import torch, torchvision, sys; sys.exit(0 if (torch.__version__.split('+')[0], torchvision.__version__.split('+')[0]) == ('$TORCH_VERSION', '$TORCHVISION_VERSION') else 1)" >/dev/null 2>&1; then
  echo "setup_env: installing torch $TORCH_VERSION, torchvision $TORCHVISION_VERSION"
  "${PIP[@]}" install -q "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
fi

# detectron2 runtime requirements (also needed by the re-upload, which is installed --no-deps).
"${PIP[@]}" install -q "numpy<2" "setuptools<81" matplotlib termcolor yacs tabulate cloudpickle tqdm \
  tensorboard "omegaconf<2.4" hydra-core black packaging fvcore "iopath<0.1.10" pycocotools \
  opencv-python-headless scipy pillow

if ! "$PY" -c "import detectron2" >/dev/null 2>&1; then
  # A source-built detectron2 visible to the base interpreter is preferred.
  d2_src="$("$PYTHON" -c 'import detectron2, os; print(os.path.dirname(os.path.dirname(detectron2.__file__)))' 2>/dev/null || true)"
  if [[ -n "$d2_src" && -f "$d2_src/setup.py" ]]; then
    echo "setup_env: installing detectron2 from source tree $d2_src"
    "${PIP[@]}" install -q --no-build-isolation -e "$d2_src"
  else
    echo "setup_env: installing detectron2 from the registry re-upload $D2_REUPLOAD"
    tmp="$(mktemp -d)"
    "${PIP[@]}" download -q --no-deps --only-binary=:all: --python-version 3.10 -d "$tmp" "$D2_REUPLOAD"
    whl="$(ls "$tmp"/*.whl | head -n1)"
    # The wheel's compiled _C targets cp310 and is never loaded on other versions; the Python part
    # is version-independent, so the tag is rewritten to make pip accept it.
    base="$(basename "$whl")"
    renamed="$tmp/$(echo "$base" | sed -E 's/-[^-]+-[^-]+-[^-]+\.whl$/-py3-none-any.whl/')"
    [[ "$renamed" == "$whl" ]] || mv "$whl" "$renamed"
    "${PIP[@]}" install -q --no-deps "$renamed"
    rm -rf "$tmp"
  fi
fi

echo "setup_env: installing densepose_ext (editable) and dev tools"
"${PIP[@]}" install -q --no-build-isolation -e "$ROOT"
"${PIP[@]}" install -q -r "$ROOT/requirements-dev.txt" "numpy<2"  # ray / motmetrics alone take numpy 2
# numpy stays < 2 (detectron2 re-upload); gradio alone would pull numpy 2
"${PIP[@]}" install -q --no-build-isolation -e "$ROOT[app]" "numpy<2"  # web app + browser tests

"$PY" -c "import torch, detectron2, densepose_ext; print('setup_env: torch', torch.__version__, '| detectron2', detectron2.__version__, '| densepose_ext', densepose_ext.__version__)"
echo "$stamp" > "$stamp_file"
