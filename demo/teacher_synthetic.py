#!/usr/bin/env python
"""Teacher inpainting on synthetic data: does a teacher's dense signal help the R-CNN?

One synthetic train/val split (exact dense ground truth known for every pixel). Steps, each
cached in `--out` (rerunning the script resumes):
  1. a teacher (densepose_ext.teacher) trained on the sparse train points, evaluated on the
     held-out val people against the exact dense GT (part accuracy, U/V error on correct parts),
     next to the trivial "nearest annotated point" baseline;
  2. three train files: (a) the sparse points (80-120 per person); (b) + teacher points on a grid
     of step `--grid-step` inside each mask; (c) the same locations as (b) with exact GT values;
  3. one R-CNN recipe (demo/configs/teacher_synthetic_R_18.yaml) trained on each, for every seed,
     evaluated on val: bbox / GPS / GPSm / IOU (densepose_segm) AP, and on the GT boxes of the val
     people against the exact dense GT (part accuracy, U/V error on correct parts): the GT-box
     numbers measure the DensePose head alone and react to small differences that AP hides.

    python demo/teacher_synthetic.py --out output/teacher_synth --size 128 --num-train 500 \\
        --num-val 60 --teacher-iters 1500 --rcnn-iters 600 --seeds 0 1 2
"""

import argparse
import json
import logging
import os
import sys
import time
from typing import Dict, List, Tuple

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from detectron2.config import get_cfg  # noqa: E402
from detectron2.structures import Boxes, Instances  # noqa: E402
from detectron2.utils.logger import setup_logger  # noqa: E402
from overrides import schedule_overrides, size_overrides  # noqa: E402

from densepose_ext import add_densepose_config  # noqa: E402
from densepose_ext.converters.chart_result import chart_outputs_to_results  # noqa: E402
from densepose_ext.data.datasets.coco import load_densepose_coco_json  # noqa: E402
from densepose_ext.data.synthetic import (  # noqa: E402
    generate_synthetic_dataset,
    register_synthetic_dataset,
    render_example,
)
from densepose_ext.engine import Trainer  # noqa: E402
from densepose_ext.teacher import (  # noqa: E402
    TeacherConfig,
    TrainSettings,
    crops_of_records,
    inpaint_coco_json,
    load_teacher,
    person_crop,
    predict_points,
    train_teacher,
)

CONFIG = os.path.join(REPO, "demo", "configs", "teacher_synthetic_R_18.yaml")
CONDITIONS = {"a": "sparse points", "b": "+ teacher inpainting", "c": "exact dense GT"}
AP_TASKS = {
    "bbox": "bbox",
    "densepose_gps": "GPS",
    "densepose_gpsm": "GPSm",
    "densepose_segm": "IOU",
}

logger = logging.getLogger("teacher_synthetic")


# ---------------------------------------------------------------------- exact dense ground truth
def dense_people(json_file: str, seed: int, size: int) -> List[Tuple[dict, dict]]:
    """(annotation, exact GT) of every DensePose-annotated person of a synthetic file.

    GT: rows, cols int64 [Q] (the person's visible pixels) and their part, u, v.
    """
    with open(json_file) as f:
        data = json.load(f)
    by_image: Dict[int, list] = {}
    for ann in data["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    people = []
    for image in data["images"]:
        anns = [a for a in by_image.get(image["id"], []) if "dp_x" in a]
        if not anns:
            continue
        rendered, _ = render_example(image["id"] - 1, seed, size)
        maps = dict(  # compact copies, shared by the image's people
            person=rendered.person.astype(np.int16),
            part=rendered.part.astype(np.uint8),
            u=rendered.u.astype(np.float32),
            v=rendered.v.astype(np.float32),
        )
        for ann in anns:
            x0, y0, w, h = (int(round(c)) for c in ann["bbox"])
            inside = rendered.person[y0 : y0 + h, x0 : x0 + w]
            k = np.bincount(inside[inside >= 0].ravel()).argmax()  # the box's main person
            rows, cols = np.nonzero(rendered.person == k)
            gt = dict(
                rows=rows,
                cols=cols,
                part=rendered.part[rows, cols].astype(np.int64),
                u=rendered.u[rows, cols],
                v=rendered.v[rows, cols],
                file_name=os.path.join(
                    os.path.dirname(os.path.dirname(json_file)), "images", image["file_name"]
                ),
                maps=maps,
                person=int(k),
            )
            people.append((ann, gt))
    return people


def box_frame(ann: dict, rows: np.ndarray, cols: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Image pixel centres -> box-frame coordinates of the annotation's box."""
    x0, y0, w, h = ann["bbox"]
    return (cols + 0.5 - x0) / w * 256, (rows + 0.5 - y0) / h * 256


class DenseScore:
    """Pixel-weighted part accuracy and mean U/V error (Euclidean) on correctly labelled pixels."""

    def __init__(self):
        self.pixels = self.correct = 0
        self.uv_error = 0.0

    def add(self, part, u, v, gt_part, gt_u, gt_v) -> None:
        ok = part == gt_part
        self.pixels += int(part.size)
        self.correct += int(ok.sum())
        self.uv_error += float(np.hypot(u[ok] - gt_u[ok], v[ok] - gt_v[ok]).sum())

    def result(self) -> Dict[str, float]:
        return {
            "part_accuracy": round(self.correct / max(self.pixels, 1), 4),
            "uv_error": round(self.uv_error / max(self.correct, 1), 4),
            "pixels": self.pixels,
        }


# ---------------------------------------------------------------------- teacher
def teacher_scores(model, people) -> Dict[str, Dict[str, float]]:
    """Teacher and nearest-annotated-point baseline vs exact dense GT on `people`."""
    import cv2

    teacher, nearest = DenseScore(), DenseScore()
    for ann, gt in people:
        image = cv2.imread(gt["file_name"], cv2.IMREAD_COLOR)
        x, y = box_frame(ann, gt["rows"], gt["cols"])
        crop = person_crop(image, ann, model.config.crop_size)
        ((i, u, v),) = predict_points(model, [crop], [x], [y])
        teacher.add(i, u, v, gt["part"], gt["u"], gt["v"])
        px, py = np.asarray(ann["dp_x"]), np.asarray(ann["dp_y"])
        x0, y0, w, h = ann["bbox"]
        d2 = (gt["cols"][:, None] + 0.5 - (x0 + px * w / 256)[None]) ** 2 + (
            gt["rows"][:, None] + 0.5 - (y0 + py * h / 256)[None]
        ) ** 2
        j = d2.argmin(axis=1)
        nearest.add(
            np.rint(np.asarray(ann["dp_I"]))[j].astype(np.int64),
            np.asarray(ann["dp_U"])[j],
            np.asarray(ann["dp_V"])[j],
            gt["part"],
            gt["u"],
            gt["v"],
        )
    return {"teacher": teacher.result(), "nearest_point": nearest.result()}


def get_teacher(args, data, point_input: bool):
    name = "teacher" if point_input else "teacher_image_only"
    out = os.path.join(args.out, name)
    path = os.path.join(out, "teacher.pth")
    if os.path.isfile(path):
        return load_teacher(path), None
    config = TeacherConfig(
        crop_size=args.crop_size, width=args.teacher_width, point_input=point_input
    )
    records = load_densepose_coco_json(data.train_json, data.image_root)
    crops = crops_of_records(records, config.crop_size)
    settings = TrainSettings(iterations=args.teacher_iters, batch_size=args.teacher_batch)
    start = time.perf_counter()
    model = train_teacher(crops, out, config, settings, progress=args.progress)
    return model, round(time.perf_counter() - start)


# ---------------------------------------------------------------------- datasets (a), (b), (c)
def exact_dense_file(inpainted_json: str, out_json: str, train_people) -> Dict[str, int]:
    """(c): the inpainted file with exact GT at every inpainted point (points whose pixel is not
    the person's are dropped)."""
    with open(inpainted_json) as f:
        data = json.load(f)
    gt_by_id = {ann["id"]: gt for ann, gt in train_people}
    kept = dropped = 0
    for ann in data["annotations"]:
        if "dp_inpainted" not in ann:
            continue
        gt = gt_by_id[ann["id"]]
        flags = np.asarray(ann["dp_inpainted"])
        x0, y0, w, h = ann["bbox"]
        x, y = np.asarray(ann["dp_x"]), np.asarray(ann["dp_y"])
        col = np.floor(x0 + x * w / 256).astype(np.int64)
        row = np.floor(y0 + y * h / 256).astype(np.int64)
        r = gt["maps"]
        row, col = row.clip(0, r["person"].shape[0] - 1), col.clip(0, r["person"].shape[1] - 1)
        own = r["person"][row, col] == gt["person"]
        keep = (flags == 0) | own
        for key in ("dp_x", "dp_y", "dp_I", "dp_U", "dp_V", "dp_inpainted"):
            values = ann[key]
            ann[key] = [values[k] for k in np.nonzero(keep)[0]]
        new = np.nonzero(keep & (flags == 1))[0]
        start = int((flags == 0).sum())
        for offset, k in enumerate(new):
            ann["dp_I"][start + offset] = float(r["part"][row[k], col[k]])
            ann["dp_U"][start + offset] = round(float(r["u"][row[k], col[k]]), 6)
            ann["dp_V"][start + offset] = round(float(r["v"][row[k], col[k]]), 6)
        kept += len(new)
        dropped += int((~keep).sum())
    with open(out_json, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    return {"exact_points": kept, "dropped_off_person": dropped}


# ---------------------------------------------------------------------- R-CNN
def rcnn_cfg(args, out_dir: str, train_name: str, seed: int):
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(CONFIG)
    cfg.merge_from_list(
        size_overrides(args.size, max_ratio=None)
        + schedule_overrides(args.rcnn_iters)
        + [
            "SEED",
            str(seed),
            "MODEL.ROI_DENSEPOSE_HEAD.INPAINTED_POINT_WEIGHT",
            str(args.inpainted_weight),
        ]
    )
    cfg.OUTPUT_DIR = out_dir
    cfg.DATASETS.TRAIN = (train_name,)
    cfg.DATASETS.TEST = ()
    return cfg


@torch.no_grad()
def gt_box_scores(model, val_people) -> Dict[str, float]:
    """The DensePose head on the GT boxes of the val people vs exact dense GT."""
    import cv2

    model.eval()
    score = DenseScore()
    by_file: Dict[str, list] = {}
    for ann, gt in val_people:
        by_file.setdefault(gt["file_name"], []).append((ann, gt))
    for file_name, people in by_file.items():
        image = cv2.imread(file_name, cv2.IMREAD_COLOR)
        height, width = image.shape[:2]
        boxes = torch.tensor(
            [
                [
                    a["bbox"][0],
                    a["bbox"][1],
                    a["bbox"][0] + a["bbox"][2],
                    a["bbox"][1] + a["bbox"][3],
                ]
                for a, _ in people
            ],
            dtype=torch.float32,
        )
        instances = Instances((height, width))
        instances.pred_boxes = Boxes(boxes)
        instances.pred_classes = torch.zeros(len(people), dtype=torch.int64)
        inputs = [
            {
                "image": torch.as_tensor(image.transpose(2, 0, 1).copy()),
                "height": height,
                "width": width,
            }
        ]
        out = model.inference(inputs, detected_instances=[instances], do_postprocess=False)[0]
        results = chart_outputs_to_results(out.pred_densepose, out.pred_boxes, False)
        for (_ann, gt), result, box in zip(people, results, out.pred_boxes.tensor):
            bx, by = int(box[0]), int(box[1])
            labels = result.labels.numpy()
            uv = result.uv.numpy()
            r = (gt["rows"] - by).clip(0, labels.shape[0] - 1)
            c = (gt["cols"] - bx).clip(0, labels.shape[1] - 1)
            score.add(labels[r, c], uv[0, r, c], uv[1, r, c], gt["part"], gt["u"], gt["v"])
    return score.result()


def run_rcnn(args, condition: str, train_name: str, seed: int, val_people) -> dict:
    suffix = "" if args.inpainted_weight == 1.0 else f"_w{args.inpainted_weight:g}"
    out_dir = os.path.join(args.out, "rcnn", f"{condition}{suffix}_seed{seed}")
    result_file = os.path.join(out_dir, "result.json")
    if os.path.isfile(result_file):
        with open(result_file) as f:
            return json.load(f)
    cfg = rcnn_cfg(args, out_dir, train_name, seed)
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(seed)
    trainer = Trainer(cfg)
    trainer.resume_or_load(resume=False)
    start = time.perf_counter()
    trainer.train()
    seconds = round(time.perf_counter() - start)
    model = trainer.model
    test_cfg = cfg.clone()
    test_cfg.DATASETS.TEST = ("teacher_synth_val",)
    results = Trainer.test(test_cfg, model)
    row = {
        name: round(float(results[task]["AP"]), 2)
        for task, name in AP_TASKS.items()
        if task in results
    }
    row.update({f"gt_box_{k}": v for k, v in gt_box_scores(model, val_people).items()})
    row["train_seconds"] = seconds
    with open(result_file, "w") as f:
        json.dump(row, f)
    return row


# ---------------------------------------------------------------------- report
def mean_spread(values: List[float]) -> str:
    a = np.asarray(values, dtype=np.float64)
    spread = a.std(ddof=1) if a.size > 1 else 0.0
    return (
        f"{a.mean():.2f} ± {spread:.2f}" if abs(a.mean()) >= 1 else f"{a.mean():.3f} ± {spread:.3f}"
    )


def table(rows: Dict[str, List[dict]]) -> str:
    cols = ["bbox", "GPS", "GPSm", "IOU", "gt_box_part_accuracy", "gt_box_uv_error"]
    lines = ["| condition | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for condition, runs in rows.items():
        cells = [mean_spread([r[c] for r in runs]) if runs and c in runs[0] else "-" for c in cols]
        lines.append(f"| ({condition}) {CONDITIONS[condition]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", default="output/teacher_synth")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--num-train", type=int, default=500)
    p.add_argument("--num-val", type=int, default=60)
    p.add_argument("--crop-size", type=int, default=48)
    p.add_argument("--teacher-width", type=int, default=16)
    p.add_argument("--teacher-iters", type=int, default=1500)
    p.add_argument("--teacher-batch", type=int, default=16)
    p.add_argument(
        "--image-only-teacher",
        action="store_true",
        help="also train and evaluate a teacher without point input",
    )
    p.add_argument("--grid-step", type=float, default=8.0)
    p.add_argument("--rcnn-iters", type=int, default=600)
    p.add_argument(
        "--inpainted-weight",
        type=float,
        default=1.0,
        help="MODEL.ROI_DENSEPOSE_HEAD.INPAINTED_POINT_WEIGHT of the R-CNN runs",
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--conditions", default="abc")
    p.add_argument("--teacher-only", action="store_true")
    p.add_argument("--progress", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    setup_logger(name="densepose_ext")
    setup_logger(name="teacher_synthetic")
    logging.getLogger("d2.engine.train_loop").setLevel(logging.WARNING)
    os.makedirs(args.out, exist_ok=True)
    data = generate_synthetic_dataset(
        os.path.join(args.out, "data"),
        args.num_train + args.num_val,
        args.size,
        seed=0,
        num_val=args.num_val,
    )
    tag = "" if args.inpainted_weight == 1.0 else f"_w{args.inpainted_weight:g}"
    report_file = os.path.join(args.out, f"report{tag}.json")
    report = json.load(open(report_file)) if os.path.isfile(report_file) else {}
    report["args"] = vars(args)
    val_people = dense_people(data.val_json, 0, args.size)

    variants = [True] + ([False] if args.image_only_teacher else [])
    for point_input in variants:
        key = "teacher" if point_input else "teacher_image_only"
        model, seconds = get_teacher(args, data, point_input)
        if key not in report or seconds is not None:
            report[key] = dict(teacher_scores(model, val_people), train_seconds=seconds)
        logger.info(f"{key}: {report[key]}")
        json.dump(report, open(report_file, "w"), indent=1)
    if args.teacher_only:
        return
    teacher = load_teacher(os.path.join(args.out, "teacher", "teacher.pth"))
    files = {"a": data.train_json}
    files["b"] = os.path.join(args.out, "train_inpainted.json")
    files["c"] = os.path.join(args.out, "train_exact_dense.json")
    if not os.path.isfile(files["b"]):
        stats = inpaint_coco_json(
            data.train_json, data.image_root, teacher, files["b"], grid_step=args.grid_step
        )
        report["inpainting"] = {
            "people": stats.people,
            "annotated_points": stats.original_points,
            "inpainted_points": stats.new_points,
        }
    if not os.path.isfile(files["c"]):
        train_people = dense_people(files["b"], 0, args.size)
        report["exact_dense"] = exact_dense_file(files["b"], files["c"], train_people)
    json.dump(report, open(report_file, "w"), indent=1)
    register_synthetic_dataset("teacher_synth_val", data.val_json, data.image_root, data.body)
    rows: Dict[str, List[dict]] = {c: [] for c in args.conditions}
    for condition in args.conditions:
        name = f"teacher_synth_train_{condition}"
        register_synthetic_dataset(name, files[condition], data.image_root, data.body)
    for seed in args.seeds:  # seed-major: an interrupted run still compares the conditions
        for condition in args.conditions:
            name = f"teacher_synth_train_{condition}"
            row = run_rcnn(args, condition, name, seed, val_people)
            logger.info(f"({condition}) seed {seed}: {row}")
            rows[condition].append(row)
            report.setdefault("rcnn", {})[f"{condition}_seed{seed}"] = row
            json.dump(report, open(report_file, "w"), indent=1)
    report["table"] = table(rows)
    json.dump(report, open(report_file, "w"), indent=1)
    print(report["table"])


if __name__ == "__main__":
    main()
