import numpy as np
import pytest
from evaluation_cases import GT_BOX, chart_detection, gt_annotation, image_entry

from densepose_ext.evaluation.densepose_cocoeval import iou_thresholds, metric_names
from densepose_ext.evaluation.evaluator import evaluate_detections
from densepose_ext.evaluation.ground_truth import coco_from_dict
from densepose_ext.evaluation.masks import gt_mask
from densepose_ext.evaluation.scorers import ChartScorer

KAPPA_PART1 = 0.351
GPS_THREE_SHIFTED = (2 + 3 * np.exp(-(0.5**2) / (2 * KAPPA_PART1**2))) / 5  # ≈ 0.6175


def _coco(images, anns):
    return coco_from_dict(
        {"images": images, "annotations": anns, "categories": [{"id": 0, "name": "person"}]}
    )


def _evaluate(surface, images, anns, dets, min_iou=0.5):
    return evaluate_detections(_coco(images, anns), dets, ChartScorer(surface), min_iou)


def _ap_for_similarity(similarity, min_iou=0.5):
    """AP ×100 of one GT matched by one detection with this similarity."""
    thresholds = iou_thresholds(min_iou)
    return 100.0 * np.mean(similarity >= thresholds - 1e-12)


def test_thresholds_and_metric_names():
    np.testing.assert_allclose(iou_thresholds(0.5), np.arange(10) * 0.05 + 0.5)
    assert len(iou_thresholds(0.2)) == 16
    assert metric_names(0.5) == [
        "AP",
        "AP50",
        "AP75",
        "APm",
        "APl",
        "AR",
        "AR50",
        "AR75",
        "ARm",
        "ARl",
    ]
    assert metric_names(0.2)[:5] == ["AP", "AP20", "AP30", "AP40", "AP50"]
    assert metric_names(0.3)[:4] == ["AP", "AP30", "AP40", "AP50"]
    assert metric_names(0.4)[:3] == ["AP", "AP40", "AP50"]


def test_perfect_prediction_gives_100(surface):
    results = _evaluate(surface, [image_entry()], [gt_annotation()], [chart_detection()])
    assert set(results) == {"densepose_gps", "densepose_gpsm", "densepose_segm"}
    for task in results.values():
        assert task["AP"] == pytest.approx(100.0)
        for name in ("AP50", "AP75", "APl", "AR", "AR50", "AR75", "ARl"):
            assert task[name] == pytest.approx(100.0)
        assert task["APm"] == task["ARm"] == -1.0  # the only GT is large


def test_shifted_prediction_expected_drop(surface):
    results = _evaluate(
        surface, [image_entry()], [gt_annotation()], [chart_detection(u_shift_points=(0, 1, 2))]
    )
    gps = results["densepose_gps"]
    # GPS ≈ 0.6175 matches at thresholds 0.50, 0.55, 0.60 only
    assert gps["AP"] == pytest.approx(30.0)
    assert gps["AP50"] == pytest.approx(100.0) and gps["AP75"] == pytest.approx(0.0)
    assert gps["AR"] == pytest.approx(30.0)
    assert results["densepose_segm"]["AP"] == pytest.approx(100.0)  # masks are still perfect


def test_min_iou_threshold_changes_keys_and_values(surface):
    dets = [chart_detection(u_shift_points=(0, 1, 2))]
    results = _evaluate(surface, [image_entry()], [gt_annotation()], dets, min_iou=0.2)
    gps = results["densepose_gps"]
    assert list(gps)[:5] == ["AP", "AP20", "AP30", "AP40", "AP50"]
    assert gps["AP"] == pytest.approx(
        _ap_for_similarity(GPS_THREE_SHIFTED, 0.2)
    )  # 9 of 16 -> 56.25
    assert gps["AP"] == pytest.approx(56.25)
    for name in ("AP20", "AP30", "AP40", "AP50"):
        assert gps[name] == pytest.approx(100.0)


def test_gpsm_and_iou_combine_gps_with_mask_iou(surface):
    ann = gt_annotation(mask_rows=205)  # GT mask ≈ the top 80 % of the box
    mask = gt_mask(ann, (300, 200))
    mask_iou = mask.sum() / (GT_BOX[2] * GT_BOX[3])  # detection mask = whole box ⊇ GT mask
    assert 0.77 < mask_iou < 0.83
    results = _evaluate(
        surface, [image_entry()], [ann], [chart_detection(u_shift_points=(0, 1, 2))]
    )
    assert results["densepose_segm"]["AP"] == pytest.approx(_ap_for_similarity(mask_iou))
    assert results["densepose_gpsm"]["AP"] == pytest.approx(
        _ap_for_similarity(np.sqrt(GPS_THREE_SHIFTED * mask_iou))
    )
    assert results["densepose_gpsm"]["AP"] == pytest.approx(50.0)
    assert results["densepose_gps"]["AP"] == pytest.approx(30.0)


def test_unmatched_detection_on_unannotated_person_is_rescued(surface):
    annotated = gt_annotation(ann_id=1)
    unannotated = gt_annotation(ann_id=2, box=(110.0, 50.0, 80.0, 200.0), with_dp=False)
    on_person = chart_detection(box=(112.0, 52.0, 80.0, 196.0), score=0.95)  # bbox IoU ≈ 0.94
    elsewhere = chart_detection(box=(10.0, 250.0, 60.0, 40.0), score=0.95)
    images = [image_entry(height=300, width=200)]
    rescued = _evaluate(surface, images, [annotated, unannotated], [chart_detection(), on_person])
    assert rescued["densepose_gps"]["AP"] == pytest.approx(100.0)
    false_positive = _evaluate(
        surface, images, [annotated, unannotated], [chart_detection(), elsewhere]
    )
    # FP first (higher score), then the TP: interpolated precision 0.5 at every recall level
    assert false_positive["densepose_gps"]["AP"] == pytest.approx(50.0)


def test_images_without_densepose_annotations_ignore_their_detections(surface):
    images = [image_entry(1), image_entry(2)]
    anns = [gt_annotation(ann_id=1, image_id=1), gt_annotation(ann_id=2, image_id=2, with_dp=False)]
    dets = [
        chart_detection(image_id=1, score=0.5),
        chart_detection(image_id=2, box=(0, 0, 30, 30), score=0.99),
    ]
    results = _evaluate(surface, images, anns, dets)
    assert results["densepose_gps"]["AP"] == pytest.approx(100.0)


def test_zero_similarity_never_matches(surface):
    # min threshold 0: a plain COCO matcher would match GPS 0 at threshold 0 (AP 5);
    # DensePose does not
    results = _evaluate(
        surface, [image_entry()], [gt_annotation()], [chart_detection(part=0)], min_iou=0.0
    )
    assert results["densepose_gps"]["AP"] == pytest.approx(0.0)


def test_ignore_regions_drop_detections(surface):
    region = {"ignore_regions_x": [[120, 199, 199, 120]], "ignore_regions_y": [[0, 0, 100, 100]]}
    images = [image_entry(**region)]
    in_region = chart_detection(box=(130.0, 10.0, 50.0, 60.0), score=0.99)
    results = _evaluate(surface, images, [gt_annotation()], [chart_detection(score=0.5), in_region])
    assert results["densepose_gps"]["AP"] == pytest.approx(100.0)
    without_region = _evaluate(
        surface, [image_entry()], [gt_annotation()], [chart_detection(score=0.5), in_region]
    )
    assert without_region["densepose_gps"]["AP"] < 100.0


def test_medium_area_range(surface):
    box = (10.0, 20.0, 40.0, 50.0)  # area 2000: medium
    ann = gt_annotation(box=box)
    results = _evaluate(surface, [image_entry()], [ann], [chart_detection(box=box)])
    gps = results["densepose_gps"]
    assert gps["APm"] == pytest.approx(gps["AP"]) and gps["APl"] == -1.0


def test_at_most_20_detections_per_image(surface):
    far = [
        chart_detection(box=(150.0, 250.0, 20.0, 20.0), score=0.99 - 0.001 * k) for k in range(20)
    ]
    good = chart_detection(score=0.5)
    assert (
        _evaluate(surface, [image_entry()], [gt_annotation()], far + [good])["densepose_gps"]["AP"]
        == 0.0
    )
    assert (
        _evaluate(surface, [image_entry()], [gt_annotation()], far[:19] + [good])["densepose_gps"][
            "AP"
        ]
        > 0.0
    )


def test_no_predictions_give_minus_one(surface):
    results = _evaluate(surface, [image_entry()], [gt_annotation()], [], min_iou=0.3)
    for task in results.values():
        assert set(task) == set(metric_names(0.3))
        assert all(v == -1.0 for v in task.values())


def test_per_class_ap_with_two_categories(surface):
    coco = coco_from_dict(
        {
            "images": [image_entry()],
            "annotations": [gt_annotation(ann_id=1), gt_annotation(ann_id=2, category_id=1)],
            "categories": [{"id": 0, "name": "person"}, {"id": 1, "name": "robot"}],
        }
    )
    dets = [chart_detection(), chart_detection(category_id=1, u_shift_points=(0, 1, 2))]
    gps = evaluate_detections(coco, dets, ChartScorer(surface), 0.5, {0: "person", 1: "robot"})[
        "densepose_gps"
    ]
    assert gps["AP-person"] == pytest.approx(100.0) and gps["AP-robot"] == pytest.approx(30.0)
    assert gps["AP"] == pytest.approx(65.0)
