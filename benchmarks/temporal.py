"""Flicker table: per-frame `apply_net.py dump` vs `--temporal` (causal, offline) on video clips
with exact ground truth. Writes the markdown table (and the docs section with --write-docs).

    python benchmarks/temporal.py [--num-clips 6] [--num-frames 24] [--threads 2] [--write-docs]

Steps: (1) a small chart model trained on synthetic images with the demo's recipe
(demo/configs/synthetic_R_18_chart.yaml; cached in OUT/train, or --weights); (2) synthetic clips
(`python -m densepose_ext.data.synthetic --video`) and, when the DensePose demo photos are found,
the photos animated by a known pan and zoom; (3) `apply_net.py dump` per clip in each mode, timed;
(4) metrics of `densepose_ext.evaluation.temporal` per clip (and GPS AP with the project's
scorer on synthetic clips); mean and standard deviation over clips per mode.
"""

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import time
from typing import Dict, List, Optional

import cv2
import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

from densepose_ext.apply.cli import build_parser, execute  # noqa: E402
from densepose_ext.data.synthetic.photo_clip import write_photo_clip  # noqa: E402
from densepose_ext.data.synthetic.video import (  # noqa: E402
    clip_frame_paths,
    clip_info,
    generate_synthetic_video,
    load_clip_ground_truth,
)
from densepose_ext.evaluation.temporal import ClipTemporalMetrics, DenseFrame  # noqa: E402
from densepose_ext.evaluation.video_dumps import clip_predictions, read_dump_records  # noqa: E402
from densepose_ext.structures.dump_record import FRAME_INDEX_KEY  # noqa: E402

CONFIG = "demo/configs/synthetic_R_18_chart.yaml"
MODES = {
    "per-frame": [],
    "temporal causal": ["--temporal"],
    "temporal offline": ["--temporal", "--temporal-mode", "offline"],
}
GROUP_NAMES = {"synthetic": "synthetic clips", "photos": "real photos animated by pan and zoom"}
PHOTOS = (("demo_im.jpg", "demo_im"), ("demo_data_2_im.jpg", "demo_data_2"))
COLUMNS = (
    ("consistency", "label consistency", "{:.3f}"),
    ("uv_change_median", "U/V change median", "{:.4f}"),
    ("uv_change_p90", "U/V change p90", "{:.4f}"),
    ("part_accuracy", "part accuracy", "{:.3f}"),
    ("uv_error", "U/V error", "{:.4f}"),
    ("gps_ap", "GPS AP", "{:.1f}"),
    ("idf1", "IDF1", "{:.3f}"),
    ("id_switches", "ID switches", "{:.2f}"),
)


def _log(message: str) -> None:
    print(f"[temporal] {message}", flush=True)


def train_model(out: str, iterations: int, num_images: int) -> str:
    """The demo's recipe (scripts/run_demo.sh), cached: OUT/train/model_final.pth."""
    weights = os.path.join(out, "train", "model_final.pth")
    if os.path.isfile(weights):
        return weights
    env = dict(os.environ, DETECTRON2_DATASETS=os.path.join(out, "datasets"))
    py = sys.executable
    synth = os.path.join(out, "datasets", "synth")
    _log(f"training {CONFIG} for {iterations} iterations (cached in {weights})")
    subprocess.run(
        [py, "-m", "densepose_ext.data.synthetic", "--out", synth, "--num-images",
         str(num_images + 100), "--split-val", "100", "--size", "256", "--seed", "0"],
        check=True, cwd=ROOT, env=env,
    )  # fmt: skip
    subprocess.run(
        [py, "train_net.py", "--config-file", CONFIG, "OUTPUT_DIR", os.path.join(out, "train"),
         "SOLVER.MAX_ITER", str(iterations), "SOLVER.STEPS", f"({iterations * 5 // 6},)",
         "SOLVER.CHECKPOINT_PERIOD", str(iterations), "DATASETS.TEST", "()"],
        check=True, cwd=ROOT, env=env,
    )  # fmt: skip
    return weights


def find_photos(photo_dir: Optional[str]) -> Optional[str]:
    """The folder with the DensePose demo photos and their IUV / INDS maps, if any."""
    candidates = [photo_dir] if photo_dir else []
    cache = os.environ.get("DENSEPOSE_EXT_TEST_DATA", "~/.cache/densepose_ext/test_data")
    candidates.append(os.path.join(os.path.expanduser(cache), "demo"))
    shared = os.environ.get("DENSEPOSE_EXT_SHARED", os.path.join(ROOT, "..", "shared"))
    candidates.append(os.path.join(shared, "data", "demo"))
    for folder in candidates:
        if all(os.path.isfile(os.path.join(folder, image)) for image, _ in PHOTOS):
            return folder
    return None


def make_clips(args) -> Dict[str, List[str]]:
    video_root = os.path.join(args.out, "video")
    synthetic = generate_synthetic_video(
        video_root, args.num_clips, num_frames=args.num_frames, size=args.size, seed=args.seed
    )
    photos = []
    folder = find_photos(args.photos)
    if folder is None:
        _log("real photos row skipped: demo_im.jpg / demo_data_2_im.jpg not found (--photos DIR)")
    for image, stem in PHOTOS if folder else ():
        clip_dir = os.path.join(video_root, "photos", stem)
        if not os.path.isdir(clip_dir):
            write_photo_clip(
                os.path.join(folder, image),
                os.path.join(folder, f"{stem}_IUV.png"),
                os.path.join(folder, f"{stem}_INDS.png"),
                clip_dir,
                num_frames=args.num_frames,
                short_side=args.size,
                seed=args.seed,
            )
        photos.append(clip_dir)
    return {"synthetic": synthetic, "photos": photos}


def temporal_flags_available() -> bool:
    try:
        build_parser().parse_args(["dump", "c", "m", "i", "--temporal"])
    except SystemExit:
        return False
    return True


def run_dump(args, weights: str, clip_dir: str, mode: str, dump: str) -> float:
    """`apply_net.py dump` of the clip's frame folder; seconds of the run (model load excluded)."""
    if os.path.isfile(dump) and not args.rerun:
        with open(dump + ".seconds") as f:
            return float(f.read())
    argv = ["dump", CONFIG, weights, os.path.join(clip_dir, "frames"), "--output", dump]
    argv += ["--min_score", str(args.min_score), "--no-progress", *MODES[mode]]
    if args.nms_thresh is not None:
        argv += ["--nms_thresh", str(args.nms_thresh)]
    stats = execute(build_parser().parse_args(argv))
    with open(dump + ".seconds", "w") as f:
        f.write(str(stats.total_seconds))
    return stats.total_seconds


def gps_ap(clip_dir: str, dump: str, surface: str) -> float:
    """GPS AP (x100) of the dump against the clip's annotations, with the project's scorer."""
    from densepose_ext.evaluation.__main__ import parse_args, score

    records = read_dump_records(dump)
    if any(FRAME_INDEX_KEY in r for r in records):
        # a frame folder read as one video (--temporal): the scorer takes records with a
        # frame_index for frames of a video file, so score a copy keyed by the frame files
        dump = dump + ".frames.pkl"
        torch.save([{k: v for k, v in r.items() if k != FRAME_INDEX_KEY} for r in records], dump)
    argv = ["--annotations", os.path.join(clip_dir, "annotations.json"), "--results", dump]
    with contextlib.redirect_stdout(io.StringIO()):  # the scorer prints its tables
        results = score(parse_args(argv + ["--surface", surface]))
    for task, metrics in results.items():
        if "gps" in task.lower() and "gpsm" not in task.lower():
            return float(metrics["AP"])
    return float("nan")


def clip_metrics(clip_dir: str, dump: Optional[str]) -> Dict[str, float]:
    """Metrics of a dump (None: the ground truth itself, the floor of the carry's grid error)."""
    info = clip_info(clip_dir)
    frames = clip_frame_paths(clip_dir)
    h, w = info["height"], info["width"]
    preds = clip_predictions(dump, frames, h, w) if dump else None
    acc = ClipTemporalMetrics()
    for t in range(len(frames)):
        gt = load_clip_ground_truth(clip_dir, t)
        gt_frame = DenseFrame(gt.part.astype(np.int64), gt.u, gt.v)
        pred, ids, boxes = preds[t] if preds else (gt_frame, None, None)
        acc.add_frame(pred, gt_frame, gt.track, gt.flow, gt.flow_valid, ids, boxes)
    return acc.summary()


def _mean_sd(values: List[float], fmt: str) -> str:
    values = [v for v in values if v is not None and not np.isnan(v)]
    if not values:
        return "-"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(np.mean(values))} ± {fmt.format(np.std(values))}"


def table(rows: Dict[str, List[Dict[str, float]]]) -> str:
    """Markdown table: one row per mode, mean ± standard deviation over clips."""
    lines = [
        "| mode | " + " | ".join(name for _, name, _ in COLUMNS) + " |",
        "|---" * (len(COLUMNS) + 1) + "|",
    ]
    for mode, per_clip in rows.items():
        cells = [_mean_sd([m.get(key, np.nan) for m in per_clip], fmt) for key, _, fmt in COLUMNS]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _labels_overlay(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    colors = cv2.applyColorMap((labels * 10).clip(0, 255).astype(np.uint8), cv2.COLORMAP_JET)
    out = image.copy()
    fg = labels > 0
    out[fg] = (0.35 * image[fg] + 0.65 * colors[fg]).astype(np.uint8)
    return out


def _id_color(track_id: int):
    hue = (int(track_id) * 47) % 180
    bgr = cv2.cvtColor(np.uint8([[[hue, 220, 255]]]), cv2.COLOR_HSV2BGR)[0, 0]
    return tuple(int(c) for c in bgr)


def picture(clip_dir: str, dumps: Dict[str, str], path: str, num: int = 5) -> None:
    """A strip of frames: one row per mode (part labels, boxes, track ids when present)."""
    info = clip_info(clip_dir)
    frames = clip_frame_paths(clip_dir)
    picks = np.linspace(0, len(frames) - 1, num).round().astype(int)
    rows = []
    for mode, dump in dumps.items():
        preds = clip_predictions(dump, frames, info["height"], info["width"])
        tiles = []
        for t in picks:
            pred, ids, boxes = preds[t]
            tile = _labels_overlay(cv2.imread(frames[t]), pred.labels)
            for k, box in enumerate(boxes):
                x0, y0, x1, y1 = (int(round(c)) for c in box)
                color = _id_color(ids[k]) if ids else (255, 255, 255)
                cv2.rectangle(tile, (x0, y0), (x1, y1), color, 1)
                if ids:
                    cv2.putText(tile, f"#{ids[k]}", (x0 + 2, max(y0 - 3, 10)),
                                cv2.FONT_HERSHEY_SIMPLEX, 0.45, color, 1)  # fmt: skip
            cv2.putText(tile, f"{mode}, frame {t}", (4, info["height"] - 6),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.38, (255, 255, 255), 1)  # fmt: skip
            tiles.append(tile)
        rows.append(np.concatenate(tiles, axis=1))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp.png"
    cv2.imwrite(tmp, np.concatenate(rows, axis=0))
    os.replace(tmp, path)


def write_docs_section(path: str, section: str) -> None:
    """Replaces (or appends) the '## Flicker table' section of the docs file, atomically."""
    text = open(path).read() if os.path.isfile(path) else "# DensePose on video\n"
    head = "## Flicker table"
    if head in text:
        start = text.index(head)
        end = text.find("\n## ", start + len(head))
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=os.path.join(ROOT, "output", "temporal"))
    parser.add_argument("--weights", default=None, help="checkpoint of CONFIG (default: trained)")
    parser.add_argument("--train-iters", type=int, default=600)
    parser.add_argument("--train-images", type=int, default=500)
    parser.add_argument("--num-clips", type=int, default=6)
    parser.add_argument("--num-frames", type=int, default=24)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--photos", default=None, help="folder with the DensePose demo photos")
    parser.add_argument("--min-score", type=float, default=0.5)
    parser.add_argument("--nms-thresh", type=float, default=None, help="default: the config's")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--timing-frames", type=int, default=4, help="R_50 timing clip (0: off)")
    parser.add_argument("--timing-size", type=int, default=800)
    parser.add_argument("--timing-repeats", type=int, default=1)
    parser.add_argument("--rerun", action="store_true", help="rerun dumps present in OUT/dumps")
    parser.add_argument("--write-docs", action="store_true", help="update docs/video.md")
    return parser.parse_args(argv)


def measure(args, weights: str, clips: Dict[str, List[str]], modes: List[str]):
    """Per group, per mode, per clip metrics; seconds per mode; dumps per clip. The modes run
    back to back on each clip, so that load changes on the machine hit them alike."""
    surface = os.path.join(args.out, "video", "body", "synthetic_body_2426_surface.npz")
    results: Dict[str, Dict[str, List[Dict[str, float]]]] = {}
    seconds = {mode: 0.0 for mode in modes}
    dumps_of: Dict[str, Dict[str, str]] = {}
    for group, clip_dirs in clips.items():
        results[group] = {"ground truth (grid floor)": [clip_metrics(c, None) for c in clip_dirs]}
        results[group].update({mode: [] for mode in modes})
        for clip_dir in clip_dirs:
            name = os.path.basename(clip_dir)
            for mode in modes:
                dump = os.path.join(args.out, "dumps", mode.replace(" ", "_"), f"{name}.pkl")
                os.makedirs(os.path.dirname(dump), exist_ok=True)
                seconds[mode] += run_dump(args, weights, clip_dir, mode, dump)
                metrics = clip_metrics(clip_dir, dump)
                if group == "synthetic":
                    metrics["gps_ap"] = gps_ap(clip_dir, dump, surface)
                metrics["kind"] = clip_info(clip_dir)["kind"]
                results[group][mode].append(metrics)
                dumps_of.setdefault(clip_dir, {})[mode] = dump
                values = [f"{k} {v:.3f}" for k, v in metrics.items() if isinstance(v, float)]
                _log(f"{group} {name} {mode}: " + ", ".join(values))
    return results, seconds, dumps_of


def r50_time_ratio(args) -> Optional[Dict[str, float]]:
    """Dump seconds of R_50_FPN_s1x (random weights that detect; 4 detections per frame) on one
    synthetic clip at --timing-size px, per-frame and --temporal, interleaved."""
    if args.timing_frames <= 0:
        return None
    from detectron2.modeling import build_model
    from random_checkpoints import save_detecting_checkpoint

    from densepose_ext.config import get_densepose_cfg

    config = "configs/densepose_rcnn_R_50_FPN_s1x.yaml"
    weights = os.path.join(args.out, "timing", "r50_random.pth")
    if not os.path.isfile(weights):
        cfg = get_densepose_cfg()
        cfg.merge_from_file(config)
        cfg.MODEL.DEVICE = "cpu"
        torch.manual_seed(0)
        os.makedirs(os.path.dirname(weights), exist_ok=True)
        save_detecting_checkpoint(build_model(cfg), weights)
    (clip_dir,) = generate_synthetic_video(
        os.path.join(args.out, "timing", "video"), 1, args.timing_frames, args.timing_size, seed=1
    )
    seconds = {"per-frame": 0.0, "temporal causal": 0.0}
    for repeat in range(args.timing_repeats):
        for mode in seconds:
            dump = os.path.join(args.out, "timing", f"{mode.replace(' ', '_')}_{repeat}.pkl")
            argv = ["dump", config, weights, os.path.join(clip_dir, "frames"), "--output", dump]
            argv += ["--no-progress", *MODES[mode], "--opts", "TEST.DETECTIONS_PER_IMAGE", "4"]
            seconds[mode] += execute(build_parser().parse_args(argv)).total_seconds
    _log(f"R_50_FPN_s1x at {args.timing_size} px: {seconds}")
    return seconds


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    os.chdir(ROOT)
    weights = args.weights or train_model(args.out, args.train_iters, args.train_images)
    clips = make_clips(args)
    modes = list(MODES) if temporal_flags_available() else ["per-frame"]
    if len(modes) == 1:
        _log("apply_net.py has no --temporal here: only the per-frame rows are measured")
    results, seconds, dumps_of = measure(args, weights, clips, modes)
    r50 = r50_time_ratio(args) if len(modes) > 1 else None
    report = render_report(args, results, seconds, r50, time.perf_counter() - start)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(report)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"results": results, "seconds": seconds, "r50_seconds": r50}, f, indent=1)
    crossing = [c for c in clips["synthetic"] if clip_info(c)["kind"] == "crossing"]
    shown = crossing[0] if crossing else clips["synthetic"][0]
    image = os.path.join(ROOT, "docs", "images", "video_flicker_strip.jpg")
    picture(shown, dumps_of[shown], image if args.write_docs else image.replace(ROOT, args.out))
    print(report)
    if args.write_docs:
        write_docs_section(os.path.join(ROOT, "docs", "video.md"), report)


DEFINITIONS = """\
Metrics (`densepose_ext/evaluation/temporal.py`), on ground-truth person pixels: *label
consistency* = fraction of pixels whose predicted part equals the previous frame's prediction
carried along by the exact motion (nearest pixel; pixels background in both predictions are not
compared); *U/V change* = |(u, v) - carried (u, v)| where both are the same part (median, 90th
percentile); *part accuracy* and *U/V error* (mean |(u, v) - GT| where the part is right) per
frame against the exact ground truth; *GPS AP* (x100) with the project's scorer against the
clips' DensePose-COCO annotations; *IDF1* and *ID switches* with `motmetrics` (box IoU >= 0.5).
The *ground truth* row applies the same metrics to the ground truth itself: the consistency and
U/V change that the nearest-pixel carry leaves even without flicker."""


def comparison_lines(rows: Dict[str, List[Dict[str, float]]]) -> List[str]:
    """Label flicker (1 - consistency) and part accuracy of each temporal mode against the
    per-frame run, in words, from the numbers."""
    base = rows.get("per-frame")
    out = []
    for mode, per_clip in rows.items():
        if not base or mode in ("per-frame", "ground truth (grid floor)"):
            continue
        flicker = [1 - m["consistency"] for m in per_clip]
        base_flicker = [1 - m["consistency"] for m in base]
        acc = [m["part_accuracy"] - b["part_accuracy"] for m, b in zip(per_clip, base)]
        spread = float(np.std([b["part_accuracy"] for b in base]))
        out.append(
            f"{mode}: label flicker x{np.nanmean(flicker) / np.nanmean(base_flicker):.2f} of "
            f"per-frame ({np.nanmean(flicker):.3f} vs {np.nanmean(base_flicker):.3f}); part "
            f"accuracy {np.nanmean(acc):+.3f} (clip-to-clip spread of per-frame: {spread:.3f})."
        )
    return ["", *("- " + line for line in out)] if out else []


def render_report(args, results, seconds, r50, wall: float) -> str:
    lines = ["## Flicker table", "", DEFINITIONS, ""]
    command = f"--threads {args.threads} --min-score {args.min_score}"
    nms = ""
    if args.nms_thresh is not None:
        command += f" --nms-thresh {args.nms_thresh}"
        nms = f", NMS IoU {args.nms_thresh}"
    command += " --write-docs"
    lines.append(
        f"Produced by `python benchmarks/temporal.py {command}` ({args.num_clips} synthetic "
        f"clips of {args.num_frames} frames at {args.size}x{args.size} px, seed {args.seed}; "
        f"detections with score >= {args.min_score}{nms}). Mean ± standard deviation over "
        f"clips; wall time of the whole run {wall / 60:.1f} min on {os.cpu_count()} CPU cores, "
        f"torch threads {args.threads}, load average at the end {os.getloadavg()[0]:.1f} (other "
        "jobs were running: timings are noisy)."
    )
    for group, rows in results.items():
        if not rows["ground truth (grid floor)"]:
            continue
        lines += ["", f"**{GROUP_NAMES[group]}** ({len(rows['ground truth (grid floor)'])})", ""]
        lines.append(table(rows))
        no_cross = {
            mode: sum(m.get("id_switches", 0) for m in per_clip if m.get("kind") != "crossing")
            for mode, per_clip in rows.items()
            if any("id_switches" in m for m in per_clip)
        }
        if no_cross:
            lines += ["", "Identity switches summed over the clips without crossings: " + ", ".join(
                f"{mode} {n}" for mode, n in no_cross.items())]  # fmt: skip
        lines += comparison_lines(rows)
    base = seconds.get("per-frame")
    if base:
        ratios = ", ".join(
            f"{mode} {seconds[mode] / base:.2f}" for mode in seconds if mode != "per-frame"
        )
        lines += ["", f"Dump time relative to per-frame (all clips, this model): {ratios or '-'} "
                      f"(per-frame: {base:.1f} s)."]  # fmt: skip
    if r50:
        ratio = r50["temporal causal"] / r50["per-frame"]
        lines += [
            "",
            f"R_50_FPN_s1x (random weights that detect, 4 per frame), one {args.timing_frames}"
            f"-frame clip at {args.timing_size} px, {args.timing_repeats} interleaved run(s): "
            f"`--temporal` / per-frame dump time = {ratio:.3f} "
            f"(per-frame {r50['per-frame']:.1f} s).",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
