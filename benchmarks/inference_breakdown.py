"""CPU inference timing of DensePose models: backbone / DensePose branch / result conversion.

With --optimize the model is first passed through `optimize_for_inference` (the fast path);
`benchmarks/inference.py` compares the two side by side.

Random weights (no checkpoint is loaded): the timings are representative of the architecture,
the predictions are meaningless. Example:

    python benchmarks/inference.py --config configs/densepose_rcnn_R_50_FPN_s1x.yaml --threads 1
"""

import argparse
import statistics
import time
from typing import Callable, Dict

import torch
import torch.nn.functional as F
from cse_assignment import make_cse_converter  # benchmarks/cse_assignment.py (CSE vertex maps)
from detectron2.modeling import build_model

import densepose_ext  # registers the DensePose modules
from densepose_ext.config import clear_external_files, get_densepose_cfg
from densepose_ext.converters import chart_outputs_to_results, given_box_instances, int_boxes_xywh
from densepose_ext.structures import (
    DensePoseChartPredictorOutput,
    DensePoseEmbeddingPredictorOutput,
)

IMAGE_HW = (800, 1067)
BOXES_XYXY = [
    [100.0, 100.0, 400.0, 700.0],
    [500.0, 150.0, 750.0, 780.0],
    [800.0, 300.0, 1000.0, 600.0],
]

# output class -> function(output, boxes_xyxy) converting it to per-box results; other model
# families (CSE, ...) add their converter here
CONVERTERS: Dict[type, Callable] = {DensePoseChartPredictorOutput: chart_outputs_to_results}


def naive_chart_conversion(output, boxes_xyxy):
    """Baseline: the straightforward per-box recipe (resize every channel of every field, then a
    Python loop over the 24 parts to pick U/V) used to measure what the batched converter saves."""
    results = []
    for i, (_x, _y, w, h) in enumerate(int_boxes_xywh(boxes_xyxy).tolist()):
        coarse, fine, u, v = (
            F.interpolate(t[i : i + 1], (h, w), mode="bilinear", align_corners=False)
            for t in (output.coarse_segm, output.fine_segm, output.u, output.v)
        )
        labels = (fine.argmax(dim=1) * (coarse.argmax(dim=1) > 0))[0]
        u, v = u[0], v[0]
        uv = torch.zeros(2, h, w)
        for part in range(1, u.shape[0]):
            sel = labels == part
            uv[0][sel] = u[part][sel]
            uv[1][sel] = v[part][sel]
        results.append((labels, uv))
    return results


def _timeit(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _given_instances():
    return given_box_instances(IMAGE_HW, BOXES_XYXY)


def benchmark(config: str, repeats: int, optimize: bool = False) -> Dict[str, float]:
    cfg = get_densepose_cfg()
    cfg.merge_from_file(config)
    cfg.MODEL.DEVICE = "cpu"
    clear_external_files(cfg)  # CSE: no download; random embedder values below
    cfg.TEST.DETECTIONS_PER_IMAGE = len(BOXES_XYXY)  # end to end: same number of DensePose ROIs
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    if optimize:
        densepose_ext.optimize_for_inference(model)
    converters = dict(CONVERTERS)
    converters[DensePoseEmbeddingPredictorOutput] = make_cse_converter(model, cfg)
    image = torch.randint(0, 256, (3, *IMAGE_HW), dtype=torch.uint8).float()
    inputs = [{"image": image, "height": IMAGE_HW[0], "width": IMAGE_HW[1]}]
    with torch.no_grad():
        images = model.preprocess_image(inputs)
        features = model.backbone(images.tensor)
        outputs = model.roi_heads.forward_with_given_boxes(features, [_given_instances()])
        output = outputs[0].pred_densepose
        boxes = outputs[0].pred_boxes.tensor
        convert = next(f for cls, f in converters.items() if isinstance(output, cls))
        row = {
            "backbone": _timeit(
                lambda: model.backbone(model.preprocess_image(inputs).tensor), repeats
            ),
            "densepose_branch": _timeit(
                lambda: model.roi_heads.forward_with_given_boxes(features, [_given_instances()]),
                repeats,
            ),
            "conversion": _timeit(lambda: convert(output, boxes), repeats),
        }
        if isinstance(output, DensePoseChartPredictorOutput):
            row["conversion_naive"] = _timeit(
                lambda: naive_chart_conversion(output, boxes), repeats
            )
        row["given_boxes_total"] = _timeit(
            lambda: convert(
                model.inference(inputs, [_given_instances()])[0]["instances"].pred_densepose, boxes
            ),
            repeats,
        )
        row["end_to_end"] = _timeit(lambda: _end_to_end(model, inputs, convert), repeats)
    return row


def _end_to_end(model, inputs, convert):
    (result,) = model(inputs)
    inst = result["instances"]
    if inst.has("pred_densepose"):
        convert(inst.pred_densepose, inst.pred_boxes.tensor)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", action="append", help="config YAML (repeatable)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--optimize", action="store_true", help="optimize_for_inference first")
    args = parser.parse_args()
    configs = args.config or ["configs/densepose_rcnn_R_50_FPN_s1x.yaml"]
    torch.set_num_threads(args.threads)
    print(
        f"CPU, {args.threads} thread(s), image {IMAGE_HW[0]}x{IMAGE_HW[1]}, "
        f"{len(BOXES_XYXY)} boxes, "
        f"RANDOM WEIGHTS, median of {args.repeats}; seconds per image"
    )
    columns = [
        "backbone",
        "densepose_branch",
        "conversion",
        "conversion_naive",
        "given_boxes_total",
        "end_to_end",
    ]
    print(f"{'config':<48}" + "".join(f"{c:>19}" for c in columns))
    for config in configs:
        row = benchmark(config, args.repeats, args.optimize)
        cells = "".join(f"{row[c]:>19.4f}" if c in row else f"{'-':>19}" for c in columns)
        print(f"{config.split('configs/')[-1]:<48}" + cells)


if __name__ == "__main__":
    main()
