"""Runs an exported DensePose model (TorchScript `.pt` / `.ts` or ONNX `.onnx`) on images or videos.

Standalone: needs numpy and OpenCV, plus torch (TorchScript) or onnxruntime (ONNX); it imports
neither detectron2 nor densepose_ext, so this file can be copied and run on its own:

    python run.py MODEL_FILE INPUT [--output DIR] [--min-score 0.5] [--device cpu|cuda] [--save-npz]

INPUT is an image, a folder of images or a video. Visualisations are written next to the input
(or into --output): `<name>.densepose.png` per image, `<name>.densepose.mp4` per video. With
--save-npz, results go to `<name>.densepose.npz` per image and `<name>.densepose_npz/<frame>.npz`
(6-digit 0-based frame number) per video frame.

The model takes a uint8 [H, W, 3] BGR image and returns S x S box-relative DensePose maps; the
per-box results are computed here with numpy / OpenCV (bilinear resize, align_corners=False):
chart models -> part labels int64 [h, w] (0 = background, 1..24) and U, V float32 [2, h, w];
CSE models -> foreground mask and the closest mesh vertex per pixel, using the normalised vertex
embeddings stored in the model file.
"""

import argparse
import json
import os
import sys
import warnings
from typing import Dict, Iterator, List, Optional, Tuple

import cv2
import numpy as np

METADATA_KEY = "densepose_metadata.json"
VERTEX_EMBEDDINGS_PREFIX = "vertex_embeddings/"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm")
DISTANCE_CHUNK = 10000  # pixels per [chunk, V] distance matrix


def file_format(path: str) -> str:
    """ "torchscript" (a zip archive, whatever the extension) or "onnx" (anything else)."""
    with open(path, "rb") as f:
        return "torchscript" if f.read(4) == b"PK\x03\x04" else "onnx"


class ExportedDensePose:
    """An exported model: `model(image_bgr)` -> dict of numpy outputs (names from the metadata).

    Raises ValueError for a file of another calling convention (`--interface` other than the
    default) or without our metadata, naming the file.
    """

    def __init__(self, path: str, device: str = "cpu"):
        self.path = path
        self.device = device
        if file_format(path) == "onnx":
            self._load_onnx(path, device)
        else:
            self._load_torchscript(path, device)
        interface = self.metadata.get("interface", "densepose_ext")
        if interface != "densepose_ext":
            raise ValueError(
                f"{path} was exported with --interface {interface} (the calling convention of "
                "another tool); this runner and apply_net take files of the default --interface "
                "densepose_ext"
            )
        self.output_names: List[str] = self.metadata["output_names"]
        self.mesh_names: List[str] = self.metadata.get("mesh_names", [])
        self.is_cse = self.metadata.get("family") == "cse"

    def _load_onnx(self, path: str, device: str) -> None:
        import onnxruntime as ort

        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda"):
            providers.insert(0, "CUDAExecutionProvider")
        self._session = ort.InferenceSession(path, providers=providers)
        metadata = self._session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        if metadata is None:
            raise ValueError(f"{path} is an ONNX model without DensePose metadata ({METADATA_KEY})")
        self.metadata = json.loads(metadata)
        self._run = lambda image: self._session.run(None, {"image": image})

    def _load_torchscript(self, path: str, device: str) -> None:
        import torch
        import torchvision  # noqa: F401  (registers the torchvision::nms / roi_align ops)

        extra = {METADATA_KEY: ""}
        with warnings.catch_warnings():  # torch deprecates TorchScript; this file is one
            warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated")
            module = torch.jit.load(path, map_location=device, _extra_files=extra)
        if not extra[METADATA_KEY]:
            raise ValueError(f"{path} is a TorchScript file without DensePose metadata")
        self.metadata = json.loads(extra[METADATA_KEY])

        def run(image: np.ndarray) -> list:
            with torch.no_grad():
                outputs = module(torch.from_numpy(image).to(device))
            return [o.cpu().numpy() for o in outputs]

        self._run = run

    def __call__(self, image_bgr: np.ndarray) -> Dict[str, np.ndarray]:
        if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            raise ValueError(
                f"expected a uint8 HxWx3 BGR image, got {image_bgr.dtype} {image_bgr.shape}"
            )
        outputs = self._run(np.ascontiguousarray(image_bgr))
        return dict(zip(self.output_names, outputs))

    def vertex_embeddings(self, outputs: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """mesh name -> normalised vertex embeddings [V, D] (constant outputs of the model)."""
        return {m: outputs[VERTEX_EMBEDDINGS_PREFIX + m] for m in self.mesh_names}


# ---- per-box results ---------------------------------------------------------------------------


def int_boxes_xywh(boxes_xyxy: np.ndarray) -> np.ndarray:
    """[N, 4] XYXY -> int64 [N, 4] (x, y, w, h): each value truncated separately, w, h >= 1."""
    b = boxes_xyxy.astype(np.float32)
    xywh = np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1)
    out = np.trunc(xywh).astype(np.int64)
    out[:, 2:] = np.maximum(out[:, 2:], 1)
    return out


def resize_maps(maps: np.ndarray, h: int, w: int) -> np.ndarray:
    """float32 [C, S, S] -> [C, h, w], bilinear with half-pixel centres (align_corners=False)."""
    channels = []
    for start in range(0, maps.shape[0], 4):  # OpenCV resizes up to 4 channels at a time
        chunk = np.ascontiguousarray(maps[start : start + 4].transpose(1, 2, 0))
        resized = cv2.resize(chunk, (w, h), interpolation=cv2.INTER_LINEAR)
        channels.append(resized.reshape(h, w, -1).transpose(2, 0, 1))
    return np.concatenate(channels, axis=0)


def chart_result(
    outputs: Dict[str, np.ndarray], i: int, box_xywh: np.ndarray
) -> Tuple[np.ndarray, np.ndarray]:
    """Box i -> (labels int64 [h, w], uv float32 [2, h, w]); U, V are 0 on the background."""
    h, w = int(box_xywh[3]), int(box_xywh[2])
    foreground = resize_maps(outputs["coarse_segm"][i], h, w).argmax(axis=0) > 0
    labels = resize_maps(outputs["fine_segm"][i], h, w).argmax(axis=0).astype(np.int64) * foreground
    uv = np.zeros((2, h, w), np.float32)
    for k, name in enumerate(("u", "v")):
        values = np.take_along_axis(resize_maps(outputs[name][i], h, w), labels[None], axis=0)[0]
        uv[k] = np.where(labels > 0, values, 0.0)
    return labels, uv


def closest_vertices(pixels: np.ndarray, vertex_embeddings: np.ndarray) -> np.ndarray:
    """[P, D] raw pixel embeddings, [V, D] normalised vertex embeddings -> int64 [P] vertex ids."""
    ids = np.zeros(len(pixels), np.int64)
    vertex_sq = (vertex_embeddings * vertex_embeddings).sum(axis=1)[None]
    for start in range(0, len(pixels), DISTANCE_CHUNK):
        chunk = pixels[start : start + DISTANCE_CHUNK]
        dist = (
            (-2 * chunk) @ vertex_embeddings.T
            + (chunk * chunk).sum(axis=1, keepdims=True)
            + vertex_sq
        )
        ids[start : start + len(chunk)] = dist.argmin(axis=1)
    return ids


def cse_result(
    outputs: Dict[str, np.ndarray], i: int, box_xywh: np.ndarray, vertex_embeddings: np.ndarray
) -> Tuple[np.ndarray, np.ndarray]:
    """Box i -> (mask bool [h, w], vertex ids int64 [h, w], 0 outside the mask)."""
    h, w = int(box_xywh[3]), int(box_xywh[2])
    mask = resize_maps(outputs["coarse_segm"][i], h, w).argmax(axis=0) > 0
    embedding = resize_maps(outputs["embedding"][i], h, w)  # [D, h, w]
    vertices = np.zeros((h, w), np.int64)
    vertices[mask] = closest_vertices(embedding[:, mask].T, vertex_embeddings)
    return mask, vertices


def mesh_for_class(metadata: dict, class_id: int) -> Optional[str]:
    """Mesh name of a class, or None when the model maps it to no mesh (or has no embedder)."""
    mesh = metadata.get("class_to_mesh_name", {}).get(str(class_id))
    return mesh if mesh in metadata.get("mesh_names", []) else None


def cse_mask_only(
    outputs: Dict[str, np.ndarray], i: int, box_xywh: np.ndarray
) -> Tuple[np.ndarray, np.ndarray]:
    """(mask, all-zero vertices) for CSE detections without vertex embeddings."""
    h, w = int(box_xywh[3]), int(box_xywh[2])
    mask = resize_maps(outputs["coarse_segm"][i], h, w).argmax(axis=0) > 0
    return mask, np.zeros((h, w), np.int64)


# ---- visualisation -----------------------------------------------------------------------------


def _part_colors() -> np.ndarray:
    """[25, 3] uint8 BGR colours for part labels 0..24."""
    ramp = np.linspace(0, 255, 25).astype(np.uint8)[:, None]
    return cv2.applyColorMap(ramp, cv2.COLORMAP_JET)[:, 0]


def _vertex_colors(vertex_embeddings: np.ndarray) -> np.ndarray:
    """[V, 3] uint8 colours: the 3 principal components of the embeddings, scaled to 0..255."""
    centred = vertex_embeddings - vertex_embeddings.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    proj = centred @ vt[:3].T
    low, high = proj.min(axis=0), proj.max(axis=0)
    return ((proj - low) / np.maximum(high - low, 1e-6) * 255).astype(np.uint8)


class Visualizer:
    """Draws DensePose results (parts or CSE vertex colours), boxes and scores on a BGR image."""

    def __init__(self, model: ExportedDensePose, min_score: float = 0.5, alpha: float = 0.6):
        self.model = model
        self.min_score = min_score
        self.alpha = alpha
        self.part_colors = _part_colors()
        self._vertex_colors: Dict[str, np.ndarray] = {}

    def results(self, image_bgr: np.ndarray) -> dict:
        """Model outputs + per-box results of the detections scoring >= min_score."""
        outputs = self.model(image_bgr)
        keep = np.nonzero(outputs["scores"] >= self.min_score)[0]
        boxes = int_boxes_xywh(outputs["boxes"][keep]) if len(keep) else np.zeros((0, 4), np.int64)
        per_box = []
        embeddings = self.model.vertex_embeddings(outputs) if self.model.is_cse else {}
        for j, i in enumerate(keep):
            if self.model.is_cse:
                mesh = mesh_for_class(self.model.metadata, int(outputs["classes"][i]))
                if mesh is None:
                    per_box.append((None,) + cse_mask_only(outputs, i, boxes[j]))
                else:
                    per_box.append((mesh,) + cse_result(outputs, i, boxes[j], embeddings[mesh]))
            else:
                per_box.append(chart_result(outputs, i, boxes[j]))
        return {"outputs": outputs, "keep": keep, "boxes_xywh": boxes, "per_box": per_box}

    def _colors(self, item, embeddings) -> Tuple[np.ndarray, np.ndarray]:
        if not self.model.is_cse:
            labels, _uv = item
            return self.part_colors[labels], labels > 0
        mesh, mask, vertices = item
        if mesh is None:  # no vertex embeddings: plain foreground colour
            return np.full(mask.shape + (3,), 200, np.uint8), mask
        if mesh not in self._vertex_colors:
            self._vertex_colors[mesh] = _vertex_colors(embeddings[mesh])
        return self._vertex_colors[mesh][vertices], mask

    def draw(self, image_bgr: np.ndarray, results: dict) -> np.ndarray:
        canvas = image_bgr.copy()
        outputs = results["outputs"]
        embeddings = self.model.vertex_embeddings(outputs) if self.model.is_cse else {}
        height, width = canvas.shape[:2]
        order = np.argsort(outputs["scores"][results["keep"]], kind="stable")  # best drawn last
        for j in order:
            x, y, w, h = (int(v) for v in results["boxes_xywh"][j])
            colors, mask = self._colors(results["per_box"][j], embeddings)
            x1, y1 = min(x + w, width), min(y + h, height)
            region = canvas[y:y1, x:x1]
            m = mask[: y1 - y, : x1 - x]
            blended = (1 - self.alpha) * region[m] + self.alpha * colors[: y1 - y, : x1 - x][m]
            region[m] = blended.astype(np.uint8)
            i = results["keep"][j]
            cv2.rectangle(canvas, (x, y), (x + w, y + h), (0, 255, 0), 1)
            label = self._class_name(int(outputs["classes"][i]))
            cv2.putText(
                canvas,
                f"{label} {outputs['scores'][i]:.2f}",
                (x, max(y - 3, 10)),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.4,
                (0, 255, 0),
                1,
            )
        return canvas

    def _class_name(self, class_id: int) -> str:
        names = self.model.metadata.get("class_names", [])
        return names[class_id] if 0 <= class_id < len(names) else str(class_id)


# ---- inputs and outputs ------------------------------------------------------------------------


def list_images(path: str) -> List[str]:
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.lower().endswith(IMAGE_EXTENSIONS))
        return [os.path.join(path, n) for n in names]
    return [path]


def output_path(input_path: str, output_dir: Optional[str], suffix: str) -> str:
    stem = os.path.splitext(os.path.basename(input_path))[0]
    folder = output_dir or os.path.dirname(os.path.abspath(input_path))
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, stem + suffix)


def save_npz(path: str, results: dict) -> None:
    """Raw outputs (kept detections) and per-box results as `<field>_<i>` arrays."""
    keep = results["keep"]
    arrays = {
        k: v[keep]
        for k, v in results["outputs"].items()
        if not k.startswith(VERTEX_EMBEDDINGS_PREFIX)
    }
    arrays["boxes_xywh_int"] = results["boxes_xywh"]
    for j, item in enumerate(results["per_box"]):
        if len(item) == 2:
            arrays[f"labels_{j}"], arrays[f"uv_{j}"] = item
        else:
            arrays[f"mesh_{j}"] = np.array(item[0] or "")
            arrays[f"mask_{j}"], arrays[f"vertices_{j}"] = item[1], item[2]
    np.savez_compressed(path, **arrays)


def run_images(
    vis: Visualizer, paths: List[str], output_dir: Optional[str], with_npz: bool
) -> List[str]:
    written = []
    for path in paths:
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        if image is None:
            print(f"skipping unreadable image {path}", file=sys.stderr)
            continue
        results = vis.results(image)
        target = output_path(path, output_dir, ".densepose.png")
        cv2.imwrite(target, vis.draw(image, results))
        if with_npz:
            save_npz(output_path(path, output_dir, ".densepose.npz"), results)
        print(f"{path}: {len(results['keep'])} detections -> {target}")
        written.append(target)
    return written


def video_frames(capture) -> Iterator[np.ndarray]:
    while True:
        ok, frame = capture.read()
        if not ok:
            return
        yield frame


def run_video(vis: Visualizer, path: str, output_dir: Optional[str], with_npz: bool = False) -> str:
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise RuntimeError(f"cannot open video {path}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    target = output_path(path, output_dir, ".densepose.mp4")
    npz_dir = output_path(path, output_dir, ".densepose_npz") if with_npz else None
    if npz_dir:
        os.makedirs(npz_dir, exist_ok=True)
    writer = None
    count = 0
    for frame in video_frames(capture):
        if writer is None:
            size = (frame.shape[1], frame.shape[0])
            writer = cv2.VideoWriter(target, cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        results = vis.results(frame)
        writer.write(vis.draw(frame, results))
        if npz_dir:
            save_npz(os.path.join(npz_dir, f"{count:06d}.npz"), results)
        count += 1
    capture.release()
    if writer is not None:
        writer.release()
    print(f"{path}: {count} frames -> {target}" + (f" and {npz_dir}" if npz_dir else ""))
    return target


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Run an exported DensePose model (TorchScript or ONNX)."
    )
    parser.add_argument("model", help="exported model file (.pt / .ts TorchScript, .onnx ONNX)")
    parser.add_argument("input", help="image, folder of images or video")
    parser.add_argument("--output", default=None, help="output folder (default: next to the input)")
    parser.add_argument("--min-score", type=float, default=0.5, help="drawn detections' min score")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument(
        "--save-npz",
        action="store_true",
        help="also write the results as .npz (per image; per frame for a video)",
    )
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if not os.path.exists(args.input):
        print(f"input not found: {args.input}", file=sys.stderr)
        return 2
    if args.output and os.path.exists(args.output) and not os.path.isdir(args.output):
        print(f"error: --output {args.output}: a file of that name exists", file=sys.stderr)
        return 2
    try:
        model = ExportedDensePose(args.model, args.device)
    except Exception as e:  # missing, not a model file, another interface, no metadata
        print(f"error: cannot run {args.model}: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    vis = Visualizer(model, min_score=args.min_score)
    if os.path.isfile(args.input) and args.input.lower().endswith(VIDEO_EXTENSIONS):
        run_video(vis, args.input, args.output, args.save_npz)
    else:
        paths = list_images(args.input)
        if not paths:
            print(f"no images in {args.input}", file=sys.stderr)
            return 2
        run_images(vis, paths, args.output, args.save_npz)
    return 0


if __name__ == "__main__":
    sys.exit(main())
