"""Checkpoints in the official detectron2 model-zoo layout load with no missing/unexpected keys."""

import pickle

import numpy as np
import pytest
import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.modeling import build_model
from model_utils import load_config

from densepose_ext.modeling import DensePoseCheckpointer
from densepose_ext.modeling.checkpoint import is_raw_hrnet_state_dict

# one config per architecture family (V1ConvX, legacy without decoder, DeepLab + all confidences)
FULL_MODEL_CONFIGS = [
    "densepose_rcnn_R_50_FPN_s1x.yaml",
    "densepose_rcnn_R_50_FPN_s1x_legacy.yaml",
    "densepose_rcnn_R_50_FPN_DL_WC2M_s1x.yaml",
]


def _save_model_zoo_pickle(model, path):
    state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    with open(path, "wb") as f:
        pickle.dump({"model": state, "__author__": "Detectron2 Model Zoo"}, f)
    return state


@pytest.mark.parametrize("config", FULL_MODEL_CONFIGS)
@pytest.mark.parametrize("checkpointer_cls", [DetectionCheckpointer, DensePoseCheckpointer])
def test_model_zoo_pickle_round_trip(config, checkpointer_cls, tmp_path):
    cfg = load_config(config)
    torch.manual_seed(0)
    saved_model = build_model(cfg)
    path = tmp_path / "model_final.pkl"
    state = _save_model_zoo_pickle(saved_model, path)
    del saved_model
    torch.manual_seed(1)
    fresh = build_model(cfg)
    checkpointer = checkpointer_cls(fresh)
    incompatible = checkpointer._load_model(checkpointer._load_file(str(path)))
    assert incompatible.missing_keys == [] and incompatible.unexpected_keys == []
    assert incompatible.incorrect_shapes == []
    loaded = fresh.state_dict()
    for key in (
        "roi_heads.densepose_predictor.ann_index_lowres.weight",
        "roi_heads.densepose_head.body_conv_fcn1.weight",
    ):
        np.testing.assert_array_equal(loaded[key].numpy(), state[key])


def test_raw_hrnet_weights_get_backbone_prefix(tmp_path):
    raw = {f"stage{i}": np.zeros(1, dtype=np.float32) for i in range(1716)}
    raw.update({f"conv{i}.weight": np.zeros(1, dtype=np.float32) for i in range(240)})
    assert is_raw_hrnet_state_dict(raw)
    path = tmp_path / "hrnet_w32.pkl"
    with open(path, "wb") as f:
        pickle.dump({"model": raw, "__author__": "HRNet"}, f)
    loaded = DensePoseCheckpointer(torch.nn.Linear(1, 1))._load_file(str(path))
    assert all(k.startswith("backbone.bottom_up.") for k in loaded["model"])
    assert "backbone.bottom_up.stage0" in loaded["model"]
    # one key more: not recognised, left alone
    raw["extra"] = np.zeros(1, dtype=np.float32)
    assert not is_raw_hrnet_state_dict(raw)


class _NotATensor:
    pass


def test_unreadable_checkpoints_are_one_line_naming_the_file(tmp_path):
    from densepose_ext.modeling.checkpoint import CheckpointFileError

    model = torch.nn.Linear(2, 2)
    text = tmp_path / "config_not_weights.pkl"
    text.write_text("MODEL:\n  WEIGHTS: x\n")
    torch.save({"model": model.state_dict()}, tmp_path / "good.pth")
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes((tmp_path / "good.pth").read_bytes()[:100])
    custom = tmp_path / "custom.pth"
    torch.save({"model": model.state_dict(), "extra": _NotATensor()}, custom)
    expected = {
        text: "not a checkpoint file (it starts with 'MODEL:')",
        truncated: "cannot read checkpoint",
        custom: "torch refuses to unpickle it safely (Unsupported global",
    }
    for path, problem in expected.items():
        with pytest.raises(CheckpointFileError) as error:
            DensePoseCheckpointer(model).load(str(path))
        message = str(error.value)
        assert f"'{path}'" in message and problem in message and "\n" not in message, message
        assert len(message) < 300 and "weights_only" not in message, message
    DensePoseCheckpointer(model).load(str(tmp_path / "good.pth"))
