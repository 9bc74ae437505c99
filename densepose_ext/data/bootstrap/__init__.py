"""Bootstrapping (DensePose evolution): pseudo ground truth from a master model on unlabelled data.

See docs/bootstrapping.md. Entry point for training:
`build_master_model` + `build_bootstrap_train_loader`
(called by `Trainer.build_train_loader` when `BOOTSTRAP_DATASETS` is non-empty).
"""

from .build import (
    BOOTSTRAP_DATASET_FACTORIES,
    BOOTSTRAP_DATASET_REGISTRY,
    IMAGE_LIST,
    bootstrap_dataset_specs,
    build_bootstrap_dataset,
    build_bootstrap_train_loader,
    build_inference_based_loader,
    build_inference_based_loaders,
    build_master_model,
    has_bootstrap_datasets,
    register_image_list_dataset,
    register_video_list_dataset,
)
from .chart_samplers import DensePoseConfidenceBasedSampler, DensePoseUniformSampler
from .combined_loader import CombinedDataLoader, SampleCountingLoader
from .cse_samplers import DensePoseCSEConfidenceBasedSampler, DensePoseCSEUniformSampler
from .datasets import ImageListDataset, VideoKeyframeDataset
from .filters import (
    BOOTSTRAP_FILTER_REGISTRY,
    INFERENCE_FILTERS,
    ScoreBasedFilter,
    build_inference_filter,
)
from .frame_selection import (
    FRAME_SELECTOR_REGISTRY,
    IMAGE_TRANSFORM_REGISTRY,
    FirstKFramesSelector,
    ImageResizeTransform,
    LastKFramesSelector,
    RandomKFramesSelector,
    build_frame_selector,
    build_image_transform,
)
from .gt_sampler import MaskFromDensePoseSampler, PredictionToGroundTruthSampler
from .inference_based_loader import InferenceBasedLoader
from .sampler_registry import (
    BOOTSTRAP_SAMPLER_REGISTRY,
    DENSEPOSE_SAMPLERS,
    build_data_sampler,
    build_densepose_sampler,
)
from .video_reader import list_keyframes, read_keyframe_helper_data, read_keyframes, video_backend
