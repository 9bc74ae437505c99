"""Every configs/cse/ YAML builds its ROI heads on CPU with the official key layout and shapes."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from detectron2.layers import ShapeSpec
from detectron2.modeling import build_model, build_roi_heads
from detectron2.structures import Boxes, Instances
from fixture_paths import state_dict_keys_file

from densepose_ext.config import clear_external_files, get_densepose_cfg
from densepose_ext.modeling import DensePoseCheckpointer
from densepose_ext.structures import DensePoseEmbeddingPredictorOutput

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIGS_DIR = REPO_ROOT / "configs"
CSE_CONFIGS = sorted(CONFIGS_DIR.glob("cse/*.yaml")) + sorted(
    CONFIGS_DIR.glob("quick_schedules/cse/*.yaml")
)
FPN_SHAPE = {f"p{i}": ShapeSpec(channels=256, stride=2**i) for i in range(2, 7)}


def offline_cfg(path: Path):
    """The config with no file to fetch: MODEL.WEIGHTS and every embedder INIT_FILE emptied."""
    cfg = get_densepose_cfg()
    cfg.merge_from_file(str(path))
    cfg.MODEL.DEVICE = "cpu"
    return clear_external_files(cfg)


def config_id(path: Path) -> str:
    return str(path.relative_to(CONFIGS_DIR).with_suffix(""))


def expected_keys(config: Path):
    path = state_dict_keys_file(f"{config_id(config)}.txt")
    assert path.is_file(), f"no key dump for {config_id(config)}"
    lines = [line.rsplit(" [", 1) for line in path.read_text().splitlines() if line.strip()]
    return [(k, [int(s) for s in shape.rstrip("]").split(",") if s.strip()]) for k, shape in lines]


def test_cse_configs_exist():
    assert len(sorted(CONFIGS_DIR.glob("cse/*.yaml"))) > 0
    assert len(sorted(CONFIGS_DIR.glob("quick_schedules/cse/*.yaml"))) > 0


@pytest.mark.parametrize("path", CSE_CONFIGS, ids=config_id)
def test_roi_heads_keys_and_shapes(path):
    roi_heads = build_roi_heads(offline_cfg(path), FPN_SHAPE)
    actual = [("roi_heads." + k, list(v.shape)) for k, v in roi_heads.state_dict().items()]
    assert actual == expected_keys(path)


@pytest.mark.parametrize("path", CSE_CONFIGS, ids=config_id)
def test_inference_output_shapes(path):
    cfg = offline_cfg(path)
    cfg.MODEL.ROI_DENSEPOSE_HEAD.NUM_STACKED_CONVS = 1  # shapes do not depend on the depth
    roi_heads = build_roi_heads(cfg, FPN_SHAPE).eval()
    torch.manual_seed(0)
    features = {
        f"p{i}": torch.randn(1, 256, 64 // 2 ** (i - 2), 64 // 2 ** (i - 2)) for i in range(2, 7)
    }
    inst = Instances((256, 256))
    inst.pred_boxes = Boxes(torch.tensor([[10.0, 20.0, 100.0, 200.0], [50.0, 50.0, 60.0, 70.0]]))
    inst.pred_classes = torch.tensor([0, 0])
    with torch.no_grad():
        (out,) = roi_heads.forward_with_given_boxes(features, [inst])
    dp = out.pred_densepose
    assert isinstance(dp, DensePoseEmbeddingPredictorOutput)
    side = cfg.MODEL.ROI_DENSEPOSE_HEAD.HEATMAP_SIZE
    assert dp.embedding.shape == (2, cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBED_SIZE, side, side)
    assert dp.coarse_segm.shape == (
        2,
        cfg.MODEL.ROI_DENSEPOSE_HEAD.NUM_COARSE_SEGM_CHANNELS,
        side,
        side,
    )
    if roi_heads.embedder is not None:
        for mesh_name, spec in cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS.items():
            assert roi_heads.embedder(mesh_name).shape == (spec.NUM_VERTICES, 16)


ROUND_TRIP = [
    p for p in CSE_CONFIGS if "R_50_FPN_s1x" in p.stem or "animals_I0_finetune_m2m" in p.stem
]


@pytest.mark.parametrize("path", ROUND_TRIP, ids=config_id)
def test_model_zoo_pkl_round_trip(path, tmp_path):
    """A model-zoo style .pkl (numpy values) loads into a fresh model with nothing missing or extra,
    and the embedder pre-loads its entries from MODEL.WEIGHTS while being built."""
    cfg = offline_cfg(path)
    source = build_model(cfg)
    torch.manual_seed(1)
    state = {
        k: (torch.rand_like(v) if v.is_floating_point() else v)
        for k, v in source.state_dict().items()
    }
    pkl = tmp_path / "model_final.pkl"
    with open(pkl, "wb") as f:
        payload = {k: v.numpy() for k, v in state.items()}
        pickle.dump({"model": payload, "__author__": "Detectron2 Model Zoo"}, f)
    cfg.MODEL.WEIGHTS = str(pkl)
    target = build_model(cfg)
    embedder_keys = [k for k in state if k.startswith("roi_heads.embedder.")]
    assert embedder_keys
    for key in embedder_keys:  # loaded at construction, before any checkpointer
        assert torch.equal(target.state_dict()[key], state[key]), key
    checkpointer = DensePoseCheckpointer(target)
    incompatible = checkpointer._load_model(checkpointer._load_file(str(pkl)))
    assert incompatible.missing_keys == [] and incompatible.unexpected_keys == []
    assert incompatible.incorrect_shapes == []
    for key, value in target.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert np.isfinite(payload[embedder_keys[0]]).all()
