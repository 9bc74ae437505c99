"""Teacher inpainting: a fully-convolutional teacher trained on the sparse DensePose points fills
in each person's mask, and the result is written as a DensePose-COCO file (docs/teacher.md).

    python -m densepose_ext.teacher train --json train.json --image-root images --output out/t
    python -m densepose_ext.teacher inpaint --json train.json --image-root images \\
        --weights out/t/teacher.pth --output train_inpainted.json --grid-step 16
"""

from .checkpoint import load_teacher, save_teacher
from .crops import PersonCrop, crops_of_records, person_crop, person_mask_box_frame
from .inpaint import (
    InpaintStats,
    inpaint_annotation,
    inpaint_coco_json,
    new_point_locations,
    predict_points,
)
from .loss import TeacherLossWeights, crop_point_samples, teacher_loss
from .model import TeacherConfig, TeacherNet, TeacherOutput
from .train import TrainSettings, make_batch, train_teacher

__all__ = [
    "InpaintStats",
    "PersonCrop",
    "TeacherConfig",
    "TeacherLossWeights",
    "TeacherNet",
    "TeacherOutput",
    "TrainSettings",
    "crop_point_samples",
    "crops_of_records",
    "inpaint_annotation",
    "inpaint_coco_json",
    "load_teacher",
    "make_batch",
    "new_point_locations",
    "person_crop",
    "person_mask_box_frame",
    "predict_points",
    "save_teacher",
    "teacher_loss",
    "train_teacher",
]
