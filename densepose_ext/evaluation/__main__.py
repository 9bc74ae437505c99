"""Standalone DensePose scorer: score a saved results file against a COCO-format annotation file.

    python -m densepose_ext.evaluation --annotations A.json --results R [--surface S]
        [--min-iou 0.5] [--type iuv|cse] [--mesh-embeddings E.pth] [--output-json M.json]

Results: our `coco_densepose_predictions.pth` (records with contiguous category ids; storage
files `DensePoseEvaluatorStorage.<rank>.bin` are read from the same directory) or a 2018 COCO
DensePose challenge JSON (`uv_shape`, `uv_data`; dataset category ids).
"""

import argparse
import glob
import json
import logging
import os
import re
import sys
from typing import Dict, List, Optional

import torch

from .evaluator import evaluate_detections
from .ground_truth import load_contiguous_coco_gt
from .records import record_to_detection
from .scorers import ChartScorer, CseScorer
from .storage import FileTensorStorage
from .surface import load_chart_surface

__all__ = ["main", "parse_args", "format_table"]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m densepose_ext.evaluation", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--annotations", required=True, help="COCO-format DensePose annotation json"
    )
    parser.add_argument(
        "--results", required=True, help="coco_densepose_predictions.pth or challenge .json"
    )
    parser.add_argument(
        "--surface",
        default=None,
        help="chart GPS surface: directory/URL prefix with the official files, a synthetic "
        "body .npz or 'smpl_approximate:<dir>' (default: official URLs)",
    )
    parser.add_argument("--min-iou", type=float, default=0.5, help="lowest matching threshold")
    parser.add_argument("--type", choices=("iuv", "cse"), default="iuv")
    parser.add_argument(
        "--mesh-embeddings",
        default=None,
        help="CSE: torch file with {mesh name: vertex embeddings [V, E]}",
    )
    parser.add_argument("--output-json", default=None, help="also write the metrics here")
    return parser.parse_args(argv)


def _storages_next_to(path: str) -> Dict[int, FileTensorStorage]:
    storages = {}
    for file in glob.glob(
        os.path.join(os.path.dirname(os.path.abspath(path)), "DensePoseEvaluatorStorage.*.bin")
    ):
        match = re.search(r"DensePoseEvaluatorStorage\.(\d+)\.bin$", file)
        if match:
            storages[int(match.group(1))] = FileTensorStorage(file, mode="r")
    return storages


def load_results(path: str):
    """(evaluation detections, whether category ids are contiguous)."""
    if path.endswith(".json"):
        with open(path) as f:
            records = json.load(f)
        return [record_to_detection(r) for r in records], False
    records = torch.load(path, map_location="cpu", weights_only=False)
    storages = _storages_next_to(path) if any("record_id" in r for r in records) else None
    return [record_to_detection(r, storages) for r in records], True


def _contiguous_map(annotations: str) -> Dict[int, int]:
    with open(annotations) as f:
        cat_ids = sorted(c["id"] for c in json.load(f).get("categories", []))
    return {c: i for i, c in enumerate(cat_ids)}


def format_table(results: Dict[str, Dict[str, float]]) -> str:
    lines = []
    for task, metrics in results.items():
        lines.append(f"{task}:")
        lines.append("| " + " | ".join(f"{k:>6}" for k in metrics) + " |")
        lines.append("| " + " | ".join(f"{v:6.2f}" for v in metrics.values()) + " |")
    return "\n".join(lines)


def _scorer(args):
    if args.type == "cse":
        if not args.mesh_embeddings:
            raise SystemExit("--type cse needs --mesh-embeddings {mesh name: [V, E]}")
        table = torch.load(args.mesh_embeddings, map_location="cpu")
        return CseScorer(lambda name: table[name])
    surface = load_chart_surface(args.surface)
    if surface.approximate:
        logging.getLogger(__name__).warning("approximate surface: GPS values are approximate")
    return ChartScorer(surface)


def main(argv: Optional[List[str]] = None) -> Dict[str, Dict[str, float]]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    detections, contiguous = load_results(args.results)
    id_map = _contiguous_map(args.annotations) if contiguous else None
    coco_gt = load_contiguous_coco_gt(args.annotations, id_map)
    names = {c["id"]: c["name"] for c in coco_gt.dataset.get("categories", [])}
    scorer = _scorer(args) if detections else None
    results = evaluate_detections(coco_gt, detections, scorer, args.min_iou, names)
    print(format_table(results))
    if args.output_json:
        with open(args.output_json, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
