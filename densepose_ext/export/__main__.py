"""`python -m densepose_ext.export CONFIG MODEL --format torchscript|onnx [--fp16|--bf16]
[--output F]`.

`--interface densepose-torchscript|controlnet` writes a TorchScript file with the calling
convention of those tools instead (chart models; see docs/ecosystem.md).

CONFIG: a YAML file or a model-zoo config name (e.g. `densepose_rcnn_R_50_FPN_s1x`); MODEL: a
checkpoint path or URL (downloaded with cache); `--opts KEY VALUE ...` overrides config keys.
"""

import argparse
import os
import sys
from typing import List, Optional

from detectron2.config import CfgNode

from ..config import ConfigError, load_densepose_config
from ..utils.cli import UsageError, print_error
from ..utils.cli_logging import logging_to_stderr
from ..utils.files import ExternalFileError, check_output_path
from ..utils.third_party_noise import silence_third_party_noise
from .exporter import ExportError, export_model
from .interfaces import INTERFACES

EXTENSIONS = {"torchscript": ".pt", "onnx": ".onnx"}

PROG = "python -m densepose_ext.export"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Export a DensePose model to TorchScript or ONNX (runs without detectron2).",
    )
    parser.add_argument("config", help="config YAML file or model-zoo config name")
    parser.add_argument("model", help="model weights: local path or URL")
    parser.add_argument("--format", choices=sorted(EXTENSIONS), default="torchscript")
    parser.add_argument(
        "--interface",
        choices=INTERFACES,
        default="densepose_ext",
        help="calling convention: densepose_ext (default, this package's file), "
        "densepose-torchscript (the DensePose-TorchScript runner) or controlnet (ControlNet "
        "DensePose preprocessors); the last two are TorchScript files of chart models",
    )
    precision = parser.add_mutually_exclusive_group()
    precision.add_argument(
        "--fp16",
        action="store_true",
        help="half precision for CUDA deployment (TorchScript: traced on CUDA)",
    )
    precision.add_argument(
        "--bf16", action="store_true", help="bfloat16 (TorchScript; the CPU option)"
    )
    parser.add_argument(
        "--output",
        default=None,
        help="output file (default: <config name>[_fp16|_bf16].pt/.onnx; with --interface the "
        "name the tools look for, e.g. densepose_r50_fpn_dl.torchscript)",
    )
    parser.add_argument(
        "--device", default=None, help="device to trace on (default: cuda for --fp16, else cpu)"
    )
    parser.add_argument(
        "--class-names", nargs="+", default=None, help="class names stored in the metadata"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument(
        "--opts", nargs=argparse.REMAINDER, default=[], help="KEY VALUE config overrides"
    )
    return parser


def load_config(config: str, opts: List[str]) -> CfgNode:
    """DensePose config from a YAML path, URL or model-zoo name, with `opts` merged."""
    try:
        return load_densepose_config(config, opts)
    except ConfigError as e:
        raise ExternalFileError(str(e)) from e


def config_name_of(config: str) -> str:
    return os.path.splitext(os.path.basename(config))[0]


def _export_atomically(export, output: str, **kwargs):
    """Exports under a temporary name beside `output`, then renames: a failed export leaves
    neither a half-written file nor a lost older one."""
    directory, base = os.path.split(os.path.abspath(output))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{base}.{os.getpid()}.tmp")
    try:
        result = export(output=tmp, **kwargs)
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    result.path = output
    return result


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    silence_third_party_noise()
    dtype_name = "fp16" if args.fp16 else "bf16" if args.bf16 else "fp32"
    name = config_name_of(args.config)
    if args.interface == "densepose_ext":
        suffix = "" if dtype_name == "fp32" else f"_{dtype_name}"
        output = args.output or f"{name}{suffix}{EXTENSIONS[args.format]}"
        export_kwargs = {"fmt": args.format, "device": args.device}
        what = f"{args.format}, {dtype_name}"
    else:
        from .interface_export import default_interface_output, export_interface

        if args.format != "torchscript":
            problem = f"--interface {args.interface} writes TorchScript files only"
            print_error(PROG, UsageError(problem))
            return 2
        fp16 = dtype_name == "fp16"
        output = args.output or default_interface_output(name, args.interface, fp16)
        export_kwargs = {"interface": args.interface}
        what = f"{args.interface}, {dtype_name} weights"
    try:
        check_output_path(output, "--output")
        cfg = load_config(args.config, args.opts)
        export = export_model if args.interface == "densepose_ext" else export_interface
        with logging_to_stderr(1 if args.verbose else 0):
            result = _export_atomically(
                export,
                output,
                cfg=cfg,
                weights=args.model,
                dtype_name=dtype_name,
                config_name=name,
                class_names=args.class_names,
                **export_kwargs,
            )
    except (ExportError, ExternalFileError) as e:
        print_error(PROG, e)
        return 2
    size_mb = os.path.getsize(result.path) / 2**20
    graphs = result.metadata.get("graphs")
    print(
        f"wrote {result.path} ({what}, {size_mb:.1f} MiB); "
        + (f"graphs: {', '.join(graphs)}; " if graphs else "")
        + f"outputs: {', '.join(result.metadata['output_names'])}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
