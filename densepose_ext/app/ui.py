"""The Gradio page: upload an image or video, pick an output, see the result, download it.

One event does the work, `/densepose` (also the API endpoint, see docs/app.md); it shares the
concurrency group "model" (limit 1) with the model picker, so Gradio's queue runs one model job
at a time. Cancel is its own unqueued event: it sets the running job's cancel flag, and the job
stops before its next frame. Every failure becomes a one-line message in the page.
"""

import contextvars
import logging
import os
import threading
from typing import Dict, List, Optional, Sequence

import gradio as gr

from ..vis.base import BACKGROUNDS
from .models import ModelSpec, no_model_message
from .renderers import OUTPUT_MODES
from .service import DensePoseService, JobError, JobRequest, JobResult

__all__ = ["API_NAME", "OUTPUT_LABELS", "build_app"]

logger = logging.getLogger(__name__)

API_NAME = "densepose"
OUTPUT_LABELS = {
    "visualizers": "Visualizers (below)",
    "magicanimate": "Hint preset: MagicAnimate",
    "civitai": "Hint preset: CivitAI",
    "iuv": "IUV image",
    "texture": "Texture from an atlas",
}
CHART_VISUALIZERS = ["dp_segm", "dp_u", "dp_v", "dp_contour", "bbox"]  # in drawing order
CSE_VISUALIZERS = ["dp_vertex", "bbox"]
INTRO = (
    "# DensePose\n"
    "Upload a photo or a short video, choose what to draw, press **Run**. The picture or video "
    "is drawn exactly as `apply_net.py show` draws it; the IUV PNGs and the dump (`.pkl`, "
    "`.json`) are below it."
)


class _CancelFlags:
    """One cancel event per browser / API session (Gradio's session hash)."""

    def __init__(self):
        self._flags: Dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def fresh(self, session: str) -> threading.Event:
        with self._lock:
            self._flags[session] = threading.Event()
            return self._flags[session]

    def cancel(self, session: str) -> bool:
        with self._lock:
            flag = self._flags.get(session)
        if flag is None:
            return False
        flag.set()
        return True


def _session(request: Optional[gr.Request]) -> str:
    return getattr(request, "session_hash", None) or "default"


def _visualizer_choices(service: DensePoseService) -> List[str]:
    return CHART_VISUALIZERS if service.is_chart else CSE_VISUALIZERS


def _drawing_order(names: Sequence[str], order: Sequence[str]) -> tuple:
    """The checked visualizers in the page's left-to-right order (the API may name others)."""
    rank = {name: k for k, name in enumerate(order)}
    return tuple(sorted(names, key=lambda n: rank.get(n, len(rank))))


def _error(message: str):
    return _outputs(JobResult(message=f"**Error:** {message}"))


def _outputs(result: JobResult):
    """Values of (picture, video, iuv files, pkl, json, message)."""
    return (
        result.picture,
        result.video,
        result.iuv_files or None,
        result.dump_pkl,
        result.dump_json,
        result.message,
    )


def _run_handler(service: DensePoseService, flags: _CancelFlags):
    def densepose(
        input_file: Optional[str],
        output: str = "visualizers",
        visualizers: Optional[Sequence[str]] = ("dp_segm", "bbox"),
        background: str = "grey",
        atlas: Optional[str] = None,
        temporal: bool = False,
        square_crop: Optional[float] = 0,
        request: gr.Request = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way of asking for it)
    ):
        """Runs DensePose on one image or video.

        Args:
            input_file: the image or video.
            output: visualizers, magicanimate, civitai, iuv or texture.
            visualizers: apply_net show names, for output "visualizers".
            background: grey, original or black.
            atlas: chart texture atlas image, for output "texture".
            temporal: videos: track people and smooth their outputs (apply_net --temporal).
            square_crop: videos: centre-crop and resize every frame to this size (0: off).
        Returns:
            picture, video, IUV PNGs (zip for a video), results.pkl, results.json, message.
        """
        if service.model_name is None:
            return _error(no_model_message())
        if not input_file:
            return _error("upload an image or a video first")
        name = os.path.basename(input_file)
        cancel = flags.fresh(_session(request))

        # Gradio finds the event of a progress update in context variables, which threads do not
        # inherit; the run loop reports from its writer thread, hence the copied context.
        context = contextvars.copy_context()

        def on_progress(done: int, total: Optional[int]) -> None:
            if total and total > 1:
                context.run(progress, (done, total), desc="DensePose", unit="frames")

        job = JobRequest(
            input_path=input_file,
            mode=output,
            visualizers=_drawing_order(visualizers or (), _visualizer_choices(service)),
            background=background,
            atlas_path=atlas,
            display_name=name,
            temporal=bool(temporal),
            square_crop=int(square_crop or 0) or None,
        )
        try:
            result = service.run(job, on_progress=on_progress, cancel=cancel)
        except JobError as e:
            return _error(str(e))
        except Exception:  # the app keeps serving; the details go to the server log
            logger.exception(f"job on {name} failed")
            return _error(f"internal error while processing {name} (details in the server log)")
        return _outputs(result)

    return densepose


def _model_handler(service: DensePoseService, models: Dict[str, ModelSpec]):
    def select_model(name: str):
        if name not in models:
            return f"**Error:** unknown model {name!r}", gr.update()
        try:
            service.load(models[name])
        except JobError as e:
            return f"**Error:** {e}", gr.update()
        choices = _visualizer_choices(service)
        return _model_line(service), gr.update(choices=choices, value=[choices[0], "bbox"])

    return select_model


def _model_line(service: DensePoseService) -> str:
    if service.model_name is None:
        return f"**{no_model_message()}**"
    return f"Model: `{service.model_name}`"


def build_app(service: DensePoseService, models: Sequence[ModelSpec]) -> gr.Blocks:
    """The page; `service` should already hold a model (the first of `models`) so that the first
    request does not pay the load. `models` are the choices of the model picker."""
    by_name = {m.name: m for m in models}
    flags = _CancelFlags()
    vis_choices = _visualizer_choices(service)
    # no usage analytics (works offline); Gradio's cache of uploads and results: files older than
    # 6 h are deleted every hour
    with gr.Blocks(
        title="DensePose", analytics_enabled=False, delete_cache=(3600, 6 * 3600)
    ) as app:
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column():
                model_choice = gr.Dropdown(
                    choices=list(by_name),
                    value=service.model_name if service.model_name in by_name else None,
                    label="Model",
                    interactive=len(by_name) > 1,
                    elem_id="dp-model",
                )
                model_line = gr.Markdown(_model_line(service), elem_id="dp-model-line")
                input_file = gr.File(label="Image or video", elem_id="dp-input")
                output = gr.Radio(
                    choices=[(OUTPUT_LABELS[m], m) for m in OUTPUT_MODES],
                    value="visualizers",
                    label="Output",
                    elem_id="dp-output",
                )
                visualizers = gr.CheckboxGroup(
                    choices=vis_choices,
                    value=[vis_choices[0], "bbox"],
                    label="Visualizers (drawn left to right)",
                    elem_id="dp-visualizers",
                )
                background = gr.Radio(
                    choices=list(BACKGROUNDS), value="grey", label="Background", elem_id="dp-bg"
                )
                atlas = gr.File(
                    label="Texture atlas (for the output 'Texture from an atlas')",
                    file_types=["image"],
                    elem_id="dp-atlas",
                )
                with gr.Accordion("Video options", open=False):
                    temporal = gr.Checkbox(
                        value=False,
                        label="Track people and smooth over time (apply_net --temporal)",
                        elem_id="dp-temporal",
                    )
                    square_crop = gr.Number(
                        value=0,
                        precision=0,
                        minimum=0,
                        label="Square crop size in pixels (0: off; 512 for MagicAnimate)",
                        elem_id="dp-square-crop",
                    )
                with gr.Row():
                    run = gr.Button("Run", variant="primary", elem_id="dp-run")
                    cancel = gr.Button("Cancel", variant="stop", elem_id="dp-cancel")
            with gr.Column():
                message = gr.Markdown(label="Message", elem_id="dp-message")
                picture = gr.Image(
                    type="filepath", label="Picture", interactive=False, elem_id="dp-picture"
                )
                video = gr.Video(
                    label="Video", interactive=False, visible=False, elem_id="dp-video"
                )
                iuv = gr.File(label="IUV PNGs", file_count="multiple", elem_id="dp-iuv")
                dump_pkl = gr.File(label="Dump (.pkl)", elem_id="dp-pkl")
                dump_json = gr.File(label="Dump (.json)", elem_id="dp-json")
        run.click(
            _run_handler(service, flags),
            inputs=[input_file, output, visualizers, background, atlas, temporal, square_crop],
            outputs=[picture, video, iuv, dump_pkl, dump_json, message],
            api_name=API_NAME,
            concurrency_limit=1,
            concurrency_id="model",
        ).then(  # the picture or the video shows, not both (page only: not part of the API)
            lambda shown: (gr.update(visible=shown is None), gr.update(visible=shown is not None)),
            inputs=[video],
            outputs=[picture, video],
            queue=False,
            api_visibility="private",
        )
        cancel.click(
            _cancel_handler(flags),
            inputs=None,
            outputs=None,
            api_name="cancel",
            queue=False,
        )
        model_choice.change(
            _model_handler(service, by_name),
            inputs=[model_choice],
            outputs=[model_line, visualizers],
            api_name="select_model",
            concurrency_limit=1,
            concurrency_id="model",
        )
    return app


def _cancel_handler(flags: _CancelFlags):
    def cancel(request: gr.Request = None) -> None:
        if not flags.cancel(_session(request)):
            logger.info("cancel: no job of this session is running")

    return cancel
