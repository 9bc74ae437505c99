"""DensePose head bodies; importing registers them in ROI_DENSEPOSE_HEAD_REGISTRY."""

from .deeplab import DensePoseDeepLabHead
from .v1convx import DensePoseV1ConvXHead
