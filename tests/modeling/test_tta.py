"""DensePose test-time augmentation:
the flip view is mirrored back and averaged with the plain view."""

import numpy as np
import torch
from detectron2.modeling import build_model
from detectron2.structures import Boxes, Instances
from fvcore.transforms import TransformList
from model_utils import small_chart_config

from densepose_ext.converters import HFlipConverter
from densepose_ext.modeling.tta import (
    AVERAGED_FIELDS,
    DensePoseDatasetMapperTTA,
    DensePoseGeneralizedRCNNWithTTA,
    _pull_back_rotated,
)

H, W = 64, 96


def _model_and_cfg(flip: bool, angles=()):
    cfg = small_chart_config()
    cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = 0.0
    cfg.TEST.DETECTIONS_PER_IMAGE = 3
    cfg.TEST.AUG.MIN_SIZES = (H,)
    cfg.TEST.AUG.MAX_SIZE = 1000
    cfg.TEST.AUG.FLIP = flip
    cfg.TEST.AUG.ROTATION_ANGLES = list(angles)
    torch.manual_seed(0)
    return build_model(cfg).eval(), cfg


def _input():
    g = torch.Generator().manual_seed(0)
    return {
        "image": torch.randint(0, 256, (3, H, W), generator=g, dtype=torch.uint8),
        "height": H,
        "width": W,
    }


def _densepose_on_boxes(model, image, boxes):
    inst = Instances(
        (H, W),
        pred_boxes=Boxes(boxes),
        pred_classes=torch.zeros(len(boxes), dtype=torch.int64),
        scores=torch.ones(len(boxes)),
    )
    with torch.no_grad():
        (out,) = model.inference(
            [{"image": image, "height": H, "width": W}], [inst], do_postprocess=False
        )
    return out.pred_densepose


def test_flip_tta_is_mean_of_plain_and_mirrored_view(transform_data):
    model, cfg = _model_and_cfg(flip=True)
    tta = DensePoseGeneralizedRCNNWithTTA(cfg, model, transform_data)
    with torch.no_grad():
        (result,) = tta([_input()])
    inst = result["instances"]
    assert len(inst) > 0 and inst.has("pred_densepose")
    boxes = inst.pred_boxes.tensor
    image = _input()["image"]
    plain = _densepose_on_boxes(model, image, boxes)
    mirrored_boxes = torch.stack(
        [W - boxes[:, 2], boxes[:, 1], W - boxes[:, 0], boxes[:, 3]], dim=1
    )
    mirrored = _densepose_on_boxes(model, image.flip(2), mirrored_boxes)
    unflipped = HFlipConverter.convert(mirrored, transform_data)
    for name in AVERAGED_FIELDS:
        expected = (getattr(plain, name) + getattr(unflipped, name)) / 2
        torch.testing.assert_close(
            getattr(inst.pred_densepose, name), expected, rtol=1e-4, atol=1e-4
        )


def test_tta_without_augmentation_equals_plain_inference(transform_data):
    model, cfg = _model_and_cfg(flip=False)
    with torch.no_grad():
        (result,) = DensePoseGeneralizedRCNNWithTTA(cfg, model, transform_data)([_input()])
    inst = result["instances"]
    plain = _densepose_on_boxes(model, _input()["image"], inst.pred_boxes.tensor)
    for name, value in plain.fields().items():
        torch.testing.assert_close(getattr(inst.pred_densepose, name), value)


def test_rotation_views(transform_data):
    model, cfg = _model_and_cfg(flip=False, angles=[30])
    views = DensePoseDatasetMapperTTA(cfg)(_input())
    assert len(views) == 2 and views[1]["image"].shape[1:] != (H, W)  # expanded canvas
    with torch.no_grad():
        (result,) = DensePoseGeneralizedRCNNWithTTA(cfg, model, transform_data)([_input()])
    out = result["instances"].pred_densepose
    assert out.fine_segm.shape[1:] == (25, 112, 112) and torch.isfinite(out.u).all()


def test_pull_back_identity_and_half_turn():
    maps = torch.randn(2, 3, 6, 6)
    boxes = np.array([[0.0, 0.0, 12.0, 6.0], [3.0, 2.0, 9.0, 20.0]])
    same = _pull_back_rotated(maps, boxes, boxes, TransformList([]))
    torch.testing.assert_close(same, maps)

    class HalfTurn:  # rotation by 180 degrees about the origin
        @staticmethod
        def apply_coords(coords):
            return -coords

    turned = _pull_back_rotated(maps, boxes, -boxes[:, [2, 3, 0, 1]], HalfTurn())
    torch.testing.assert_close(turned, maps.flip(2, 3))
