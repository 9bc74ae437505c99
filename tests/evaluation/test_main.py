import base64
import io
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from evaluation_cases import chart_detection, gt_annotation, image_entry, line_surface
from PIL import Image

from densepose_ext.evaluation.__main__ import main
from densepose_ext.structures.chart_result import DensePoseChartResultQuantized


def _write_inputs(tmp_path):
    surface = line_surface()
    position = np.array([surface.geodesics.matrix[0, k] for k in range(len(surface.part_ids))])
    np.savez(
        tmp_path / "body.npz",
        part_ids=surface.part_ids,
        u=surface.uv[:, 0],
        v=surface.uv[:, 1],
        geodists=np.abs(position[:, None] - position[None]),
    )
    anns = {
        "images": [image_entry(1), image_entry(2)],
        "annotations": [gt_annotation(1, 1, category_id=1), gt_annotation(2, 2, category_id=1)],
        "categories": [{"id": 1, "name": "person"}],
    }
    (tmp_path / "anns.json").write_text(json.dumps(anns))
    return [
        chart_detection(image_id=1, score=0.9),
        chart_detection(image_id=2, score=0.8, u_shift_points=(0, 1, 2)),
    ]


def _challenge_record(det):
    buffer = io.BytesIO()
    Image.fromarray(np.moveaxis(det["iuv"], 0, -1)).save(buffer, format="png")
    return {
        "image_id": det["image_id"],
        "category_id": 1,
        "bbox": det["bbox"],
        "score": det["score"],
        "uv_shape": list(det["iuv"].shape),
        "uv_data": base64.encodebytes(buffer.getvalue()).decode(),
    }


def test_scorer_on_challenge_json_and_pth_agree(tmp_path, capsys):
    dets = _write_inputs(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps([_challenge_record(d) for d in dets]))
    records = [
        {
            "image_id": d["image_id"],
            "category_id": 0,
            "bbox": d["bbox"],
            "score": d["score"],
            "densepose": DensePoseChartResultQuantized(torch.from_numpy(d["iuv"])),
        }
        for d in dets
    ]
    torch.save(records, tmp_path / "coco_densepose_predictions.pth")
    common = ["--annotations", str(tmp_path / "anns.json"), "--surface", str(tmp_path / "body.npz")]
    from_json = main(
        common
        + ["--results", str(tmp_path / "results.json"), "--output-json", str(tmp_path / "m.json")]
    )
    from_pth = main(common + ["--results", str(tmp_path / "coco_densepose_predictions.pth")])
    assert from_json == from_pth
    # image 1 perfect (GPS 1), image 2 GPS ≈ 0.62: AP = mean over thresholds of the PR areas
    assert from_json["densepose_gps"]["AP50"] == pytest.approx(100.0)
    assert from_json["densepose_gps"]["AP75"] == pytest.approx(100 * 51 / 101)
    assert json.loads((tmp_path / "m.json").read_text()) == from_json
    assert "densepose_gps:" in capsys.readouterr().out


def test_cli_subprocess_min_iou(tmp_path):
    dets = _write_inputs(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps([_challenge_record(d) for d in dets]))
    cmd = [
        sys.executable,
        "-m",
        "densepose_ext.evaluation",
        "--annotations",
        str(tmp_path / "anns.json"),
        "--results",
        str(tmp_path / "results.json"),
        "--surface",
        str(tmp_path / "body.npz"),
        "--min-iou",
        "0.2",
        "--output-json",
        str(tmp_path / "m.json"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "AP20" in proc.stdout
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["densepose_gps"]["AP20"] == pytest.approx(100.0)


def test_cli_missing_surface_files_fails_loudly(tmp_path):
    dets = _write_inputs(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps([_challenge_record(d) for d in dets]))
    with pytest.raises(SystemExit) as error:
        main(
            [
                "--annotations",
                str(tmp_path / "anns.json"),
                "--results",
                str(tmp_path / "results.json"),
                "--surface",
                str(tmp_path / "no_such_dir"),
            ]
        )
    message = str(error.value)
    assert "\n" not in message and "--surface" in message and "no_such_dir" in message
    for part in ("SMPL_subdiv.mat", "SMPL_SUBDIV_TRANSFORM.mat", "Pdist_matrix.pkl"):
        assert part in message
    assert ".npz" in message and "smpl_approximate:" in message
