"""Makes the compact copy of the golden fixtures that ships in `tests/fixtures/golden`.

The full fixtures (27 MB, produced with the original DensePose) are too large for the repository.
The copy keeps everything the tests compare, exactly (no value is rounded):

* `weights.npz` and `config.yaml` unchanged;
* `inputs.npz` once per distinct content: the three decoder cases share one file, the other two
  name it in `inputs.link`;
* `outputs.npz`: the per-box results, masks and vertex embeddings unchanged; the raw
  `pred_densepose` fields keep every second row and column (`raw_stride` = 2). The fields are
  bilinear x2 upsamplings, so the even samples still pin every low-resolution value;
* `intermediates.npz` dropped (only meant for locating a mismatch by hand).

    python scripts/trim_golden_fixtures.py SOURCE_DIR tests/fixtures/golden
"""

import argparse
import hashlib
import shutil
from pathlib import Path

import numpy as np

RAW_STRIDE = 2
NOT_RAW = ("masks", "vertex_embeddings_")


def _is_raw_field(key: str) -> bool:
    return not key.startswith("box") and not key.startswith(NOT_RAW)


def trim_case(source: Path, target: Path, seen_inputs: dict) -> None:
    """Writes the compact copy of one case directory."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.yaml", "weights.npz"):
        shutil.copyfile(source / name, target / name)
    digest = hashlib.sha256((source / "inputs.npz").read_bytes()).hexdigest()
    if digest in seen_inputs:
        (target / "inputs.link").write_text(f"../{seen_inputs[digest]}/inputs.npz\n")
    else:
        shutil.copyfile(source / "inputs.npz", target / "inputs.npz")
        seen_inputs[digest] = target.name
    with np.load(source / "outputs.npz", allow_pickle=False) as data:
        outputs = {k: data[k] for k in data.files}
    for key, value in outputs.items():
        if _is_raw_field(key):
            outputs[key] = np.ascontiguousarray(value[..., ::RAW_STRIDE, ::RAW_STRIDE])
    outputs["raw_stride"] = np.array(RAW_STRIDE, dtype=np.int64)
    np.savez_compressed(target / "outputs.npz", **outputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="directory holding the full fixture cases")
    parser.add_argument("target", type=Path, help="where the compact cases go")
    args = parser.parse_args()
    seen: dict = {}
    for case in sorted(p for p in args.source.iterdir() if (p / "config.yaml").is_file()):
        trim_case(case, args.target / case.name, seen)
        print(f"{case.name}: done")


if __name__ == "__main__":
    main()
