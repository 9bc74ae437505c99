"""Writes synthetic DensePose datasets: images, DensePose-COCO JSON files and the body's files.

Layout of a dataset directory `out`:

* `images/<index:06d>.jpg`: image `index` is rendered from `np.random.default_rng([seed, index])`,
  so the output does not depend on the number of worker processes;
* `annotations/train.json` (images 0 .. N-K-1) and `annotations/val.json` (the last K images);
* `body/`: mesh, geodesic distances, symmetry, texture coordinates, GPS surface data and flip
  tables of the body (see `body_files.py`);
* `params.json`: the generation parameters; a directory whose parameters match is reused.
"""

import functools
import json
import multiprocessing
import os
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .body import BodyTemplate, build_body_template
from .body_files import BodyFiles, body_file_paths, write_body_files
from .export import PERSON_CATEGORY, person_annotations
from .scene import RenderedScene, render_scene, sample_scene

__all__ = [
    "SyntheticParams",
    "SyntheticDataset",
    "body_template",
    "render_example",
    "generate_synthetic_dataset",
]

FORMAT_VERSION = 3  # 2: faces and necklines (front-of-body cues); 3: COCO keypoints


@dataclass(frozen=True)
class SyntheticParams:
    num_images: int
    size: int = 256
    seed: int = 0
    num_val: int = 0
    min_points: int = 80  # DensePose points per annotated person: uniform in [min, max]
    max_points: int = 120
    version: int = FORMAT_VERSION


@dataclass(frozen=True)
class SyntheticDataset:
    """Paths of a generated dataset (`val_json` is None when num_val = 0)."""

    root: str
    image_root: str
    train_json: str
    val_json: Optional[str]
    body: BodyFiles


@functools.lru_cache(maxsize=1)
def body_template() -> BodyTemplate:
    """The (deterministic) body template, built once per process."""
    return build_body_template()


def render_example(
    index: int, seed: int, size: int, points_per_person: Tuple[int, int] = (80, 120)
) -> Tuple[RenderedScene, List[Dict]]:
    """Renders image `index` of the dataset with `seed`: scene ground truth and its annotations."""
    rng = np.random.default_rng([seed, index])
    template = body_template()
    rendered = render_scene(template, sample_scene(rng, size, size))
    return rendered, person_annotations(
        rendered, rng, template.mesh_name, points_per_person=points_per_person
    )


def _render_and_save(
    index: int, seed: int, size: int, image_dir: str, points_per_person: Tuple[int, int]
) -> Tuple[str, List[Dict]]:
    rendered, annotations = render_example(index, seed, size, points_per_person)
    file_name = f"{index:06d}.jpg"
    cv2.imwrite(
        os.path.join(image_dir, file_name),
        rendered.image[:, :, ::-1],
        [cv2.IMWRITE_JPEG_QUALITY, 92],
    )
    return file_name, annotations


def _coco_json(
    records: Sequence[Tuple[str, List[Dict]]], indices: Sequence[int], size: int
) -> Dict:
    images, annotations = [], []
    for index in indices:
        file_name, anns = records[index]
        image_id = index + 1
        images.append({"id": image_id, "file_name": file_name, "height": size, "width": size})
        for ann in anns:
            annotations.append(dict(ann, id=len(annotations) + 1, image_id=image_id))
    return {
        "info": {
            "description": "densepose_ext synthetic DensePose data",
            "version": str(FORMAT_VERSION),
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [dict(PERSON_CATEGORY)],
    }


def _dataset_paths(out_dir: str, num_val: int) -> SyntheticDataset:
    ann_dir = os.path.join(out_dir, "annotations")
    return SyntheticDataset(
        root=out_dir,
        image_root=os.path.join(out_dir, "images"),
        train_json=os.path.join(ann_dir, "train.json"),
        val_json=os.path.join(ann_dir, "val.json") if num_val > 0 else None,
        body=body_file_paths(os.path.join(out_dir, "body"), body_template()),
    )


def _is_complete(out_dir: str, params: SyntheticParams) -> bool:
    params_file = os.path.join(out_dir, "params.json")
    if not os.path.isfile(params_file):
        return False
    with open(params_file) as f:
        if json.load(f) != asdict(params):
            return False
    paths = _dataset_paths(out_dir, params.num_val)
    files = [
        paths.train_json,
        paths.val_json,
        paths.body.mesh,
        paths.body.surface,
        paths.body.flip_tables,
    ]
    return all(os.path.isfile(p) for p in files if p is not None)


def generate_synthetic_dataset(
    out_dir: str,
    num_images: int,
    size: int = 256,
    seed: int = 0,
    num_val: int = 0,
    workers: int = 1,
    overwrite: bool = False,
    points_per_person: Tuple[int, int] = (80, 120),
) -> SyntheticDataset:
    """Generates (or reuses, when `params.json` matches) a synthetic dataset in `out_dir`.

    `points_per_person` (inclusive range) sets the density of the DensePose point annotations; the
    default matches DensePose-COCO (about 100 points per person).
    """
    if not 0 <= num_val <= num_images:
        raise ValueError(f"num_val={num_val} must be in [0, num_images={num_images}]")
    min_points, max_points = (int(n) for n in points_per_person)
    if not 1 <= min_points <= max_points:
        raise ValueError(
            f"points_per_person={points_per_person} must be (min, max) with 1 <= min <= max"
        )
    params = SyntheticParams(
        num_images=num_images,
        size=size,
        seed=seed,
        num_val=num_val,
        min_points=min_points,
        max_points=max_points,
    )
    paths = _dataset_paths(out_dir, num_val)
    if not overwrite and _is_complete(out_dir, params):
        return paths
    os.makedirs(paths.image_root, exist_ok=True)
    os.makedirs(os.path.dirname(paths.train_json), exist_ok=True)
    write_body_files(os.path.dirname(paths.body.mesh), body_template())
    job = functools.partial(
        _render_and_save,
        seed=seed,
        size=size,
        image_dir=paths.image_root,
        points_per_person=(min_points, max_points),
    )
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            records = pool.map(
                job, range(num_images), chunksize=max(1, num_images // (8 * workers))
            )
    else:
        records = [job(i) for i in range(num_images)]
    num_train = num_images - num_val
    splits = [(paths.train_json, range(num_train)), (paths.val_json, range(num_train, num_images))]
    for json_file, indices in splits:
        if json_file is not None:
            with open(json_file, "w") as f:
                json.dump(_coco_json(records, indices, size), f, separators=(",", ":"))
    with open(os.path.join(out_dir, "params.json"), "w") as f:
        json.dump(asdict(params), f)
    return paths
