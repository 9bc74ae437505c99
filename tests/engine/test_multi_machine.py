"""`train_net.py --num-machines 2 --machine-rank R --dist-url tcp://...` on CPU (gloo): two
"machines" as two process groups on localhost, one process each (docs/distributed.md)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from tiny_densepose_dataset import (  # noqa: E402
    register_tiny_dataset,
    write_grid_surface,
    write_tiny_dataset,
)

DATASET = "tiny_densepose_train"  # the name run_tiny_train.py registers


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    files = write_tiny_dataset(str(tmp_path_factory.mktemp("tiny_dp")))
    register_tiny_dataset(DATASET, files)
    return files


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_train_net(tiny_data, machines: int, *args, timeout: float = 300) -> list:
    """Runs train_net.py as `machines` machines of one process each; returns their logs."""
    env = dict(os.environ, TINY_DENSEPOSE_DATA=json.dumps(tiny_data), OMP_NUM_THREADS="1")
    url = f"tcp://127.0.0.1:{_free_port()}"
    command = [sys.executable, str(HERE / "run_tiny_train.py"), "--config-file"]
    command += [str(HERE / "tiny_config.yaml"), "--num-gpus", "1"]
    processes = [
        subprocess.Popen(
            [*command, "--num-machines", str(machines), "--machine-rank", str(rank)]
            + ["--dist-url", url, *map(str, args)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in range(machines)
    ]
    logs = []
    try:
        for process in processes:
            logs.append(process.communicate(timeout=timeout)[0])
    finally:
        for process in processes:
            process.kill()
    for rank, (process, log) in enumerate(zip(processes, logs)):
        assert process.returncode == 0, f"machine {rank}:\n{log[-3000:]}"
    return logs


def _detecting_checkpoint(path: Path) -> str:
    """Random weights whose box classifier keeps every proposal (score ~0.998), so that the
    evaluation has detections and DensePose outputs to score."""
    from detectron2.checkpoint import DetectionCheckpointer
    from detectron2.modeling import build_model

    from densepose_ext.config import load_densepose_config

    cfg = load_densepose_config(str(HERE / "tiny_config.yaml"), [])
    torch.manual_seed(0)
    model = build_model(cfg)
    with torch.no_grad():
        model.roi_heads.box_predictor.cls_score.weight.zero_()
        model.roi_heads.box_predictor.cls_score.bias.copy_(torch.tensor([3.0, -3.0]))
    path.mkdir(parents=True, exist_ok=True)
    DetectionCheckpointer(model, save_dir=str(path)).save("model")
    return str(path / "model.pth")


def _csv_results(log: str) -> list:
    """detectron2's `copypaste:` result lines (task names, metric names, values)."""
    return [line.split("copypaste: ", 1)[1] for line in log.splitlines() if "copypaste: " in line]


def _predictions(output_dir: Path) -> list:
    """The DensePose evaluator's gathered records, in a fixed order (rank and id dropped: they
    say which process made a record)."""
    from densepose_ext.evaluation.evaluator import PREDICTIONS_FILE

    (path,) = output_dir.rglob(PREDICTIONS_FILE)
    records = torch.load(path, weights_only=False)
    rows = []
    for r in records:
        row = {k: v for k, v in r.items() if k not in ("rank", "record_id", "densepose")}
        if r.get("densepose") is not None:
            row["densepose"] = r["densepose"].labels_uv_uint8.tolist()
        rows.append(json.dumps(row, sort_keys=True, default=str))
    return sorted(rows)


def test_evaluation_on_two_machines_equals_one_process(tiny_data, tmp_path):
    weights = _detecting_checkpoint(tmp_path / "model")
    common = ["--eval-only", "MODEL.WEIGHTS", weights, "DATASETS.TEST", f"('{DATASET}',)"]
    common += ["DENSEPOSE_EVALUATION.SURFACE", write_grid_surface(tmp_path / "surface.npz")]
    (single,) = run_train_net(tiny_data, 1, *common, "OUTPUT_DIR", tmp_path / "one")
    two = run_train_net(tiny_data, 2, *common, "OUTPUT_DIR", tmp_path / "two")
    expected = _csv_results(single)
    assert "Task: densepose_gps" in expected and "Task: bbox" in expected, single[-3000:]
    assert _csv_results(two[0]) == expected  # metrics gathered on machine 0
    assert _csv_results(two[1]) == []  # the other machine reports nothing
    records = _predictions(tmp_path / "one")
    assert len(records) > 4  # every image has detections with DensePose results
    assert _predictions(tmp_path / "two") == records


@pytest.mark.slow  # ~60 s on the shared 2-core machine (2 training processes)
def test_training_on_two_machines(tiny_data, tmp_path):
    logs = run_train_net(
        tiny_data, 2, "OUTPUT_DIR", tmp_path, "SOLVER.MAX_ITER", 3, "SOLVER.STEPS", "(2,)"
    )
    metrics = [json.loads(line) for line in (tmp_path / "metrics.json").read_text().splitlines()]
    assert metrics[-1]["iteration"] == 2 and "loss_densepose_U" in metrics[-1]
    assert (tmp_path / "model_final.pth").is_file()
    # world size 2: each machine's process got IMS_PER_BATCH / 2 = 1 image
    assert "batch_size=1" in logs[0]
