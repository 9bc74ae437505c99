import json
import os

import numpy as np
import pytest
import torch
from detectron2.config import get_cfg
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.structures import Boxes, BoxMode, Instances
from evaluation_cases import POINT_PIXELS, line_surface

from densepose_ext.config import add_densepose_config
from densepose_ext.evaluation.build import (
    Detectron2COCOEvaluatorAdapter,
    build_densepose_evaluators,
)
from densepose_ext.evaluation.evaluator import PREDICTIONS_FILE, DensePoseCOCOEvaluator
from densepose_ext.evaluation.geodesics import DenseGeodesics
from densepose_ext.evaluation.storage import build_tensor_storage
from densepose_ext.structures.predictor_outputs import (
    DensePoseChartPredictorOutput,
    DensePoseEmbeddingPredictorOutput,
)

CHART_DATASET = "densepose_ext_test_eval_chart"
CSE_DATASET = "densepose_ext_test_eval_cse"
BUILD_DATASET = "densepose_ext_test_eval_build"  # the bbox adapter sets its json_file
BOX_XYXY = [10.0, 20.0, 110.0, 220.0]
S = 8


def _dp_points(extra):
    gw, gh = BOX_XYXY[2] - BOX_XYXY[0], BOX_XYXY[3] - BOX_XYXY[1]
    n = len(POINT_PIXELS)
    points = {
        "dp_x": ((POINT_PIXELS[:, 0] + 0.5) * 255 / gw).tolist(),
        "dp_y": ((POINT_PIXELS[:, 1] + 0.5) * 255 / gh).tolist(),
    }
    points.update({k: (v * n if isinstance(v, list) else v) for k, v in extra.items()})
    return points


def _dataset_dicts(kind):
    """Image 1: GT agrees with the constant prediction; image 2:
    GT is 0.5 m away (u 0.75 / vertex 4)."""
    records = []
    for image_id, (u, vertex) in ((1, (0.5, 2)), (2, (0.75, 4))):
        extra = (
            {"dp_I": [1], "dp_U": [u], "dp_V": [0.5]}
            if kind == "chart"
            else {"dp_vertex": [vertex], "ref_model": "toy"}
        )
        ann = {
            "bbox": BOX_XYXY,
            "bbox_mode": BoxMode.XYXY_ABS,
            "category_id": 0,
            "iscrowd": 0,
            **_dp_points(extra),
        }
        records.append(
            {
                "file_name": f"{image_id}.jpg",
                "image_id": image_id,
                "height": 300,
                "width": 200,
                "annotations": [ann],
            }
        )
    return records


def register_datasets():
    for name, kind in ((CHART_DATASET, "chart"), (CSE_DATASET, "cse"), (BUILD_DATASET, "chart")):
        if name not in DatasetCatalog.list():
            DatasetCatalog.register(name, lambda kind=kind: _dataset_dicts(kind))
            MetadataCatalog.get(name).set(thing_classes=["person"])


def _chart_output(n):
    coarse = torch.zeros(n, 2, S, S)
    coarse[:, 1] = 5.0
    fine = torch.zeros(n, 25, S, S)
    fine[:, 1] = 5.0
    return DensePoseChartPredictorOutput(
        coarse, fine, torch.full((n, 25, S, S), 0.5), torch.full((n, 25, S, S), 0.5)
    )


def toy_embedder(mesh_name):
    return torch.eye(6)


def toy_geodesics(mesh_name):
    pos = 0.25 * np.arange(6)  # vertices 2 and 4 are 0.5 apart
    return DenseGeodesics(np.abs(pos[:, None] - pos[None]))


def _cse_output(n):
    coarse = torch.zeros(n, 2, S, S)
    coarse[:, 1] = 5.0
    embedding = (2.0 * torch.eye(6)[2])[None, :, None, None].expand(n, 6, S, S).clone()
    return DensePoseEmbeddingPredictorOutput(embedding=embedding, coarse_segm=coarse)


def model_outputs(kind, image_ids=(1, 2)):
    inputs, outputs = [], []
    for image_id in image_ids:
        inst = Instances((300, 200))
        inst.pred_boxes = Boxes(torch.tensor([BOX_XYXY]))
        inst.scores = torch.tensor([1.0 - 0.1 * image_id])
        inst.pred_classes = torch.tensor([0])
        inst.pred_densepose = _chart_output(1) if kind == "chart" else _cse_output(1)
        inputs.append({"image_id": image_id, "height": 300, "width": 200})
        outputs.append({"instances": inst})
    return inputs, outputs


def make_evaluator(kind, storage_kind, output_dir, distributed=False, rank=0):
    storage = build_tensor_storage(
        storage_kind, "iou" if kind == "chart" else "cse", output_dir, rank
    )
    if kind == "chart":
        return DensePoseCOCOEvaluator(
            CHART_DATASET, distributed, output_dir, storage=storage, surface=line_surface()
        )
    return DensePoseCOCOEvaluator(
        CSE_DATASET,
        distributed,
        output_dir,
        evaluator_type="cse",
        storage=storage,
        embedder=toy_embedder,
        mesh_geodesics=toy_geodesics,
    )


def run_evaluator(kind, storage_kind, output_dir, image_ids=(1, 2), distributed=False, rank=0):
    register_datasets()
    evaluator = make_evaluator(kind, storage_kind, output_dir, distributed, rank)
    evaluator.reset()
    evaluator.process(*model_outputs(kind, image_ids))
    return evaluator.evaluate()


# one TP (score 0.9) then one FP (0.8) for 2 GTs: precision 1 up to recall 0.5 -> 51 of 101 points
EXPECTED_AP = 100 * 51 / 101


@pytest.mark.parametrize("kind", ["chart", "cse"])
def test_evaluator_end_to_end_and_storages_agree(kind, tmp_path):
    results = {}
    for storage_kind in ("none", "ram", "file"):
        out = tmp_path / storage_kind
        results[storage_kind] = run_evaluator(kind, storage_kind, str(out))
        assert (out / PREDICTIONS_FILE).is_file()
    assert results["none"] == results["ram"] == results["file"]
    gps = results["none"]["densepose_gps"]
    assert gps["AP"] == pytest.approx(EXPECTED_AP) and gps["AP50"] == pytest.approx(EXPECTED_AP)
    assert results["none"]["densepose_segm"]["AP"] == 0.0  # GTs without masks: mask IoU 0
    assert (tmp_path / "file" / "DensePoseEvaluatorStorage.0.bin").is_file()
    records = torch.load(tmp_path / "ram" / PREDICTIONS_FILE, weights_only=False)
    assert {"record_id", "rank", "bbox", "score", "category_id", "image_id"} <= set(records[0])


def test_chart_records_have_quantised_result_and_segmentation(tmp_path):
    register_datasets()
    evaluator = make_evaluator("chart", "none", str(tmp_path))
    evaluator.process(*model_outputs("chart", (1,)))
    record = evaluator._predictions[0]
    assert record["densepose"].labels_uv_uint8.shape == (3, 200, 100)
    assert (
        record["bbox"] == pytest.approx([10.0, 20.0, 100.0, 200.0]) and record["category_id"] == 0
    )
    assert isinstance(record["segmentation"]["counts"], str) and record["segmentation"]["size"] == [
        300,
        200,
    ]


def test_no_predictions_give_minus_one(tmp_path):
    register_datasets()
    evaluator = make_evaluator("chart", "none", str(tmp_path))
    empty = Instances(
        (300, 200),
        pred_boxes=Boxes(torch.zeros(0, 4)),
        scores=torch.zeros(0),
        pred_classes=torch.zeros(0, dtype=torch.int64),
    )
    evaluator.process([{"image_id": 1, "height": 300, "width": 200}], [{"instances": empty}])
    results = evaluator.evaluate()
    assert all(v == -1.0 for task in results.values() for v in task.values())
    assert set(results) == {"densepose_gps", "densepose_gpsm", "densepose_segm"}


def _distributed_worker(output_dir):
    from detectron2.utils import comm

    from densepose_ext.engine.distributed import close_process_group

    rank = comm.get_rank()
    results = {}
    for kind, storage_kind in (("chart", "ram"), ("chart", "file"), ("cse", "file")):
        out = os.path.join(output_dir, f"{kind}_{storage_kind}")
        results[f"{kind}_{storage_kind}"] = run_evaluator(
            kind, storage_kind, out, (rank + 1,), True, rank
        )
    with open(os.path.join(output_dir, f"rank{rank}.json"), "w") as f:
        json.dump(results, f)
    close_process_group()


def test_multiprocess_gather_matches_single_process(tmp_path):
    from detectron2.engine import launch

    launch(_distributed_worker, 2, dist_url=f"file://{tmp_path}/init", args=(str(tmp_path),))
    with open(tmp_path / "rank0.json") as f:
        main = json.load(f)
    with open(tmp_path / "rank1.json") as f:
        assert json.load(f) == {k: {} for k in main}  # non-main processes return nothing
    expected_chart = run_evaluator("chart", "none", str(tmp_path / "single_chart"))
    expected_cse = run_evaluator("cse", "none", str(tmp_path / "single_cse"))
    assert main["chart_ram"] == main["chart_file"] == json.loads(json.dumps(expected_chart))
    assert main["cse_file"] == json.loads(json.dumps(expected_cse))
    assert len(torch.load(tmp_path / "chart_file" / PREDICTIONS_FILE, weights_only=False)) == 2


def test_build_densepose_evaluators(tmp_path):
    register_datasets()
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.MODEL.DENSEPOSE_ON = True
    cfg.DENSEPOSE_EVALUATION.STORAGE = "ram"  # with TYPE "iou" (the default): upstream raises here
    evaluators = build_densepose_evaluators(cfg, BUILD_DATASET, str(tmp_path))
    assert isinstance(evaluators[0], Detectron2COCOEvaluatorAdapter)
    assert isinstance(evaluators[1], DensePoseCOCOEvaluator)
    assert (
        evaluators[1]._json_file is None
    )  # captured before the bbox adapter converted the dataset


def test_bbox_adapter_merges_dataset_ids_of_one_class(tmp_path):
    anns = {
        "images": [{"id": 1, "height": 50, "width": 50, "file_name": "1.jpg"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [20, 20, 10, 10], "area": 100},
            {"id": 3, "image_id": 1, "category_id": 3, "bbox": [5, 5, 10, 10], "area": 100},
        ],
        "categories": [
            {"id": 1, "name": "person"},
            {"id": 2, "name": "human"},
            {"id": 3, "name": "dog"},
        ],
    }
    path = tmp_path / "anns.json"
    path.write_text(json.dumps(anns))
    name = "densepose_ext_test_eval_adapter"
    if name not in DatasetCatalog.list():
        DatasetCatalog.register(name, lambda: [])
    MetadataCatalog.get(name).set(
        json_file=str(path),
        thing_classes=["person"],
        thing_dataset_id_to_contiguous_id={1: 0, 2: 0},
    )
    adapter = Detectron2COCOEvaluatorAdapter(name, output_dir=str(tmp_path), distributed=False)
    coco = adapter._coco_api
    assert [c["id"] for c in coco.dataset["categories"]] == [2]
    assert sorted(
        (a["id"], a["category_id"], a["iscrowd"]) for a in coco.dataset["annotations"]
    ) == [(1, 2, 0), (2, 2, 0)]
    assert coco.getAnnIds(catIds=[2]) == [1, 2]
