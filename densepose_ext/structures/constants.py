"""Facts of the DensePose annotation format and of its official data files, stated once.

Box frame: `dp_x`, `dp_y` and the `dp_masks` grid span [0, BOX_FRAME_SIZE) of the GT box on both
axes (x_image = x0 + dp_x * w / 256). Fine part labels (`dp_I`) are 1..24, coarse part labels
(the entries of `dp_masks`) 1..14; 0 is background in both.
"""

__all__ = [
    "BOX_FRAME_SIZE",
    "DENSEPOSE_ANNOTATION_KEYS",
    "DENSEPOSE_CHART_KEYS",
    "DENSEPOSE_CSE_KEYS",
    "DENSEPOSE_DATA_URL_PREFIX",
    "DENSEPOSE_INPAINTED_KEY",
    "DENSEPOSE_POINT_KEYS",
    "FINE_TO_COARSE_PART",
    "N_COARSE_PARTS",
    "N_FINE_PARTS",
]

BOX_FRAME_SIZE = 256
N_COARSE_PARTS = 14
N_FINE_PARTS = 24

DENSEPOSE_CHART_KEYS = ("dp_I", "dp_U", "dp_V")  # chart GT of the points
DENSEPOSE_CSE_KEYS = ("dp_vertex", "ref_model")  # CSE GT of the points (mesh vertex, mesh name)
# per-point 0 / 1: 1 = the point was inpainted by a teacher (docs/teacher.md), 0 = annotated
DENSEPOSE_INPAINTED_KEY = "dp_inpainted"
# one entry per point
DENSEPOSE_POINT_KEYS = (
    "dp_x",
    "dp_y",
    "dp_I",
    "dp_U",
    "dp_V",
    "dp_vertex",
    DENSEPOSE_INPAINTED_KEY,
)
DENSEPOSE_ANNOTATION_KEYS = (
    "dp_x",
    "dp_y",
    "dp_I",
    "dp_U",
    "dp_V",
    "dp_masks",
    "dp_vertex",
    "ref_model",
    DENSEPOSE_INPAINTED_KEY,
)

# index = fine part label 0..24 -> coarse part label 0..14
FINE_TO_COARSE_PART = tuple(
    [0, 1, 1, 2, 3, 4, 5, 6, 7, 6, 7, 8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 14]
)

# the official DensePose data files (flip tables, SMPL subdivision, GPS distances) live here
DENSEPOSE_DATA_URL_PREFIX = "https://dl.fbaipublicfiles.com/densepose/data/"
