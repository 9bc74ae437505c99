"""Joint angles, forward kinematics and mirroring of the procedural body.

A pose is `angles` float64 [14, 3]: per segment joint the Euler angles (x, y, z) in radians, with
joint rotation R = Ry(y) Rz(z) Rx(x) in the parent frame. Angles of right-side joints are
anatomical (the same numbers mean the mirrored motion): their rotation is S R S, S = diag(-1, 1, 1).
"""

from typing import Tuple

import numpy as np

from .body import SEGMENTS, BodyTemplate, joint_offsets, segment_local_vertices

__all__ = ["sample_pose", "rest_pose", "mirror_pose", "forward_kinematics", "posed_vertices"]

_MIRROR = np.diag([-1.0, 1.0, 1.0])

# (low, high) uniform ranges of (x, y, z) per joint kind; sign conventions are for the left side:
# shoulder z > 0 = abduction, shoulder/hip x < 0 = forward flexion, knee x > 0 = flexion.
_ANGLE_RANGES = {
    "torso": ((-0.25, 0.25), (-np.pi, np.pi), (-0.15, 0.15)),
    "head": ((-0.35, 0.45), (-0.8, 0.8), (-0.25, 0.25)),
    "upper_arm": ((-1.7, 0.7), (-0.8, 0.8), (0.05, 1.7)),
    "lower_arm": ((-2.3, 0.0), (-0.5, 0.5), (-0.1, 0.1)),
    "hand": ((-0.4, 0.4), (-0.5, 0.5), (-0.3, 0.3)),
    "upper_leg": ((-1.3, 0.35), (-0.35, 0.35), (-0.1, 0.55)),
    "lower_leg": ((0.0, 1.9), (-0.1, 0.1), (-0.05, 0.05)),
    "foot": ((-0.35, 0.45), (-0.2, 0.2), (-0.1, 0.1)),
}


def _kind(name: str) -> str:
    return name[:-2] if name.endswith(("_l", "_r")) else name


def sample_pose(rng: np.random.Generator) -> np.ndarray:
    """Random pose [14, 3]: random facing direction, limbs within loose anatomical ranges."""
    lows = np.array([[r[0] for r in _ANGLE_RANGES[_kind(s.name)]] for s in SEGMENTS])
    highs = np.array([[r[1] for r in _ANGLE_RANGES[_kind(s.name)]] for s in SEGMENTS])
    angles = rng.uniform(lows, highs)
    relaxed = rng.random(len(SEGMENTS)) < 0.3  # some joints close to rest: more natural poses
    angles[relaxed] *= 0.25
    angles[0, 1] = rng.uniform(-np.pi, np.pi)  # facing direction is never "relaxed"
    return angles


def rest_pose() -> np.ndarray:
    """All joints at zero: upright, facing +Z, arms and legs straight down."""
    return np.zeros((len(SEGMENTS), 3))


def mirror_pose(angles: np.ndarray) -> np.ndarray:
    """Pose of the mirror image (X -> -X): centre joints negate y/z, left and right swap."""
    mirrored = angles.copy()
    for i, seg in enumerate(SEGMENTS):
        if seg.side == 0:
            mirrored[i, 1:] *= -1.0
        else:
            mirrored[i] = angles[seg.mirror]
    return mirrored


def _euler_rotation(angles: np.ndarray) -> np.ndarray:
    """R = Ry(y) Rz(z) Rx(x), [3, 3]."""
    cx, cy, cz = np.cos(angles)
    sx, sy, sz = np.sin(angles)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return ry @ rz @ rx


def forward_kinematics(dims: np.ndarray, angles: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Segment frames in the body frame: rotations [14, 3, 3] and joint positions [14, 3]."""
    offsets = joint_offsets(dims)
    rotations = np.zeros((len(SEGMENTS), 3, 3))
    positions = np.zeros((len(SEGMENTS), 3))
    for i, seg in enumerate(SEGMENTS):  # parents precede children
        local = _euler_rotation(angles[i])
        if seg.side < 0:
            local = _MIRROR @ local @ _MIRROR
        if seg.parent < 0:
            rotations[i] = local
        else:
            rotations[i] = rotations[seg.parent] @ local
            positions[i] = positions[seg.parent] + rotations[seg.parent] @ offsets[i]
    return rotations, positions


def posed_vertices(template: BodyTemplate, dims: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Vertex positions of a posed body in the body frame (metres), float64 [N, 3]."""
    rotations, positions = forward_kinematics(dims, angles)
    local = segment_local_vertices(template, dims)
    seg = template.segment
    return np.einsum("nij,nj->ni", rotations[seg], local) + positions[seg]
