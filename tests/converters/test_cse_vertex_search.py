"""Pruned closest-vertex search: identical to the brute force (ids and distances, bit for bit) on
structured, tied, nearly tied, unstructured, empty, masked and non-finite inputs;
bound soundness."""

import pickle

import pytest
import torch
from fixture_paths import data_file

from densepose_ext.converters import vertex_search
from densepose_ext.converters.cse_vertices import (
    AUTO_PROBE_PIXELS,
    assign_vertices,
    closest_vertices,
    cse_output_to_results,
)
from densepose_ext.converters.vertex_search import cluster_vertices, distance_tile, vertex_clusters
from densepose_ext.structures import DensePoseEmbeddingPredictorOutput


def smooth_embeddings(
    points: torch.Tensor, dim: int = 16, bandwidth: float = 3.0, seed: int = 0
) -> torch.Tensor:
    """[V, 3] positions -> [V, dim] unit vectors varying smoothly with position (random Fourier
    features, randomly projected), like trained CSE vertex embeddings."""
    g = torch.Generator().manual_seed(seed)
    freqs = torch.randn(3, 48, generator=g, dtype=torch.float64) * bandwidth
    phase = torch.rand(48, generator=g, dtype=torch.float64) * 6.283
    emb = torch.cos(points.double() @ freqs + phase) @ torch.randn(
        48, dim, generator=g, dtype=torch.float64
    )
    return torch.nn.functional.normalize(emb, dim=1).float()


def sphere_points(num: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(
        torch.randn(num, 3, generator=g, dtype=torch.float64), dim=1
    )


def structured_pixels(
    vertices: torch.Tensor, num: int, seed: int = 2, noise: float = 0.05
) -> torch.Tensor:
    """[num, D] pixel embeddings along a smooth path of surface points: scaled vertex embeddings
    (scale 1..4) interpolated between neighbours of the path, plus noise."""
    g = torch.Generator().manual_seed(seed)
    knots = vertices[torch.randint(0, vertices.shape[0], (max(2, num // 8 + 2),), generator=g)]
    pos = torch.linspace(0, knots.shape[0] - 1.001, num, dtype=torch.float64)
    i0, w = pos.long(), (pos - pos.floor()).float().unsqueeze(1)
    path = knots[i0] * (1 - w) + knots[i0 + 1] * w
    scale = 1 + 3 * torch.rand(num, 1, generator=g)
    return path * scale + noise * torch.randn(path.shape, generator=g)


def assert_same(pixels, vertices, method="pruned", **kwargs):
    stats = {}
    ids, dists = closest_vertices(pixels, vertices, method=method, stats=stats, **kwargs)
    ref_ids, ref_dists = closest_vertices(pixels, vertices, method="brute_force")
    assert ids.dtype == torch.int64 and ids.shape == ref_ids.shape
    assert torch.equal(ids, ref_ids)
    assert torch.equal(dists, ref_dists)
    return stats


@pytest.fixture(scope="module")
def surface_vertices():
    return smooth_embeddings(sphere_points(3000))


def test_distance_tile_does_not_depend_on_the_tile_shape():
    """The exactness rests on this: every entry is rounded the same whatever the tile (incl. the
    tiny shapes BLAS computes with other kernels, padded by `distance_tile`)."""
    g = torch.Generator().manual_seed(0)
    for dim in (3, 16):
        pixels, verts = torch.randn(700, dim, generator=g) * 3, torch.randn(300, dim, generator=g)
        minus_two, pixel_sq, vertex_sq = (
            -2 * pixels,
            (pixels * pixels).sum(1),
            (verts * verts).sum(1),
        )
        full = distance_tile(minus_two, pixel_sq, verts, vertex_sq)
        for p, m in [
            (1, 1),
            (1, 300),
            (700, 1),
            (2, 2),
            (3, 11),
            (5, 13),
            (16, 16),
            (40, 215),
            (700, 64),
        ]:
            rows = torch.randperm(700, generator=g)[:p]
            cols = torch.randperm(300, generator=g)[:m].sort().values
            tile = distance_tile(minus_two[rows], pixel_sq[rows], verts[cols], vertex_sq[cols])
            assert torch.equal(tile, full[rows][:, cols]), (dim, p, m)


@pytest.mark.parametrize(
    "num_pixels, chunk_size", [(1, 10000), (17, 5), (3000, 1000), (5000, 100000), (2500, 333)]
)
def test_pruned_equals_brute_force_on_structured_inputs(surface_vertices, num_pixels, chunk_size):
    pixels = structured_pixels(surface_vertices, num_pixels)
    stats = assert_same(pixels, surface_vertices, search_chunk_size=chunk_size)
    if num_pixels > 100:
        assert stats["evaluated_fraction"] < 0.3  # the pruning does prune
    assert stats["pruned_pixels"] == num_pixels


@pytest.mark.parametrize(
    "num_vertices, num_clusters", [(1, None), (5, None), (500, 1), (500, 7), (500, 499)]
)
def test_pruned_equals_brute_force_for_any_clustering(num_vertices, num_clusters):
    verts = smooth_embeddings(sphere_points(num_vertices))
    pixels = structured_pixels(verts, 400)
    clusters = cluster_vertices(verts, num_clusters)
    assert clusters.order.sort().values.tolist() == list(range(num_vertices))
    ids, dists = vertex_search.pruned_closest_vertices(
        -2 * pixels, (pixels * pixels).sum(1), clusters, 128
    )
    ref_ids, ref_dists = closest_vertices(pixels, verts, method="brute_force")
    assert torch.equal(ids, ref_ids) and torch.equal(dists, ref_dists)


def test_exact_ties_across_clusters_take_the_first_index(surface_vertices):
    """Mirror images (coordinate 1 negated) at shuffled positions; pixels with coordinate 1 == 0 are
    exactly as far from a vertex as from its mirror, often in another cluster."""
    mirrored = surface_vertices.clone()
    mirrored[:, 1] = -mirrored[:, 1]
    g = torch.Generator().manual_seed(3)
    verts = torch.cat([surface_vertices, mirrored])[torch.randperm(6000, generator=g)]
    pixels = structured_pixels(surface_vertices, 3000)
    pixels[:, 1] = 0.0
    assert_same(pixels, verts)
    ids, dists = closest_vertices(pixels, verts, method="brute_force")
    full = distance_tile(-2 * pixels, (pixels * pixels).sum(1), verts, (verts * verts).sum(1))
    tied = (full == dists.unsqueeze(1)).sum(1)
    assert (tied >= 2).float().mean() > 0.9  # the ties are real
    assert torch.equal(ids, (full == dists.unsqueeze(1)).int().argmax(1))  # first index wins
    clusters = vertex_clusters(verts)
    label = torch.empty(6000, dtype=torch.int64)
    for k in range(clusters.num_clusters):
        label[clusters.order[clusters.offsets[k] : clusters.offsets[k + 1]]] = k
    partner = (full == dists.unsqueeze(1)).int().flip(1).argmax(1)  # last tied vertex
    assert (label[partner] != label[ids]).any()  # some ties span two clusters


def test_near_ties_across_cluster_boundaries(surface_vertices):
    """Pixels half-way between two neighbouring vertices of different clusters (a few ulp apart)."""
    clusters = vertex_clusters(surface_vertices)
    label = torch.empty(3000, dtype=torch.int64)
    for k in range(clusters.num_clusters):
        label[clusters.order[clusters.offsets[k] : clusters.offsets[k + 1]]] = k
    g = torch.Generator().manual_seed(4)
    a = torch.randint(0, 3000, (2000,), generator=g)
    cross = (surface_vertices[a] @ surface_vertices.t()).masked_fill_(
        label[a].unsqueeze(1) == label, -2
    )
    b = cross.argmax(1)
    mid = torch.nn.functional.normalize(surface_vertices[a] + surface_vertices[b], dim=1)
    pixels = mid * (1 + 3 * torch.rand(2000, 1, generator=g)) + 1e-7 * torch.randn(
        2000, 16, generator=g
    )
    assert_same(pixels, surface_vertices)
    full = torch.cdist(pixels.double(), surface_vertices.double()) ** 2
    two = full.topk(2, largest=False)
    pair = torch.stack([torch.minimum(a, b), torch.maximum(a, b)], 1)
    genuine = (two.indices.sort(1).values == pair).all(1)  # a and b are the two closest vertices
    gap = (two.values[:, 1] - two.values[:, 0]) / (pixels.double().norm(dim=1) ** 2 + 1)
    assert (genuine & (gap < 1e-6)).sum() > 200  # near-ties within the pruning slack


def test_unstructured_inputs_and_auto_fallback():
    g = torch.Generator().manual_seed(5)
    verts = torch.nn.functional.normalize(torch.randn(2500, 16, generator=g), dim=1)
    pixels = torch.randn(AUTO_PROBE_PIXELS + 3000, 16, generator=g) * 2
    assert_same(pixels[:1500], verts)  # pruned everywhere (little is pruned)
    stats = assert_same(pixels, verts, method="auto")
    assert stats["pruned_pixels"] == AUTO_PROBE_PIXELS  # the brute force took over after the probe
    assert stats["evaluated_fraction"] > 0.25


def test_auto_prunes_structured_inputs():
    more = smooth_embeddings(sphere_points(6000, seed=7), bandwidth=2.0)
    stats = assert_same(structured_pixels(more, AUTO_PROBE_PIXELS + 2000), more, method="auto")
    assert stats["pruned_pixels"] == AUTO_PROBE_PIXELS + 2000


def test_real_human_mesh():
    path = data_file("meshes/smpl_27554.pkl")
    with open(path, "rb") as f:
        xyz = torch.as_tensor(pickle.load(f)["vertices"], dtype=torch.float64)
    verts = smooth_embeddings((xyz - xyz.mean(0)) / 1.8, bandwidth=8.0)
    stats = assert_same(structured_pixels(verts, 3000), verts, method="auto")
    assert stats["pruned_pixels"] == 3000 and stats["evaluated_fraction"] < 0.1


def test_empty_nonfinite_float64_and_validation(surface_vertices):
    empty = torch.zeros(0, 16)
    for method in ("pruned", "auto"):
        ids, dists = closest_vertices(empty, surface_vertices, method=method)
        assert ids.shape == dists.shape == (0,) and ids.dtype == torch.int64
    pixels = structured_pixels(surface_vertices, 300)
    pixels[3] = float("nan")
    pixels[7, 2] = float("inf")
    pixels[9] = 0.0
    assert_same(pixels, surface_vertices)
    assert_same(pixels.double(), surface_vertices.double())  # float64: brute force either way
    assert_same(pixels.t().contiguous().t(), surface_vertices)  # column-major pixels
    with pytest.raises(ValueError, match="method"):
        closest_vertices(pixels, surface_vertices, method="kdtree")


def test_assign_vertices_with_masks(surface_vertices):
    g = torch.Generator().manual_seed(6)
    emb = (
        structured_pixels(surface_vertices, 3 * 20 * 30).reshape(3, 20, 30, 16).permute(0, 3, 1, 2)
    )
    masks = torch.rand(3, 20, 30, generator=g) > 0.4
    v, d = assign_vertices(emb, surface_vertices, masks, chunk_size=50, method="pruned")
    ref_v, ref_d = assign_vertices(emb, surface_vertices, masks, method="brute_force")
    assert torch.equal(v, ref_v) and torch.equal(d, ref_d)
    assert (v[~masks] == 0).all()


def test_results_default_to_the_pruned_search(surface_vertices):
    class Embedder:
        def __call__(self, mesh_name):
            return surface_vertices

    emb = (
        structured_pixels(surface_vertices, 2 * 48 * 48).reshape(2, 48, 48, 16).permute(0, 3, 1, 2)
    )
    coarse = torch.zeros(2, 2, 48, 48)
    coarse[:, 1, 4:44, 6:40] = 1.0
    output = DensePoseEmbeddingPredictorOutput(embedding=emb.contiguous(), coarse_segm=coarse)
    boxes = torch.tensor([[0.0, 0.0, 60.0, 70.0], [5.0, 5.0, 50.0, 40.0]])
    args = (output, boxes, torch.zeros(2, dtype=torch.int64), Embedder(), {0: "surface"})
    fast, slow = cse_output_to_results(*args), cse_output_to_results(*args, method="brute_force")
    assert sum(int(r.mask.sum()) for r in fast) >= 2048  # enough pixels for "auto" to prune
    for a, b in zip(fast, slow):
        assert torch.equal(a.vertices, b.vertices) and torch.equal(a.mask, b.mask)


def test_cluster_cache_is_keyed_by_content(surface_vertices):
    first = vertex_clusters(surface_vertices)
    assert vertex_clusters(surface_vertices.clone()) is first
    changed = surface_vertices.clone()
    changed[0] = -changed[0]
    assert vertex_clusters(changed) is not first


def test_pruning_bound_is_sound():
    """Clusters `_survivors` drops have no member within the slack of the bound `best`, also for
    adversarial pixels (on an axis, zero, tiny, huge, opposite)."""
    verts = smooth_embeddings(sphere_points(1500, seed=8))
    clusters = cluster_vertices(verts, 40)
    g = torch.Generator().manual_seed(9)
    axes = clusters.directions
    pixels = torch.cat(
        [
            structured_pixels(verts, 500),
            axes * 3.0,
            -axes,
            axes * 1e-20,
            axes * 1e6,
            torch.zeros(2, 16),
            verts[:200] * (1 + torch.rand(200, 1, generator=g)),
        ]
    )
    exact = torch.cdist(pixels.double(), clusters.embeddings.double()) ** 2  # [P, V] grouped order
    per_cluster = torch.stack(
        [exact[:, a:b].min(1).values for a, b in zip(clusters.offsets, clusters.offsets[1:])], 1
    )
    best = exact.min(1).values + torch.rand(pixels.shape[0], generator=g, dtype=torch.float64) * 0.5
    pix64 = pixels.double()
    survive = vertex_search._survivors(pix64, (pix64 * pix64).sum(1), best, clusters).t()  # [P, K]
    assert (per_cluster[~survive] > best.unsqueeze(1).expand_as(survive)[~survive]).all()
    assert survive.float().mean() < 0.5  # and it does prune
