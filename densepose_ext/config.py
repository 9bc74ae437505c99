"""DensePose config keys, added to a detectron2 config with the original names and defaults.

`add_densepose_config` only adds keys; it never changes a detectron2 default, so every official
DensePose YAML and any user YAML written for the original package merges unchanged.
"""

import os
from typing import Optional, Sequence

from detectron2.config import CfgNode as CN

__all__ = [
    "add_densepose_config",
    "add_densepose_head_config",
    "add_densepose_head_cse_config",
    "add_densepose_cascade_config",
    "add_hrnet_config",
    "add_bootstrap_config",
    "add_dataset_category_config",
    "add_evaluation_config",
    "clear_external_files",
    "get_bootstrap_dataset_config",
    "load_bootstrap_config",
    "bootstrap_config_node",
    "get_densepose_cfg",
    "is_cse",
    "load_densepose_config",
    "ConfigError",
]


def add_dataset_category_config(cfg: CN) -> None:
    """Category whitelists / merges and the CSE class -> mesh mapping (`DATASETS.*`)."""
    _C = cfg
    # {dataset_name: {"<src category id>": <dst category id>}}
    _C.DATASETS.CATEGORY_MAPS = CN(new_allowed=True)
    # {dataset_name: [category ids to keep]}
    _C.DATASETS.WHITELISTED_CATEGORIES = CN(new_allowed=True)
    # {"<contiguous class index>": mesh_name}
    _C.DATASETS.CLASS_TO_MESH_NAME_MAPPING = CN(new_allowed=True)


def add_evaluation_config(cfg: CN) -> None:
    """`DENSEPOSE_EVALUATION.*`."""
    _C = cfg
    _C.DENSEPOSE_EVALUATION = CN()
    _C.DENSEPOSE_EVALUATION.TYPE = "iou"  # "iou" / "iuv" (chart) or "cse"
    _C.DENSEPOSE_EVALUATION.STORAGE = "none"  # "none", "ram" or "file"
    _C.DENSEPOSE_EVALUATION.MIN_IOU_THRESHOLD = 0.5
    _C.DENSEPOSE_EVALUATION.DISTRIBUTED_INFERENCE = True
    _C.DENSEPOSE_EVALUATION.EVALUATE_MESH_ALIGNMENT = False
    _C.DENSEPOSE_EVALUATION.MESH_ALIGNMENT_MESH_NAMES = []
    # Not in the original: where chart GPS finds its surface data. "" = dataset metadata
    # (`densepose_surface`), else the official files; otherwise a directory or URL prefix holding
    # SMPL_subdiv.mat / SMPL_SUBDIV_TRANSFORM.mat / Pdist_matrix.pkl, a surface `.npz`, or
    # "smpl_approximate:<dir>" for the offline approximation.
    _C.DENSEPOSE_EVALUATION.SURFACE = ""


def get_bootstrap_dataset_config() -> CN:
    """Schema of one `BOOTSTRAP_DATASETS` entry; entries in YAML are merged over it."""
    _C = CN()
    _C.DATASET = ""
    _C.RATIO = 0.1
    _C.IMAGE_LOADER = CN(new_allowed=True)
    _C.IMAGE_LOADER.TYPE = ""
    _C.IMAGE_LOADER.BATCH_SIZE = 4
    _C.IMAGE_LOADER.NUM_WORKERS = 4
    _C.IMAGE_LOADER.CATEGORIES = []
    _C.IMAGE_LOADER.MAX_COUNT_PER_CATEGORY = 1_000_000
    _C.IMAGE_LOADER.CATEGORY_TO_CLASS_MAPPING = CN(new_allowed=True)
    # not in the original schema; the original's code used these defaults
    # video frames: "all", or random_k / first_k / last_k with NUM_IMAGES = k
    _C.IMAGE_LOADER.SELECT = CN(new_allowed=True)
    _C.IMAGE_LOADER.SELECT.STRATEGY = "all"
    _C.IMAGE_LOADER.TRANSFORM = CN(new_allowed=True)
    _C.IMAGE_LOADER.TRANSFORM.TYPE = ""  # "" (none) or "resize"
    _C.IMAGE_LOADER.TRANSFORM.MIN_SIZE = 800
    _C.IMAGE_LOADER.TRANSFORM.MAX_SIZE = 1333
    _C.INFERENCE = CN()
    _C.INFERENCE.INPUT_BATCH_SIZE = 4
    _C.INFERENCE.OUTPUT_BATCH_SIZE = 2
    _C.DATA_SAMPLER = CN(new_allowed=True)
    _C.DATA_SAMPLER.TYPE = ""
    _C.DATA_SAMPLER.USE_GROUND_TRUTH_CATEGORIES = False
    _C.DATA_SAMPLER.COUNT_PER_CLASS = 8  # not in the original schema (its code's default)
    _C.FILTER = CN(new_allowed=True)
    _C.FILTER.TYPE = ""
    _C.FILTER.MIN_VALUE = 0.8  # not in the original schema (its code's default)
    return _C


def bootstrap_config_node(key: str, node=None) -> CN:
    """`node` (a part of one `BOOTSTRAP_DATASETS` entry, e.g. key "IMAGE_LOADER.SELECT") merged
    over its schema defaults; None gives the defaults."""
    schema = get_bootstrap_dataset_config()
    for part in key.split("."):
        schema = schema[part]
    if node is not None:
        schema.merge_from_other_cfg(node if isinstance(node, CN) else CN(node))
    return schema


def load_bootstrap_config(cfg: CN) -> None:
    """Replaces each dict of `cfg.BOOTSTRAP_DATASETS` by the schema merged with that dict."""
    if not cfg.BOOTSTRAP_DATASETS:
        return
    merged = []
    for entry in cfg.BOOTSTRAP_DATASETS:
        node = get_bootstrap_dataset_config().clone()
        node.merge_from_other_cfg(CN(entry))
        merged.append(node)
    cfg.BOOTSTRAP_DATASETS = merged


def add_bootstrap_config(cfg: CN) -> None:
    """`BOOTSTRAP_DATASETS` (list of dicts) and `BOOTSTRAP_MODEL.*` (the master model)."""
    _C = cfg
    _C.BOOTSTRAP_DATASETS = []
    _C.BOOTSTRAP_MODEL = CN()
    _C.BOOTSTRAP_MODEL.WEIGHTS = ""
    _C.BOOTSTRAP_MODEL.DEVICE = "cuda"


def add_densepose_head_cse_config(cfg: CN) -> None:
    """`MODEL.ROI_DENSEPOSE_HEAD.CSE.*` (continuous surface embeddings)."""
    _C = cfg
    _C.MODEL.ROI_DENSEPOSE_HEAD.CSE = CN()
    _C.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBED_SIZE = 16
    # mesh name -> embedder spec (TYPE, NUM_VERTICES, FEATURE_DIM, FEATURES_TRAINABLE, IS_TRAINABLE,
    # INIT_FILE)
    _C.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS = CN(new_allowed=True)
    _C.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDING_DIST_GAUSS_SIGMA = 0.01
    _C.MODEL.ROI_DENSEPOSE_HEAD.CSE.GEODESIC_DIST_GAUSS_SIGMA = 0.01
    _C.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBED_LOSS_WEIGHT = 0.6
    _C.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBED_LOSS_NAME = "EmbeddingLoss"
    _C.MODEL.ROI_DENSEPOSE_HEAD.CSE.FEATURES_LR_FACTOR = 1.0
    _C.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDING_LR_FACTOR = 1.0
    s2s = CN()
    s2s.ENABLED = False
    s2s.WEIGHT = 0.025
    s2s.NORM_P = 2
    s2s.TEMPERATURE = 0.05
    s2s.MAX_NUM_VERTICES = 4936
    _C.MODEL.ROI_DENSEPOSE_HEAD.CSE.SHAPE_TO_SHAPE_CYCLE_LOSS = s2s
    p2s = CN()
    p2s.ENABLED = False
    p2s.WEIGHT = 0.0001
    p2s.NORM_P = 2
    p2s.USE_ALL_MESHES_NOT_GT_ONLY = False
    p2s.NUM_PIXELS_TO_SAMPLE = 100
    p2s.PIXEL_SIGMA = 5.0
    p2s.TEMPERATURE_PIXEL_TO_VERTEX = 0.05
    p2s.TEMPERATURE_VERTEX_TO_PIXEL = 0.05
    _C.MODEL.ROI_DENSEPOSE_HEAD.CSE.PIX_TO_SHAPE_CYCLE_LOSS = p2s


def add_densepose_head_config(cfg: CN) -> None:
    """`MODEL.DENSEPOSE_ON`, `MODEL.ROI_DENSEPOSE_HEAD.*`, and the input / TTA rotation keys."""
    _C = cfg
    _C.MODEL.DENSEPOSE_ON = True

    _C.MODEL.ROI_DENSEPOSE_HEAD = CN()
    h = _C.MODEL.ROI_DENSEPOSE_HEAD
    h.NAME = ""
    h.NUM_STACKED_CONVS = 8
    h.NUM_PATCHES = 24
    h.DECONV_KERNEL = 4
    h.CONV_HEAD_DIM = 512
    h.CONV_HEAD_KERNEL = 3
    h.UP_SCALE = 2
    h.HEATMAP_SIZE = 112
    h.POOLER_TYPE = "ROIAlignV2"
    h.POOLER_RESOLUTION = 28
    h.POOLER_SAMPLING_RATIO = 2
    h.NUM_COARSE_SEGM_CHANNELS = 2
    h.FG_IOU_THRESHOLD = 0.7
    # Loss weights; note INDEX_WEIGHTS weighs the *coarse* segmentation loss and PART_WEIGHTS the
    # *fine* one (the original's naming).
    h.INDEX_WEIGHTS = 5.0
    h.PART_WEIGHTS = 1.0
    h.POINT_REGRESSION_WEIGHTS = 0.01
    h.COARSE_SEGM_TRAINED_BY_MASKS = False
    # Extensions (docs/teacher.md): weight of teacher-inpainted points (`dp_inpainted` = 1) in the
    # I / U / V losses, and a random subset of at most this many points per ROI (0 = all points).
    # The defaults leave the losses unchanged.
    h.INPAINTED_POINT_WEIGHT = 1.0
    h.MAX_POINTS_PER_ROI = 0
    # Panoptic-FPN style decoder in front of the DensePose pooler
    h.DECODER_ON = True
    h.DECODER_NUM_CLASSES = 256
    h.DECODER_CONV_DIMS = 256
    h.DECODER_NORM = ""
    h.DECODER_COMMON_STRIDE = 4
    h.DEEPLAB = CN()
    h.DEEPLAB.NORM = "GN"
    h.DEEPLAB.NONLOCAL_ON = 0
    h.PREDICTOR_NAME = "DensePoseChartWithConfidencePredictor"
    h.LOSS_NAME = "DensePoseChartWithConfidenceLoss"
    h.UV_CONFIDENCE = CN()
    h.UV_CONFIDENCE.ENABLED = False
    h.UV_CONFIDENCE.EPSILON = 0.01
    h.UV_CONFIDENCE.TYPE = "iid_iso"  # or "indep_aniso"
    h.SEGM_CONFIDENCE = CN()
    h.SEGM_CONFIDENCE.ENABLED = False
    h.SEGM_CONFIDENCE.EPSILON = 0.01

    _C.INPUT.ROTATION_ANGLES = [0]
    _C.TEST.AUG.ROTATION_ANGLES = ()
    add_densepose_head_cse_config(cfg)
    add_densepose_cascade_config(cfg)


def add_densepose_cascade_config(cfg: CN) -> None:
    """`MODEL.ROI_DENSEPOSE_HEAD.CASCADE.*`: used only by `DensePoseCascadeROIHeads` (an
    extension, see docs/cascade.md); auxiliary tasks are switched by MODEL.MASK_ON / KEYPOINT_ON."""
    c = cfg.MODEL.ROI_DENSEPOSE_HEAD.CASCADE = CN()
    c.RESOLUTION = 14  # side of the cross-cascade block's common feature map
    c.CONV_DIM = 128  # channels of the combined features
    c.USE_PREDICTIONS = True  # also combine the stage-1 predictions (not only the features)
    c.REFINE_NUM_CONVS = 2  # 3x3 conv + ReLU layers of each branch's refinement unit
    c.REFINE_CONV_DIM = 256  # their width
    c.STAGE1_LOSS_WEIGHT = 1.0  # multiplier of every stage-1 loss (`loss_*_stage1`)


def add_hrnet_config(cfg: CN) -> None:
    """`MODEL.HRNET.*`; the defaults describe HRNet-W32."""
    _C = cfg
    _C.MODEL.HRNET = CN()
    _C.MODEL.HRNET.STEM_INPLANES = 64
    stages = {
        "STAGE2": (1, 2, [4, 4], [32, 64]),
        "STAGE3": (4, 3, [4, 4, 4], [32, 64, 128]),
        "STAGE4": (3, 4, [4, 4, 4, 4], [32, 64, 128, 256]),
    }
    for name, (num_modules, num_branches, num_blocks, num_channels) in stages.items():
        stage = CN()
        stage.NUM_MODULES = num_modules
        stage.NUM_BRANCHES = num_branches
        stage.BLOCK = "BASIC"
        stage.NUM_BLOCKS = num_blocks
        stage.NUM_CHANNELS = num_channels
        stage.FUSE_METHOD = "SUM"
        setattr(_C.MODEL.HRNET, name, stage)
    _C.MODEL.HRNET.HRFPN = CN()
    _C.MODEL.HRNET.HRFPN.OUT_CHANNELS = 256


def add_densepose_config(cfg: CN) -> None:
    """Adds every DensePose key (head, CSE, HRNet, bootstrapping, categories, evaluation)."""
    # Extension, not present in the original: optimiser type used by the DensePose trainer,
    # "SGD" (the original's behaviour) or "ADAMW" (fast short schedules from scratch, e.g. on CPU).
    cfg.SOLVER.OPTIMIZER = "SGD"
    add_densepose_head_config(cfg)
    add_hrnet_config(cfg)
    add_bootstrap_config(cfg)
    add_dataset_category_config(cfg)
    add_evaluation_config(cfg)


def clear_external_files(cfg: CN) -> CN:
    """Empties MODEL.WEIGHTS and every embedder INIT_FILE (in place, returns `cfg`): the model then
    builds with random initial values and touches no file or URL (tests, benchmarks, export)."""
    cfg.MODEL.WEIGHTS = ""
    for spec in cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS.values():
        if "INIT_FILE" in spec:
            spec.INIT_FILE = ""
    return cfg


def get_densepose_cfg() -> CN:
    """detectron2's default config plus all DensePose keys (the usual starting point)."""
    from detectron2.config import get_cfg

    cfg = get_cfg()
    add_densepose_config(cfg)
    return cfg


class ConfigError(ValueError):
    """A config that cannot be loaded: the message names the file (or option) and the problem."""


def load_densepose_config(path_or_zoo_name: str, opts: Optional[Sequence[str]] = None) -> CN:
    """The config every entry point uses: DensePose keys + a YAML + `opts` (KEY VALUE ...).

    `path_or_zoo_name` is a local YAML path, a URL (fetched and cached), or a model-zoo name such
    as ``densepose_rcnn_R_50_FPN_s1x`` or ``cse/densepose_rcnn_R_50_FPN_s1x.yaml``. The result is
    not frozen. Raises `ConfigError` naming the file or the overrides.
    """
    path = _config_path(path_or_zoo_name)
    cfg = get_densepose_cfg()
    try:
        cfg.merge_from_file(path)
    except Exception as e:  # unknown keys, bad YAML, missing _BASE_
        raise ConfigError(f"cannot use config file {path_or_zoo_name!r}: {_one_line(e)}") from e
    try:
        cfg.merge_from_list(list(opts or []))
    except Exception as e:  # odd length, unknown key, wrong type
        raise ConfigError(f"bad config overrides {' '.join(opts)!r}: {_one_line(e)}") from e
    return cfg


def _config_path(path_or_zoo_name: str) -> str:
    if os.path.isfile(path_or_zoo_name):
        return path_or_zoo_name
    if "://" in path_or_zoo_name:
        from .utils.files import ExternalFileError, resolve_file

        try:
            return resolve_file(path_or_zoo_name, what="config file")
        except ExternalFileError as e:
            raise ConfigError(str(e)) from e
    from .model_catalog import get_config_file

    try:
        return get_config_file(path_or_zoo_name)
    except RuntimeError as e:
        raise ConfigError(
            f"config file not found: {path_or_zoo_name!r} is neither a file nor a model-zoo name"
            f" ({e})"
        ) from e


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def is_cse(cfg: CN) -> bool:
    """Whether the model predicts continuous surface embeddings (CSE) rather than chart I/U/V."""
    return "Embedding" in cfg.MODEL.ROI_DENSEPOSE_HEAD.PREDICTOR_NAME
