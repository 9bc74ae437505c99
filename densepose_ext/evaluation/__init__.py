"""DensePose evaluation: GPS / GPSm / IOU COCO-style metrics (chart and CSE), mesh alignment."""

from .build import Detectron2COCOEvaluatorAdapter, build_densepose_evaluators
from .densepose_cocoeval import DensePoseCocoEval, iou_thresholds, metric_names
from .evaluator import DensePoseCOCOEvaluator, evaluate_detections
from .surface import ChartSurface, load_chart_surface
