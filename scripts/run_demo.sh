#!/usr/bin/env bash
# The main job. Sets up .venv if needed, then:
#
#   scripts/run_demo.sh                 offline default: generate synthetic people, train a small
#                                       DensePose model on them (CPU; evaluated at the end), and run
#                                       apply_net.py show + dump on held-out images
#   scripts/run_demo.sh MODEL_ZOO_NAME [INPUT]
#                                       online: the official checkpoint of a model-zoo config (e.g.
#                                       densepose_rcnn_R_50_FPN_s1x) applied to INPUT (an image, a
#                                       directory, a glob or a video; default: held-out synthetic images)
#
# Environment: DEMO_OUT (default output/demo), DEMO_ITERS (training iterations, default 600),
# DEMO_TRAIN_IMAGES (default 500). About 6 minutes on 2 CPU cores.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup_env.sh
PY="${VENV:-$ROOT/.venv}/bin/python"
OUT="${DEMO_OUT:-output/demo}"
ITERS="${DEMO_ITERS:-600}"
NUM_TRAIN="${DEMO_TRAIN_IMAGES:-500}"
export DETECTRON2_DATASETS="$OUT/datasets"
export PYTHONWARNINGS="ignore"
mkdir -p "$OUT"

step() { echo; echo "== $*"; }

heldout="$OUT/datasets/heldout"
step "held-out synthetic images -> $heldout/images"
"$PY" -m densepose_ext.data.synthetic --out "$heldout" --num-images 6 --size 256 --seed 12345

if [[ $# -ge 1 ]]; then
  name="$1"
  input="${2:-$heldout/images}"
  config="$("$PY" -c "from densepose_ext.model_zoo import get_config_file as g; print(g('$name'))")"
  weights="$("$PY" -c "from densepose_ext.model_zoo import get_checkpoint_url as g; print(g('$name'))")"
  case "$name" in
    cse/*) vis="bbox,dp_vertex" ;;
    *) vis="bbox,dp_segm,dp_contour" ;;
  esac
  step "apply_net.py show with $name ($weights)"
  "$PY" apply_net.py show "$config" "$weights" "$input" "$vis" --output "$OUT/zoo_show/result.png" --opts MODEL.DEVICE cpu
  step "apply_net.py dump"
  "$PY" apply_net.py dump "$config" "$weights" "$input" --output "$OUT/zoo_dump/results.pkl" --opts MODEL.DEVICE cpu
  echo; echo "outputs: $OUT/zoo_show, $OUT/zoo_dump"
  exit 0
fi

config="demo/configs/synthetic_R_18_chart.yaml"
step "synthetic training data -> $DETECTRON2_DATASETS/synth ($NUM_TRAIN train + 100 val images)"
"$PY" -m densepose_ext.data.synthetic --out "$DETECTRON2_DATASETS/synth" \
  --num-images $((NUM_TRAIN + 100)) --split-val 100 --size 256 --seed 0 --workers 2

step "training $config for $ITERS iterations on the CPU -> $OUT/train (ends with bbox / GPS / GPSm / IOU AP on densepose_synth_val)"
"$PY" train_net.py --config-file "$config" OUTPUT_DIR "$OUT/train" SOLVER.MAX_ITER "$ITERS" \
  SOLVER.STEPS "($((ITERS * 5 / 6)),)" SOLVER.CHECKPOINT_PERIOD "$ITERS"
weights="$OUT/train/model_final.pth"

step "apply_net.py show on held-out images -> $OUT/show"
"$PY" apply_net.py show "$config" "$weights" "$heldout/images" bbox,dp_segm --min_score 0.5 \
  --output "$OUT/show/segm.png"
"$PY" apply_net.py show "$config" "$weights" "$heldout/images" dp_contour --min_score 0.5 \
  --output "$OUT/show/contour.png"
step "apply_net.py dump on held-out images -> $OUT/dump"
"$PY" apply_net.py dump "$config" "$weights" "$heldout/images" --min_score 0.5 \
  --output "$OUT/dump/results.pkl" --format pkl,iuv_png,npz

echo; echo "done: model $weights, pictures in $OUT/show, dumps in $OUT/dump, metrics at the end of $OUT/train/log.txt"
