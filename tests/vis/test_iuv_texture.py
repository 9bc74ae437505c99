import cv2
import numpy as np
import pytest
import torch
from fixture_paths import data_file
from vis_test_helpers import chart_result

from densepose_ext.converters.prediction import ImagePrediction
from densepose_ext.utils.files import ExternalFileError
from densepose_ext.vis.iuv_texture import IUVTextureVisualizer, chart_texel_coordinates
from densepose_ext.vis.texture_atlas import load_texture_atlas

N = 5  # tile side


def _atlas(alpha: bool = False) -> np.ndarray:
    """6N x 4N BGR(A) atlas whose texel (r, c) has B = r, G = c, R = 200."""
    rows, cols = np.meshgrid(np.arange(6 * N), np.arange(4 * N), indexing="ij")
    channels = [rows, cols, np.full_like(rows, 200)]
    if alpha:
        channels.append(np.full_like(rows, 255))
    return np.stack(channels, axis=-1).astype(np.uint8)


def test_texel_coordinates_follow_the_atlas_layout():
    labels = np.array([1, 6, 7, 24, 13])
    u = np.array([0.0, 1.0, 0.5, 2.0, 0.25])
    v = np.array([1.0, 0.0, 0.5, -1.0, 0.75])
    rows, cols = chart_texel_coordinates(labels, u, v, N)
    # part p: tile column (p-1)//6, row (p-1)%6; x = U(N-1), y = (1-V)(N-1), U/V clamped
    assert rows.tolist() == [0, 5 * N + 4, 0 * N + 2, 5 * N + 4, 0 * N + 1]
    assert cols.tolist() == [0, 0 * N + 4, 1 * N + 2, 3 * N + 4, 2 * N + 1]


def test_texture_visualizer_copies_texels(tmp_path):
    path = tmp_path / "atlas.png"
    cv2.imwrite(str(path), _atlas())
    labels = torch.tensor([[0, 1], [7, 24]])
    u = torch.tensor([[0.0, 0.0], [0.5, 1.0]])
    v = torch.tensor([[0.0, 1.0], [0.5, 0.0]])
    prediction = ImagePrediction.from_results((4, 4), [[1, 1, 3, 3]], [chart_result(labels, u, v)])
    canvas = np.zeros((4, 4, 3), np.uint8)
    IUVTextureVisualizer(str(path)).draw(canvas, prediction)
    assert canvas[1, 1].tolist() == [0, 0, 0]  # background pixel untouched
    assert canvas[1, 2].tolist() == [0, 0, 200]  # part 1, U 0, V 1 -> texel (0, 0)
    assert canvas[2, 1].tolist() == [2, N + 2, 200]  # part 7 -> tile column 1, row 0
    assert canvas[2, 2].tolist() == [5 * N + 4, 3 * N + 4, 200]  # part 24, U 1, V 0


def test_alpha_channel_and_black_texels_are_transparent(tmp_path):
    atlas = _atlas(alpha=True)
    atlas[:N, :N, 3] = 0  # part 1 fully transparent
    cv2.imwrite(str(tmp_path / "rgba.png"), atlas)
    loaded = load_texture_atlas(str(tmp_path / "rgba.png"))
    assert loaded.alpha[0, 0] == 0 and loaded.alpha[N, 0] == 1
    rgb = _atlas()
    rgb[0, 0] = 0
    cv2.imwrite(str(tmp_path / "rgb.png"), rgb)
    loaded = load_texture_atlas(str(tmp_path / "rgb.png"))
    assert loaded.alpha[0, 0] == 0 and loaded.alpha[0, 1] == 1
    prediction = ImagePrediction.from_results(
        (2, 2), [[0, 0, 2, 1]], [chart_result([[1, 2]], [[0.5, 0.5]], [[0.5, 0.5]])]
    )
    canvas = np.full((2, 2, 3), 9, np.uint8)
    IUVTextureVisualizer(str(tmp_path / "rgba.png")).draw(canvas, prediction)
    assert canvas[0, 0].tolist() == [9, 9, 9]  # transparent texel
    assert canvas[0, 1].tolist() == [N + 2, 2, 200]


def test_bad_atlases(tmp_path):
    cv2.imwrite(str(tmp_path / "square.png"), np.ones((30, 30, 3), np.uint8))
    with pytest.raises(ExternalFileError, match="square.png.*6 rows x 4 columns"):
        IUVTextureVisualizer(str(tmp_path / "square.png"))
    (tmp_path / "junk.png").write_bytes(b"not a png")
    with pytest.raises(ExternalFileError, match="junk.png"):
        load_texture_atlas(str(tmp_path / "junk.png"))
    with pytest.raises(ExternalFileError, match="missing.png"):
        load_texture_atlas(str(tmp_path / "missing.png"))


def test_real_atlases():
    for name in ("texture_atlas_200.png", "texture_from_SURREAL.png"):
        path = data_file(f"textures/{name}")
        visualizer = IUVTextureVisualizer(str(path))
        assert visualizer.tile == 200
