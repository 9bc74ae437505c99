"""`DatasetMapper`: a dataset dict -> the model's input dict, with DensePose ground truth.

Per image, in order: read image -> augment (resize, flip, rotation) -> transform boxes / masks /
keypoints (detectron2) -> build and transform `DensePoseDataRelative` per annotation -> masks from
DensePose where needed -> `Instances` with `gt_densepose` (a `DensePoseList`).
"""

import copy
import logging
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F
from detectron2.config import configurable
from detectron2.data import MetadataCatalog
from detectron2.data import detection_utils as utils
from detectron2.data import transforms as T
from detectron2.structures import BoxMode

from ..converters.to_mask import paste_box_mask_into
from ..structures.data_relative import DensePoseDataRelative
from ..structures.densepose_list import DensePoseList
from ..structures.transform_data import DensePoseTransformData
from .meshes.catalog import MeshCatalog, create_mesh

__all__ = ["DatasetMapper", "build_densepose_augmentation", "load_densepose_transform_data"]

logger = logging.getLogger(__name__)


def build_densepose_augmentation(cfg, is_train: bool) -> List[T.Augmentation]:
    """detectron2's resize (+ flip when training),
    plus the training rotation of INPUT.ROTATION_ANGLES."""
    augmentations = utils.build_augmentation(cfg, is_train)
    if is_train:
        augmentations.append(
            T.RandomRotation(cfg.INPUT.ROTATION_ANGLES, expand=False, sample_style="choice")
        )
    return augmentations


def load_densepose_transform_data(cfg) -> DensePoseTransformData:
    """Flip tables from the `densepose_transform_src` of the first of DATASETS.TRAIN + TEST."""
    names = list(cfg.DATASETS.TRAIN) + list(cfg.DATASETS.TEST)
    if not names:
        return DensePoseTransformData.load()
    source = MetadataCatalog.get(names[0]).get("densepose_transform_src", None)
    return DensePoseTransformData.load(source) if source else DensePoseTransformData.load()


def _mesh_vertex_transforms(mesh_name: str) -> torch.Tensor:
    return create_mesh(mesh_name, "cpu").symmetry["vertex_transforms"]


class DatasetMapper:
    """Maps a dataset dict with DensePose annotations (keys dp_x, dp_y, dp_I, dp_U, dp_V, dp_masks,
    dp_vertex, ref_model; see `structures.constants`) to model inputs."""

    @configurable
    def __init__(
        self,
        is_train: bool,
        *,
        augmentations: List[Any],
        image_format: str = "BGR",
        mask_on: bool = False,
        keypoint_on: bool = False,
        densepose_on: bool = True,
        densepose_transform_data: Optional[DensePoseTransformData] = None,
        keypoint_hflip_indices: Optional[np.ndarray] = None,
        vertex_transforms_of: Callable[[str], torch.Tensor] = _mesh_vertex_transforms,
    ):
        """`densepose_transform_data` is required to flip chart GT; `vertex_transforms_of(mesh)`
        gives the hflip vertex map (int64 [V]) of a mesh for CSE GT."""
        self.is_train = is_train
        self.augmentations = T.AugmentationList(augmentations)
        self.image_format = image_format
        self.mask_on = mask_on
        self.keypoint_on = keypoint_on
        self.densepose_on = densepose_on
        self.densepose_transform_data = densepose_transform_data
        self.keypoint_hflip_indices = keypoint_hflip_indices
        self.vertex_transforms_of = vertex_transforms_of
        self._vertex_transforms_cache: Dict[str, torch.Tensor] = {}
        logger.info(
            f"[DatasetMapper] augmentations ({'train' if is_train else 'test'}): {augmentations}"
        )

    @classmethod
    def from_config(cls, cfg, is_train: bool = True) -> Dict[str, Any]:
        assert not cfg.MODEL.LOAD_PROPOSALS, "DensePose DatasetMapper does not load proposals"
        densepose_on = cfg.MODEL.DENSEPOSE_ON
        keypoint_on = cfg.MODEL.KEYPOINT_ON
        return {
            "is_train": is_train,
            "augmentations": build_densepose_augmentation(cfg, is_train),
            "image_format": cfg.INPUT.FORMAT,
            "mask_on": cfg.MODEL.MASK_ON
            or (densepose_on and cfg.MODEL.ROI_DENSEPOSE_HEAD.COARSE_SEGM_TRAINED_BY_MASKS),
            "keypoint_on": keypoint_on,
            "densepose_on": densepose_on,
            # only training flips annotations (the original also loads the tables for testing)
            "densepose_transform_data": load_densepose_transform_data(cfg)
            if densepose_on and is_train
            else None,
            "keypoint_hflip_indices": utils.create_keypoint_hflip_indices(cfg.DATASETS.TRAIN)
            if keypoint_on and is_train
            else None,
        }

    def __call__(self, dataset_dict: Dict[str, Any]) -> Dict[str, Any]:
        dataset_dict = copy.deepcopy(dataset_dict)  # modified below
        image = utils.read_image(dataset_dict["file_name"], format=self.image_format)
        utils.check_image_size(dataset_dict, image)
        aug_input = T.AugInput(image)
        transforms = self.augmentations(aug_input)
        image = aug_input.image
        image_shape = image.shape[:2]  # h, w
        dataset_dict["image"] = torch.as_tensor(np.ascontiguousarray(image.transpose(2, 0, 1)))
        if not self.is_train:
            dataset_dict.pop("annotations", None)
            return dataset_dict
        annos = [
            self._transform_annotation(obj, transforms, image_shape)
            for obj in dataset_dict.pop("annotations", [])
            if obj.get("iscrowd", 0) == 0
        ]
        if self.mask_on:
            self._add_masks_from_densepose(annos, image_shape)
        instances = utils.annotations_to_instances(annos, image_shape, mask_format="bitmask")
        if self.densepose_on:
            datas = [obj.get("densepose") for obj in annos]
            if any(d is not None for d in datas):
                instances.gt_densepose = DensePoseList(datas, instances.gt_boxes, image_shape)
        dataset_dict["instances"] = instances[instances.gt_boxes.nonempty()]
        return dataset_dict

    def _transform_annotation(self, obj: Dict[str, Any], transforms, image_shape) -> Dict[str, Any]:
        """detectron2 box / mask / keypoint transform,
        then the DensePose GT (`obj["densepose"]`)."""
        if not self.mask_on:
            obj.pop("segmentation", None)
        if not self.keypoint_on:
            obj.pop("keypoints", None)
        obj = utils.transform_instance_annotations(
            obj, transforms, image_shape, keypoint_hflip_indices=self.keypoint_hflip_indices
        )
        data = None
        if self.densepose_on and DensePoseDataRelative.has_annotation(obj):
            data = DensePoseDataRelative(obj, cleanup=True, mesh_name_to_id=_mesh_id_or_unknown)
            data.apply_transform(
                transforms, self.densepose_transform_data, self._vertex_transforms(data, transforms)
            )
        DensePoseDataRelative.cleanup_annotation(obj)
        obj["densepose"] = data
        return obj

    def _vertex_transforms(self, data: DensePoseDataRelative, transforms) -> Optional[torch.Tensor]:
        """The mesh symmetry map, loaded (once per mesh) only if CSE GT gets flipped."""
        if data.vertex_ids is None:
            return None
        flips = sum(isinstance(t, T.HFlipTransform) for t in transforms.transforms)
        if flips % 2 == 0:
            return None
        if data.mesh_name not in self._vertex_transforms_cache:
            self._vertex_transforms_cache[data.mesh_name] = self.vertex_transforms_of(
                data.mesh_name
            )
        return self._vertex_transforms_cache[data.mesh_name]

    @staticmethod
    def _add_masks_from_densepose(annos: List[Dict[str, Any]], image_shape) -> None:
        """Gives every annotation a `segmentation`: from its DensePose part mask if it has none
        (binarised, resized bilinearly into the box, >= 0.5), else an empty mask."""
        if not annos or all("segmentation" in obj for obj in annos):
            return
        h, w = image_shape
        for obj in annos:
            if "segmentation" in obj:
                continue
            canvas = np.zeros((h, w), dtype=np.uint8)
            data = obj.get("densepose")
            if data is not None and data.segm is not None:
                x0, y0, x1, y1 = BoxMode.convert(obj["bbox"], obj["bbox_mode"], BoxMode.XYXY_ABS)
                _paste_box_mask(canvas, (data.segm > 0).to(torch.float32), (x0, y0, x1, y1))
            obj["segmentation"] = canvas


def _paste_box_mask(canvas: np.ndarray, mask: torch.Tensor, box_xyxy) -> None:
    """Resizes a box-frame mask [256, 256] to the integer box and pastes it (threshold 0.5)."""
    x0, y0 = int(np.floor(box_xyxy[0])), int(np.floor(box_xyxy[1]))
    x1, y1 = int(np.ceil(box_xyxy[2])), int(np.ceil(box_xyxy[3]))
    bw, bh = max(x1 - x0, 1), max(y1 - y0, 1)
    resized = F.interpolate(mask[None, None], size=(bh, bw), mode="bilinear", align_corners=False)
    resized = (resized[0, 0] >= 0.5).numpy().astype(np.uint8)
    paste_box_mask_into(canvas, resized, x0, y0)


def _mesh_id_or_unknown(mesh_name: str) -> int:
    """Catalog id of a mesh; unknown meshes fail with the list of registered ones."""
    if mesh_name not in MeshCatalog:
        raise KeyError(
            f"annotation refers to mesh {mesh_name!r}, not in the mesh catalog: "
            f"{MeshCatalog.names()}"
        )
    return MeshCatalog.get_mesh_id(mesh_name)
