"""A cascade model (mask + keypoints) trains one step in 2 processes over gloo (DDP on CPU)."""

import json
import os

import pytest
import torch


def _worker(output_dir: str) -> None:
    from cascade_utils import synthetic_batch, tiny_cascade_cfg
    from detectron2.modeling import build_model
    from detectron2.utils import comm
    from detectron2.utils.events import EventStorage

    from densepose_ext.engine.distributed import close_process_group
    from densepose_ext.engine.trainer import create_ddp_model

    torch.set_num_threads(1)
    rank = comm.get_rank()
    data_dir = os.path.join(output_dir, f"data{rank}")
    os.makedirs(data_dir, exist_ok=True)
    batch = synthetic_batch(data_dir, num_images=1, seed=rank)  # different images per process
    torch.manual_seed(0)  # same initial weights everywhere
    model = create_ddp_model(build_model(tiny_cascade_cfg(True, True)).train())
    assert isinstance(model, torch.nn.parallel.DistributedDataParallel)
    assert model.device_ids is None
    with EventStorage():
        losses = model(batch)
    sum(losses.values()).backward()
    heads = model.module.roi_heads
    grads = {
        name: float(p.grad.double().sum())
        for name, p in heads.named_parameters()
        if name.startswith(("cascade.", "keypoint_predictor_stage2.", "mask_refine."))
    }
    result = {"loss_keypoint": float(losses["loss_keypoint"]), "grads": grads}
    with open(os.path.join(output_dir, f"rank{rank}.json"), "w") as f:
        json.dump(result, f)
    close_process_group()


@pytest.mark.slow  # ~50 s on the shared 2-core machine (process spawn + imports)
def test_two_process_gloo_training_step(tmp_path):
    from detectron2.engine import launch

    launch(_worker, 2, dist_url=f"file://{tmp_path}/init", args=(str(tmp_path),))
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0]["loss_keypoint"] != ranks[1]["loss_keypoint"]  # different data
    assert ranks[0]["grads"] and ranks[0]["grads"].keys() == ranks[1]["grads"].keys()
    for name, value in ranks[0]["grads"].items():  # gradients were averaged across processes
        assert abs(value - ranks[1]["grads"][name]) <= 1e-5 * max(1.0, abs(value)), name
