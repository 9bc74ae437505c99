"""CSE closest-vertex assignment benchmark: brute force vs pruned search on realistic embeddings
(smpl_27554, 3 boxes of an 800x1067 image), peak memory, and the model's own cost for comparison.
Random model weights (no model-zoo download); timings on CPU.

Run:  python benchmarks/cse_assignment.py --threads 1 [--repeats 3] [--no-model]
`benchmarks/inference.py` uses `make_cse_converter`;
`run_cse_benchmark` + `format_report` print this.
"""

import argparse
import multiprocessing
import os
import statistics
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence

import torch
from detectron2.modeling import build_model
from detectron2.structures import Boxes, Instances

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO_ROOT / "configs" / "cse" / "densepose_rcnn_R_50_FPN_s1x.yaml"
IMAGE_HW = (800, 1067)  # a typical test image after MIN_SIZE_TEST 800 resizing
BOXES_XYXY = [
    [100.0, 150.0, 300.0, 650.0],
    [420.0, 120.0, 600.0, 560.0],
    [650.0, 80.0, 950.0, 760.0],
]


def offline_cse_cfg(config_path: Path):
    """The config with MODEL.WEIGHTS and embedder INIT_FILEs emptied (random init, no download)."""
    from densepose_ext.config import clear_external_files, get_densepose_cfg

    cfg = get_densepose_cfg()
    cfg.merge_from_file(str(config_path))
    cfg.MODEL.DEVICE = "cpu"
    return clear_external_files(cfg)


def _randomize_embedders(model) -> None:
    """Zero-initialised embedders give all-equal distances;
    random ones make the search realistic."""
    embedder = model.roi_heads.embedder
    with torch.no_grad():
        for buf in list(embedder.buffers()) + list(embedder.parameters()):
            buf.normal_()


def make_cse_converter(model, cfg, chunk_size: int = 10000) -> Callable:
    """(output, boxes_xyxy) -> per-box vertex maps, for `benchmarks/inference.py`; randomises the
    (otherwise zero) embedders of a model built without weights so the search is realistic."""
    from densepose_ext.converters.cse_vertices import cse_output_to_results

    embedder = model.roi_heads.embedder
    if embedder is None:
        return lambda output, boxes: None
    _randomize_embedders(model)
    mapping = dict(cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING)

    def convert(output, boxes_xyxy):
        classes = torch.zeros(len(output), dtype=torch.int64)  # the benchmark's boxes are class 0
        return cse_output_to_results(
            output, boxes_xyxy, classes, embedder, mapping, chunk_size=chunk_size
        )

    return convert


def time_cse_inference(
    config_path: Path, repeats: int = 3, chunk_size: int = 10000, method: str = "auto"
) -> Dict[str, float]:
    """Median seconds per image: model (backbone + DensePose branch on 3 given boxes) and vertex
    assignment of the 3 boxes' foreground pixels (random weights: unstructured embeddings, where
    "auto" hands over to the brute force after a probe)."""
    import densepose_ext  # noqa: F401  (registrations)
    from densepose_ext.converters.cse_vertices import cse_output_to_results

    cfg = offline_cse_cfg(config_path)
    torch.manual_seed(0)
    model = build_model(cfg).eval()
    _randomize_embedders(model)
    mapping = dict(cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING)
    h, w = IMAGE_HW
    image = torch.rand(3, h, w) * 255
    model_times, assign_times, fg_pixels = [], [], 0
    for run in range(repeats + 1):  # run 0 warms the model up and skips the (slow) assignment
        given = Instances((h, w))
        given.pred_boxes = Boxes(torch.tensor(BOXES_XYXY))
        given.pred_classes = torch.zeros(3, dtype=torch.int64)
        given.scores = torch.ones(3)
        with torch.no_grad():
            t0 = time.perf_counter()
            (out,) = model.inference(
                [{"image": image, "height": h, "width": w}], detected_instances=[given]
            )
            t1 = time.perf_counter()
            if run == 0:
                continue
            inst = out["instances"]
            results = cse_output_to_results(
                inst.pred_densepose,
                inst.pred_boxes,
                inst.pred_classes,
                model.roi_heads.embedder,
                mapping,
                chunk_size=chunk_size,
                method=method,
            )
            t2 = time.perf_counter()
        model_times.append(t1 - t0)
        assign_times.append(t2 - t1)
        fg_pixels = sum(int(r.mask.sum()) for r in results)
    model_s, assign_s = statistics.median(model_times), statistics.median(assign_times)
    return {
        "model_s": model_s,
        "assignment_s": assign_s,
        "total_s": model_s + assign_s,
        "foreground_pixels": fg_pixels,
        "threads": torch.get_num_threads(),
    }


# --- realistic (structured) CSE embeddings on the real human mesh ---------------------------------

MESH_PATH = REPO_ROOT / ".." / "shared" / "data" / "meshes" / "smpl_27554.pkl"


def mesh_vertices(path: Path = MESH_PATH) -> torch.Tensor:
    """[V, 3] float64 vertex positions of a CSE mesh pickle (dict with `vertices`)."""
    import pickle

    with open(path, "rb") as f:
        return torch.as_tensor(pickle.load(f)["vertices"], dtype=torch.float64)


def smooth_vertex_embeddings(
    xyz: torch.Tensor, dim: int = 16, num_features: int = 64, bandwidth: float = 8.0, seed: int = 0
) -> torch.Tensor:
    """[V, dim] float32 unit vectors varying smoothly over the surface: random Fourier features
    cos(x W + b) of the positions (scaled to unit height; W ~ N(0, bandwidth^2), correlation length
    ~ 1 / bandwidth of the height), randomly projected to `dim` and normalised."""
    g = torch.Generator().manual_seed(seed)
    x = (xyz - xyz.mean(0)) / (xyz.max(0).values - xyz.min(0).values).max()
    freqs = torch.randn(3, num_features, generator=g, dtype=torch.float64) * bandwidth
    phase = torch.rand(num_features, generator=g, dtype=torch.float64) * 2 * torch.pi
    projection = torch.randn(num_features, dim, generator=g, dtype=torch.float64)
    emb = torch.cos(x @ freqs + phase) @ projection
    return torch.nn.functional.normalize(emb, dim=1).float()


def rendered_vertex_grid(xyz: torch.Tensor, grid: int, yaw: float) -> torch.Tensor:
    """int64 [grid, grid]: the front-most vertex under each cell of a frontal orthographic view of
    the mesh turned by `yaw` (radians) about the vertical (y) axis; off-body cells take the vertex
    nearest in the image plane (what a network predicts there does not matter: it is searched
    too)."""
    from scipy.spatial import cKDTree

    c, s = float(torch.cos(torch.tensor(yaw))), float(torch.sin(torch.tensor(yaw)))
    x, y, z = xyz[:, 0] * c + xyz[:, 2] * s, xyz[:, 1], -xyz[:, 0] * s + xyz[:, 2] * c
    lo = torch.stack([x.min(), y.min()]).numpy()
    hi = torch.stack([x.max(), y.max()]).numpy()
    us = lo[0] + (hi[0] - lo[0]) * (torch.arange(grid).numpy() + 0.5) / grid
    vs = hi[1] - (hi[1] - lo[1]) * (torch.arange(grid).numpy() + 0.5) / grid
    points = torch.stack(
        torch.meshgrid(torch.as_tensor(vs), torch.as_tensor(us), indexing="ij"), -1
    )
    points = points.flip(-1).reshape(-1, 2).numpy()  # (u, v) per cell, row-major
    tree = cKDTree(torch.stack([x, y], 1).numpy())
    dist, idx = tree.query(points, k=32)
    dist, idx = torch.as_tensor(dist), torch.as_tensor(idx)
    radius = 0.6 * float(hi[1] - lo[1]) / grid
    depth = torch.where(dist <= radius, z[idx], torch.full_like(dist, -float("inf")))
    front = idx.gather(1, depth.argmax(1, keepdim=True))[:, 0]
    on_body = (dist <= radius).any(1)
    return torch.where(on_body, front, idx[:, 0]).reshape(grid, grid)


def structured_pixel_embeddings(
    xyz: torch.Tensor,
    vertex_embeddings: torch.Tensor,
    box_sizes: Sequence,
    grid: int = 56,
    noise: float = 0.05,
    seed: int = 0,
) -> List[torch.Tensor]:
    """Per box [D, h, w] pixel embeddings as a CSE head would predict them: on a `grid` x `grid`
    map, the embedding of the visible vertex (random view) times a smooth random scale in [1, 4]
    plus Gaussian noise, bilinearly resized to the box (as the converter resizes the head
    output)."""
    from densepose_ext.converters.resample import resize_maps

    g = torch.Generator().manual_seed(seed)
    out = []
    for h, w in box_sizes:
        yaw = float(torch.rand(1, generator=g)) * 2.0 - 1.0
        vertex_ids = rendered_vertex_grid(xyz, grid, yaw)  # [grid, grid]
        emb = vertex_embeddings[vertex_ids].permute(2, 0, 1)  # [D, grid, grid]
        scale = 1 + 3 * resize_maps(torch.rand(1, 1, 4, 4, generator=g), grid, grid)[0]
        emb = emb * scale + noise * torch.randn(emb.shape, generator=g)
        out.append(resize_maps(emb[None], h, w)[0])
    return out


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def structured_inputs(box_sizes: Sequence, seed: int = 0):
    """(vertex embeddings [V, 16], per-box pixel embeddings [16, h, w]) on smpl_27554 (see
    above)."""
    xyz = mesh_vertices()
    vertex_embeddings = smooth_vertex_embeddings(xyz, seed=seed)
    return vertex_embeddings, structured_pixel_embeddings(
        xyz, vertex_embeddings, box_sizes, seed=seed
    )


def _assignment_peak_worker(
    method: str, box_sizes: Sequence, chunk_size: int, threads: int, queue
) -> None:
    """Runs in a fresh process: peak RSS growth (bytes) of one assignment over all-foreground boxes
    with structured embeddings (the resident-memory high-water mark is reset just before, via
    /proc/self/clear_refs; the mesh clustering is cached beforehand, as in steady use)."""
    from densepose_ext.converters.cse_vertices import assign_vertices
    from densepose_ext.converters.vertex_search import vertex_clusters

    torch.set_num_threads(threads)
    vertex_embeddings, embeddings = structured_inputs(box_sizes)
    masks = [torch.ones(h, w, dtype=torch.bool) for h, w in box_sizes]
    vertex_clusters(vertex_embeddings)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    before = _status_kib("VmRSS")
    assign_vertices(embeddings, vertex_embeddings, masks, chunk_size=chunk_size, method=method)
    queue.put((_status_kib("VmHWM") - before) * 1024)


def assignment_peak_memory(
    method: str, box_sizes: Sequence, chunk_size: int, threads: int = 1
) -> int:
    """Peak extra resident memory (bytes) of `assign_vertices`, measured in a fresh process (Linux).

    (tracemalloc does not see torch's allocator, hence the resident-memory high-water mark.)
    """
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    args = (method, list(box_sizes), chunk_size, threads, queue)
    proc = ctx.Process(target=_assignment_peak_worker, args=args)
    proc.start()
    value = queue.get()
    proc.join()
    return int(value)


def time_structured_assignment(
    box_sizes: Sequence, repeats: int = 1, chunk_size: int = 10000
) -> Dict[str, float]:
    """Brute force vs pruned ("auto") closest-vertex search on structured embeddings of the 3 boxes
    (all pixels foreground): median seconds, pruning statistics, one-off clustering time,
    equality."""
    from densepose_ext.converters.cse_vertices import closest_vertices
    from densepose_ext.converters.vertex_search import vertex_clusters

    vertex_embeddings, embeddings = structured_inputs(box_sizes)
    pixels = torch.cat([e.flatten(1).t() for e in embeddings])  # [P, 16]
    t0 = time.perf_counter()
    vertex_clusters(vertex_embeddings)
    clustering_s = time.perf_counter() - t0
    times: Dict[str, List[float]] = {"brute_force": [], "auto": []}
    stats: Dict[str, float] = {}
    for _ in range(repeats):
        for method in times:
            t0 = time.perf_counter()
            ids, dists = closest_vertices(
                pixels, vertex_embeddings, chunk_size=chunk_size, method=method, stats=stats
            )
            times[method].append(time.perf_counter() - t0)
            if method == "brute_force":
                ref = (ids, dists)
    brute_s, pruned_s = statistics.median(times["brute_force"]), statistics.median(times["auto"])
    return {
        "pixels": pixels.shape[0],
        "brute_force_s": brute_s,
        "pruned_s": pruned_s,
        "speedup": brute_s / pruned_s,
        "clustering_s": clustering_s,
        "evaluated_fraction": stats["evaluated_fraction"],
        "pruned_pixels": stats["pruned_pixels"],
        "identical": bool(torch.equal(ids, ref[0]) and torch.equal(dists, ref[1])),
        "mean_norm": float(pixels.norm(dim=1).mean()),
    }


def time_unstructured_assignment(
    num_pixels: int = 50000, chunk_size: int = 10000
) -> Dict[str, float]:
    """Worst case for the pruning: random pixel and vertex embeddings (no structure); "auto" must
    notice after its probe and hand over to the brute force."""
    from densepose_ext.converters.cse_vertices import closest_vertices

    g = torch.Generator().manual_seed(0)
    vertex_embeddings = torch.nn.functional.normalize(torch.randn(27554, 16, generator=g), dim=1)
    pixels = torch.randn(num_pixels, 16, generator=g) * 2
    out: Dict[str, float] = {"pixels": num_pixels}
    for method in ("brute_force", "auto", "pruned"):
        stats: Dict[str, float] = {}
        t0 = time.perf_counter()
        closest_vertices(
            pixels, vertex_embeddings, chunk_size=chunk_size, method=method, stats=stats
        )
        out[f"{method}_s"] = time.perf_counter() - t0
        out[f"{method}_evaluated"] = stats.get("evaluated_fraction", 1.0)
    return out


def run_cse_benchmark(
    config_path: Path = DEFAULT_CONFIG,
    repeats: int = 1,
    chunk_size: int = 10000,
    with_model: bool = True,
) -> Dict[str, object]:
    box_sizes = [(int(b[3] - b[1]), int(b[2] - b[0])) for b in BOXES_XYXY]
    threads = torch.get_num_threads()
    report: Dict[str, object] = {
        "config": str(config_path),
        "box_sizes": box_sizes,
        "threads": threads,
        "load": os.getloadavg()[0],
        "chunk_size": chunk_size,
    }
    report["structured"] = time_structured_assignment(box_sizes, repeats, chunk_size)
    report["unstructured"] = time_unstructured_assignment(chunk_size=chunk_size)
    if with_model:
        report["timing"] = time_cse_inference(config_path, repeats, chunk_size=chunk_size)
    report["peak_bytes"] = {
        m: assignment_peak_memory(m, box_sizes, chunk_size, threads)
        for m in ("brute_force", "auto")
    }
    return report


def format_report(report: Dict[str, object]) -> List[str]:
    s = report["structured"]
    lines = [
        f"CSE closest-vertex assignment, CPU, {report['threads']} threads (load average at start "
        f"{report['load']:.1f}), 3 boxes of an {IMAGE_HW[0]}x{IMAGE_HW[1]} image "
        f"{report['box_sizes']}, all {s['pixels']} px foreground, "
        "mesh smpl_27554 (27554 vertices), "
        f"structured embeddings (smooth on the mesh, rendered views, |e| ~ {s['mean_norm']:.1f}), "
        f"brute-force chunk {report['chunk_size']} px, pruned step 32768 px:",
        f"  brute force: {s['brute_force_s'] * 1000:.0f} ms "
        f"({s['brute_force_s'] / s['pixels'] * 1e6:.1f} us/px)",
        f"  pruned (auto): {s['pruned_s'] * 1000:.0f} ms ({s['pruned_s'] / s['pixels'] * 1e6:.2f} "
        "us/px), "
        f"speed-up x{s['speedup']:.1f}, identical ids and distances: {s['identical']}",
        f"  distances evaluated: {100 * s['evaluated_fraction']:.2f}% of pixels x vertices "
        f"({s['pruned_pixels']} px pruned); one-off clustering of the mesh: "
        f"{s['clustering_s'] * 1000:.0f} ms",
    ]
    u = report["unstructured"]
    lines.append(
        f"  unstructured (random) embeddings, {u['pixels']} px: "
        f"brute force {u['brute_force_s'] * 1000:.0f} ms, "
        f"auto {u['auto_s'] * 1000:.0f} ms (probe evaluated {100 * u['auto_evaluated']:.0f}%, then "
        "brute force), "
        f"forced pruned {u['pruned_s'] * 1000:.0f} ms"
    )
    if "timing" in report:
        t = report["timing"]
        lines += [
            f"  model {Path(report['config']).name} (random weights; backbone + DensePose branch): "
            f"{t['model_s'] * 1000:.0f} ms/image",
            f"  its assignment (random weights = unstructured embeddings, {t['foreground_pixels']} "
            "fg px, auto "
            f"falls back to brute force): {t['assignment_s'] * 1000:.0f} ms/image",
        ]
    for method, peak in report["peak_bytes"].items():
        lines.append(f"  peak extra memory, {method}: {peak / 2**20:.0f} MiB")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0 = torch default)")
    parser.add_argument("--no-model", action="store_true", help="skip the model timing")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    report = run_cse_benchmark(
        args.config, args.repeats, args.chunk_size, with_model=not args.no_model
    )
    print("\n".join(format_report(report)))


if __name__ == "__main__":
    main()
