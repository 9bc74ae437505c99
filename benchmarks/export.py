"""CPU latency per image of eager PyTorch vs TorchScript vs ONNX Runtime, and artefact file sizes.

Same weights, same image for all three. Without --weights the model has random weights, rescaled
so that activations stay O(1), with the box classifier biased to foreground; the score threshold
is then set so that exactly --detections boxes pass (the DensePose head runs on that many boxes).
"Eager" is the same computation run by PyTorch without tracing (torch resize + detectron2 model).
Example:

    python benchmarks/export.py --config configs/densepose_rcnn_R_50_FPN_s1x.yaml --height 800
    --width 1067

Prints one JSON object (latencies in seconds: median of --repeats runs after --warmup runs; the
backends alternate run by run, so that changes of machine load affect them alike).
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from densepose_ext.config import get_densepose_cfg  # noqa: E402
from densepose_ext.export import DensePoseExportModule, build_export_model, export_module  # noqa: E402
from densepose_ext.export.exporter import example_image  # noqa: E402
from densepose_ext.export.metadata import build_metadata  # noqa: E402
from densepose_ext.export.precision import DTYPES, cast_bodies  # noqa: E402
from densepose_ext.export.torchscript_export import load_torchscript  # noqa: E402


def scaled_random_weights(model: nn.Module, seed: int = 0) -> None:
    """Variance-preserving random weights, small deltas, foreground-biased box scores."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                gain = (
                    0.1
                    if any(s in name for s in ("anchor_deltas", "bbox_pred", "cls_score"))
                    else 1.0
                )
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * gain / fan_in**0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
        bias = model.roi_heads.box_predictor.cls_score.bias
        bias[:-1], bias[-1] = 2.0, 0.0


def interleaved_latencies(runners: dict, warmup: int, repeats: int) -> dict:
    """Median seconds per call of each runner; runs alternate so that load changes hit all alike."""
    for fn in runners.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in runners}
    for _ in range(repeats):
        for name, fn in runners.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def build_module(cfg, weights: str, dtype_name: str, score_thresh: float) -> DensePoseExportModule:
    model = cast_bodies(build_export_model(cfg, weights), DTYPES[dtype_name])
    module = DensePoseExportModule(
        model, cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MAX_SIZE_TEST, cfg.INPUT.FORMAT
    )
    module.score_thresh.fill_(score_thresh)
    return module


def export(module, cfg, fmt: str, path: str, dtype_name: str) -> float:
    """Writes the artefact; returns its size in MiB."""
    metadata = build_metadata(cfg, module.output_names, [], "benchmark", dtype_name)
    with torch.no_grad():
        export_module(module, fmt, path, metadata, example_image())
    return os.path.getsize(path) / 2**20


def threshold_for(module, image: torch.Tensor, detections: int) -> float:
    """A score threshold that keeps exactly `detections` boxes on `image`."""
    module.score_thresh.fill_(0.0)
    with torch.no_grad():
        scores = module.detection_scores(image).sort(descending=True).values
    if len(scores) < detections + 1:
        raise RuntimeError(f"only {len(scores)} detections available, asked for {detections}")
    return float((scores[detections - 1] + scores[detections]) / 2)


def max_differences(reference, outputs, names) -> dict:
    ref = [r.numpy() if isinstance(r, torch.Tensor) else r for r in reference]
    out = [o.numpy() if isinstance(o, torch.Tensor) else o for o in outputs]
    if ref[0].shape != out[0].shape:
        return {"num_detections": [len(ref[0]), len(out[0])]}
    return {
        n: float(np.abs(r.astype(np.float64) - o).max()) if r.size else 0.0
        for n, r, o in zip(names, ref, out)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/densepose_rcnn_R_50_FPN_s1x.yaml")
    parser.add_argument("--weights", default="", help="checkpoint (default: random weights)")
    parser.add_argument("--height", type=int, default=800)
    parser.add_argument("--width", type=int, default=1067)
    parser.add_argument("--detections", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = get_densepose_cfg()
    cfg.merge_from_file(args.config)
    workdir = tempfile.mkdtemp(prefix="export_bench_")
    weights = args.weights
    if not weights:
        model = build_export_model(cfg)
        scaled_random_weights(model)
        weights = os.path.join(workdir, "random.pth")
        torch.save({"model": model.state_dict()}, weights)
    image = example_image(args.height, args.width, seed=3)
    module = build_module(cfg, weights, "fp32", 0.0)
    thresh = threshold_for(module, image, args.detections)
    module.score_thresh.fill_(thresh)
    with torch.no_grad():
        reference = module(image)
    names = module.output_names
    report = {
        "config": args.config,
        "image_hw": [args.height, args.width],
        "threads": args.threads,
        "num_detections": len(reference[0]),
        "torch": torch.__version__,
        "latency_s": {},
        "size_mib": {},
        "max_abs_diff_vs_eager": {},
    }

    ts_path = os.path.join(workdir, "fp32.pt")
    report["size_mib"]["torchscript_fp32"] = export(module, cfg, "torchscript", ts_path, "fp32")
    traced, _ = load_torchscript(ts_path)
    onnx_path = os.path.join(workdir, "fp32.onnx")
    report["size_mib"]["onnx_fp32"] = export(module, cfg, "onnx", onnx_path, "fp32")
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    feed = {"image": image.numpy()}
    bf16_path = os.path.join(workdir, "bf16.pt")
    report["size_mib"]["torchscript_bf16"] = export(
        build_module(cfg, weights, "bf16", thresh), cfg, "torchscript", bf16_path, "bf16"
    )
    traced_bf16, _ = load_torchscript(bf16_path)
    onnx16_path = os.path.join(workdir, "fp16.onnx")
    report["size_mib"]["onnx_fp16"] = export(
        build_module(cfg, weights, "fp16", thresh), cfg, "onnx", onnx16_path, "fp16"
    )
    runners = {
        "eager": lambda: module(image),
        "torchscript": lambda: traced(image),
        "onnxruntime": lambda: session.run(None, feed),
        "torchscript_bf16": lambda: traced_bf16(image),
    }
    with torch.no_grad():
        report["max_abs_diff_vs_eager"]["torchscript"] = max_differences(
            reference, traced(image), names
        )
        report["max_abs_diff_vs_eager"]["onnxruntime"] = max_differences(
            reference, session.run(None, feed), names
        )
        report["latency_s"] = interleaved_latencies(runners, args.warmup, args.repeats)
    report["load_average_1min"] = os.getloadavg()[0]
    report["size_mib"] = {k: round(v, 1) for k, v in report["size_mib"].items()}
    report["latency_s"] = {k: round(v, 3) for k, v in report["latency_s"].items()}
    print(json.dumps(report, indent=1))
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
