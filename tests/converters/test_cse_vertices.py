"""Closest-vertex assignment of CSE outputs: brute force agreement, chunking, per-class meshes."""

import pytest
import torch

from densepose_ext.config import get_densepose_cfg
from densepose_ext.converters.cse_vertices import (
    assign_vertices,
    closest_vertices,
    cse_output_to_results,
    squared_distances,
)
from densepose_ext.modeling.cse import Embedder, normalize_embeddings
from densepose_ext.structures import DensePoseEmbeddingPredictorOutput


def brute_force(pixels: torch.Tensor, vertices: torch.Tensor):
    """Per-pixel loop over explicit differences (float64): ids and squared distances."""
    ids, dists = [], []
    for p in pixels.double():
        d = ((vertices.double() - p) ** 2).sum(1)
        ids.append(int(torch.argmin(d)))
        dists.append(float(d.min()))
    return torch.tensor(ids), torch.tensor(dists, dtype=torch.float64)


def test_closest_vertices_matches_brute_force():
    torch.manual_seed(0)
    pixels = torch.randn(200, 8) * 2
    vertices = normalize_embeddings(torch.randn(50, 8))
    ids, dists = closest_vertices(pixels, vertices, chunk_size=7)
    ref_ids, ref_dists = brute_force(pixels, vertices)
    assert ids.dtype == torch.int64
    assert torch.equal(ids, ref_ids)
    torch.testing.assert_close(dists.double(), ref_dists, rtol=1e-5, atol=1e-5)


def test_squared_distances_formula():
    pixels, vertices = torch.randn(5, 3), torch.randn(4, 3)
    torch.testing.assert_close(
        squared_distances(pixels, vertices), torch.cdist(pixels, vertices) ** 2
    )


def test_ties_take_the_first_vertex():
    vertices = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    ids, _ = closest_vertices(torch.tensor([[2.0, 0.0], [1.0, 1.0]]), vertices)
    assert ids.tolist() == [0, 0]


@pytest.mark.parametrize(
    "chunk_size, vertex_chunk_size", [(1, None), (13, 7), (64, 300), (100000, None), (5, 1)]
)
def test_chunked_equals_unchunked(chunk_size, vertex_chunk_size):
    torch.manual_seed(1)
    emb = torch.randn(3, 16, 9, 11)
    verts = normalize_embeddings(torch.randn(300, 16))
    masks = torch.rand(3, 9, 11) > 0.3
    ref_v, ref_d = assign_vertices(emb, verts, masks, chunk_size=10**9, vertex_chunk_size=10**9)
    full = squared_distances(emb.permute(0, 2, 3, 1)[masks], verts)  # one [P, V] matrix
    assert torch.equal(ref_v[masks], full.argmin(dim=1))
    v, d = assign_vertices(
        emb, verts, masks, chunk_size=chunk_size, vertex_chunk_size=vertex_chunk_size
    )
    assert torch.equal(v, ref_v)
    assert torch.equal(d, ref_d)  # tiles are padded to a shape-independent BLAS kernel


def test_assign_vertices_masks_lists_and_brute_force():
    torch.manual_seed(2)
    verts = normalize_embeddings(torch.randn(40, 4))
    embs = [torch.randn(4, 5, 7), torch.randn(4, 3, 2)]
    masks = [torch.rand(5, 7) > 0.5, torch.ones(3, 2, dtype=torch.bool)]
    vertices, distances = assign_vertices(embs, verts, masks, chunk_size=4)
    assert [v.shape for v in vertices] == [(5, 7), (3, 2)]
    for emb, mask, v, d in zip(embs, masks, vertices, distances):
        ref_ids, ref_d = brute_force(emb.flatten(1).t(), verts)
        assert torch.equal(v.flatten()[mask.flatten()], ref_ids[mask.flatten()])
        torch.testing.assert_close(
            d.flatten()[mask.flatten()].double(), ref_d[mask.flatten()], rtol=1e-5, atol=1e-5
        )
        assert (v[~mask] == 0).all() and (d[~mask] == 0).all()
    # no mask = every pixel; a tensor input gives tensors back
    v_all, _ = assign_vertices(embs[0][None], verts)
    assert v_all.shape == (1, 5, 7)
    assert torch.equal(v_all[0], brute_force(embs[0].flatten(1).t(), verts)[0].reshape(5, 7))


def test_assign_vertices_with_empty_masks():
    verts = normalize_embeddings(torch.randn(10, 4))
    v, d = assign_vertices(torch.randn(2, 4, 3, 3), verts, torch.zeros(2, 3, 3, dtype=torch.bool))
    assert (v == 0).all() and (d == 0).all()


def two_mesh_embedder():
    cfg = get_densepose_cfg()
    cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBED_SIZE = 4
    embedders = cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS
    embedders.mesh_a = type(embedders)(
        {"TYPE": "vertex_direct", "NUM_VERTICES": 6, "IS_TRAINABLE": True}
    )
    embedders.mesh_b = type(embedders)(
        {"TYPE": "vertex_direct", "NUM_VERTICES": 9, "IS_TRAINABLE": True}
    )
    embedder = Embedder(cfg)
    torch.manual_seed(3)
    with torch.no_grad():
        embedder.embedder_mesh_a.embeddings.normal_()
        embedder.embedder_mesh_b.embeddings.normal_()
    return embedder


def test_results_pick_the_mesh_of_the_predicted_class():
    embedder = two_mesh_embedder()
    torch.manual_seed(4)
    n, s = 3, 8
    coarse = torch.zeros(n, 2, s, s)
    coarse[:, 1] = 1.0  # everything foreground
    output = DensePoseEmbeddingPredictorOutput(
        embedding=torch.randn(n, 4, s, s), coarse_segm=coarse
    )
    boxes = torch.tensor([[0.0, 0.0, 8.0, 8.0], [1.5, 2.7, 9.9, 10.2], [0.0, 0.0, 8.0, 8.0]])
    classes = torch.tensor([1, 0, 0])
    results = cse_output_to_results(
        output, boxes, classes, embedder, {"0": "mesh_a", "1": "mesh_b"}, chunk_size=5
    )
    assert [r.mesh_name for r in results] == ["mesh_b", "mesh_a", "mesh_a"]
    assert results[1].vertices.shape == (7, 8)  # w = int(9.9 - 1.5) = 8, h = int(10.2 - 2.7) = 7
    # boxes 0 and 2 have the same geometry and embedding size: each is searched on its own mesh
    for i, mesh in ((0, "mesh_b"), (2, "mesh_a")):
        ref, _ = brute_force(output.embedding[i].flatten(1).t(), embedder(mesh).detach())
        assert torch.equal(results[i].vertices.flatten(), ref)
        assert results[i].mask.all()
    assert results[0].vertices.max() < 9 and results[2].vertices.max() < 6


def test_results_mask_from_coarse_segm_and_unknown_class():
    embedder = two_mesh_embedder()
    coarse = torch.zeros(1, 2, 4, 4)
    coarse[0, 1, :, :2] = 1.0  # left half foreground
    output = DensePoseEmbeddingPredictorOutput(
        embedding=torch.randn(1, 4, 4, 4), coarse_segm=coarse
    )
    boxes = torch.tensor([[0.0, 0.0, 4.0, 4.0]])
    (result,) = cse_output_to_results(output, boxes, torch.tensor([0]), embedder, {0: "mesh_a"})
    assert result.mask[:, :2].all() and not result.mask[:, 2:].any()
    assert (result.vertices[:, 2:] == 0).all()
    with pytest.raises(KeyError, match="no mesh for predicted class 5"):
        cse_output_to_results(output, boxes, torch.tensor([5]), embedder, {0: "mesh_a"})
