"""End-to-end tests of `apply_net.py show | dump` with a tiny random-weight chart model."""

import base64
import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from apply_net_helpers import (
    QUAD_MESH,
    TINY_CONFIG,
    TINY_CSE_CONFIG,
    make_tiny_checkpoint,
    read_video,
    register_quad_mesh,
    write_test_images,
    write_test_video,
)
from PIL import Image

from densepose_ext.apply import main
from densepose_ext.apply.dump_writers import quantized_iuv_crop
from densepose_ext.converters.iuv_image import make_iuv_image

CHART_VISUALIZERS = "bbox,dp_segm,dp_u,dp_v,dp_contour,dp_iuv_texture"
IMAGES = {"a.png": (120, 160), "b.jpg": (96, 128), "c.png": (140, 100)}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> str:
    return str(make_tiny_checkpoint(tmp_path_factory.mktemp("tiny_model") / "model_random.pth"))


@pytest.fixture(scope="module")
def atlas(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("atlas") / "atlas.png"
    cv2.imwrite(
        str(path), np.random.default_rng(0).integers(1, 255, (6 * 16, 4 * 16, 3), dtype=np.uint8)
    )
    return str(path)


@pytest.fixture
def image_dir(tmp_path) -> Path:
    return write_test_images(tmp_path / "images", IMAGES)


def run(command, *args) -> int:
    return main([command, "--no-progress", *(str(a) for a in args)])  # --opts must stay last


def error_lines(capsys) -> list:
    return [line for line in capsys.readouterr().err.splitlines() if "error:" in line]


def test_show_writes_one_image_per_input(image_dir, checkpoint, atlas, tmp_path):
    out = tmp_path / "out" / "vis.png"
    rc = run(
        "show",
        TINY_CONFIG,
        checkpoint,
        image_dir,
        CHART_VISUALIZERS,
        "--texture_atlas",
        atlas,
        "--output",
        out,
        "--colormap",
        "viridis",
        "--alpha",
        "0.5",
    )
    assert rc == 0
    for k, (name, (h, w)) in enumerate(IMAGES.items(), start=1):
        image = cv2.imread(str(tmp_path / "out" / f"vis.{k:04d}.png"))
        assert image is not None and image.shape == (h, w, 3), name
        gray = cv2.cvtColor(cv2.imread(str(image_dir / name)), cv2.COLOR_BGR2GRAY)
        assert not np.array_equal(image[:, :, 0], gray), (
            "something was drawn on the grey background"
        )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "vis.0001.png",
        "vis.0002.png",
        "vis.0003.png",
    ]


def test_dump_round_trip(image_dir, checkpoint, tmp_path):
    out = tmp_path / "dump" / "res.pkl"
    assert (
        run(
            "dump",
            TINY_CONFIG,
            checkpoint,
            image_dir,
            "--output",
            out,
            "--format",
            "pkl,iuv_png,npz,json",
        )
        == 0
    )
    records = torch.load(out, weights_only=False)
    assert [Path(r["file_name"]).name for r in records] == list(IMAGES)
    assert sorted(p.name for p in out.parent.iterdir()) == ["res", "res.json", "res.pkl"]
    doc = json.loads((tmp_path / "dump" / "res.json").read_text())
    assert [Path(i["file_name"]).name for i in doc["images"]] == list(IMAGES)
    num_detections = 0
    for image_id, (record, (name, (h, w))) in enumerate(zip(records, IMAGES.items()), start=1):
        results, boxes, scores = (
            record["pred_densepose"],
            record["pred_boxes_XYXY"],
            record["scores"],
        )
        assert len(results) == len(boxes) == len(scores) > 0
        assert results[0].labels.dtype == torch.int64 and results[0].uv.shape[0] == 2
        stem = tmp_path / "dump" / "res" / Path(name).stem
        # IUV / INDS PNGs: cv2.imread gives [..., 0] = I, [..., 1] = U*255, [..., 2] = V*255
        iuv, inds = make_iuv_image(results, boxes, scores, (h, w))
        np.testing.assert_array_equal(
            cv2.imread(f"{stem}_IUV.png", cv2.IMREAD_UNCHANGED), iuv.numpy()
        )
        np.testing.assert_array_equal(
            cv2.imread(f"{stem}_INDS.png", cv2.IMREAD_UNCHANGED), inds.numpy()
        )
        assert iuv[..., 0].max() > 0
        # NPZ: same arrays without this package's classes
        npz = np.load(f"{stem}.npz")
        np.testing.assert_array_equal(npz["boxes_xyxy"], boxes.numpy())
        np.testing.assert_array_equal(npz["scores"], scores.numpy())
        assert npz["image_size_hw"].tolist() == [h, w]
        for k, result in enumerate(results):
            np.testing.assert_array_equal(npz[f"labels_{k}"], result.labels.numpy())
            np.testing.assert_array_equal(npz[f"u_{k}"], result.uv[0].numpy())
            np.testing.assert_array_equal(npz[f"v_{k}"], result.uv[1].numpy())
            assert npz[f"labels_{k}"].shape == tuple(npz["boxes_xywh_int"][k][[3, 2]])
        # JSON: challenge-style uv_data (base64 PNG of I, U*255, V*255), XYWH boxes
        detections = [d for d in doc["detections"] if d["image_id"] == image_id]
        assert len(detections) == len(results)
        for det, result, box in zip(detections, results, boxes.tolist()):
            crop = np.array(Image.open(io.BytesIO(base64.b64decode(det["uv_data"]))))
            np.testing.assert_array_equal(crop, quantized_iuv_crop(result))
            assert det["uv_shape"] == [3, *crop.shape[:2]]
            np.testing.assert_allclose(
                det["bbox"], [box[0], box[1], box[2] - box[0], box[3] - box[1]], rtol=1e-6
            )
        num_detections += len(results)
    assert len(doc["detections"]) == num_detections


def test_iuv_png_matches_in_memory_prediction(image_dir, checkpoint, tmp_path):
    from densepose_ext.apply.cli import build_parser, setup_config
    from densepose_ext.converters.prediction import ImagePrediction
    from densepose_ext.engine.predictor import BatchPredictor

    assert (
        run(
            "dump",
            TINY_CONFIG,
            checkpoint,
            image_dir / "a.png",
            "--output",
            tmp_path / "r.pkl",
            "--format",
            "iuv_png",
            "--batch-size",
            "2",
        )
        == 0
    )
    args = build_parser().parse_args(["dump", str(TINY_CONFIG), checkpoint, str(image_dir)])
    predictor = BatchPredictor(setup_config(args))
    image = cv2.imread(str(image_dir / "a.png"))
    prediction = ImagePrediction.from_instances(predictor([image])[0])
    iuv, inds = make_iuv_image(
        prediction.chart_results(), prediction.boxes_xyxy, prediction.scores, image.shape[:2]
    )
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "r" / "a_IUV.png")), iuv.numpy())
    np.testing.assert_array_equal(
        cv2.imread(str(tmp_path / "r" / "a_INDS.png"), cv2.IMREAD_UNCHANGED), inds.numpy()
    )


def test_video_in_video_out(checkpoint, tmp_path):
    video = write_test_video(tmp_path / "clip.avi", num_frames=4, fps=7.0)
    assert (
        run(
            "show",
            TINY_CONFIG,
            checkpoint,
            video,
            "bbox,dp_segm",
            "--output",
            tmp_path / "o.png",
            "--batch-size",
            "3",
        )
        == 0
    )
    frames, fps = read_video(tmp_path / "o.0001.mp4")
    assert fps == pytest.approx(7.0)
    assert len(frames) == 4 and frames[0].shape == (96, 128, 3)
    assert (
        run(
            "dump",
            TINY_CONFIG,
            checkpoint,
            video,
            "--output",
            tmp_path / "v.pkl",
            "--format",
            "pkl,npz",
        )
        == 0
    )
    records = torch.load(tmp_path / "v.pkl", weights_only=False)
    assert [r["frame_index"] for r in records] == [0, 1, 2, 3]
    assert all(r["file_name"] == str(video) for r in records)
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == [
        f"clip_{i:06d}.npz" for i in range(4)
    ]


def test_bad_item_is_skipped_and_outputs_stay_valid(image_dir, checkpoint, tmp_path, capsys):
    (image_dir / "b.jpg").write_bytes(b"\xff\xd8 truncated jpeg")
    assert (
        run(
            "show", TINY_CONFIG, checkpoint, image_dir, "bbox", "--output", tmp_path / "s" / "o.png"
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["o.0001.png", "o.0003.png"]
    err = capsys.readouterr().err
    assert "b.jpg" in err and "skipped 1" in err
    assert (
        run("dump", TINY_CONFIG, checkpoint, image_dir, "--output", tmp_path / "d" / "r.pkl") == 0
    )
    records = torch.load(tmp_path / "d" / "r.pkl", weights_only=False)
    assert [Path(r["file_name"]).name for r in records] == ["a.png", "c.png"]
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["r.pkl"], (
        "no temporary files left behind"
    )
    (image_dir / "a.png").write_bytes(b"")
    (image_dir / "c.png").write_bytes(b"PNG?")
    assert (
        run("dump", TINY_CONFIG, checkpoint, image_dir, "--output", tmp_path / "d" / "r2.pkl") == 1
    )
    assert torch.load(tmp_path / "d" / "r2.pkl", weights_only=False) == []


@pytest.mark.parametrize(
    "case, expected",
    [
        ("empty_dir", "contains no files"),
        ("no_glob_match", "matches no files"),
        ("missing_input", "input not found"),
        ("missing_checkpoint", "model checkpoint not found"),
        ("missing_config", "config file not found"),
        ("unknown_visualizer", "unknown visualizer dp_nope"),
        ("cse_visualizer_on_chart_model", "dp_vertex need a CSE model"),
        ("atlas_missing", "texture atlas not found"),
        ("unknown_format", "unknown dump format xml"),
        ("bad_opts", "bad config overrides 'MODEL.NO_SUCH_KEY 1'"),
        ("no_cuda", "CUDA is not available"),
    ],
)
def test_bad_arguments_give_one_line_errors(
    case, expected, image_dir, checkpoint, tmp_path, capsys
):
    empty = tmp_path / "empty"
    empty.mkdir()
    config, model, inputs, vis, extra = TINY_CONFIG, checkpoint, image_dir, "bbox", []
    if case == "empty_dir":
        inputs = empty
    elif case == "no_glob_match":
        inputs = tmp_path / "*.nothing"
    elif case == "missing_input":
        inputs = tmp_path / "nope.png"
    elif case == "missing_checkpoint":
        model = tmp_path / "missing_model.pth"
    elif case == "missing_config":
        config = tmp_path / "missing_config.yaml"
    elif case == "unknown_visualizer":
        vis = "bbox,dp_nope"
    elif case == "cse_visualizer_on_chart_model":
        vis = "dp_vertex"
    elif case == "no_cuda":
        if torch.cuda.is_available():
            pytest.skip("CUDA is available here")
        extra = ["--opts", "MODEL.DEVICE", "cuda"]
    elif case == "bad_opts":
        extra = ["--opts", "MODEL.NO_SUCH_KEY", "1"]
    elif case == "atlas_missing":
        vis, extra = "dp_iuv_texture", ["--texture_atlas", tmp_path / "no_atlas.png"]
    if case == "unknown_format":
        rc = run(
            "dump", config, model, inputs, "--format", "pkl,xml", "--output", tmp_path / "x.pkl"
        )
    else:
        rc = run("show", config, model, inputs, vis, "--output", tmp_path / "o.png", *extra)
    assert rc == 1
    lines = error_lines(capsys)
    assert len(lines) == 1 and expected in lines[0], lines
    named = {
        "empty_dir": "empty",
        "no_glob_match": "*.nothing",
        "missing_checkpoint": "missing_model.pth",
        "missing_config": "missing_config.yaml",
        "atlas_missing": "no_atlas.png",
    }
    assert named.get(case, "") in lines[0]
    assert not list(tmp_path.glob("o.*")) and not (tmp_path / "x.pkl").exists()


@pytest.fixture(scope="module")
def cse_checkpoint(tmp_path_factory) -> str:
    register_quad_mesh(tmp_path_factory.mktemp("quad_mesh"))
    return str(
        make_tiny_checkpoint(
            tmp_path_factory.mktemp("tiny_cse") / "model_random.pth", TINY_CSE_CONFIG
        )
    )


def test_cse_model_show_and_dump(image_dir, cse_checkpoint, tmp_path, capsys):
    from densepose_ext.converters.boxes import int_boxes_xywh
    from densepose_ext.converters.to_mask import densepose_outputs_to_box_masks
    from densepose_ext.structures.predictor_outputs import DensePoseEmbeddingPredictorOutput

    atlas = tmp_path / "atlas.png"
    cv2.imwrite(str(atlas), np.random.default_rng(0).integers(1, 255, (32, 32, 3), dtype=np.uint8))
    atlases = json.dumps({QUAD_MESH: str(atlas)})
    assert (
        run(
            "show",
            TINY_CSE_CONFIG,
            cse_checkpoint,
            image_dir / "a.png",
            "bbox,dp_vertex,dp_cse_texture",
            "--texture_atlases_map",
            atlases,
            "--output",
            tmp_path / "s.png",
        )
        == 0
    )
    assert cv2.imread(str(tmp_path / "s.0001.png")).shape == (*IMAGES["a.png"], 3)
    assert (
        run(
            "dump",
            TINY_CSE_CONFIG,
            cse_checkpoint,
            image_dir / "a.png",
            "--output",
            tmp_path / "r.pkl",
            "--format",
            "pkl,npz",
        )
        == 0
    )
    (record,) = torch.load(tmp_path / "r.pkl", weights_only=False)
    output = record["pred_densepose"]
    assert (
        isinstance(output, DensePoseEmbeddingPredictorOutput)
        and len(output) == len(record["scores"]) > 0
    )
    npz = np.load(tmp_path / "r" / "a.npz")
    masks = densepose_outputs_to_box_masks(output, int_boxes_xywh(record["pred_boxes_XYXY"]))
    for k, mask in enumerate(masks):
        vertices = npz[f"vertices_{k}"]
        np.testing.assert_array_equal(vertices >= 0, mask.numpy())
        assert vertices.max() <= 3 and str(npz["mesh_names"][k]) == QUAD_MESH
    # chart-only outputs are refused up front
    assert (
        run(
            "dump",
            TINY_CSE_CONFIG,
            cse_checkpoint,
            image_dir,
            "--format",
            "iuv_png",
            "--output",
            tmp_path / "x.pkl",
        )
        == 1
    )
    lines = error_lines(capsys)
    assert len(lines) == 1 and "iuv_png need a chart model" in lines[0]


def test_model_from_url_is_downloaded_once(image_dir, checkpoint, tmp_path, monkeypatch):
    import functools
    import http.server
    import threading

    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(Path(checkpoint).parent)
    )
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("FVCORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    url = f"http://127.0.0.1:{server.server_address[1]}/{Path(checkpoint).name}"
    try:
        assert (
            run("dump", TINY_CONFIG, url, image_dir / "a.png", "--output", tmp_path / "r.pkl") == 0
        )
    finally:
        server.shutdown()
        server.server_close()
    cached = list((tmp_path / "cache").rglob(Path(checkpoint).name))
    assert len(cached) == 1 and cached[0].stat().st_size == Path(checkpoint).stat().st_size
    # the server is gone: a second run uses the cached copy
    assert run("dump", TINY_CONFIG, url, image_dir / "a.png", "--output", tmp_path / "r2.pkl") == 0
