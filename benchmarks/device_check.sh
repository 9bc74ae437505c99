#!/usr/bin/env bash
# GPU check of the fast inference path (issue 15): seconds per image for R_50_FPN_s1x and
# R_50_FPN_DL_s1x at 800 px, batch 1 and 8, plain fp32 / fast fp32 / fast fp16, and the fp16-vs-fp32
# part-label agreement. Random weights; no download. Takes well under 5 minutes on one GPU.
#   bash benchmarks/device_check.sh            # on the GPU machine, from the repository root
#   PYTHON=/path/to/python bash benchmarks/device_check.sh --iters 3
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
"$PYTHON" - <<'PY'
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
PY
exec timeout 280 "$PYTHON" benchmarks/device_check.py "$@"
