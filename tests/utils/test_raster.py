"""The z-buffer rasteriser on hand-built triangles."""

import numpy as np

from densepose_ext.utils.raster import rasterize


def _square(x0, y0, x1, y1, depth):
    xy = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
    return xy, np.full(4, float(depth)), np.array([[0, 1, 2], [0, 2, 3]])


def test_axis_aligned_square_covers_pixel_centres():
    xy, z, faces = _square(2.0, 3.0, 7.0, 5.0, 1.0)
    face_map, bary = rasterize(xy, z, faces, 10, 12)
    expected = np.zeros((10, 12), dtype=bool)
    expected[3:5, 2:7] = True  # centres (j + 0.5, i + 0.5) inside [2, 7] x [3, 5]
    np.testing.assert_array_equal(face_map >= 0, expected)
    np.testing.assert_allclose(bary[expected].sum(axis=1), 1.0, atol=1e-6)


def test_barycentrics_reproduce_pixel_centres():
    xy = np.array([[1.2, 0.7], [40.3, 5.1], [12.9, 30.6]])
    face_map, bary = rasterize(xy, np.zeros(3), np.array([[0, 1, 2]]), 32, 48)
    rows, cols = np.nonzero(face_map == 0)
    assert rows.size > 400  # area ~ 560 px
    centres = np.stack([cols + 0.5, rows + 0.5], axis=1)
    np.testing.assert_allclose(bary[rows, cols] @ xy, centres, atol=1e-4)
    assert (bary[rows, cols] >= -1e-6).all()


def test_zbuffer_keeps_closest_surface_and_clips_to_image():
    back_xy, back_z, back_f = _square(-5.0, -5.0, 20.0, 20.0, 10.0)
    front_xy, front_z, front_f = _square(4.0, 4.0, 8.0, 8.0, 2.0)
    xy = np.concatenate([back_xy, front_xy])
    z = np.concatenate([back_z, front_z])
    faces = np.concatenate([back_f, front_f + 4])
    for order in (faces, faces[::-1]):
        face_map, _ = rasterize(xy, z, order, 16, 16)
        owner = np.where(face_map >= 0, order[np.maximum(face_map, 0), 0] >= 4, -1)
        assert (face_map >= 0).all()  # the back square covers (and is clipped to) the image
        assert owner[4:8, 4:8].all() and owner.sum() == 16


def test_backface_culling_and_degenerate_faces():
    xy = np.array([[0.0, 0.0], [8.0, 0.0], [0.0, 8.0], [4.0, 4.0]])
    faces = np.array([[0, 1, 2], [0, 2, 1], [0, 3, 3]])  # ccw-on-screen, cw, degenerate
    face_map, _ = rasterize(xy, np.zeros(4), faces, 8, 8)
    assert set(np.unique(face_map)) <= {-1, 0, 1}
    kept_pos = rasterize(xy, np.zeros(4), faces, 8, 8, cull=1)[0]
    kept_neg = rasterize(xy, np.zeros(4), faces, 8, 8, cull=-1)[0]
    assert set(np.unique(kept_pos)) == {-1, 0} and set(np.unique(kept_neg)) == {-1, 1}
    assert ((kept_pos >= 0) == (face_map >= 0)).all()
