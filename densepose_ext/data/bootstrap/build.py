"""Building the bootstrapping data pipeline from `BOOTSTRAP_DATASETS` / `BOOTSTRAP_MODEL`.

For each bootstrap dataset spec: an unlabelled image source (by the dataset's metadata
`dataset_type`), an infinite torch DataLoader over it, and an `InferenceBasedLoader` that turns the
master model's predictions into pseudo-GT; the annotated loader and these are mixed by a
`CombinedDataLoader` with ratios [1.0, RATIO, ...] and wrapped in a `SampleCountingLoader`.
"""

import logging
from typing import Any, Callable, List, Optional, Tuple

import torch
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.config import CfgNode
from detectron2.data import MetadataCatalog
from detectron2.data.build import trivial_batch_collator, worker_init_reset_seed
from detectron2.data.samplers import TrainingSampler
from detectron2.utils import comm

from ...config import get_bootstrap_dataset_config
from ...utils.registry import NamedRegistry, RegistryDictView
from ..datasets.dataset_type import DatasetType, register_unlabelled_dataset
from ..metadata import set_dataset_metadata
from .combined_loader import CombinedDataLoader, SampleCountingLoader
from .datasets import ImageListDataset, VideoKeyframeDataset, join_base_path, read_list_file
from .filters import build_inference_filter
from .frame_selection import build_frame_selector, build_image_transform
from .inference_based_loader import InferenceBasedLoader
from .sampler_registry import build_data_sampler
from .video_reader import read_keyframe_helper_data

__all__ = [
    "IMAGE_LIST",
    "BOOTSTRAP_DATASET_REGISTRY",
    "BOOTSTRAP_DATASET_FACTORIES",
    "bootstrap_dataset_specs",
    "build_bootstrap_dataset",
    "build_inference_based_loader",
    "build_inference_based_loaders",
    "build_master_model",
    "has_bootstrap_datasets",
    "build_bootstrap_train_loader",
    "register_image_list_dataset",
    "register_video_list_dataset",
]

logger = logging.getLogger(__name__)

IMAGE_LIST = "image_list"  # dataset_type of image-list datasets (an extension of the original)


def _type_value(dataset_type: Any) -> str:
    return dataset_type.value if isinstance(dataset_type, DatasetType) else str(dataset_type)


def _category(meta) -> Optional[str]:
    return meta.get("category", None)


BOOTSTRAP_DATASET_REGISTRY = NamedRegistry(
    "BOOTSTRAP_DATASET", "bootstrap dataset type (metadata 'dataset_type')"
)
BOOTSTRAP_DATASET_REGISTRY.__doc__ = (
    "Unlabelled image sources by metadata dataset_type: factory(metadata, IMAGE_LOADER node)."
)


@BOOTSTRAP_DATASET_REGISTRY.register_as(DatasetType.VIDEO_LIST.value)
def _video_list_dataset(meta, loader_cfg) -> VideoKeyframeDataset:
    if loader_cfg.TYPE != "video_keyframe":
        raise ValueError(
            f"video_list datasets need IMAGE_LOADER.TYPE 'video_keyframe', got {loader_cfg.TYPE!r}"
        )
    videos = read_list_file(meta.video_list_fpath, meta.get("video_base_path", None))
    helper = loader_cfg.get("KEYFRAME_HELPER", None)
    return VideoKeyframeDataset(
        videos,
        [_category(meta)] * len(videos),
        frame_selector=build_frame_selector(loader_cfg.get("SELECT", None)),
        transform=build_image_transform(loader_cfg.get("TRANSFORM", None)),
        keyframe_helper_data=read_keyframe_helper_data(helper) if helper else None,
    )


@BOOTSTRAP_DATASET_REGISTRY.register_as(IMAGE_LIST)
def _image_list_dataset(meta, loader_cfg) -> ImageListDataset:
    if loader_cfg.TYPE not in ("", IMAGE_LIST):
        raise ValueError(
            "image_list datasets need IMAGE_LOADER.TYPE '' or 'image_list', "
            f"got {loader_cfg.TYPE!r}"
        )
    base_path = meta.get("image_base_path", None)
    images = meta.get("image_list", None)
    if images is None:
        images = read_list_file(meta.image_list_fpath, base_path)
    else:
        images = join_base_path(images, base_path)
    return ImageListDataset(
        images,
        [_category(meta)] * len(images),
        transform=build_image_transform(loader_cfg.get("TRANSFORM", None)),
    )


BOOTSTRAP_DATASET_FACTORIES = RegistryDictView(BOOTSTRAP_DATASET_REGISTRY)  # deprecated view


def register_video_list_dataset(
    name: str,
    video_list_fpath: str,
    video_base_path: Optional[str] = None,
    category: Optional[str] = None,
) -> None:
    """Registers a video-list dataset (as `chimpnsee`): a text file of video paths."""
    register_unlabelled_dataset(
        name,
        dict(
            dataset_type=DatasetType.VIDEO_LIST,
            video_list_fpath=video_list_fpath,
            video_base_path=video_base_path,
            category=category,
        ),
    )


def register_image_list_dataset(
    name: str,
    image_list: Any,
    image_base_path: Optional[str] = None,
    category: Optional[str] = None,
) -> None:
    """Registers unlabelled images: `image_list` = a list of paths or a text file of paths."""
    source = (
        {"image_list": list(image_list)}
        if not isinstance(image_list, str)
        else {"image_list_fpath": image_list}
    )
    register_unlabelled_dataset(
        name,
        dict(dataset_type=IMAGE_LIST, image_base_path=image_base_path, category=category, **source),
    )


def bootstrap_dataset_specs(cfg) -> List[CfgNode]:
    """`BOOTSTRAP_DATASETS` entries merged over the per-dataset schema (dicts or CfgNodes)."""
    specs = []
    for entry in cfg.BOOTSTRAP_DATASETS:
        spec = get_bootstrap_dataset_config().clone()
        spec.merge_from_other_cfg(CfgNode(dict(entry)))
        specs.append(spec)
    return specs


def _store_loader_metadata(name: str, loader_cfg) -> None:
    values = {
        "category_to_class_mapping": {
            str(k): int(v) for k, v in loader_cfg.CATEGORY_TO_CLASS_MAPPING.items()
        },
        "categories": list(loader_cfg.CATEGORIES),
        "max_count_per_category": int(loader_cfg.MAX_COUNT_PER_CATEGORY),
    }
    set_dataset_metadata(name, values)


def build_bootstrap_dataset(name: str, loader_cfg) -> torch.utils.data.Dataset:
    """The unlabelled image source of dataset `name`, by its metadata `dataset_type`."""
    meta = MetadataCatalog.get(name)
    dataset_type = meta.get("dataset_type", None)
    if dataset_type is None:
        raise ValueError(
            f"bootstrap dataset {name!r} has no metadata 'dataset_type' (is it registered?)"
        )
    return BOOTSTRAP_DATASET_REGISTRY.get(_type_value(dataset_type))(meta, loader_cfg)


def build_inference_based_loader(
    cfg, spec, model: torch.nn.Module, embedder: Optional[Any] = None, seed: Optional[int] = None
) -> InferenceBasedLoader:
    """Pseudo-GT loader of one merged bootstrap spec (see `bootstrap_dataset_specs`)."""
    _store_loader_metadata(spec.DATASET, spec.IMAGE_LOADER)
    dataset = build_bootstrap_dataset(spec.DATASET, spec.IMAGE_LOADER)
    image_loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=spec.IMAGE_LOADER.BATCH_SIZE,
        sampler=TrainingSampler(len(dataset), seed=seed),
        num_workers=spec.IMAGE_LOADER.NUM_WORKERS,
        collate_fn=trivial_batch_collator,
        worker_init_fn=worker_init_reset_seed,
    )
    return InferenceBasedLoader(
        model,
        data_loader=image_loader,
        data_sampler=build_data_sampler(cfg, spec.DATA_SAMPLER, embedder),
        data_filter=build_inference_filter(spec.FILTER),
        shuffle=True,
        batch_size=spec.INFERENCE.OUTPUT_BATCH_SIZE,
        inference_batch_size=spec.INFERENCE.INPUT_BATCH_SIZE,
        category_to_class_mapping=MetadataCatalog.get(spec.DATASET).category_to_class_mapping,
    )


def build_inference_based_loaders(
    cfg, model: torch.nn.Module, embedder: Optional[Any] = None
) -> Tuple[List[InferenceBasedLoader], List[float]]:
    """One `InferenceBasedLoader` and its ratio per `BOOTSTRAP_DATASETS` entry."""
    seed = cfg.SEED if cfg.SEED >= 0 else None
    loaders, ratios = [], []
    for spec in bootstrap_dataset_specs(cfg):
        loaders.append(build_inference_based_loader(cfg, spec, model, embedder, seed))
        ratios.append(float(spec.RATIO))
    return loaders, ratios


def build_master_model(cfg, build_model: Callable[[Any], torch.nn.Module]) -> torch.nn.Module:
    """The master (teacher) model: built from `cfg` with `build_model`,
    placed on BOOTSTRAP_MODEL.DEVICE
    (cpu, with a warning, when CUDA is requested but unavailable),
    loaded from BOOTSTRAP_MODEL.WEIGHTS,
    in eval mode."""
    device = str(cfg.BOOTSTRAP_MODEL.DEVICE)
    if device.startswith("cuda") and not torch.cuda.is_available():
        logger.warning(
            f"BOOTSTRAP_MODEL.DEVICE is {device!r} but CUDA is unavailable; the master runs on cpu"
        )
        device = "cpu"
    master_cfg = cfg.clone()
    master_cfg.defrost()
    master_cfg.MODEL.DEVICE = device
    master_cfg.MODEL.WEIGHTS = cfg.BOOTSTRAP_MODEL.WEIGHTS
    master = build_model(master_cfg)
    master.to(torch.device(device))
    if not cfg.BOOTSTRAP_MODEL.WEIGHTS:
        logger.warning(
            "BOOTSTRAP_MODEL.WEIGHTS is empty: the master model keeps its initial weights"
        )
    DetectionCheckpointer(master).resume_or_load(cfg.BOOTSTRAP_MODEL.WEIGHTS, resume=False)
    master.eval()
    for p in master.parameters():
        p.requires_grad_(False)
    return master


def build_bootstrap_train_loader(
    cfg, annotated_loader, master: torch.nn.Module, embedder: Optional[Any] = None
) -> SampleCountingLoader:
    """Annotated loader (ratio 1.0) mixed with the pseudo-GT loaders;
    batches of IMS_PER_BATCH / world size."""
    loaders, ratios = build_inference_based_loaders(cfg, master, embedder)
    batch_size = max(1, cfg.SOLVER.IMS_PER_BATCH // comm.get_world_size())
    combined = CombinedDataLoader([annotated_loader] + loaders, batch_size, [1.0] + ratios)
    return SampleCountingLoader(combined)


def has_bootstrap_datasets(cfg) -> bool:
    """True when `BOOTSTRAP_DATASETS` is non-empty."""
    return len(getattr(cfg, "BOOTSTRAP_DATASETS", [])) > 0
