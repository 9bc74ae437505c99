"""CSE predictor outputs -> closest mesh vertex per foreground pixel of each box.

Squared Euclidean distances between raw (un-normalised) pixel embeddings e and normalised vertex
embeddings v are evaluated as (-2 e) . v + |e|^2 + |v|^2 (product first, then the two norms),
the argmin taking the first index on ties, as the original does. By default the search skips
vertex clusters that provably cannot hold the minimum (`vertex_search`), with the brute force's
exact result; `method="brute_force"` computes every distance.
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from detectron2.structures import Boxes

from ..structures.cse_result import DensePoseEmbeddingResult
from ..structures.predictor_outputs import DensePoseEmbeddingPredictorOutput
from .boxes import int_boxes_xywh
from .resample import resize_maps
from .vertex_search import distance_tile, pruned_closest_vertices, vertex_clusters

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "SEARCH_METHODS",
    "assign_vertices",
    "TILE_ELEMENTS",
    "closest_vertices",
    "cse_output_to_results",
    "squared_distances",
]

DEFAULT_CHUNK_SIZE = 10000  # pixels per distance tile of the brute force
SEARCH_CHUNK_SIZE = 32768  # pixels per step of the pruned search (fewer, larger tensor ops)
TILE_ELEMENTS = 2**21  # default distance tile size (pixels x vertices), 8 MiB of float32
SEARCH_METHODS = ("auto", "pruned", "brute_force")
AUTO_MIN_VERTICES = 2048  # "auto" searches smaller meshes by brute force
AUTO_MIN_PIXELS = 2048  # ... and fewer pixels too (the pruning has a per-chunk overhead)
AUTO_PROBE_PIXELS = 4096  # ... searches this many pixels first, and hands the rest to the brute
AUTO_MAX_EVALUATED = 0.25  # force when the pruning evaluated more than this fraction of distances

TensorOrList = Union[torch.Tensor, Sequence[torch.Tensor]]


def squared_distances(
    pixel_embeddings: torch.Tensor, vertex_embeddings: torch.Tensor
) -> torch.Tensor:
    """[P, D] x [V, D] -> [P, V] squared distances, in the original's order of operations."""
    dist = (-2 * pixel_embeddings).matmul(vertex_embeddings.t())
    dist.add_((pixel_embeddings * pixel_embeddings).sum(1, keepdim=True))
    dist.add_((vertex_embeddings * vertex_embeddings).sum(1).unsqueeze(0))
    return dist


def _brute_force(
    minus_two: torch.Tensor,
    pixel_sq: torch.Tensor,
    vertices: torch.Tensor,
    vertex_sq: torch.Tensor,
    chunk_size: int,
    vertex_chunk_size: int,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Every pixel against every vertex, in tiles;
    the running minimum keeps the first index on ties."""
    num_pixels, device = pixel_sq.shape[0], pixel_sq.device
    ids = torch.zeros(num_pixels, dtype=torch.int64, device=device)
    dists = torch.zeros(num_pixels, dtype=pixel_sq.dtype, device=device)
    for start in range(0, num_pixels, chunk_size):
        rows = slice(start, start + chunk_size)
        best = torch.full_like(pixel_sq[rows], float("inf"))
        best_ids = torch.zeros_like(ids[rows])
        for v0 in range(0, vertices.shape[0], vertex_chunk_size):
            cols = slice(v0, v0 + vertex_chunk_size)
            tile = distance_tile(
                minus_two[rows], pixel_sq[rows], vertices[cols], vertex_sq[cols]
            )  # [p, v]
            tile_best, tile_ids = tile.min(dim=1)
            better = tile_best < best  # strict: an earlier tile wins ties
            best = torch.where(better, tile_best, best)
            best_ids = torch.where(better, tile_ids + v0, best_ids)
        ids[rows], dists[rows] = best_ids, best
    return ids, dists


def _use_pruning(method: str, num_pixels: int, vertices: torch.Tensor) -> bool:
    if method not in SEARCH_METHODS:
        raise ValueError(f"method must be one of {SEARCH_METHODS}, got {method!r}")
    if method == "brute_force" or num_pixels == 0 or vertices.dtype != torch.float32:
        return False  # float64 BLAS rounds differently per tile shape: no shape-independent tiles
    if not bool(torch.isfinite(vertices).all()):
        return False
    return method == "pruned" or (
        vertices.shape[0] >= AUTO_MIN_VERTICES and num_pixels >= AUTO_MIN_PIXELS
    )


def _take(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """x[rows], without a copy when `rows` is a whole range start..end (the usual case)."""
    if (
        rows.shape[0] > 0
        and int(rows[-1]) - int(rows[0]) + 1 == rows.shape[0]
        and bool((rows.diff() == 1).all())
    ):
        return x[int(rows[0]) : int(rows[-1]) + 1]
    return x[rows]


def _pruned_parts(
    minus_two: torch.Tensor,
    pixel_sq: torch.Tensor,
    rows: torch.Tensor,
    vertices: torch.Tensor,
    chunk_size: int,
    probe: int,
    stats: Optional[Dict[str, float]],
) -> List[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Pruned search of pixel `rows`: [(rows, ids, distances)] for a prefix of `rows`. With
    `probe` > 0, the first `probe` rows are searched first and the rest only if they needed at most
    AUTO_MAX_EVALUATED of their distances."""
    clusters = vertex_clusters(vertices)
    parts, evaluated, done = [], 0.0, 0
    for part in (rows[:probe], rows[probe:]) if probe > 0 else (rows,):
        if part.shape[0] == 0 or (done > 0 and evaluated / done > AUTO_MAX_EVALUATED):
            continue
        part_stats: Dict[str, float] = {}
        found, found_d = pruned_closest_vertices(
            _take(minus_two, part), _take(pixel_sq, part), clusters, chunk_size, part_stats
        )
        parts.append((part, found, found_d))
        evaluated += part_stats["evaluated_fraction"] * part.shape[0]
        done += part.shape[0]
    if stats is not None:
        stats["evaluated_fraction"] = evaluated / max(done, 1)
        stats["pruned_pixels"] = done
    return parts


@torch.no_grad()
def closest_vertices(
    pixel_embeddings: torch.Tensor,
    vertex_embeddings: torch.Tensor,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    vertex_chunk_size: Optional[int] = None,
    method: str = "auto",
    stats: Optional[Dict[str, float]] = None,
    search_chunk_size: int = SEARCH_CHUNK_SIZE,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Closest vertex of every pixel embedding:
    ids int64 [P] and squared distances [P] (no gradient).

    method: "brute_force" computes every distance, in tiles of `chunk_size` pixels x
    `vertex_chunk_size` vertices (default: about 2M entries, 8 MiB of float32); "pruned" skips
    vertex clusters that cannot contain the minimum (`vertex_search`), `search_chunk_size` pixels
    at a time (a few [pixels, clusters] tensors per step); "auto" (default) prunes for meshes of
    >= AUTO_MIN_VERTICES vertices and >= AUTO_MIN_PIXELS pixels,
    and hands over to the brute force when the first AUTO_PROBE_PIXELS pixels needed more
    than AUTO_MAX_EVALUATED of their distances (unstructured embeddings). All give the same ids and
    distances: every distance is the same float32 tile entry, and ties take the first index. Other
    dtypes than float32 always use the brute force.
    `stats` (if given) receives `pruned_pixels`, the number of pixels the pruned search did, and
    `evaluated_fraction`, the fraction of their distances it computed.
    """
    if chunk_size <= 0 or search_chunk_size <= 0:
        raise ValueError(f"chunk sizes must be positive, got {chunk_size}, {search_chunk_size}")
    if vertex_chunk_size is None:
        vertex_chunk_size = max(1, TILE_ELEMENTS // chunk_size)
    pixels = pixel_embeddings.detach().contiguous()
    vertices = vertex_embeddings.detach().to(device=pixels.device, dtype=pixels.dtype).contiguous()
    pixel_sq = (pixels * pixels).sum(1)  # [P]
    minus_two = -2 * pixels
    rest = torch.arange(pixels.shape[0], device=pixels.device)  # rows left to the brute force
    ids = torch.zeros(pixels.shape[0], dtype=torch.int64, device=pixels.device)
    dists = torch.zeros_like(pixel_sq)
    if _use_pruning(method, pixels.shape[0], vertices):
        finite = torch.isfinite(pixel_sq)
        rows = rest[finite]
        probe = AUTO_PROBE_PIXELS if method == "auto" else 0
        done = 0
        for part, found, found_d in _pruned_parts(
            minus_two, pixel_sq, rows, vertices, search_chunk_size, probe, stats
        ):
            ids[part], dists[part] = found, found_d
            done += part.shape[0]
        rest = torch.cat([rows[done:], rest[~finite]])
    if rest.shape[0] > 0:
        vertex_sq = (vertices * vertices).sum(1)  # [V]
        found, found_d = _brute_force(
            _take(minus_two, rest),
            _take(pixel_sq, rest),
            vertices,
            vertex_sq,
            chunk_size,
            vertex_chunk_size,
        )
        ids[rest], dists[rest] = found, found_d
    return ids, dists


def _as_list(x: TensorOrList) -> List[torch.Tensor]:
    return list(x.unbind(0)) if isinstance(x, torch.Tensor) else list(x)


def assign_vertices(
    embeddings: TensorOrList,
    vertex_embeddings: torch.Tensor,
    masks: Optional[TensorOrList] = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    vertex_chunk_size: Optional[int] = None,
    method: str = "auto",
) -> Tuple[TensorOrList, TensorOrList]:
    """Closest vertex and its squared distance for every masked pixel of every box.

    embeddings: [N, D, H, W] or a list of [D, h_i, w_i]; vertex_embeddings: [V, D] (normalised);
    masks: bool [N, H, W] or a list of [h_i, w_i] (None = all pixels). Returns (vertices int64,
    distances) as [N, H, W] tensors or lists of [h_i, w_i], matching `embeddings`; pixels outside
    the mask get vertex 0 and distance 0. All boxes' pixels are searched together (see
    `closest_vertices` for `method` and the chunking).
    """
    as_tensor = isinstance(embeddings, torch.Tensor)
    emb_list = _as_list(embeddings)
    if masks is None:
        mask_list = [torch.ones(e.shape[1:], dtype=torch.bool, device=e.device) for e in emb_list]
    else:
        mask_list = _as_list(masks)
    if len(mask_list) != len(emb_list):
        raise ValueError(f"{len(emb_list)} embeddings but {len(mask_list)} masks")
    selected = []
    for emb, mask in zip(emb_list, mask_list):
        if emb.shape[1:] != mask.shape:
            raise ValueError(
                f"embedding {tuple(emb.shape)} and mask {tuple(mask.shape)} differ in size"
            )
        selected.append(emb.flatten(1)[:, mask.flatten()].t())  # [P_i, D]
    dim = vertex_embeddings.shape[1]
    pixels = torch.cat(selected) if selected else vertex_embeddings.new_zeros((0, dim))
    ids, dists = closest_vertices(
        pixels, vertex_embeddings, chunk_size, vertex_chunk_size, method=method
    )
    vertices_out, distances_out, start = [], [], 0
    for mask in mask_list:
        count = int(mask.sum())
        v = torch.zeros(mask.shape, dtype=torch.int64, device=mask.device)
        d = torch.zeros(mask.shape, dtype=dists.dtype, device=mask.device)
        v[mask] = ids[start : start + count]
        d[mask] = dists[start : start + count]
        vertices_out.append(v)
        distances_out.append(d)
        start += count
    if as_tensor:
        return torch.stack(vertices_out), torch.stack(distances_out)
    return vertices_out, distances_out


def _mesh_name_lookup(class_to_mesh_name: Mapping[Any, str]) -> Dict[int, str]:
    """Accepts config-style string keys ("0") as well as int keys."""
    return {int(k): v for k, v in class_to_mesh_name.items()}


@torch.no_grad()
def cse_output_to_results(
    output: DensePoseEmbeddingPredictorOutput,
    boxes_xyxy: Union[Boxes, torch.Tensor],
    classes: torch.Tensor,
    embedder: Any,
    class_to_mesh_name: Mapping[Any, str],
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    method: str = "auto",
) -> List[DensePoseEmbeddingResult]:
    """Per-box vertex maps of a CSE output (N boxes), each on the box's integer [h, w].

    The mesh of box i is `class_to_mesh_name[classes[i]]`; its normalised vertex embeddings come
    from `embedder(mesh_name)`. Boxes of the same mesh are searched together; `method` as in
    `closest_vertices` ("brute_force" forces the exhaustive search).
    """
    lookup = _mesh_name_lookup(class_to_mesh_name)
    int_boxes = int_boxes_xywh(boxes_xyxy.tensor if isinstance(boxes_xyxy, Boxes) else boxes_xyxy)
    embeddings, masks, mesh_names = [], [], []
    for i in range(len(output)):
        w, h = int(int_boxes[i, 2]), int(int_boxes[i, 3])
        embeddings.append(resize_maps(output.embedding[i : i + 1], h, w)[0])  # [D, h, w]
        masks.append(
            resize_maps(output.coarse_segm[i : i + 1], h, w)[0].argmax(dim=0) > 0
        )  # [h, w]
        class_id = int(classes[i])
        if class_id not in lookup:
            raise KeyError(
                f"no mesh for predicted class {class_id}; CLASS_TO_MESH_NAME_MAPPING: {lookup}"
            )
        mesh_names.append(lookup[class_id])
    results: List[Optional[DensePoseEmbeddingResult]] = [None] * len(output)
    for mesh_name in dict.fromkeys(mesh_names):
        idx = [i for i, m in enumerate(mesh_names) if m == mesh_name]
        vertex_embeddings = embedder(mesh_name)
        vertices, distances = assign_vertices(
            [embeddings[i] for i in idx],
            vertex_embeddings,
            [masks[i] for i in idx],
            chunk_size,
            method=method,
        )
        for j, i in enumerate(idx):
            results[i] = DensePoseEmbeddingResult(masks[i], vertices[j], distances[j], mesh_name)
    return results
