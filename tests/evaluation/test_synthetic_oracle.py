"""Synthetic scenes scored against their own rendered ground truth: the whole chain must agree."""

import numpy as np
import pycocotools.mask as mask_utils
import pytest

from densepose_ext.evaluation.evaluator import evaluate_detections
from densepose_ext.evaluation.ground_truth import coco_from_dict
from densepose_ext.evaluation.scorers import ChartScorer
from densepose_ext.evaluation.surface import load_chart_surface


def _oracle_detection(rendered, ann, image_id, uv_shift=0.0):
    """IUV crop of the annotated person (found through its segmentation) under its integer box."""
    segm = ann["segmentation"]
    seg = (
        mask_utils.decode(
            dict(segm, counts=segm["counts"].encode()) if isinstance(segm["counts"], str) else segm
        )
        > 0
    )
    x, y, w, h = (int(c) for c in ann["bbox"])
    person = np.bincount(rendered.person[seg & (rendered.person >= 0)]).argmax()
    own = rendered.person == person
    crop = (slice(y, y + h), slice(x, x + w))
    iuv = np.zeros((3, h, w), dtype=np.uint8)
    iuv[0] = (rendered.part * own)[crop]
    for row, chart in (
        (1, rendered.u),
        (2, rendered.v),
    ):  # optional shift, wrapped around the chart
        value = np.mod(chart[crop] + uv_shift, 1.0) if uv_shift else np.clip(chart[crop], 0, 1)
        iuv[row] = (value * 255 * own[crop]).astype(np.uint8)
    return {
        "image_id": image_id,
        "category_id": 0,
        "bbox": list(ann["bbox"]),
        "score": 0.9,
        "iuv": iuv,
    }


def test_oracle_predictions_on_synthetic_scenes(tmp_path):
    from densepose_ext.data.synthetic.body_files import write_body_files
    from densepose_ext.data.synthetic.generate import body_template, render_example

    surface = load_chart_surface(write_body_files(str(tmp_path), body_template()).surface)
    images, anns, scenes = [], [], []
    for index in range(4):
        rendered, annotations = render_example(index, 0, 128)
        images.append({"id": index + 1, "height": 128, "width": 128})
        for ann in annotations:
            anns.append(dict(ann, id=len(anns) + 1, image_id=index + 1, category_id=0))
        scenes.append(rendered)
    coco = coco_from_dict(
        {"images": images, "annotations": anns, "categories": [{"id": 0, "name": "person"}]}
    )
    perfect = [_oracle_detection(scenes[a["image_id"] - 1], a, a["image_id"]) for a in anns]
    results = evaluate_detections(coco, perfect, ChartScorer(surface))
    assert results["densepose_gps"]["AP"] > 90
    assert results["densepose_segm"]["AP"] > 80
    shifted = [
        _oracle_detection(scenes[a["image_id"] - 1], a, a["image_id"], uv_shift=0.5) for a in anns
    ]
    worse = evaluate_detections(coco, shifted, ChartScorer(surface))
    assert worse["densepose_gps"]["AP"] < results["densepose_gps"]["AP"] - 10
    assert worse["densepose_segm"]["AP"] == pytest.approx(results["densepose_segm"]["AP"])
