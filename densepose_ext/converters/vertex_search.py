"""Exact closest-vertex search over clustered vertex embeddings (branch and bound).

The vertices of a mesh are grouped once (cosine k-means, cached per vertex-embedding content) into
clusters whose member directions lie in a cone (unit axis, half-angle a_k). CSE vertex embeddings
are unit vectors, so a pixel embedding e cannot be closer to any member of cluster k than
|e|^2 + 1 - 2 |e| cos(max(0, theta_k - a_k)), theta_k the angle between e and the axis (the bound
allows any norms in [min, max] of the vertex norms). Each pixel first searches the cluster of its
nearest axis exactly; that distance `best` bounds the answer, and every other cluster whose lower
bound is above best + slack is skipped, slack = SLACK * (|e|^2 + 1) (times D / 16 for D > 16), far
above the float32 rounding of the distances (< ~3e-6 (|e|^2 + 1) for D = 16; the bound is evaluated
in float64 except one
product, whose error is covered separately). The surviving clusters are searched with the same
float32 distance tiles as the brute force (`distance_tile`), and ties go to the smallest original
vertex index, so the result is the brute force's, index for index and bit for bit.
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import torch

__all__ = [
    "MIN_TILE",
    "SLACK",
    "VertexClusters",
    "cluster_vertices",
    "distance_tile",
    "pruned_closest_vertices",
    "vertex_clusters",
]

MIN_TILE = 16  # tiles are padded to >= 16 x 16: BLAS kernels for tinier shapes round differently
SLACK = 1e-4  # relative safety margin of the pruning bounds
TILE_ELEMENTS = 2**21  # largest distance tile (pixels x vertices) of one cluster
_CACHE_SIZE = 4
_CACHE: "List[Tuple[torch.Tensor, VertexClusters]]" = []  # (vertex embeddings, their clusters)


def rounding_scale(dim: int) -> float:
    """Factor on the safety margins for embeddings of `dim` > 16 (rounding grows with the sum's
    length)."""
    return max(1.0, dim / 16)


def distance_tile(
    minus_two_pixels: torch.Tensor,
    pixel_sq: torch.Tensor,
    vertices: torch.Tensor,
    vertex_sq: torch.Tensor,
) -> torch.Tensor:
    """[p, D] (-2 e), [p] |e|^2, [m, D] v, [m] |v|^2 -> [p, m] squared distances.

    Product first, then |e|^2, then |v|^2 are added (float32, as the original). Both sides are
    padded
    with zero rows to MIN_TILE so that the BLAS kernel, hence every rounded entry,
    does not depend on
    the tile's shape: searching a vertex subset gives the same numbers as searching all vertices.
    """
    p, m = minus_two_pixels.shape[0], vertices.shape[0]
    if p < MIN_TILE:
        minus_two_pixels = torch.cat(
            [minus_two_pixels, minus_two_pixels.new_zeros(MIN_TILE - p, minus_two_pixels.shape[1])]
        )
    if m < MIN_TILE:
        vertices = torch.cat([vertices, vertices.new_zeros(MIN_TILE - m, vertices.shape[1])])
    dist = minus_two_pixels.matmul(vertices.t())[:p, :m]
    dist.add_(pixel_sq.unsqueeze(1))
    dist.add_(vertex_sq.unsqueeze(0))
    return dist


@dataclass
class VertexClusters:
    """Vertices grouped by cluster; within a cluster in ascending original index.

    order: int64 [V] original index of each grouped vertex; offsets: K + 1 ints (cluster k is
    grouped rows offsets[k]:offsets[k+1]); embeddings / squared_norms: [V, D] / [V] in grouped
    order.
    Cluster k's member directions lie in the cone of unit axis directions[k] [K, D] and half-angle
    a_k: cos_radius[k] <= cos a_k, sin_radius[k] >= sin a_k; all vertex norms lie in
    [min_norm, max_norm] (bounds rounded outwards).
    """

    order: torch.Tensor
    offsets: List[int]
    embeddings: torch.Tensor
    squared_norms: torch.Tensor
    directions: torch.Tensor
    cos_radius: torch.Tensor
    sin_radius: torch.Tensor
    min_norm: float
    max_norm: float

    @property
    def augmented_axes(self) -> torch.Tensor:
        """[K, D + 3]: axis, cos a_k, sin a_k, 1 (see `_survivors`)."""
        extra = torch.stack([self.cos_radius, self.sin_radius, torch.ones_like(self.cos_radius)], 1)
        return torch.cat([self.directions, extra], 1)

    @property
    def num_clusters(self) -> int:
        return len(self.offsets) - 1


def default_num_clusters(num_vertices: int) -> int:
    """About sqrt(V) / 1.3 clusters (128 for 27554 vertices), at least 1."""
    return max(1, min(num_vertices, round(num_vertices**0.5 / 1.3)))


def _spherical_kmeans(directions: torch.Tensor, num_clusters: int, iterations: int) -> torch.Tensor:
    """Cluster labels [V] of unit vectors [V, D] by cosine k-means; deterministic (seeded start)."""
    start = torch.randperm(directions.shape[0], generator=torch.Generator().manual_seed(0))[
        :num_clusters
    ]
    centres = directions[start.to(directions.device)]
    for _ in range(iterations):
        labels = directions.matmul(centres.t()).argmax(1)
        sums = torch.zeros_like(centres).index_add_(0, labels, directions)
        sums = sums[torch.bincount(labels, minlength=centres.shape[0]) > 0]  # drop empty clusters
        centres = torch.nn.functional.normalize(sums, dim=1)
    return directions.matmul(centres.t()).argmax(1)


def _cone_bounds(grouped: torch.Tensor, counts: torch.Tensor) -> Tuple[torch.Tensor, ...]:
    """Unit axis [K, D] (float32) and outward-rounded cos / sin of the half-angle [K] of each
    cluster's cone, from float64 member embeddings [V, D] grouped by cluster."""
    norms = grouped.norm(dim=1, keepdim=True)
    unit = grouped / norms.clamp(min=1e-300)
    segment = torch.repeat_interleave(torch.arange(len(counts), device=grouped.device), counts)
    sums = torch.zeros(len(counts), grouped.shape[1], dtype=grouped.dtype, device=grouped.device)
    axis = torch.nn.functional.normalize(sums.index_add_(0, segment, unit), dim=1).float()
    axis_unit = torch.nn.functional.normalize(axis.double(), dim=1)
    cos = (unit * axis_unit[segment]).sum(1)
    cos = torch.where(norms[:, 0] > 0, cos, torch.ones_like(cos))  # a zero vector fits any cone
    cos_radius = torch.full((len(counts),), 2.0, dtype=grouped.dtype, device=grouped.device)
    cos_radius = cos_radius.scatter_reduce_(0, segment, cos, "amin").clamp(max=1.0) - 1e-6
    sin_radius = torch.sqrt((1 - cos_radius.clamp(min=-1.0) ** 2).clamp(min=0)) + 1e-6
    return axis, cos_radius.float(), sin_radius.float()


@torch.no_grad()
def cluster_vertices(
    vertex_embeddings: torch.Tensor, num_clusters: Optional[int] = None, iterations: int = 10
) -> VertexClusters:
    """Clusters [V, D] vertex embeddings by direction for `pruned_closest_vertices` (any clustering
    gives exact results; a good one is fast). Empty clusters are dropped."""
    vertex_embeddings = vertex_embeddings.detach().contiguous()
    num_vertices = vertex_embeddings.shape[0]
    if num_clusters is None:
        num_clusters = default_num_clusters(num_vertices)
    directions = torch.nn.functional.normalize(vertex_embeddings.float(), dim=1)
    labels = _spherical_kmeans(directions, max(1, min(num_clusters, num_vertices)), iterations)
    arange = torch.arange(num_vertices, device=labels.device)
    order = torch.sort(labels * num_vertices + arange).values % num_vertices
    counts = torch.bincount(labels)
    counts = counts[counts > 0]
    points = vertex_embeddings.double()
    axis, cos_radius, sin_radius = _cone_bounds(points[order], counts)
    norms = points.norm(dim=1)
    vertex_sq = (vertex_embeddings * vertex_embeddings).sum(1)  # as the brute force computes it
    return VertexClusters(
        order=order,
        offsets=[0] + torch.cumsum(counts, 0).tolist(),
        embeddings=vertex_embeddings[order].contiguous(),
        squared_norms=vertex_sq[order],
        directions=axis.to(vertex_embeddings.dtype).contiguous(),
        cos_radius=cos_radius.to(vertex_embeddings.dtype),
        sin_radius=sin_radius.to(vertex_embeddings.dtype),
        min_norm=float(norms.min()) * (1 - 1e-6),
        max_norm=float(norms.max()) * (1 + 1e-6),
    )


def vertex_clusters(vertex_embeddings: torch.Tensor) -> VertexClusters:
    """`cluster_vertices` with a small cache keyed by content (embedders return a new tensor per
    call, so tensor ids would never hit): one equality check per call."""
    v = vertex_embeddings.detach()
    for i, (stored, clusters) in enumerate(_CACHE):
        if (
            stored.shape == v.shape
            and stored.dtype == v.dtype
            and stored.device == v.device
            and torch.equal(stored, v)
        ):
            _CACHE.append(_CACHE.pop(i))  # most recently used last
            return clusters
    clusters = cluster_vertices(v)
    _CACHE.append((v.clone(), clusters))
    del _CACHE[:-_CACHE_SIZE]
    return clusters


def _search_groups(
    minus_two: torch.Tensor,
    pixel_sq: torch.Tensor,
    rows: torch.Tensor,
    counts: List[int],
    clusters: VertexClusters,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Closest member of cluster k for the pixel rows of group k (groups consecutive in `rows`).

    Returns per-row squared distances [n] and original vertex ids [n] (first index on ties).
    """
    dists = torch.empty(rows.shape[0], dtype=minus_two.dtype, device=minus_two.device)
    local = torch.empty(rows.shape[0], dtype=torch.int64, device=minus_two.device)
    start, offsets = 0, clusters.offsets
    for k, count in enumerate(counts):
        if count == 0:
            continue
        lo, hi = offsets[k], offsets[k + 1]
        step = max(1, TILE_ELEMENTS // (hi - lo))
        for s in range(start, start + count, step):
            e = min(s + step, start + count)
            sel = rows[s:e]
            tile = distance_tile(
                minus_two[sel],
                pixel_sq[sel],
                clusters.embeddings[lo:hi],
                clusters.squared_norms[lo:hi],
            )
            torch.min(tile, dim=1, out=(dists[s:e], local[s:e]))
            local[s:e] += lo
        start += count
    return dists, clusters.order[local]


def _merge_first_index(
    best: torch.Tensor,
    best_ids: torch.Tensor,
    rows: torch.Tensor,
    dists: torch.Tensor,
    ids: torch.Tensor,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per pixel, the smallest distance over `best` and the (row, dist, id) candidates; among equal
    distances the smallest vertex id (the brute force's first-index rule)."""
    new_best = best.scatter_reduce(0, rows, dists, "amin", include_self=True)
    no_id = torch.iinfo(torch.int64).max
    new_ids = torch.where(best == new_best, best_ids, torch.full_like(best_ids, no_id))
    new_ids.scatter_reduce_(
        0, rows, torch.where(dists == new_best[rows], ids, torch.full_like(ids, no_id)), "amin"
    )
    return new_best, new_ids


def _survivors(
    pixels: torch.Tensor, pixel_sq: torch.Tensor, best: torch.Tensor, clusters: VertexClusters
) -> torch.Tensor:
    """bool [K, C]: clusters whose distance lower bound for pixel e [C, D] (|e|^2 [C], float64) is
    within SLACK * (|e|^2 + 1) of `best` [C], the distance to a vertex.

    With theta the angle between e and cone axis k and M = max e . u over unit u in the cone
    (|e| cos(max(0, theta - a_k))), every member v (norm in [lo, hi]) has
    |e - v|^2 >= |e|^2 + lo^2 - 2 max(hi M, lo M); that exceeds best + slack iff M < tau (below).
    With cos b = tau / |e|, M >= tau iff theta <= a_k + b, i.e. (when a_k + b < pi)
    e . axis_k - tau cos a_k + |e| sin b sin a_k >= 0. That is one float32 product of [C, D + 3]
    and [D + 3, K]; its rounding error (< 4e-6 |e|) is covered by adding 1e-5 |e|.
    """
    lo, hi = clusters.min_norm, clusters.max_norm
    rounding = rounding_scale(pixels.shape[1])
    excess = pixel_sq + lo * lo - best - SLACK * rounding * (pixel_sq + 1)
    if lo > 0:
        tau = torch.where(excess >= 0, excess / (2 * hi), excess / (2 * lo))
    else:
        tau = torch.where(excess >= 0, excess / (2 * hi), torch.full_like(excess, -float("inf")))
    norm = pixel_sq.sqrt()
    everything = tau <= -norm * float(clusters.cos_radius.min())  # a_k + b >= pi for some cluster
    tau = torch.minimum(
        torch.maximum(tau, -norm), norm
    )  # tau > |e|: nothing survives; keep theta <= a_k
    span = torch.sqrt((pixel_sq - tau * tau).clamp(min=0))  # |e| sin b
    lhs = torch.cat([pixels, torch.stack([-tau, span, 1e-5 * rounding * norm], 1)], 1).to(
        clusters.directions.dtype
    )
    survive = clusters.augmented_axes.matmul(lhs.t()) >= 0  # [K, C]
    return survive.logical_or_(everything.unsqueeze(0))


def _search_chunk(
    minus_two: torch.Tensor, pixel_sq: torch.Tensor, clusters: VertexClusters
) -> Tuple[torch.Tensor, torch.Tensor, int]:
    """Exact closest vertex of [C] pixels; also returns the number of distances evaluated."""
    num, device = pixel_sq.shape[0], pixel_sq.device
    sizes = torch.tensor(clusters.offsets, device=device).diff()  # [K]
    # stage 1: the cluster with the nearest axis gives an exact distance, an upper bound
    nearest = minus_two.matmul(clusters.directions.t()).argmin(1)  # max e . axis_k
    by_cluster = torch.argsort(nearest, stable=True)
    counts = torch.bincount(nearest, minlength=clusters.num_clusters).tolist()
    best, best_ids = _search_groups(minus_two, pixel_sq, by_cluster, counts, clusters)
    inv = torch.empty_like(by_cluster)
    inv[by_cluster] = torch.arange(num, device=device)
    best, best_ids = best[inv], best_ids[inv]
    # stage 2: every other cluster whose lower bound does not exceed it by more than the slack
    pixels64 = minus_two.double() * -0.5
    survive = _survivors(pixels64, (pixels64 * pixels64).sum(1), best.double(), clusters)
    survive[nearest, torch.arange(num, device=device)] = False
    pairs = torch.nonzero(survive)  # [n, 2] (cluster, row), grouped by cluster
    if pairs.shape[0] > 0:
        counts = torch.bincount(pairs[:, 0], minlength=clusters.num_clusters).tolist()
        dists, ids = _search_groups(minus_two, pixel_sq, pairs[:, 1], counts, clusters)
        best, best_ids = _merge_first_index(best, best_ids, pairs[:, 1], dists, ids)
    evaluated = int(sizes[nearest].sum()) + int(sizes[pairs[:, 0]].sum())
    return best, best_ids, evaluated


@torch.no_grad()
def pruned_closest_vertices(
    minus_two_pixels: torch.Tensor,
    pixel_sq: torch.Tensor,
    clusters: VertexClusters,
    chunk_size: int,
    stats: Optional[Dict[str, float]] = None,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Closest vertex ids [P] and squared distances [P] of finite pixels given as (-2 e) [P, D]
    and |e|^2 [P] (as the brute force computes them), `chunk_size` pixels at a time.

    `stats` (if given) receives `evaluated_fraction`, the fraction of the P x V distances computed.
    """
    num_pixels, device = pixel_sq.shape[0], pixel_sq.device
    ids = torch.zeros(num_pixels, dtype=torch.int64, device=device)
    dists = torch.zeros(num_pixels, dtype=pixel_sq.dtype, device=device)
    evaluated = 0
    for start in range(0, num_pixels, chunk_size):
        end = min(start + chunk_size, num_pixels)
        dists[start:end], ids[start:end], count = _search_chunk(
            minus_two_pixels[start:end], pixel_sq[start:end], clusters
        )
        evaluated += count
    if stats is not None:
        stats["evaluated_fraction"] = evaluated / max(1, num_pixels * clusters.order.shape[0])
    return ids, dists
