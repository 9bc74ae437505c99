"""A web page (Gradio) for the main job: image or video in, DensePose picture and dump out.

`python -m densepose_ext.app [--config C --model M] [--host H --port P] [--opts KEY VALUE ...]`;
needs the `app` extra (`pip install "densepose_ext[app]"`). See docs/app.md.
"""

from .models import ModelSpec, find_models
from .service import DensePoseService, JobError, JobRequest, JobResult

__all__ = ["DensePoseService", "JobError", "JobRequest", "JobResult", "ModelSpec", "find_models"]
