"""DensePose as a detectron2 plugin.

Importing the package registers the DensePose ROI heads, head bodies, predictors, losses and
backbones in detectron2's registries, and the DensePose datasets and meshes in the catalogs.
"""

__version__ = "0.1.0"

from .utils.third_party_noise import torchscript_deprecation_silenced  # noqa: E402

with torchscript_deprecation_silenced():  # fvcore scripts functions when detectron2 imports it
    from . import data, modeling  # noqa: E402  (registration side effects)
from .config import (  # noqa: E402
    add_bootstrap_config,
    add_dataset_category_config,
    add_densepose_config,
    add_densepose_head_config,
    add_evaluation_config,
    add_hrnet_config,
    get_densepose_cfg,
    load_bootstrap_config,
)
from .modeling import (  # noqa: E402
    DensePoseCheckpointer,
    DensePoseDatasetMapperTTA,
    DensePoseGeneralizedRCNNWithTTA,
    DensePoseROIHeads,
)
from .modeling.backbone import build_hrfpn_backbone, build_pose_hrnet_backbone  # noqa: E402
from .modeling.inference_opt import optimize_for_inference  # noqa: E402
from .structures import DensePoseDataRelative, DensePoseList  # noqa: E402
from .structures.transform_data import DensePoseTransformData  # noqa: E402
