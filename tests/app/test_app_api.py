"""The `/densepose` API endpoint through `gradio_client`."""

import cv2
import numpy as np
import torch


def test_client_predict_returns_picture_and_dump(app_server, app_files, apply_net_picture):
    from gradio_client import Client, handle_file

    url, _ = app_server
    client = Client(url, verbose=False)
    picture, video, iuv, dump_pkl, dump_json, message = client.predict(
        handle_file(app_files["photo"]),
        "visualizers",
        ["dp_segm", "bbox"],
        "grey",
        None,
        api_name="/densepose",
    )
    assert "people found" in message and video is None
    expected = cv2.imread(apply_net_picture["dp_segm,bbox"], cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(cv2.imread(picture, cv2.IMREAD_COLOR), expected)
    records = torch.load(dump_pkl, weights_only=False)
    assert len(records) == 1 and len(records[0]["scores"]) > 0
    assert sorted(p.rsplit("/", 1)[-1] for p in iuv) == ["person_INDS.png", "person_IUV.png"]
    assert dump_json.endswith("results.json")

    *_, message = client.predict(handle_file(app_files["notes"]), api_name="/densepose")
    assert message.startswith("**Error:**") and "notes.txt" in message
