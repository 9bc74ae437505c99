"""Multi-task cross-cascading DensePose R-CNN; importing registers `DensePoseCascadeROIHeads`."""

from .block import CrossCascadeBlock, resample
from .refine import KeypointStage2Predictor, MaskStage2Predictor, RefinementUnit
from .roi_heads import CascadeOutputs, DensePoseCascadeROIHeads
