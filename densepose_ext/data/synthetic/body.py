"""Procedural articulated body: 14 rigid segments whose surfaces form the 24 DensePose parts.

Body frame (metres): X = the person's left, Y = up, Z = forward (facing direction); origin at the
pelvis. Every segment is a tapered "superellipsoid of revolution" along its axis; a part is an
angular sector of one segment, sampled as a regular (theta, s) grid whose chart is
u = (theta - theta0) / (theta1 - theta0), v = s (axial position, 0 = proximal joint end).

Right-side parts are the exact mirror images (X -> -X) of the left ones with the *same* (u, v) at
mirrored points, so a horizontal flip keeps (u, v) for every paired part. The two torso parts are
their own mirror images with u -> 1 - u (see `flip.py`).
"""

from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np

from ...structures.constants import FINE_TO_COARSE_PART

__all__ = [
    "SEGMENTS",
    "PART_NAMES",
    "FINE_TO_COARSE",
    "BodyTemplate",
    "build_body_template",
    "mean_body_dims",
    "sample_body_dims",
    "segment_local_vertices",
]

PART_NAMES = (
    "Torso back",
    "Torso front",
    "Right hand",
    "Left hand",
    "Left foot",
    "Right foot",
    "Upper leg right back",
    "Upper leg left back",
    "Upper leg right front",
    "Upper leg left front",
    "Lower leg right back",
    "Lower leg left back",
    "Lower leg right front",
    "Lower leg left front",
    "Upper arm left inside",
    "Upper arm right inside",
    "Upper arm left outside",
    "Upper arm right outside",
    "Lower arm left inside",
    "Lower arm right inside",
    "Lower arm left outside",
    "Lower arm right outside",
    "Head right",
    "Head left",
)
# index = fine part 0..24 (0 = background) -> coarse part 0..14
FINE_TO_COARSE = np.array(FINE_TO_COARSE_PART, dtype=np.int64)


@dataclass(frozen=True)
class Segment:
    """A rigid body segment; `side` +1 = left, -1 = right (mirror of `mirror`), 0 = centre."""

    name: str
    parent: int
    side: int
    mirror: int
    axis: Tuple[float, float, float]  # direction of extension in the segment frame
    second: Tuple[float, float, float]  # second cross-section direction (the first is X)
    profile_power: float
    n_s: int  # grid samples along the axis


_VERTICAL_DOWN = ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0))
SEGMENTS: Tuple[Segment, ...] = (
    Segment("torso", -1, 0, 0, (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), 4.0, 17),
    Segment("head", 0, 0, 1, (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), 2.2, 11),
    Segment("upper_arm_l", 0, 1, 8, *_VERTICAL_DOWN, 3.0, 12),
    Segment("lower_arm_l", 2, 1, 9, *_VERTICAL_DOWN, 3.0, 11),
    Segment("hand_l", 3, 1, 10, *_VERTICAL_DOWN, 2.5, 8),
    Segment("upper_leg_l", 0, 1, 11, *_VERTICAL_DOWN, 3.0, 13),
    Segment("lower_leg_l", 5, 1, 12, *_VERTICAL_DOWN, 3.0, 12),
    Segment("foot_l", 6, 1, 13, (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), 2.5, 9),
    Segment("upper_arm_r", 0, -1, 2, *_VERTICAL_DOWN, 3.0, 12),
    Segment("lower_arm_r", 8, -1, 3, *_VERTICAL_DOWN, 3.0, 11),
    Segment("hand_r", 9, -1, 4, *_VERTICAL_DOWN, 2.5, 8),
    Segment("upper_leg_r", 0, -1, 5, *_VERTICAL_DOWN, 3.0, 13),
    Segment("lower_leg_r", 11, -1, 6, *_VERTICAL_DOWN, 3.0, 12),
    Segment("foot_r", 12, -1, 7, (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), 2.5, 9),
)
N_SEGMENTS = len(SEGMENTS)

_PI = np.pi
# Parts defined directly (left or centre): part -> (segment, theta0, theta1, n_theta).
# Cross-section point = rx cos(theta) X + r2 sin(theta) second; arm "inside" = medial-front half.
_PRIMARY_PARTS: Dict[int, Tuple[int, float, float, int]] = {
    1: (0, _PI, 2 * _PI, 13),  # torso back (Z < 0)
    2: (0, 0.0, _PI, 13),  # torso front (Z > 0)
    4: (4, 0.0, 2 * _PI, 13),  # left hand
    5: (7, 0.0, 2 * _PI, 13),  # left foot
    8: (5, _PI, 2 * _PI, 7),  # upper leg left back
    10: (5, 0.0, _PI, 7),  # upper leg left front
    12: (6, _PI, 2 * _PI, 7),  # lower leg left back
    14: (6, 0.0, _PI, 7),  # lower leg left front
    15: (2, 0.25 * _PI, 1.25 * _PI, 7),  # upper arm left inside
    17: (2, 1.25 * _PI, 2.25 * _PI, 7),  # upper arm left outside
    19: (3, 0.25 * _PI, 1.25 * _PI, 7),  # lower arm left inside
    21: (3, 1.25 * _PI, 2.25 * _PI, 7),  # lower arm left outside
    24: (1, -0.5 * _PI, 0.5 * _PI, 9),  # head left (X > 0)
}
# right part -> left part it mirrors
_MIRRORED_PARTS = {3: 4, 6: 5, 7: 8, 9: 10, 11: 12, 13: 14, 16: 15, 18: 17, 20: 19, 22: 21, 23: 24}

# Segment dimensions: columns of the [14, 8] dims array
DIM_LENGTH, DIM_RX0, DIM_R20, DIM_RX1, DIM_R21, DIM_EXT0, DIM_EXT1, DIM_DROP = range(8)
_MEAN_DIMS_LEFT = {
    # length, rx0, r2_0, rx1, r2_1, extension before joint, extension after end, axis drop
    "torso": (0.55, 0.15, 0.10, 0.17, 0.10, 0.08, 0.05, 0.0),
    "head": (0.20, 0.075, 0.085, 0.08, 0.09, 0.04, 0.0, 0.0),
    "upper_arm": (0.29, 0.05, 0.05, 0.04, 0.04, 0.04, 0.03, 0.0),
    "lower_arm": (0.26, 0.04, 0.04, 0.03, 0.03, 0.03, 0.02, 0.0),
    "hand": (0.17, 0.04, 0.02, 0.035, 0.015, 0.02, 0.0, 0.0),
    "upper_leg": (0.44, 0.08, 0.08, 0.055, 0.055, 0.06, 0.04, 0.0),
    "lower_leg": (0.42, 0.055, 0.055, 0.04, 0.04, 0.04, 0.02, 0.0),
    "foot": (0.19, 0.04, 0.035, 0.045, 0.025, 0.06, 0.0, 0.05),
}
# joint offsets in the parent frame for the left/centre segments (right = X mirrored)
SHOULDER_DROP = 0.05


def _kind(name: str) -> str:
    return name[:-2] if name.endswith(("_l", "_r")) else name


def mean_body_dims() -> np.ndarray:
    """Mean segment dimensions, float64 [14, 8] (metres; columns DIM_*)."""
    return np.array([_MEAN_DIMS_LEFT[_kind(s.name)] for s in SEGMENTS], dtype=np.float64)


def sample_body_dims(rng: np.random.Generator) -> np.ndarray:
    """Random left/right-symmetric proportions around the mean, float64 [14, 8]."""
    dims = mean_body_dims()
    for seg_index, seg in enumerate(SEGMENTS):
        if seg.side < 0:
            continue
        length = rng.uniform(0.88, 1.12)
        girth = rng.uniform(0.8, 1.25)
        dims[seg_index, DIM_LENGTH] *= length
        dims[seg_index, DIM_RX0 : DIM_R21 + 1] *= girth
        dims[seg_index, DIM_EXT0 : DIM_EXT1 + 1] *= girth
    torso_width = rng.uniform(0.85, 1.2)
    dims[0, [DIM_RX0, DIM_RX1]] *= torso_width
    for seg_index, seg in enumerate(SEGMENTS):
        if seg.side < 0:
            dims[seg_index] = dims[seg.mirror]
    return dims


def joint_offsets(dims: np.ndarray) -> np.ndarray:
    """Rest position of each segment's joint in its parent's frame, float64 [14, 3]."""
    offsets = np.zeros((N_SEGMENTS, 3))
    torso_len = dims[0, DIM_LENGTH]
    for i, seg in enumerate(SEGMENTS):
        kind = _kind(seg.name)
        sign = -1.0 if seg.side < 0 else 1.0
        parent_len = dims[seg.parent, DIM_LENGTH] if seg.parent >= 0 else 0.0
        if kind == "head":
            offsets[i] = (0.0, torso_len, 0.0)
        elif kind == "upper_arm":
            offsets[i] = (
                sign * (dims[0, DIM_RX1] + 0.3 * dims[i, DIM_RX0]),
                torso_len - SHOULDER_DROP,
                0.0,
            )
        elif kind == "upper_leg":
            offsets[i] = (sign * 0.6 * dims[0, DIM_RX0], 0.0, 0.0)
        elif kind != "torso":
            offsets[i] = (0.0, -parent_len, 0.0)
    return offsets


@dataclass
class BodyTemplate:
    """Topology and charts of the body surface (shared by every person).

    Per vertex [N]: `part_ids` (1..24), `u`, `v` (chart), `segment`, `theta`, `s` (grid params),
    `mirror_x` (True on right-side parts), `symmetry` (index of the mirrored vertex).
    `faces` [M, 3] int64 (each face lies in one part); `face_parts` [M] (1..24).
    """

    part_ids: np.ndarray
    u: np.ndarray
    v: np.ndarray
    segment: np.ndarray
    theta: np.ndarray
    s: np.ndarray
    mirror_x: np.ndarray
    symmetry: np.ndarray
    faces: np.ndarray
    face_parts: np.ndarray

    @property
    def num_vertices(self) -> int:
        return int(self.part_ids.shape[0])

    @property
    def mesh_name(self) -> str:
        return f"synthetic_body_{self.num_vertices}"


def _part_grid(
    part: int, segment: int, theta0: float, theta1: float, n_theta: int
) -> Dict[str, np.ndarray]:
    n_s = SEGMENTS[segment].n_s
    uu, vv = np.meshgrid(
        np.linspace(0.0, 1.0, n_theta), np.linspace(0.0, 1.0, n_s)
    )  # [n_s, n_theta]
    idx = np.arange(n_s * n_theta, dtype=np.int64).reshape(n_s, n_theta)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    # quads split along a-d in the first half of the columns and along b-c in the second half, so
    # that reversing theta (the mirror of a torso part) maps the triangulation onto itself
    first = (np.arange(n_theta - 1) < (n_theta - 1) // 2)[None, :]
    tri1 = np.where(first[..., None], np.stack([a, b, d], -1), np.stack([a, b, c], -1))
    tri2 = np.where(first[..., None], np.stack([a, d, c], -1), np.stack([b, d, c], -1))
    faces = np.concatenate([tri1.reshape(-1, 3), tri2.reshape(-1, 3)])
    seg = SEGMENTS[segment]
    if np.linalg.det(np.array([(1.0, 0.0, 0.0), seg.second, seg.axis])) < 0:
        faces = faces[:, ::-1].copy()  # outward normals (counter-clockwise seen from outside)
    return {
        "u": uu.ravel(),
        "v": vv.ravel(),
        "theta": theta0 + uu.ravel() * (theta1 - theta0),
        "s": vv.ravel(),
        "faces": faces,
        "part": part,
        "segment": segment,
    }


def build_body_template() -> BodyTemplate:
    """Builds the 24-part grid mesh; vertices are ordered by part (1..24),
    then row-major (s, theta)."""
    grids: Dict[int, Dict[str, np.ndarray]] = {}
    for part, (seg, t0, t1, n_theta) in _PRIMARY_PARTS.items():
        grids[part] = _part_grid(part, seg, t0, t1, n_theta)
    for part, left_part in _MIRRORED_PARTS.items():
        left = grids[left_part]
        right = dict(left, part=part, segment=SEGMENTS[left["segment"]].mirror)
        right["faces"] = left["faces"][:, ::-1].copy()  # mirroring flips the orientation
        grids[part] = right
    columns: Dict[str, List[np.ndarray]] = {
        k: [] for k in ("part", "u", "v", "segment", "theta", "s", "mirror")
    }
    faces, face_parts, starts = [], [], {}
    offset = 0
    for part in range(1, 25):
        g = grids[part]
        n = g["u"].shape[0]
        starts[part] = offset
        columns["part"].append(np.full(n, part, dtype=np.int64))
        columns["segment"].append(np.full(n, g["segment"], dtype=np.int64))
        columns["mirror"].append(np.full(n, part in _MIRRORED_PARTS))
        for key in ("u", "v", "theta", "s"):
            columns[key].append(g[key])
        faces.append(g["faces"] + offset)
        face_parts.append(np.full(g["faces"].shape[0], part, dtype=np.int64))
        offset += n
    symmetry = _symmetry_map(starts, {p: grids[p]["u"].shape[0] for p in grids}, grids)
    cat = {k: np.concatenate(v) for k, v in columns.items()}
    return BodyTemplate(
        part_ids=cat["part"],
        u=cat["u"].astype(np.float32),
        v=cat["v"].astype(np.float32),
        segment=cat["segment"],
        theta=cat["theta"],
        s=cat["s"],
        mirror_x=cat["mirror"],
        symmetry=symmetry,
        faces=np.concatenate(faces),
        face_parts=np.concatenate(face_parts),
    )


def _symmetry_map(starts: Dict[int, int], sizes: Dict[int, int], grids) -> np.ndarray:
    """Vertex -> mirrored vertex: paired parts map index-to-index, torso parts reverse theta."""
    total = sum(sizes.values())
    symmetry = np.empty(total, dtype=np.int64)
    for right, left in _MIRRORED_PARTS.items():
        local = np.arange(sizes[left], dtype=np.int64)
        symmetry[starts[left] + local] = starts[right] + local
        symmetry[starts[right] + local] = starts[left] + local
    for part in (1, 2):
        n_theta = _PRIMARY_PARTS[part][3]
        n_s = sizes[part] // n_theta
        idx = np.arange(sizes[part], dtype=np.int64).reshape(n_s, n_theta)
        symmetry[starts[part] + idx] = starts[part] + idx[:, ::-1]
    return symmetry


def segment_local_vertices(template: BodyTemplate, dims: np.ndarray) -> np.ndarray:
    """Vertex positions in their segment's frame (joint at the origin), float64 [N, 3]."""
    seg = template.segment
    d = dims[seg]  # [N, 8]
    axis = np.array([s.axis for s in SEGMENTS])[seg]
    second = np.array([s.second for s in SEGMENTS])[seg]
    power = np.array([s.profile_power for s in SEGMENTS])[seg]
    s = template.s
    along = -d[:, DIM_EXT0] + s * (d[:, DIM_LENGTH] + d[:, DIM_EXT0] + d[:, DIM_EXT1])
    profile = np.clip(1.0 - np.abs(2.0 * s - 1.0) ** power, 0.0, 1.0) ** (1.0 / power)
    rx = (d[:, DIM_RX0] + s * (d[:, DIM_RX1] - d[:, DIM_RX0])) * profile
    r2 = (d[:, DIM_R20] + s * (d[:, DIM_R21] - d[:, DIM_R20])) * profile
    local = along[:, None] * axis + (r2 * np.sin(template.theta))[:, None] * second
    local[:, 0] += rx * np.cos(template.theta)
    local[:, 1] -= d[:, DIM_DROP]
    local[template.mirror_x, 0] *= -1.0
    return local
