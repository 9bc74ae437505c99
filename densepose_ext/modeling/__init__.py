"""DensePose modeling; importing registers heads, predictors, losses,
backbones and the ROI heads."""

# registration side effects: HRNet/HRFPN backbones, head bodies, losses (DENSEPOSE_LOSS_REGISTRY),
# predictors
from . import backbone, heads, losses, predictors  # noqa: F401
from .cascade import DensePoseCascadeROIHeads
from .checkpoint import DensePoseCheckpointer
from .decoder import Decoder
from .roi_heads import DensePoseROIHeads
from .tta import DensePoseDatasetMapperTTA, DensePoseGeneralizedRCNNWithTTA
