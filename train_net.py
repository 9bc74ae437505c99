#!/usr/bin/env python
"""Train or evaluate a DensePose model with detectron2's standard machinery.

python train_net.py --config-file configs/densepose_rcnn_R_50_FPN_s1x.yaml [--resume]
python train_net.py --config-file ... --eval-only MODEL.WEIGHTS model.pth
python train_net.py --config-file ... --num-gpus 2 MODEL.DEVICE cpu   # 2 processes (gloo)
python train_net.py --config-file cse/... --mesh smpl_27554=/data/meshes/smpl_27554.pkl ...
"""

import os
import sys
from datetime import timedelta

from detectron2.engine import default_argument_parser, default_setup, hooks, launch
from detectron2.engine.launch import DEFAULT_TIMEOUT
from detectron2.evaluation import verify_results
from detectron2.utils import comm
from detectron2.utils.file_io import PathManager
from detectron2.utils.logger import setup_logger

from densepose_ext.config import is_cse, load_densepose_config
from densepose_ext.data.meshes import (
    MESH_DIR_ENV,
    LocalMeshError,
    add_mesh_option,
    check_mesh_names,
    parse_mesh_options,
    register_local_meshes,
    require_meshes,
)
from densepose_ext.engine import Trainer, close_process_group
from densepose_ext.modeling import DensePoseCheckpointer
from densepose_ext.modeling.registry import DENSEPOSE_LOSS_REGISTRY
from densepose_ext.utils.files import OutputPathError, check_output_dir
from densepose_ext.utils.third_party_noise import silence_third_party_noise


def load_config(args):
    """DensePose keys + the config file (path, URL or model-zoo name) + command-line overrides."""
    return load_densepose_config(args.config_file, args.opts)


def build_argument_parser():
    """detectron2's training options plus `--mesh NAME=PATH` (repeatable)."""
    parser = default_argument_parser()
    add_mesh_option(parser)
    return parser


def register_meshes(args, cfg, check: bool = False) -> None:
    """Registers --mesh / $DENSEPOSE_MESH_DIR files (in every process); with `check`, fetches the
    mesh and geodesic-distance files of the config's CSE meshes now (one error, before the run)."""
    embedders = cfg.MODEL.ROI_DENSEPOSE_HEAD.CSE.EMBEDDERS
    local = parse_mesh_options(getattr(args, "mesh", []))
    check_mesh_names(local, [*embedders, *cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING.values()])
    register_local_meshes(local, os.environ.get(MESH_DIR_ENV) or None, names=list(embedders))
    if check and is_cse(cfg):
        meshes = [m for m in cfg.DATASETS.CLASS_TO_MESH_NAME_MAPPING.values() if m in embedders]
        require_meshes(meshes, extras=("geodists",), load=False)


def setup(args):
    silence_third_party_noise()
    cfg = load_config(args)
    register_meshes(args, cfg)
    cfg.freeze()
    default_setup(cfg, args)
    setup_logger(output=cfg.OUTPUT_DIR, distributed_rank=comm.get_rank(), name="densepose")
    return cfg


def main(args):
    result = run(args)
    close_process_group()
    return result


def run(args):
    """Training, or evaluation with --eval-only, in this process."""
    cfg = setup(args)
    # keyword arguments such as `timeout_sec` reach PathManager handlers that do not declare them
    PathManager.set_strict_kwargs_checking(False)
    if args.eval_only:
        model = Trainer.build_model(cfg)
        DensePoseCheckpointer(model, save_dir=cfg.OUTPUT_DIR).resume_or_load(
            cfg.MODEL.WEIGHTS, resume=args.resume
        )
        results = Trainer.test(cfg, model)
        if cfg.TEST.AUG.ENABLED:
            results.update(Trainer.test_with_TTA(cfg, model))
        if comm.is_main_process():
            verify_results(cfg, results)
        return results
    trainer = Trainer(cfg)
    trainer.resume_or_load(resume=args.resume)
    if cfg.TEST.AUG.ENABLED:
        trainer.register_hooks(
            [hooks.EvalHook(0, lambda: trainer.test_with_TTA(cfg, trainer.model))]
        )
    return trainer.train()


def invoke_main() -> None:
    args = build_argument_parser().parse_args()
    cfg = load_config(args)
    try:
        check_output_dir(cfg.OUTPUT_DIR, "OUTPUT_DIR")
        register_meshes(args, cfg, check=True)
    except (LocalMeshError, OutputPathError) as e:
        sys.exit(f"train_net.py: error: {e}")
    loss = cfg.MODEL.ROI_DENSEPOSE_HEAD.LOSS_NAME
    if cfg.MODEL.DENSEPOSE_ON and not args.eval_only and loss not in DENSEPOSE_LOSS_REGISTRY:
        known = ", ".join(sorted(name for name, _ in DENSEPOSE_LOSS_REGISTRY))
        sys.exit(
            f"train_net.py: error: MODEL.ROI_DENSEPOSE_HEAD.LOSS_NAME {loss!r} is not a "
            f"registered DensePose loss (registered: {known})"
        )
    timeout = (
        DEFAULT_TIMEOUT if cfg.DENSEPOSE_EVALUATION.DISTRIBUTED_INFERENCE else timedelta(hours=4)
    )
    launch(
        main,
        args.num_gpus,
        num_machines=args.num_machines,
        machine_rank=args.machine_rank,
        dist_url=args.dist_url,
        args=(args,),
        timeout=timeout,
    )


if __name__ == "__main__":
    invoke_main()
