"""The app's job runner without a browser: outputs, cancel, errors, texture."""

import threading
import time

import cv2
import numpy as np
import pytest
import torch

from densepose_ext.app.service import JobError, JobRequest


@pytest.fixture
def service(app_server):
    return app_server[1]


def test_cancel_stops_the_job_before_the_next_frame(service, app_files):
    cancel = threading.Event()
    seen = []

    def on_progress(done, total):
        seen.append((done, total))
        if done == 2:
            cancel.set()

    start = time.perf_counter()
    result = service.run(
        JobRequest(app_files["long_clip"], mode="civitai"), on_progress=on_progress, cancel=cancel
    )
    assert result.cancelled and result.frames_done == 2 and result.frames_total == 120
    assert seen == [(1, 120), (2, 120)]
    assert "Cancelled after 2 of 120 frames" in result.message
    records = torch.load(result.dump_pkl, weights_only=False)  # the frames done are kept
    assert [r["frame_index"] for r in records] == [0, 1]
    capture = cv2.VideoCapture(result.video)
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 2
    capture.release()
    assert time.perf_counter() - start < 60 and not service.busy


def test_nobody_found_is_a_message(service, app_files):
    box_predictor = service._model.predictor.model.roi_heads.box_predictor
    threshold = box_predictor.test_score_thresh
    box_predictor.test_score_thresh = 0.9999  # the random model scores every box ~0.998
    try:
        result = service.run(JobRequest(app_files["photo"]))
    finally:
        box_predictor.test_score_thresh = threshold
    assert result.detections == 0 and result.message.startswith("Nobody found in person.png")
    assert result.picture is not None  # the background is still shown


@pytest.mark.parametrize(
    "request_kwargs, expected",
    [
        ({"mode": "texture"}, "needs a texture atlas"),
        ({"mode": "visualizers", "visualizers": ["dp_vertex"]}, "need a CSE model"),
        ({"mode": "visualizers", "visualizers": ["nope"]}, "unknown visualizer nope"),
        ({"mode": "sketch"}, "unknown output 'sketch'"),
    ],
)
def test_bad_choices_raise_job_errors(service, app_files, request_kwargs, expected):
    with pytest.raises(JobError, match=expected):
        service.run(JobRequest(app_files["photo"], **request_kwargs))


def test_texture_from_an_atlas(service, app_files, tmp_path):
    atlas = np.zeros((6 * 16, 4 * 16, 3), np.uint8)
    atlas[..., 2] = 255  # red everywhere
    cv2.imwrite(str(tmp_path / "atlas.png"), atlas)
    result = service.run(
        JobRequest(
            app_files["photo"],
            mode="texture",
            background="black",
            atlas_path=str(tmp_path / "atlas.png"),
        )
    )
    picture = cv2.imread(result.picture)
    red = (picture[..., 2] > 200) & (picture[..., :2].max(axis=2) < 50)
    assert red.sum() > 100 and (picture[~red].max(axis=1) == 0).mean() > 0.2


def test_cse_model_offers_vertices_and_no_iuv(apply_helpers, app_files, tmp_path):
    from densepose_ext.app.models import ModelSpec
    from densepose_ext.app.service import DensePoseService

    apply_helpers.register_quad_mesh(tmp_path / "mesh")
    config = str(apply_helpers.TINY_CSE_CONFIG)
    checkpoint = apply_helpers.make_tiny_checkpoint(tmp_path / "cse" / "m.pth", config)
    service = DensePoseService(work_root=str(tmp_path / "jobs"), device="cpu")
    service.load(ModelSpec("tiny_cse", config, str(checkpoint), min_score=0.5))
    assert not service.is_chart
    result = service.run(JobRequest(app_files["photo"], visualizers=["dp_vertex", "bbox"]))
    assert "people found" in result.message and result.picture and result.dump_pkl
    assert result.iuv_files == []  # IUV PNGs are chart-only
    with pytest.raises(JobError, match="need a chart model"):
        service.run(JobRequest(app_files["photo"], mode="iuv"))


def test_video_with_temporal_and_square_crop_tracks_and_crops(service, app_files):
    """The page's video options are apply_net's --temporal and --square-crop: every frame comes
    out SIZE x SIZE, the frame count is kept and the dump carries one track id per detection."""
    result = service.run(
        JobRequest(app_files["clip"], mode="civitai", temporal=True, square_crop=48),
        on_progress=None,
        cancel=None,
    )
    assert result.frames_done == 4 and not result.cancelled
    capture = cv2.VideoCapture(result.video)
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    ok, frame = capture.read()
    capture.release()
    assert ok and frame.shape[:2] == (48, 48) and frames == 4
    records = torch.load(result.dump_pkl, weights_only=False)
    assert [r["frame_index"] for r in records] == [0, 1, 2, 3]
    for record in records:
        assert len(record["track_ids"]) == len(record["pred_boxes_XYXY"])
        assert all(int(t) >= 1 for t in record["track_ids"])


def test_video_options_off_write_no_track_ids(service, app_files):
    result = service.run(JobRequest(app_files["clip"], mode="civitai"), None, None)
    records = torch.load(result.dump_pkl, weights_only=False)
    assert all("track_ids" not in record for record in records)
