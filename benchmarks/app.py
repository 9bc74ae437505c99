"""Time of one image through the web app (gradio_client) vs `apply_net.py show`, same image.

`apply_net.py show dp_segm,bbox` runs in this process: once as a whole command (model build and
checkpoint load included), then its run loop (the objects `execute` builds, kept) on a model that
is already warm. The app runs in its own process (`python -m densepose_ext.app`, which loads the
model before serving) and gets the same image `--repeats` times through `gradio_client`; each
round trip is timed (upload, queue, model, drawing, writing the picture + IUV PNGs + pkl + json,
downloading them), and the job time the app reports. App requests and warm apply_net runs are
interleaved, so that changes of the machine's load hit both alike. Reported: medians, the ratio
app round trip / warm apply_net run, and the first app request against the later ones (the
first must not pay the model load).

    python benchmarks/app.py --threads 2 --repeats 5

Without --weights a random-weight checkpoint of --config is made whose box classifier keeps
detections (see random_checkpoints.py).
"""

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from random_checkpoints import save_detecting_checkpoint  # noqa: E402

from densepose_ext.apply.cli import _vis_options, build_parser, execute, setup_config  # noqa: E402
from densepose_ext.apply.runner import run_apply_overlapped  # noqa: E402
from densepose_ext.apply.show_writer import ShowWriter  # noqa: E402
from densepose_ext.engine.inputs import read_inputs  # noqa: E402
from densepose_ext.engine.predictor import BatchPredictor  # noqa: E402
from densepose_ext.vis.registry import build_visualizer  # noqa: E402


def random_checkpoint(config: str, path: str) -> str:
    from detectron2.modeling import build_model

    from densepose_ext.config import get_densepose_cfg

    cfg = get_densepose_cfg()
    cfg.merge_from_file(config)
    cfg.MODEL.DEVICE = "cpu"
    torch.manual_seed(0)
    return save_detecting_checkpoint(build_model(cfg), path)


def synthetic_image(folder: str, size: int) -> str:
    from densepose_ext.data.synthetic import generate_synthetic_dataset

    root = generate_synthetic_dataset(folder, 1, size=size, seed=7).image_root
    return os.path.join(root, sorted(os.listdir(root))[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def show_args(config, weights, image, out, device, opts):
    argv = ["show", config, weights, image, "dp_segm,bbox", "--output", f"{out}/apply_net.png"]
    argv += ["--no-progress", "--device", device]
    return build_parser().parse_args(argv + (["--opts", *opts] if opts else []))


def time_apply_net_command(args) -> float:
    """Seconds of one whole `apply_net.py show` (config, model build, checkpoint load, run)."""
    start = time.perf_counter()
    execute(args)
    return time.perf_counter() - start


class WarmApplyNetShow:
    """`apply_net.py show`'s run on a model built once: `execute`'s objects, kept."""

    def __init__(self, args):
        self.args = args
        self.cfg = setup_config(args)
        self.predictor = BatchPredictor(self.cfg)
        self.renderer = build_visualizer(args.visualizations, _vis_options(args))

    def __call__(self) -> float:
        writers = [ShowWriter(self.args.output, self.renderer)]
        stats = run_apply_overlapped(
            read_inputs([self.args.input]), self.predictor, writers, progress=False
        )
        assert stats.processed == 1, stats.errors
        return stats.total_seconds


def apply_net_worker(argv) -> None:
    """`--apply-net-worker`: builds `WarmApplyNetShow`, then times one run per input line."""
    args = show_args(*argv[:5], argv[5:])
    runner = WarmApplyNetShow(args)
    print(json.dumps({"cold": runner()}), flush=True)
    for _ in sys.stdin:
        in_thread = []  # the app runs jobs in a worker thread of Gradio's; apply_net in main
        worker = threading.Thread(target=lambda out: out.append(runner()), args=(in_thread,))
        worker.start()
        worker.join()
        print(json.dumps({"run": runner(), "run_in_thread": in_thread[0]}), flush=True)


class ApplyNetProcess:
    """The warm `apply_net.py show` run loop in a process of its own, like the app's."""

    def __init__(self, config, weights, image, out, device, threads, opts):
        argv = [sys.executable, os.path.abspath(__file__), "--apply-net-worker"]
        argv += [config, weights, image, out, device, *opts]
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        self.process = subprocess.Popen(
            argv, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        self.cold = self._answer()["cold"]

    def _answer(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the apply_net worker exited")
        return json.loads(line)

    def __call__(self) -> tuple:
        """(seconds in the main thread, as apply_net.py runs, and in another thread)."""
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        answer = self._answer()
        return answer["run"], answer["run_in_thread"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def start_app(config, weights, device, threads, opts, work):
    port = free_port()
    argv = [sys.executable, "-m", "densepose_ext.app", "--config", config, "--model", weights]
    argv += ["--port", str(port), "--device", device, "--work-dir", work, "-v"]
    argv += ["--opts", *opts] if opts else []
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "GRADIO_ANALYTICS_ENABLED": "False"}
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    return server, f"http://127.0.0.1:{port}/", log


def wait_for(url: str, server, timeout: float = 600):
    from gradio_client import Client

    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the app exited with status {server.returncode}")
        try:
            return Client(url, verbose=False)
        except Exception:  # not up yet
            time.sleep(0.5)
    raise RuntimeError(f"the app did not answer at {url} within {timeout:.0f}s")


def time_app(client, image) -> tuple:
    """(seconds of one `/densepose` round trip, upload to downloaded outputs; the job's own
    seconds as the app reports them in its message)."""
    from gradio_client import handle_file

    start = time.perf_counter()
    *_, message = client.predict(
        handle_file(image), "visualizers", ["dp_segm", "bbox"], "grey", None,
        api_name="/densepose",
    )  # fmt: skip
    seconds = time.perf_counter() - start
    job = re.search(r"found; ([0-9.]+) s", message)
    if job is None:
        raise RuntimeError(f"the app answered: {message}")
    return seconds, float(job.group(1))


def main():
    if sys.argv[1:2] == ["--apply-net-worker"]:
        return apply_net_worker(sys.argv[2:])
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--config", default=os.path.join(REPO, "configs", "densepose_rcnn_R_50_FPN_s1x.yaml")
    )
    parser.add_argument("--weights", default=None, help="checkpoint (default: random weights)")
    parser.add_argument("--image", default=None, help="image (default: a synthetic one)")
    parser.add_argument("--size", type=int, default=512, help="synthetic image side")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--opts", nargs=argparse.REMAINDER, default=[])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    work = tempfile.mkdtemp(prefix="bench_app_")
    weights = args.weights or random_checkpoint(args.config, os.path.join(work, "model.pth"))
    image = args.image or synthetic_image(os.path.join(work, "data"), args.size)

    apply_args = show_args(args.config, weights, image, work, args.device, args.opts)
    command = time_apply_net_command(apply_args)
    warm_apply = ApplyNetProcess(
        args.config, weights, image, work, args.device, args.threads, args.opts
    )
    server, url, log = start_app(args.config, weights, args.device, args.threads, args.opts, work)
    app_rounds, app_jobs, runs = [], [], []
    try:
        started = time.perf_counter()
        client = wait_for(url, server)
        startup = time.perf_counter() - started
        first = time_app(client, image)
        for _ in range(args.repeats):  # interleaved, so that load changes hit both alike
            seconds, job = time_app(client, image)
            app_rounds.append(seconds)
            app_jobs.append(job)
            runs.append(warm_apply())
        client.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        warm_apply.close()

    app_median = statistics.median(app_rounds)
    run_median = statistics.median(r for r, _ in runs)
    thread_median = statistics.median(t for _, t in runs)
    report = {
        "device": args.device,
        "threads": args.threads,
        "image": image,
        "apply_net_show_command_s (model load included)": round(command, 2),
        "apply_net_show_run_cold_s (first image of a model)": round(warm_apply.cold, 3),
        "apply_net_show_run_warm_median_s": round(run_median, 3),
        "apply_net_show_run_warm_in_a_thread_median_s": round(thread_median, 3),
        "app_startup_s (model load included)": round(startup, 2),
        "app_first_request_s": round(first[0], 3),
        "app_first_job_s (server side)": round(first[1], 3),
        "app_request_median_s": round(app_median, 3),
        "app_job_median_s (server side)": round(statistics.median(app_jobs), 3),
        "ratio app request / apply_net run (warm, main thread)": round(app_median / run_median, 3),
        "ratio app request / apply_net run (warm, in a thread)": round(
            app_median / thread_median, 3
        ),
        "ratio app first request / app median": round(first[0] / app_median, 3),
        "app_request_s": [round(t, 3) for t in app_rounds],
        "app_job_s": [round(t, 3) for t in app_jobs],
        "apply_net_run_warm_s (main thread, in a thread)": [
            [round(r, 3), round(t, 3)] for r, t in runs
        ],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
