import pickle

import cv2
import numpy as np
import pytest
import torch

from densepose_ext.converters.prediction import ImagePrediction
from densepose_ext.data.meshes import MeshInfo, register_mesh
from densepose_ext.structures.cse_result import DensePoseEmbeddingResult
from densepose_ext.vis.base import VisStyle
from densepose_ext.vis.cse_texture import CseTextureVisualizer, texcoord_texel_coordinates
from densepose_ext.vis.cse_vertex import VertexVisualizer, xyz_vertex_scalars

MESH = "apply_net_test_quad"
VERTICES = np.array(
    [[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=np.float64
)  # xyz sums 0,1,2,3
TEXCOORDS = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, 0.5], [0.0, 1.0]], dtype=np.float32)


@pytest.fixture(scope="module")
def quad_mesh(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mesh")
    with open(folder / "quad.pkl", "wb") as f:
        pickle.dump({"vertices": VERTICES, "faces": np.array([[0, 1, 2], [0, 2, 3]])}, f)
    with open(folder / "quad_texcoords.pkl", "wb") as f:
        pickle.dump(TEXCOORDS, f)
    register_mesh(
        MeshInfo(MESH, data=str(folder / "quad.pkl"), texcoords=str(folder / "quad_texcoords.pkl"))
    )
    return MESH


def _prediction():
    mask = torch.tensor([[True, True], [True, False]])
    vertices = torch.tensor([[0, 1], [3, 0]])
    result = DensePoseEmbeddingResult(mask, vertices, torch.zeros(2, 2), MESH)
    return ImagePrediction.from_results((3, 3), [[1, 1, 3, 3]], [result])


def test_xyz_scalars(quad_mesh):
    np.testing.assert_allclose(xyz_vertex_scalars(quad_mesh), [0, 1 / 9, 4 / 9, 1], rtol=1e-6)


def test_vertex_visualizer_colours(quad_mesh):
    canvas = np.zeros((3, 3, 3), np.uint8)
    VertexVisualizer(VisStyle(alpha=1.0), vertex_scalars=xyz_vertex_scalars).draw(
        canvas, _prediction()
    )

    def jet(value):
        return cv2.applyColorMap(np.array([[value]], np.uint8), cv2.COLORMAP_JET)[0, 0].tolist()

    assert canvas[1, 1].tolist() == jet(0)
    assert canvas[1, 2].tolist() == jet(int(255 / 9))
    assert canvas[2, 1].tolist() == jet(255)
    assert canvas[2, 2].tolist() == [0, 0, 0]  # outside the mask
    assert canvas[0].max() == 0


def test_cse_texture(quad_mesh, tmp_path):
    atlas = np.zeros((10, 20, 3), np.uint8)
    atlas[..., 0] = np.arange(10)[:, None] + 1  # B = row + 1
    atlas[..., 1] = np.arange(20)[None, :] + 1  # G = col + 1
    cv2.imwrite(str(tmp_path / "atlas.png"), atlas)
    rows, cols = texcoord_texel_coordinates(TEXCOORDS, (10, 20))
    assert rows.tolist() == [0, 0, 5, 9] and cols.tolist() == [
        0,
        19,
        10,
        0,
    ]  # x = u W, y = v H, no flip
    canvas = np.zeros((3, 3, 3), np.uint8)
    CseTextureVisualizer({MESH: str(tmp_path / "atlas.png")}).draw(canvas, _prediction())
    assert canvas[1, 1].tolist() == [1, 1, 0]  # vertex 0 -> texel (0, 0)
    assert canvas[1, 2].tolist() == [1, 20, 0]  # vertex 1 -> texel (0, 19)
    assert canvas[2, 1].tolist() == [10, 1, 0]  # vertex 3 -> texel (9, 0)
    assert canvas[2, 2].tolist() == [0, 0, 0]
    # meshes without an atlas are left untouched
    canvas[:] = 0
    CseTextureVisualizer({"other_mesh": str(tmp_path / "atlas.png")}).draw(canvas, _prediction())
    assert canvas.max() == 0
