"""Standalone DensePose scorer: score a saved results file against a COCO-format annotation file.

    python -m densepose_ext.evaluation --annotations A.json --results R [--surface S]
        [--min-iou 0.5] [--mesh-embeddings E.pth] [--mesh NAME=PATH] [--output-json M.json]

Results: our `coco_densepose_predictions.pth` (records with contiguous category ids; storage
files `DensePoseEvaluatorStorage.<rank>.bin` are read from the same directory), a 2018 COCO
DensePose challenge JSON (`uv_shape`, `uv_data`; dataset category ids), or what
`apply_net.py dump` writes (`.pkl`; `.json` for chart models), whose images are matched to the
annotations by file name. Chart or CSE is detected from the file (`--type` only confirms it);
CSE needs `--mesh-embeddings` and the meshes' geodesic distances (`--mesh NAME=PATH` or
`$DENSEPOSE_MESH_DIR` for local files). Errors are one line on stderr and exit status 1.
"""

import argparse
import glob
import json
import logging
import os
import re
import sys
from typing import Dict, List, Optional

from ..data.meshes import (
    MESH_DIR_ENV,
    LocalMeshError,
    add_mesh_option,
    check_mesh_names,
    parse_mesh_options,
    register_local_meshes,
)
from ..utils.cli import one_line
from ..utils.cli_logging import logging_to_stderr
from ..utils.files import ExternalFileError, check_output_path
from ..utils.third_party_noise import silence_third_party_noise
from .evaluator import evaluate_detections
from .ground_truth import load_contiguous_coco_gt
from .results_files import ResultsFile, ResultsFileError, read_results_file
from .scorers import ChartScorer, CseScorer, ScorerInputError, mesh_embeddings_table
from .storage import FileTensorStorage
from .surface import load_chart_surface

logger = logging.getLogger("densepose_ext.evaluation")  # not __name__: "__main__" under -m

__all__ = ["main", "parse_args", "format_table"]


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m densepose_ext.evaluation", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--annotations", required=True, help="COCO-format DensePose annotation json"
    )
    parser.add_argument(
        "--results",
        required=True,
        help="coco_densepose_predictions.pth, challenge .json, or apply_net.py dump .pkl / .json",
    )
    parser.add_argument(
        "--surface",
        default=None,
        help="chart GPS surface: directory/URL prefix with the official files, a synthetic "
        "body .npz or 'smpl_approximate:<dir>' (default: official URLs)",
    )
    parser.add_argument("--min-iou", type=float, default=0.5, help="lowest matching threshold")
    parser.add_argument(
        "--type",
        choices=("iuv", "cse"),
        default=None,
        help="kind of results (default: detected from the file)",
    )
    parser.add_argument(
        "--mesh-embeddings",
        default=None,
        help="CSE: torch file with {mesh name: vertex embeddings [V, E]} (see docs/apply_net.md)",
    )
    add_mesh_option(parser)
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


def load_results(path: str, annotation_images: Optional[List[dict]] = None):
    """(evaluation detections, whether category ids are contiguous); see `read_results_file`."""
    loaded = read_results_file(path, annotation_images or [], _storages_next_to)
    return loaded.detections, loaded.contiguous


def _matched_detections(loaded: ResultsFile, annotated_ids) -> List[dict]:
    """Detections of annotated images; warns with the count of unmatched images, fails if none
    of the file's images is annotated."""
    if loaded.unmatched:
        logger.warning(
            f"{len(loaded.unmatched)} of {len(loaded.images)} image(s) in the results match no "
            f"image of the annotations (ignored), e.g. {loaded.unmatched[:3]}"
        )
    if loaded.images and len(loaded.unmatched) == len(loaded.images):
        raise ResultsFileError(
            f"none of the {len(loaded.images)} image(s) in the results matches an image of the "
            "annotations (by image id, or by file name for apply_net dump files)"
        )
    known = set(annotated_ids)
    return [d for d in loaded.detections if d["image_id"] in known]


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


def results_type(detections: List[dict], path: str, requested: Optional[str]) -> str:
    """ "cse" when the detections carry embeddings, "iuv" when they carry charts; a `--type`
    that contradicts the file is an error naming both."""
    kinds = {"cse" if "embedding" in d else "iuv" for d in detections}
    if len(kinds) > 1:
        raise ResultsFileError(f"{path}: mixes chart (iuv) and CSE detections")
    found = kinds.pop() if kinds else (requested or "iuv")
    if requested is not None and requested != found:
        raise ResultsFileError(
            f"{path} holds {found} results ("
            + ("CSE embeddings" if found == "cse" else "charts")
            + f"), not {requested}: drop --type (it is detected from the file)"
        )
    return found


def _scorer(args, kind: str):
    if kind == "cse":
        return CseScorer(mesh_embeddings_table(args.mesh_embeddings))
    try:
        surface = load_chart_surface(args.surface)
    except ExternalFileError as e:
        raise ResultsFileError(_surface_problem(args.surface, e)) from e
    if surface.approximate:
        logger.warning("approximate surface: GPS values are approximate")
    return ChartScorer(surface)


def _surface_problem(source: Optional[str], error: Exception) -> str:
    """One message: what failed and the three ways of giving the GPS surface with --surface."""
    where = source or "the DensePose download site"
    reason = str(error).split(". GPS evaluation needs")[0].split("; ")[0].rstrip(".")
    return (
        f"cannot load the GPS surface from {where} ({reason}). Give it with --surface: a "
        "directory holding SMPL_subdiv.mat, SMPL_SUBDIV_TRANSFORM.mat and Pdist_matrix.pkl "
        "(the official files), a synthetic body .npz, or smpl_approximate:<dir> (a directory "
        "with UV_Processed.mat and smpl_27554.pkl; approximate GPS)"
    )


def score(args: argparse.Namespace) -> Dict[str, Dict[str, float]]:
    """Reads the files named by `args`, scores, prints the tables; raises `ResultsFileError`."""
    if args.output_json:
        check_output_path(args.output_json, "--output-json")
    with open(args.annotations) as f:
        annotation_images = json.load(f).get("images", [])
    loaded = read_results_file(args.results, annotation_images, _storages_next_to)
    detections = _matched_detections(loaded, [image["id"] for image in annotation_images])
    id_map = _contiguous_map(args.annotations) if loaded.contiguous else None
    coco_gt = load_contiguous_coco_gt(args.annotations, id_map)
    names = {c["id"]: c["name"] for c in coco_gt.dataset.get("categories", [])}
    kind = results_type(loaded.detections, args.results, args.type)
    local = parse_mesh_options(args.mesh)
    if kind == "cse":  # a --mesh name that no annotation uses is a misspelling
        anns = coco_gt.dataset.get("annotations", [])
        meshes = sorted({a["ref_model"] for a in anns if a.get("ref_model")})
        check_mesh_names(local, meshes, owner="the annotations")
    register_local_meshes(local, os.environ.get(MESH_DIR_ENV) or None)
    scorer = _scorer(args, kind) if detections else None
    results = evaluate_detections(coco_gt, detections, scorer, args.min_iou, names)
    print(format_table(results))
    if args.output_json:  # written whole or not at all
        os.makedirs(os.path.dirname(os.path.abspath(args.output_json)), exist_ok=True)
        tmp = f"{args.output_json}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(results, f, indent=1)
        os.replace(tmp, args.output_json)
    return results


def main(argv: Optional[List[str]] = None) -> Dict[str, Dict[str, float]]:
    args = parse_args(argv)
    silence_third_party_noise()
    try:
        with logging_to_stderr(1, propagate=True):  # the tables are logged at INFO
            return score(args)
    except (
        ResultsFileError,
        ScorerInputError,
        LocalMeshError,
        ExternalFileError,
        OSError,
        json.JSONDecodeError,
    ) as e:
        raise SystemExit(f"python -m densepose_ext.evaluation: error: {one_line(e)}") from None


if __name__ == "__main__":
    main(sys.argv[1:])
