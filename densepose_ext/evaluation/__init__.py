"""DensePose evaluation: GPS / GPSm / IOU COCO-style metrics (chart and CSE), mesh alignment."""

from .build import (
    Detectron2COCOEvaluatorAdapter,
    build_coco_evaluator,
    build_densepose_evaluator,
    build_densepose_evaluators,
    coco_evaluation_tasks,
)
from .densepose_cocoeval import DensePoseCocoEval, iou_thresholds, metric_names
from .evaluator import DensePoseCOCOEvaluator, evaluate_detections
from .surface import ChartSurface, load_chart_surface
