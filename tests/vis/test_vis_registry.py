import cv2
import numpy as np
import pytest
from vis_test_helpers import ramp_prediction

from densepose_ext.vis import (
    VISUALIZERS,
    VisOptions,
    VisStyle,
    build_visualizer,
    parse_visualizer_names,
)

CHART_NAMES = ["bbox", "dp_segm", "dp_u", "dp_v", "dp_contour", "dp_iuv_texture"]


def test_original_names_registered():
    assert set(VISUALIZERS) >= set(CHART_NAMES) | {"dp_vertex", "dp_cse_texture"}


def test_parse_names():
    assert parse_visualizer_names("bbox, dp_segm,dp_u") == ["bbox", "dp_segm", "dp_u"]
    with pytest.raises(ValueError, match="unknown visualizer dp_nope"):
        parse_visualizer_names("bbox,dp_nope")
    with pytest.raises(ValueError, match="no visualizer"):
        parse_visualizer_names(" , ")


def test_texture_visualizers_need_their_files():
    with pytest.raises(ValueError, match="--texture_atlas"):
        build_visualizer("dp_iuv_texture")
    with pytest.raises(ValueError, match="--texture_atlases_map"):
        build_visualizer("dp_cse_texture")


@pytest.mark.parametrize("background", ["grey", "original", "black"])
def test_every_chart_visualizer_keeps_image_size(tmp_path, background):
    atlas = np.random.default_rng(0).integers(1, 255, (6 * 8, 4 * 8, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "atlas.png"), atlas)
    options = VisOptions(
        VisStyle("viridis", 0.5), background, texture_atlas=str(tmp_path / "atlas.png")
    )
    image = np.random.default_rng(1).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    prediction = ramp_prediction()
    for name in CHART_NAMES + [",".join(CHART_NAMES)]:
        out = build_visualizer(name, options)(image, prediction)
        assert out.shape == image.shape and out.dtype == np.uint8, name
        assert out is not image
    # drawn in order: the last visualizer is on top
    a = build_visualizer("dp_u,dp_segm", options)(image, prediction)
    b = build_visualizer("dp_segm", options)(image, prediction)
    c = build_visualizer("dp_segm,dp_u", options)(image, prediction)
    assert not np.array_equal(a, b) and not np.array_equal(a, c)


def test_register_visualizer_adds_to_the_registry():
    from densepose_ext.vis import VISUALIZER_REGISTRY, register_visualizer
    from densepose_ext.vis.bbox import ScoredBoxVisualizer

    @register_visualizer("test_registry_boxes")
    def boxes(options):
        return ScoredBoxVisualizer()

    assert VISUALIZER_REGISTRY.get("test_registry_boxes") is boxes
    assert "test_registry_boxes" in VISUALIZERS
    compound = build_visualizer("bbox,test_registry_boxes")
    assert [type(v) for v in compound.visualizers] == [ScoredBoxVisualizer] * 2
