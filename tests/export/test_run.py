"""The standalone runner: per-box post-processing, and running artefacts without detectron2."""

import json
import shutil
import subprocess
import textwrap

import cv2
import numpy as np
import pytest
import torch
from export_utils import (
    PYTHON,
    RUNNER,
    isolated_env,
    random_image,
    save_checkpoint,
    tiny_config,
    tiny_model,
)
from test_exporter import assert_matches_eager, eager_outputs

from densepose_ext.converters.chart_result import chart_outputs_to_results
from densepose_ext.converters.cse_vertices import cse_output_to_results
from densepose_ext.export import export_model
from densepose_ext.export import run as runner
from densepose_ext.modeling.cse import normalize_embeddings
from densepose_ext.structures import (
    DensePoseChartPredictorOutput,
    DensePoseEmbeddingPredictorOutput,
)

BOXES = np.array(
    [[3.7, 5.2, 60.9, 90.4], [10.0, 0.5, 12.9, 180.2], [0.0, 0.0, 150.3, 33.3]], np.float32
)


def _random_maps(n: int, c: int, s: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, c, s, s)).astype(np.float32)


def test_chart_result_matches_densepose_converter():
    outputs = {
        name: _random_maps(3, c, 28, i)
        for i, (name, c) in enumerate([("coarse_segm", 2), ("fine_segm", 25), ("u", 25), ("v", 25)])
    }
    expected = chart_outputs_to_results(
        DensePoseChartPredictorOutput(**{k: torch.from_numpy(v) for k, v in outputs.items()}),
        torch.from_numpy(BOXES),
        with_confidences=False,
    )
    boxes = runner.int_boxes_xywh(BOXES)
    for i, ref in enumerate(expected):
        labels, uv = runner.chart_result(outputs, i, boxes[i])
        assert labels.shape == tuple(ref.labels.shape) and uv.shape == tuple(ref.uv.shape)
        same = labels == ref.labels.numpy()
        assert same.mean() > 0.999  # interpolation rounding may flip near-tied argmaxes
        assert (labels > 0).any()
        np.testing.assert_allclose(uv[:, same], ref.uv.numpy()[:, same], atol=1e-5)


def test_cse_result_matches_densepose_converter():
    outputs = {"coarse_segm": _random_maps(3, 2, 28, 0), "embedding": _random_maps(3, 16, 28, 1)}
    vertex_embeddings = normalize_embeddings(
        torch.randn(500, 16, generator=torch.Generator().manual_seed(2))
    )
    expected = cse_output_to_results(
        DensePoseEmbeddingPredictorOutput(**{k: torch.from_numpy(v) for k, v in outputs.items()}),
        torch.from_numpy(BOXES),
        torch.zeros(3, dtype=torch.int64),
        lambda mesh: vertex_embeddings,
        {0: "mesh"},
    )
    boxes = runner.int_boxes_xywh(BOXES)
    for i, ref in enumerate(expected):
        mask, vertices = runner.cse_result(outputs, i, boxes[i], vertex_embeddings.numpy())
        ref_mask = ref.mask.numpy()
        assert mask.mean() > 0.1 and (mask == ref_mask).mean() > 0.999
        both = mask & ref_mask
        assert (vertices[both] == ref.vertices.numpy()[both]).mean() > 0.99


CHECK_SCRIPT = textwrap.dedent(
    """
    import sys
    for name in ("detectron2", "densepose_ext"):
        try:
            __import__(name)
        except ImportError:
            pass
        else:
            raise SystemExit(f"{name} is importable: the isolation does not work")
    sys.path.insert(0, sys.argv[1])  # the folder the runner was copied to
    import numpy as np
    import run
    model = run.ExportedDensePose(sys.argv[2])
    outputs = model(np.load(sys.argv[3]))
    np.savez(sys.argv[4], **{k.replace("/", "::"): v for k, v in outputs.items()})
    assert "detectron2" not in sys.modules and "densepose_ext" not in sys.modules
    print("ok", sorted(m for m in ("torch", "onnxruntime") if m in sys.modules))
    """
)


@pytest.fixture(scope="module")
def exported_chart(tmp_path_factory):
    """A tiny chart model, its eager reference, and its TorchScript + ONNX artefacts."""
    tmp = tmp_path_factory.mktemp("chart")
    cfg = tiny_config("densepose_rcnn_R_50_FPN_s1x.yaml")
    model = tiny_model(cfg)
    weights = save_checkpoint(model, tmp / "w.pth")
    paths = {}
    for fmt, ext in (("torchscript", ".pt"), ("onnx", ".onnx")):
        paths[fmt] = str(tmp / f"chart{ext}")
        export_model(cfg, weights, fmt, paths[fmt], example=random_image((96, 120), seed=5))
    return model, cfg, paths


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_artefact_runs_where_detectron2_is_not_importable(tmp_path, exported_chart, fmt):
    model, cfg, paths = exported_chart
    copied = tmp_path / "copied"
    copied.mkdir()
    shutil.copy(RUNNER, copied / "run.py")
    (tmp_path / "check.py").write_text(CHECK_SCRIPT)
    image = random_image()
    np.save(tmp_path / "image.npy", image.numpy())
    env = isolated_env(tmp_path)
    cmd = [
        PYTHON,
        str(tmp_path / "check.py"),
        str(copied),
        paths[fmt],
        str(tmp_path / "image.npy"),
        str(tmp_path / "out.npz"),
    ]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().startswith("ok")
    with np.load(tmp_path / "out.npz") as data:
        outputs = {k: data[k] for k in data.files}
    assert_matches_eager(outputs, eager_outputs(model, cfg, image), exact=(fmt == "torchscript"))

    if fmt == "torchscript":
        # the command line is the same for both formats (one cold TorchScript start is enough)
        return
    # the runner's command line, from the copied location, still without detectron2
    cv2.imwrite(str(tmp_path / "person.png"), image.numpy())
    out_dir = tmp_path / "vis"
    cmd = [
        PYTHON,
        str(copied / "run.py"),
        paths[fmt],
        str(tmp_path / "person.png"),
        "--output",
        str(out_dir),
        "--min-score",
        "0",
        "--save-npz",
    ]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    vis = cv2.imread(str(out_dir / "person.densepose.png"))
    assert vis.shape == image.shape and not np.array_equal(vis, image.numpy())
    with np.load(out_dir / "person.densepose.npz") as data:
        n = len(data["boxes"])
        assert n > 0 and data["labels_0"].shape == tuple(data["boxes_xywh_int"][0, [3, 2]])


def test_runner_on_folder_and_video(tmp_path, exported_chart):
    _, _, paths = exported_chart
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(2):
        cv2.imwrite(str(folder / f"im{i}.jpg"), random_image(seed=i).numpy())
    assert runner.main([paths["torchscript"], str(folder), "--min-score", "0"]) == 0
    assert sorted(p.name for p in folder.glob("*.densepose.png")) == [
        "im0.densepose.png",
        "im1.densepose.png",
    ]

    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 5.0, (264, 192))
    if not writer.isOpened():
        pytest.skip("OpenCV cannot write mp4 here")
    for i in range(3):
        writer.write(random_image(seed=10 + i).numpy())
    writer.release()
    assert (
        runner.main(
            [paths["onnx"], str(video), "--output", str(tmp_path / "out"), "--min-score", "0"]
            + ["--save-npz"]
        )
        == 0
    )
    capture = cv2.VideoCapture(str(tmp_path / "out" / "clip.densepose.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    capture.release()
    frames = sorted(p.name for p in (tmp_path / "out" / "clip.densepose_npz").iterdir())
    assert frames == ["000000.npz", "000001.npz", "000002.npz"]
    with np.load(tmp_path / "out" / "clip.densepose_npz" / "000001.npz") as data:
        assert "boxes_xywh_int" in data


def test_cse_runner_assigns_vertices(tmp_path):
    cfg = tiny_config("cse/densepose_rcnn_R_50_FPN_s1x.yaml")
    cfg.TEST.DETECTIONS_PER_IMAGE = 2  # numpy closest-vertex search over 27554 vertices per pixel
    model = tiny_model(cfg)
    path = str(tmp_path / "cse.pt")
    export_model(
        cfg,
        save_checkpoint(model, tmp_path / "w.pth"),
        "torchscript",
        path,
        example=random_image((96, 120)),
    )
    exported = runner.ExportedDensePose(path)
    assert exported.is_cse and exported.mesh_names == ["smpl_27554"]
    vis = runner.Visualizer(exported, min_score=0.0)
    image = random_image().numpy()
    results = vis.results(image)
    assert len(results["per_box"]) > 0
    mesh, mask, vertices = results["per_box"][0]
    assert mesh == "smpl_27554" and mask.shape == vertices.shape
    assert vertices[mask].max() < 27554 and (vertices[~mask] == 0).all()
    assert vis.draw(image, results).shape == image.shape
    assert json.loads(json.dumps(exported.metadata))["class_to_mesh_name"] == {"0": "smpl_27554"}
