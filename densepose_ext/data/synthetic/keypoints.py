"""The 17 COCO person keypoints of the procedural body: placement, projection and visibility.

Limb keypoints (shoulders, elbows, wrists, hips, knees, ankles) are the skeleton's joints, i.e.
points on a limb's axis inside the body, where annotators put them. Face keypoints (nose, eyes,
ears) lie on the head surface, the eyes where the texture draws them. A keypoint inside the image
is visible (2) when the front-most surface at its pixel (the z-buffer winner) belongs to the same
person and to one of the keypoint's body parts and lies at most a few centimetres in front of the
keypoint; otherwise it is occluded (1). Keypoints outside the image get (0, 0, 0), as in COCO.
"""

from typing import Dict, List, Tuple

import numpy as np

from .body import DIM_EXT0, DIM_EXT1, DIM_LENGTH, DIM_R20, DIM_R21, DIM_RX0, DIM_RX1, SEGMENTS
from .pose import forward_kinematics
from .textures import EYE_HEIGHT, EYE_X, MOUTH_HEIGHT

__all__ = [
    "KEYPOINT_NAMES",
    "KEYPOINT_FLIP_MAP",
    "KEYPOINT_CONNECTION_RULES",
    "KEYPOINT_PARTS",
    "COCO_PERSON_SKELETON",
    "keypoint_metadata",
    "body_keypoints",
    "keypoint_visibility",
]

KEYPOINT_NAMES = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
KEYPOINT_FLIP_MAP = tuple(
    (name, "right_" + name[5:]) for name in KEYPOINT_NAMES if name.startswith("left_")
)
# (name a, name b, RGB colour) of the skeleton lines drawn by detectron2's Visualizer
KEYPOINT_CONNECTION_RULES = (
    ("left_ear", "left_eye", (102, 204, 255)),
    ("right_ear", "right_eye", (51, 153, 255)),
    ("left_eye", "nose", (102, 0, 204)),
    ("nose", "right_eye", (51, 102, 255)),
    ("left_shoulder", "right_shoulder", (255, 128, 0)),
    ("left_shoulder", "left_elbow", (153, 255, 204)),
    ("right_shoulder", "right_elbow", (128, 229, 255)),
    ("left_elbow", "left_wrist", (153, 255, 153)),
    ("right_elbow", "right_wrist", (102, 255, 224)),
    ("left_hip", "right_hip", (255, 102, 0)),
    ("left_hip", "left_knee", (255, 255, 77)),
    ("right_hip", "right_knee", (153, 255, 204)),
    ("left_knee", "left_ankle", (191, 255, 128)),
    ("right_knee", "right_ankle", (255, 195, 77)),
)
# COCO category `skeleton`: 1-based keypoint index pairs of the connection rules
COCO_PERSON_SKELETON = tuple(
    [KEYPOINT_NAMES.index(a) + 1, KEYPOINT_NAMES.index(b) + 1]
    for a, b, _ in KEYPOINT_CONNECTION_RULES
)

# fine DensePose parts (1..24) on which each keypoint may be seen
KEYPOINT_PARTS: Dict[str, Tuple[int, ...]] = {
    "nose": (23, 24),
    "left_eye": (24,),
    "right_eye": (23,),
    "left_ear": (24,),
    "right_ear": (23,),
    "left_shoulder": (1, 2, 15, 17),
    "right_shoulder": (1, 2, 16, 18),
    "left_elbow": (15, 17, 19, 21),
    "right_elbow": (16, 18, 20, 22),
    "left_wrist": (19, 21, 4),
    "right_wrist": (20, 22, 3),
    "left_hip": (1, 2, 8, 10),
    "right_hip": (1, 2, 7, 9),
    "left_knee": (8, 10, 12, 14),
    "right_knee": (7, 9, 11, 13),
    "left_ankle": (12, 14, 5),
    "right_ankle": (11, 13, 6),
}
_SEGMENT_INDEX = {s.name: i for i, s in enumerate(SEGMENTS)}
# limb keypoint -> segment whose joint it is
_JOINT_SEGMENTS = {
    "left_shoulder": "upper_arm_l",
    "right_shoulder": "upper_arm_r",
    "left_elbow": "lower_arm_l",
    "right_elbow": "lower_arm_r",
    "left_wrist": "hand_l",
    "right_wrist": "hand_r",
    "left_hip": "upper_leg_l",
    "right_hip": "upper_leg_r",
    "left_knee": "lower_leg_l",
    "right_knee": "lower_leg_r",
    "left_ankle": "foot_l",
    "right_ankle": "foot_r",
}
NOSE_HEIGHT = 0.5 * (EYE_HEIGHT + MOUTH_HEIGHT)  # metres above the neck, between eyes and mouth
EAR_HEIGHT = EYE_HEIGHT - 0.015
# how far (metres) the visible surface may lie in front of a keypoint: joints sit on a limb's
# axis (radius up to ~0.13 m with girth), face keypoints on the surface
_JOINT_DEPTH_MARGIN = 0.16
_SURFACE_DEPTH_MARGIN = 0.03


def keypoint_metadata() -> Dict[str, object]:
    """The dataset metadata detectron2 needs for keypoints (flip indices, drawing)."""
    return {
        "keypoint_names": KEYPOINT_NAMES,
        "keypoint_flip_map": KEYPOINT_FLIP_MAP,
        "keypoint_connection_rules": KEYPOINT_CONNECTION_RULES,
    }


def _head_surface_point(dims: np.ndarray, x: float, above: float, front: bool) -> np.ndarray:
    """Head-frame point on the head surface at height `above` the neck and lateral offset `x`
    (front or side); the head's cross-section is an ellipse with radii rx (X) and r2 (Z)."""
    d = dims[_SEGMENT_INDEX["head"]]
    total = d[DIM_LENGTH] + d[DIM_EXT0] + d[DIM_EXT1]
    s = np.clip((above + d[DIM_EXT0]) / total, 0.0, 1.0)
    power = SEGMENTS[_SEGMENT_INDEX["head"]].profile_power
    profile = np.clip(1.0 - abs(2.0 * s - 1.0) ** power, 0.0, 1.0) ** (1.0 / power)
    rx = (d[DIM_RX0] + s * (d[DIM_RX1] - d[DIM_RX0])) * profile
    r2 = (d[DIM_R20] + s * (d[DIM_R21] - d[DIM_R20])) * profile
    if not front:  # side of the head: x = +-rx, z = 0
        return np.array([np.sign(x) * rx, above, 0.0])
    x = float(np.clip(x, -rx, rx))
    z = r2 * np.sqrt(max(0.0, 1.0 - (x / max(rx, 1e-9)) ** 2))
    return np.array([x, above, z])


def body_keypoints(dims: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """The 17 keypoints of a posed body in the body frame (metres), float64 [17, 3]."""
    rotations, positions = forward_kinematics(dims, angles)
    head = _SEGMENT_INDEX["head"]
    face_local = {
        "nose": _head_surface_point(dims, 0.0, NOSE_HEIGHT, True),
        "left_eye": _head_surface_point(dims, EYE_X, EYE_HEIGHT, True),
        "right_eye": _head_surface_point(dims, -EYE_X, EYE_HEIGHT, True),
        "left_ear": _head_surface_point(dims, 1.0, EAR_HEIGHT, False),
        "right_ear": _head_surface_point(dims, -1.0, EAR_HEIGHT, False),
    }
    points: List[np.ndarray] = []
    for name in KEYPOINT_NAMES:
        if name in face_local:
            points.append(rotations[head] @ face_local[name] + positions[head])
        else:
            points.append(positions[_SEGMENT_INDEX[_JOINT_SEGMENTS[name]]])
    return np.stack(points)


def keypoint_depth_margins() -> np.ndarray:
    """Per keypoint, how far (metres) the visible surface may be in front of it, [17]."""
    return np.array(
        [
            _JOINT_DEPTH_MARGIN if n in _JOINT_SEGMENTS else _SURFACE_DEPTH_MARGIN
            for n in KEYPOINT_NAMES
        ]
    )


def keypoint_visibility(
    screen: np.ndarray,
    person_index: int,
    scale: float,
    person_map: np.ndarray,
    part_map: np.ndarray,
    depth_map: np.ndarray,
) -> np.ndarray:
    """COCO visibility (0 outside, 1 occluded, 2 visible) of one person's keypoints, int64 [17].

    `screen` [17, 3]: (x, y, depth) in the renderer's screen frame (pixel centres at +0.5; smaller
    depth = closer); `scale` pixels per metre; the maps are the render's [H, W] buffers.
    """
    h, w = person_map.shape
    cols = np.floor(screen[:, 0]).astype(np.int64)
    rows = np.floor(screen[:, 1]).astype(np.int64)
    inside = (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
    visibility = np.where(inside, 1, 0).astype(np.int64)
    margins = keypoint_depth_margins() * scale
    for j, name in enumerate(KEYPOINT_NAMES):
        if not inside[j]:
            continue
        r, c = rows[j], cols[j]
        own = person_map[r, c] == person_index and int(part_map[r, c]) in KEYPOINT_PARTS[name]
        if own and depth_map[r, c] >= screen[j, 2] - margins[j]:
            visibility[j] = 2
    return visibility
