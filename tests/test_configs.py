"""The shipped model-zoo YAMLs under configs/ merge into the DensePose config unchanged.

`configs/cascade/` holds this package's own extension configs (docs/cascade.md), not the original
model zoo's: they are checked in tests/modeling/test_cascade_configs.py."""

from pathlib import Path

import pytest
from fixture_paths import STATE_DICT_KEYS_DIR

from densepose_ext.config import clear_external_files, get_densepose_cfg

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIGS_DIR = REPO_ROOT / "configs"
EXTENSION_DIRS = ("cascade",)
CONFIG_FILES = sorted(
    p
    for p in CONFIGS_DIR.rglob("*.yaml")
    if p.relative_to(CONFIGS_DIR).parts[0] not in EXTENSION_DIRS
)
CONFIG_IDS = [p.relative_to(CONFIGS_DIR).as_posix() for p in CONFIG_FILES]


def _load(relative_path: str):
    cfg = get_densepose_cfg()
    cfg.merge_from_file(str(CONFIGS_DIR / relative_path))
    return cfg


def test_configs_present():
    assert len(CONFIG_FILES) == 61


@pytest.mark.parametrize("path", CONFIG_FILES, ids=CONFIG_IDS)
def test_config_merges(path: Path):
    cfg = get_densepose_cfg()
    cfg.merge_from_file(str(path))
    assert cfg.MODEL.ROI_HEADS.NAME in ("DensePoseROIHeads", "StandardROIHeads")
    if cfg.MODEL.ROI_HEADS.NAME == "DensePoseROIHeads":
        assert cfg.MODEL.ROI_DENSEPOSE_HEAD.NAME in ("DensePoseV1ConvXHead", "DensePoseDeepLabHead")
        # the predictor output side must match what the losses expect
        head = cfg.MODEL.ROI_DENSEPOSE_HEAD
        assert head.POOLER_RESOLUTION * 2 * head.UP_SCALE == head.HEATMAP_SIZE


def test_configs_match_key_dumps():
    keys_dir = STATE_DICT_KEYS_DIR
    dumps = sorted(
        p.relative_to(keys_dir).with_suffix("").as_posix() for p in keys_dir.rglob("*.txt")
    )
    configs = sorted(Path(i).with_suffix("").as_posix() for i in CONFIG_IDS)
    assert len(configs) == len(dumps)
    assert configs == dumps


def test_unknown_key_is_rejected(tmp_path: Path):
    user_yaml = tmp_path / "user.yaml"
    user_yaml.write_text(
        f'_BASE_: "{CONFIGS_DIR / "densepose_rcnn_R_50_FPN_s1x.yaml"}"\n'
        "MODEL:\n  ROI_DENSEPOSE_HEAD:\n    NOT_A_KEY: 1\n"
    )
    cfg = get_densepose_cfg()
    with pytest.raises(KeyError, match="NOT_A_KEY"):
        cfg.merge_from_file(str(user_yaml))


def test_inheritance_chain():
    # quick-schedule -> s1x -> base: the checkpoint is overridden, the schedule and base keys kept
    cfg = _load("quick_schedules/densepose_rcnn_R_50_FPN_inference_acc_test.yaml")
    assert cfg.MODEL.WEIGHTS.endswith("165712039/model_final_162be9.pkl")
    assert cfg.SOLVER.MAX_ITER == 130000
    assert tuple(cfg.SOLVER.STEPS) == (100000, 120000)
    assert cfg.MODEL.ROI_DENSEPOSE_HEAD.POOLER_TYPE == "ROIAlign"
    assert tuple(cfg.DATASETS.TEST) == ("densepose_coco_2014_minival_100",)
    assert [r[0] for r in cfg.TEST.EXPECTED_RESULTS] == ["bbox", "densepose_gps", "densepose_gpsm"]


def test_legacy_values():
    head = _load("densepose_rcnn_R_50_FPN_s1x_legacy.yaml").MODEL.ROI_DENSEPOSE_HEAD
    assert head.NUM_COARSE_SEGM_CHANNELS == 15
    assert head.DECODER_ON is False
    assert head.HEATMAP_SIZE == 56
    assert head.POOLER_RESOLUTION == 14
    assert head.NAME == "DensePoseV1ConvXHead"


def test_wc2m_values():
    cfg = _load("densepose_rcnn_R_101_FPN_DL_WC2M_s1x.yaml")
    head = cfg.MODEL.ROI_DENSEPOSE_HEAD
    assert head.NAME == "DensePoseDeepLabHead"
    assert head.UV_CONFIDENCE.ENABLED and head.UV_CONFIDENCE.TYPE == "indep_aniso"
    assert head.SEGM_CONFIDENCE.ENABLED
    assert head.POINT_REGRESSION_WEIGHTS == pytest.approx(0.0005)
    assert cfg.MODEL.RESNETS.DEPTH == 101
    assert cfg.MODEL.WEIGHTS == "detectron2://ImageNetPretrained/MSRA/R-101.pkl"


def test_cse_soft_values():
    cfg = _load("cse/densepose_rcnn_R_50_FPN_soft_s1x.yaml")
    head = cfg.MODEL.ROI_DENSEPOSE_HEAD
    assert head.CSE.EMBED_LOSS_NAME == "SoftEmbeddingLoss"
    assert head.PREDICTOR_NAME == "DensePoseEmbeddingPredictor"
    assert head.LOSS_NAME == "DensePoseCseLoss"
    smpl = head.CSE.EMBEDDERS["smpl_27554"]
    assert smpl.TYPE == "vertex_feature" and smpl.NUM_VERTICES == 27554
    assert smpl.FEATURE_DIM == 256 and smpl.FEATURES_TRAINABLE is False
    assert smpl.INIT_FILE.endswith("/cse/lbo/phi_smpl_27554_256.pkl")
    assert dict(cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING) == {"0": "smpl_27554"}
    assert cfg.DENSEPOSE_EVALUATION.TYPE == "cse"


def test_cse_animals_values():
    cfg = _load("cse/densepose_rcnn_R_50_FPN_soft_animals_CA_finetune_4k.yaml")
    assert cfg.MODEL.ROI_HEADS.NUM_CLASSES == 1
    assert len(cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS) == 9
    category_map = cfg.DATASETS.CATEGORY_MAPS["densepose_lvis_v1_ds1_train_v1"]
    assert set(category_map.values()) == {943}
    assert len(category_map) == 8
    assert sorted(cfg.DATASETS.WHITELISTED_CATEGORIES["densepose_lvis_v1_ds1_train_v1"]) == [
        76,
        80,
        225,
        378,
        422,
        496,
        569,
        943,
        1202,
    ]
    m2m = _load("cse/densepose_rcnn_R_50_FPN_soft_animals_I0_finetune_m2m_16k.yaml")
    assert len(m2m.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS) == 10
    assert m2m.MODEL.ROI_DENSEPOSE_HEAD.CSE.SHAPE_TO_SHAPE_CYCLE_LOSS.ENABLED


def test_hrnet_w48_channels():
    cfg = _load("HRNet/densepose_rcnn_HRFPN_HRNet_w48_s1x.yaml")
    assert cfg.MODEL.BACKBONE.NAME == "build_hrfpn_backbone"
    assert list(cfg.MODEL.HRNET.STAGE2.NUM_CHANNELS) == [48, 96]
    assert list(cfg.MODEL.HRNET.STAGE3.NUM_CHANNELS) == [48, 96, 192]
    assert list(cfg.MODEL.HRNET.STAGE4.NUM_CHANNELS) == [48, 96, 192, 384]
    assert list(cfg.MODEL.ROI_HEADS.IN_FEATURES) == ["p1", "p2", "p3", "p4", "p5"]


def test_evolution_student_values():
    cfg = _load("evolution/densepose_R_50_FPN_DL_WC1M_3x_Atop10P_CA_B_uv.yaml")
    assert cfg.MODEL.WEIGHTS == cfg.BOOTSTRAP_MODEL.WEIGHTS
    assert "217578784" in cfg.BOOTSTRAP_MODEL.WEIGHTS
    (spec,) = cfg.BOOTSTRAP_DATASETS
    assert spec["DATASET"] == "chimpnsee"
    assert spec["IMAGE_LOADER"]["TYPE"] == "video_keyframe"
    assert spec["DATA_SAMPLER"]["TYPE"] == "densepose_UV_confidence"
    assert spec["FILTER"]["TYPE"] == "detection_score"
    assert cfg.DATASETS.CATEGORY_MAPS["base_coco_2017_train"]["16"] == 1
    assert cfg.MODEL.ROI_DENSEPOSE_HEAD.COARSE_SEGM_TRAINED_BY_MASKS


def _roi_heads_layout(relative_path: str) -> list:
    """`key [shape]` of every `roi_heads.*` state-dict entry (in order) of the model built from a
    config."""
    from detectron2.modeling import build_model

    cfg = _load(relative_path)
    cfg.MODEL.DEVICE = "cpu"
    clear_external_files(cfg)  # offline: only shapes matter here
    state = build_model(cfg).state_dict()
    return [f"{k} {list(v.shape)}" for k, v in state.items() if k.startswith("roi_heads.")]


@pytest.mark.slow
@pytest.mark.parametrize("relative_path", CONFIG_IDS, ids=CONFIG_IDS)
def test_built_model_matches_key_dump(relative_path: str):
    dump = STATE_DICT_KEYS_DIR / Path(relative_path).with_suffix(".txt")
    assert dump.is_file(), f"key dump not found: {dump}"
    expected = [line.strip() for line in dump.read_text().splitlines() if line.strip()]
    assert _roi_heads_layout(relative_path) == expected  # same keys, shapes and state-dict order
