"""HRNet / HRFPN backbones: key layout, shapes,
checkpoints and inference of the configs/HRNet models."""

import pickle
from pathlib import Path
from typing import Dict, List

import pytest
import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.layers import ShapeSpec
from detectron2.modeling import BACKBONE_REGISTRY, build_model
from detectron2.structures import Boxes, Instances
from fixture_paths import state_dict_keys_file
from torch import nn

from densepose_ext.config import get_densepose_cfg
from densepose_ext.modeling.backbone import hrfpn, hrnet
from densepose_ext.modeling.backbone.hrnet import Bottleneck, make_residual_layer
from densepose_ext.modeling.checkpoint import DensePoseCheckpointer, is_raw_hrnet_state_dict

WIDTHS = (32, 40, 48)
IMAGE_HW = (128, 160)
HRFPN_FEATURES = ["p1", "p2", "p3", "p4", "p5"]
# state-dict keys of the raw HRNet-W32 checkpoint: stem 12 + layer1 78 + transitions 24 +
# stages 1716
HRNET_W32_KEYS = 1830
HRNET_STAGE_KEYS = 1716
HRFPN_NECK_KEYS = 69  # interp_conv 4 x 6 + reduction_pooling_conv 5 x 7 + fpn_conv 5 x 2
MODEL_KEYS = 1961


def _config_path(repo_root: Path, width: int) -> Path:
    return repo_root / "configs" / "HRNet" / f"densepose_rcnn_HRFPN_HRNet_w{width}_s1x.yaml"


def _hrnet_cfg(repo_root: Path, width: int):
    """The configs/HRNet model of this width, or its in-code equivalent when the YAML is absent."""
    cfg = get_densepose_cfg()
    path = _config_path(repo_root, width)
    if path.is_file():
        cfg.merge_from_file(str(path))
    else:
        cfg.merge_from_file(str(repo_root / "configs" / "Base-DensePose-RCNN-FPN.yaml"))
        cfg.MODEL.BACKBONE.NAME = "build_hrfpn_backbone"
        cfg.MODEL.RPN.IN_FEATURES = list(HRFPN_FEATURES)
        cfg.MODEL.ROI_HEADS.IN_FEATURES = list(HRFPN_FEATURES)
        for k, num_branches in ((2, 2), (3, 3), (4, 4)):
            stage = getattr(cfg.MODEL.HRNET, f"STAGE{k}")
            stage.NUM_CHANNELS = [width * 2**b for b in range(num_branches)]
    cfg.MODEL.WEIGHTS = ""
    cfg.MODEL.DEVICE = "cpu"
    return cfg


def _build(repo_root: Path, width: int, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return build_model(_hrnet_cfg(repo_root, width)).eval()


def _given_boxes() -> Instances:
    inst = Instances(IMAGE_HW)
    inst.pred_boxes = Boxes(torch.tensor([[10.0, 8.0, 90.0, 60.0], [40.0, 20.0, 150.0, 64.0]]))
    inst.pred_classes = torch.zeros(2, dtype=torch.int64)
    return inst


def _infer(model: nn.Module) -> Instances:
    torch.manual_seed(0)
    image = torch.randint(0, 256, (3, *IMAGE_HW), dtype=torch.uint8)
    with torch.no_grad():
        (out,) = model.inference([{"image": image}], detected_instances=[_given_boxes()])
    return out["instances"]


def _load_reporting(checkpointer: DetectionCheckpointer, path: str):
    """Runs `checkpointer.load(path)` and returns its missing / unexpected / wrong-shape keys."""
    captured = {}
    load_model = checkpointer._load_model

    def capture(checkpoint):
        captured["incompatible"] = load_model(checkpoint)
        return captured["incompatible"]

    checkpointer._load_model = capture
    checkpointer.load(path)
    return captured["incompatible"]


def _imagenet_classification_head(stage4_channels: List[int]) -> Dict[str, torch.Tensor]:
    """State dict of the ImageNet HRNet's classifier (incre/downsamp modules, final layer, fc)."""
    head_planes = [32, 64, 128, 256]
    head = nn.Module()
    head.incre_modules = nn.ModuleList(
        make_residual_layer(Bottleneck, c, p, 1) for c, p in zip(stage4_channels, head_planes)
    )
    head.downsamp_modules = nn.ModuleList(
        nn.Sequential(nn.Conv2d(4 * p, 8 * p, 3, stride=2, padding=1), nn.BatchNorm2d(8 * p))
        for p in head_planes[:-1]
    )
    head.final_layer = nn.Sequential(nn.Conv2d(1024, 2048, 1), nn.BatchNorm2d(2048))
    head.classifier = nn.Linear(2048, 1000)
    return head.state_dict()


def test_backbones_are_registered():
    assert BACKBONE_REGISTRY.get("build_hrfpn_backbone") is hrfpn.build_hrfpn_backbone
    assert BACKBONE_REGISTRY.get("build_pose_hrnet_backbone") is hrnet.build_pose_hrnet_backbone


def test_bare_hrnet_keys_and_outputs_odd_size(repo_root):
    cfg = _hrnet_cfg(repo_root, 32)
    torch.manual_seed(0)
    net = hrnet.build_pose_hrnet_backbone(cfg, ShapeSpec(channels=3)).eval()
    keys = list(net.state_dict())
    assert len(keys) == HRNET_W32_KEYS
    assert sum(k.startswith("stage") for k in keys) == HRNET_STAGE_KEYS
    assert {k.split(".")[0] for k in keys} == {
        "conv1",
        "bn1",
        "conv2",
        "bn2",
        "layer1",
        "transition1",
        "transition2",
        "transition3",
        "stage2",
        "stage3",
        "stage4",
    }
    # names of the original: new branches are nested Sequentials, fusion downsampling chains too
    for key in (
        "transition1.0.0.weight",
        "transition1.1.0.0.weight",
        "transition3.3.0.1.running_var",
        "stage4.2.fuse_layers.3.0.2.0.weight",
        "stage4.2.fuse_layers.0.3.1.num_batches_tracked",
        "stage3.3.branches.2.3.conv2.weight",
        "layer1.0.downsample.1.weight",
    ):
        assert key in keys, key
    with torch.no_grad():
        out = net(torch.randn(1, 3, 133, 171))  # odd sizes: fusion must crop upsampled maps
    expected = {"p1": (32, 34, 43), "p2": (64, 17, 22), "p3": (128, 9, 11), "p4": (256, 5, 6)}
    assert {k: tuple(v.shape[1:]) for k, v in out.items()} == expected
    shapes = net.output_shape()
    assert [(shapes[f].channels, shapes[f].stride) for f in expected] == [
        (32, 4),
        (64, 8),
        (128, 16),
        (256, 32),
    ]


def test_hrfpn_pyramid_shapes(repo_root):
    cfg = _hrnet_cfg(repo_root, 40)
    torch.manual_seed(0)
    fpn = hrfpn.build_hrfpn_backbone(cfg, ShapeSpec(channels=3)).eval()
    assert len(fpn.state_dict()) == HRNET_W32_KEYS + HRFPN_NECK_KEYS
    assert fpn.interp_conv[3][0].weight.shape == (320, 320, 4, 4)
    assert fpn.interp_conv[3][0].stride == (8, 8)
    assert fpn.reduction_pooling_conv[4][0].weight.shape == (256, 600, 16, 16)
    shapes = fpn.output_shape()
    assert list(shapes) == HRFPN_FEATURES
    assert [(s.channels, s.stride) for s in shapes.values()] == [(256, 4 * 2**i) for i in range(5)]
    with torch.no_grad():
        out = fpn(torch.randn(1, 3, 256, 320))
    # stride-4 concat: min over branches of (n - 1) * 2**b + 4 -> 60 x 76 (deepest branch);
    # p5 = 60 // 16, 76 // 16 = 3 x 4, finer levels cropped to multiples of it
    assert [tuple(out[f].shape) for f in HRFPN_FEATURES] == [
        (1, 256, 3 * 2 ** (4 - i), 4 * 2 ** (4 - i)) for i in range(5)
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_config_key_layout_matches_spec(repo_root, width):
    name = f"densepose_rcnn_HRFPN_HRNet_w{width}_s1x"
    reference_path = state_dict_keys_file(f"HRNet/{name}.txt")
    state = _build(repo_root, width, seed=0).state_dict()
    assert len(state) == MODEL_KEYS
    assert sum(k.startswith("backbone.bottom_up.") for k in state) == HRNET_W32_KEYS
    assert sum(k.startswith("backbone.") for k in state) == HRNET_W32_KEYS + HRFPN_NECK_KEYS
    assert state["backbone.bottom_up.stage4.0.branches.3.0.conv1.weight"].shape[0] == 8 * width
    roi_keys = [f"{k} {list(v.shape)}" for k, v in state.items() if k.startswith("roi_heads.")]
    reference = reference_path.read_text().split("\n")
    assert roi_keys == [line for line in reference if line.strip()]


@pytest.mark.parametrize(
    "width",
    [32, pytest.param(40, marks=pytest.mark.slow), pytest.param(48, marks=pytest.mark.slow)],
)
def test_config_checkpoint_roundtrip_and_inference(repo_root, tmp_path, width):
    """detectron2 .pkl ({"model": numpy, "__author__"}) -> fresh model: exact load, same outputs."""
    model = _build(repo_root, width, seed=1)
    state = model.state_dict()
    assert len(state) == MODEL_KEYS
    path = tmp_path / "model_final.pkl"
    with open(path, "wb") as f:
        pickle.dump({"model": {k: v.numpy() for k, v in state.items()}, "__author__": "test"}, f)
    fresh = _build(repo_root, width, seed=2)
    incompatible = _load_reporting(DetectionCheckpointer(fresh), str(path))
    assert incompatible.missing_keys == []
    assert incompatible.unexpected_keys == []
    assert incompatible.incorrect_shapes == []
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, state[key]), key

    result, result_fresh = _infer(model), _infer(fresh)
    densepose = result.pred_densepose
    assert densepose.coarse_segm.shape == (2, 2, 112, 112)
    for field in ("fine_segm", "u", "v"):
        assert getattr(densepose, field).shape == (2, 25, 112, 112)
        assert torch.equal(getattr(densepose, field), getattr(result_fresh.pred_densepose, field))
    assert torch.isfinite(densepose.fine_segm).all()


def test_raw_hrnet_weights_are_renamed_into_backbone(repo_root, tmp_path):
    cfg = _hrnet_cfg(repo_root, 32)
    torch.manual_seed(3)
    raw = hrnet.build_pose_hrnet_backbone(cfg, ShapeSpec(channels=3)).state_dict()
    classifier = _imagenet_classification_head([32, 64, 128, 256])
    raw.update(classifier)
    assert len(raw) == 1956 and is_raw_hrnet_state_dict(raw)
    path = tmp_path / "hrnetv2_w32_imagenet_pretrained.pth"
    torch.save(raw, path)

    model = _build(repo_root, 32, seed=4)
    incompatible = _load_reporting(DensePoseCheckpointer(model), str(path))
    assert not [k for k in incompatible.missing_keys if k.startswith("backbone.bottom_up.")]
    # only the HRFPN neck and the heads stay at their initialisation
    assert {k.split(".")[0] + "." + k.split(".")[1] for k in incompatible.missing_keys} <= {
        "backbone.interp_conv",
        "backbone.reduction_pooling_conv",
        "backbone.fpn_conv",
        "proposal_generator.rpn_head",
        "roi_heads.box_head",
        "roi_heads.box_predictor",
        "roi_heads.decoder",
        "roi_heads.densepose_head",
        "roi_heads.densepose_predictor",
    }
    assert sorted(incompatible.unexpected_keys) == sorted(
        "backbone.bottom_up." + k for k in classifier
    )
    loaded = model.backbone.bottom_up.state_dict()
    assert len(loaded) == HRNET_W32_KEYS
    for key, value in loaded.items():
        assert torch.equal(value, raw[key]), key


def test_matches_timm_imagenet_hrnet_when_available(repo_root):
    """Optional cross-check (timm is not a dependency): timm's ImageNet HRNet-W32 state dict is the
    raw-HRNet layout (1956 keys); ours is its subset minus the classifier and gives equal
    features."""
    timm = pytest.importorskip("timm")
    reference = timm.create_model("hrnet_w32", pretrained=False).eval()
    reference_state = reference.state_dict()
    assert is_raw_hrnet_state_dict(reference_state)
    net = hrnet.build_pose_hrnet_backbone(_hrnet_cfg(repo_root, 32), ShapeSpec(channels=3)).eval()
    net.load_state_dict({k: reference_state[k] for k in net.state_dict()}, strict=True)
    image = torch.randn(1, 3, 96, 128)
    with torch.no_grad():
        stem = reference.act1(reference.bn1(reference.conv1(image)))
        expected = reference.stages(reference.act2(reference.bn2(reference.conv2(stem))))
        actual = net(image)
    for b, feature in enumerate(expected):
        torch.testing.assert_close(actual[f"p{b + 1}"], feature)
