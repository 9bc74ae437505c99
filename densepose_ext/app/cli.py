"""`python -m densepose_ext.app`: start the DensePose web page (Gradio) on one model."""

import argparse
import logging
import os
import sys
from typing import List, Optional, Tuple

from ..utils.cli_logging import logging_to_stderr
from ..utils.third_party_noise import silence_third_party_noise
from .models import ModelSpec, find_models, no_model_message
from .service import DensePoseService, JobError

__all__ = ["build_parser", "create_app", "main"]

logger = logging.getLogger("densepose_ext.app")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m densepose_ext.app",
        description="A web page (Gradio) that runs DensePose on an uploaded image or video. "
        "Without --config/--model it offers the model scripts/run_demo.sh trains and the "
        "model-zoo checkpoints already downloaded.",
    )
    parser.add_argument("--config", default=None, help="config file (YAML) or model-zoo name")
    parser.add_argument("--model", default=None, help="model weights: local path or URL (cached)")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (7860)")
    parser.add_argument(
        "--device", default=None, help="torch device (default: as apply_net.py: cuda if available)"
    )
    parser.add_argument(
        "--min-score",
        "--min_score",
        dest="min_score",
        type=float,
        default=None,
        help="minimum detection score (default 0.8 as apply_net.py show; 0.5 for the demo model)",
    )
    parser.add_argument(
        "--work-dir",
        dest="work_dir",
        default=None,
        help="where job outputs are written (default: a fresh temporary directory)",
    )
    parser.add_argument(
        "-v", "--verbosity", action="count", default=1, help="-v: info (default), -vv: debug"
    )
    # consumes the rest of the command line, as in apply_net.py: must come last
    parser.add_argument(
        "--opts",
        nargs=argparse.REMAINDER,
        default=[],
        help="config overrides KEY VALUE ... (must be the last option)",
    )
    return parser


def _models(args: argparse.Namespace) -> List[ModelSpec]:
    if bool(args.config) != bool(args.model):
        raise JobError("give both --config and --model, or neither (to pick a local model)")
    if args.config:
        name = os.path.splitext(os.path.basename(args.config))[0]
        found = [ModelSpec(name, args.config, args.model)]
    else:
        found = find_models(repo_root=os.getcwd())
    overrides = {"opts": tuple(args.opts or ())}
    if args.min_score is not None:
        overrides["min_score"] = args.min_score
    return [ModelSpec(**{**m.__dict__, **overrides}) for m in found]


def create_app(argv: Optional[List[str]] = None) -> Tuple[object, DensePoseService, object]:
    """(Gradio Blocks, service, parsed args), with the first model loaded; raises JobError when
    the model given on the command line cannot be loaded."""
    from .ui import build_app  # gradio is an optional extra: imported only here

    args = build_parser().parse_args(argv)
    models = _models(args)
    service = DensePoseService(work_root=args.work_dir, device=args.device)
    for spec in models:
        try:
            service.load(spec)
            break
        except JobError as e:
            if args.config:
                raise
            logger.warning(f"skipping {spec.name}: {e}")
    if service.model_name is None:
        logger.warning(no_model_message())
    app = build_app(service, models)
    app.queue(default_concurrency_limit=1)
    return app, service, args


def main(argv: Optional[List[str]] = None) -> int:
    """Serves until interrupted; 1 on an unusable command line or model."""
    silence_third_party_noise()
    try:
        import gradio  # noqa: F401
    except ImportError:
        print(
            'densepose_ext.app: error: gradio is not installed: pip install "densepose_ext[app]"',
            file=sys.stderr,
        )
        return 1
    args = build_parser().parse_args(argv)
    with logging_to_stderr(args.verbosity, names=("densepose_ext", "detectron2")):
        try:
            app, service, args = create_app(argv)
        except (JobError, ValueError, OSError) as e:
            print(f"densepose_ext.app: error: {e}", file=sys.stderr)
            return 1
        logger.info(f"serving {service.model_name or 'no model'} on http://{args.host}:{args.port}")
        app.launch(server_name=args.host, server_port=args.port, footer_links=["api"])
    return 0
