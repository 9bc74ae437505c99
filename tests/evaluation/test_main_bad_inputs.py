"""The scorer's command line on apply_net dumps of both kinds: the kind is read from the file,
CSE meshes come from --mesh, and every bad input is one line (exit status 1), no traceback."""

import json
import pickle

import numpy as np
import pytest
import torch
from evaluation_cases import chart_detection, gt_annotation, image_entry

from densepose_ext.data.meshes import MeshCatalog
from densepose_ext.evaluation.__main__ import main
from densepose_ext.structures.chart_result import DensePoseChartResultQuantized
from densepose_ext.structures.predictor_outputs import DensePoseEmbeddingPredictorOutput

MESH = "scorer_test_quad"
BOX_XYXY = [10.0, 20.0, 110.0, 220.0]  # the GT box of evaluation_cases (XYWH 10, 20, 100, 200)


@pytest.fixture
def files(tmp_path):
    """Annotations with CSE points (all on vertex 0 of MESH), a CSE dump whose every pixel is
    closest to vertex 0, a chart dump, the mesh files and its vertex embeddings."""
    infos, ids = dict(MeshCatalog._infos), dict(MeshCatalog._ids)
    ann = gt_annotation(1, 1, category_id=1)
    ann.update(dp_vertex=[0] * len(ann["dp_x"]), ref_model=MESH)
    anns = {
        "images": [image_entry(1)],
        "annotations": [ann],
        "categories": [{"id": 1, "name": "person"}],
    }
    (tmp_path / "anns.json").write_text(json.dumps(anns))
    vertex_embeddings = torch.eye(4)  # [V, E]
    torch.save({MESH: vertex_embeddings}, tmp_path / "emb.pth")
    coarse = torch.tensor([-10.0, 10.0])[None, :, None, None].expand(1, 2, 8, 8)
    embedding = vertex_embeddings[0][None, :, None, None].expand(1, 4, 8, 8)
    record = {
        "file_name": "1.jpg",
        "pred_boxes_XYXY": torch.tensor([BOX_XYXY]),
        "scores": torch.tensor([0.9]),
    }
    cse = dict(record, pred_densepose=DensePoseEmbeddingPredictorOutput(embedding, coarse))
    torch.save([cse], tmp_path / "cse.pkl")
    iuv = torch.from_numpy(chart_detection()["iuv"])
    chart = dict(record, pred_densepose=[DensePoseChartResultQuantized(iuv)])
    torch.save([chart], tmp_path / "chart.pkl")
    meshes = tmp_path / "meshes"
    meshes.mkdir()
    with open(meshes / f"{MESH}.pkl", "wb") as f:
        pickle.dump({"vertices": np.eye(4, 3), "faces": np.array([[0, 1, 2], [0, 2, 3]])}, f)
    with open(meshes / f"geodists_{MESH}.pkl", "wb") as f:
        pickle.dump(np.ones((4, 4), np.float32) - np.eye(4, dtype=np.float32), f)
    yield tmp_path
    for table, saved in ((MeshCatalog._infos, infos), (MeshCatalog._ids, ids)):
        table.clear()
        table.update(saved)


def error_line(argv) -> str:
    with pytest.raises(SystemExit) as error:
        main(argv)
    message = str(error.value)
    assert message.startswith("python -m densepose_ext.evaluation: error: ") and "\n" not in message
    return message


def test_cse_dump_is_scored_without_type_given_the_mesh(files):
    base = ["--annotations", str(files / "anns.json"), "--results", str(files / "cse.pkl")]
    mesh = ["--mesh", f"{MESH}={files / 'meshes'}", "--mesh-embeddings", str(files / "emb.pth")]
    results = main([*base, *mesh, "--output-json", str(files / "new" / "m.json")])
    assert results["densepose_gps"]["AP"] == pytest.approx(100.0)
    assert json.loads((files / "new" / "m.json").read_text()) == json.loads(json.dumps(results))
    assert [p.name for p in (files / "new").iterdir()] == ["m.json"]


def test_results_kind_contradicting_type_is_one_line(files):
    base = ["--annotations", str(files / "anns.json"), "--results"]
    message = error_line([*base, str(files / "chart.pkl"), "--type", "cse"])
    assert "chart.pkl holds iuv results (charts), not cse" in message
    message = error_line([*base, str(files / "cse.pkl"), "--type", "iuv"])
    assert "cse.pkl holds cse results (CSE embeddings), not iuv" in message


def test_cse_inputs_missing_are_one_line(files):
    base = ["--annotations", str(files / "anns.json"), "--results", str(files / "cse.pkl")]
    assert "CSE results need --mesh-embeddings" in error_line(base)
    # the mesh of the annotations has no local files (and is not registered at all)
    message = error_line([*base, "--mesh-embeddings", str(files / "emb.pth")])
    assert f"mesh {MESH!r}" in message and "--mesh NAME=PATH" in message
    # a misspelt --mesh name
    misspelt = ["--mesh", f"{MESH[:-1]}={files / 'meshes'}"]
    message = error_line([*base, *misspelt, "--mesh-embeddings", str(files / "emb.pth")])
    assert f"'{MESH[:-1]}' is not a mesh of the annotations; did you mean {MESH}?" in message
    # embeddings file without the mesh, and a file that is not one
    torch.save({"other_mesh": torch.eye(4)}, files / "other.pth")
    mesh = ["--mesh", f"{MESH}={files / 'meshes'}"]
    message = error_line([*base, *mesh, "--mesh-embeddings", str(files / "other.pth")])
    assert f"has no embeddings for mesh {MESH!r} (it has: other_mesh)" in message
    (files / "text.pth").write_text("hello")
    message = error_line([*base, *mesh, "--mesh-embeddings", str(files / "text.pth")])
    assert "cannot read --mesh-embeddings" in message and "text.pth" in message


def test_unwritable_output_json_is_refused_first(files):
    base = ["--annotations", str(files / "anns.json"), "--results", str(files / "cse.pkl")]
    message = error_line([*base, "--output-json", "/proc/nope/m.json"])
    assert "cannot write --output-json '/proc/nope/m.json'" in message
