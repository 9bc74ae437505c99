"""DensePose losses; importing registers them in DENSEPOSE_LOSS_REGISTRY."""

from .chart import DensePoseChartLoss
from .chart_confidence import DensePoseChartWithConfidenceLoss
from .cse import DensePoseCseLoss
from .embed import EMBEDDING_LOSSES, EmbeddingLoss, SoftEmbeddingLoss
from .segm import MaskOrSegmentationLoss
from .utils import PackedDensePoseGT, pack_densepose_gt
