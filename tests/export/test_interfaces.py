"""`--interface densepose-torchscript | controlnet`: the files work as those tools call them.

Each file is loaded with `torch.jit.load` in a subprocess where `import detectron2` and
`import densepose_ext` fail, called with the tool's convention (the consumer code below is
written from the convention, not taken from our package), and the part labels it derives are
compared with `apply_net.py dump` of the same image and weights.
"""

import json
import os
import subprocess
import textwrap

import cv2
import numpy as np
import pytest
import torch
from export_utils import (
    PYTHON,
    isolated_env,
    random_image,
    save_checkpoint,
    tiny_config,
    tiny_model,
)

from densepose_ext.apply import main as apply_net
from densepose_ext.export.__main__ import main as export_main
from densepose_ext.export.interface_export import default_interface_output

AGREEMENT = 0.995  # share of box pixels whose part label must agree with apply_net dump

CONSUMERS = textwrap.dedent(
    """
    import json, sys
    import cv2
    import numpy as np
    import torch
    import torchvision  # noqa: F401  (the tools have it imported: registers nms / roi_align)
    from torch.nn import functional as F

    for blocked in ("detectron2", "densepose_ext"):
        try:
            __import__(blocked)
        except ImportError:
            pass
        else:
            raise SystemExit(f"{blocked} could be imported")

    def labels_in_box(box_xyxy, coarse, fine):
        # what the tools do per detection: XYXY -> XYWH, int() of each value, bilinear resample
        x0, y0, x1, y1 = box_xyxy.tolist()
        w, h = max(int(x1 - x0), 1), max(int(y1 - y0), 1)
        coarse = F.interpolate(coarse, (h, w), mode="bilinear", align_corners=False)
        fine = F.interpolate(fine, (h, w), mode="bilinear", align_corners=False)
        labels = fine.argmax(dim=1) * (coarse.argmax(dim=1) > 0)
        return labels[0].to(torch.uint8).numpy()

    def controlnet(path, image_path, half):
        model = torch.jit.load(path, map_location="cpu").eval()
        if half:
            model = model.half()
        rgb = cv2.imread(image_path)[:, :, ::-1]  # the tools hold RGB arrays
        image = torch.from_numpy(rgb.copy()).permute(2, 0, 1)  # 'h w c -> c h w'
        with torch.no_grad():
            pred_boxes, coarse_segm, fine_segm, u, v = model(image)
        n = len(pred_boxes)
        assert coarse_segm.shape[0] == fine_segm.shape[0] == u.shape[0] == v.shape[0] == n
        coarse, fine = coarse_segm.float(), fine_segm.float()
        return pred_boxes, [
            labels_in_box(pred_boxes[i], coarse[i : i + 1], fine[i : i + 1]) for i in range(n)
        ]

    def densepose_torchscript(path, image_path, half):
        model = torch.jit.load(path).eval()
        if half:
            model = model.half()
        image = torch.from_numpy(cv2.imread(image_path))  # [H, W, 3] BGR
        with torch.no_grad():
            out = model(image)
            if not half:  # the [3, H, W] layout gives the same
                chw = model(image.permute(2, 0, 1))
                assert all(torch.equal(out[key], chw[key]) for key in out)
        boxes = out["pred_boxes"]
        assert out["scores"].shape == out["pred_classes"].shape == (len(boxes),)
        coarse = out["pred_densepose_coarse_segm"].float()
        fine = out["pred_densepose_fine_segm"].float()
        assert out["pred_densepose_u"].shape == out["pred_densepose_v"].shape == fine.shape
        return boxes, [
            labels_in_box(boxes[i], coarse[i : i + 1], fine[i : i + 1]) for i in range(len(boxes))
        ]

    runs = json.loads(sys.argv[1])
    for run in runs:
        call = controlnet if run["interface"] == "controlnet" else densepose_torchscript
        boxes, labels = call(run["model"], run["image"], run["half"])
        arrays = {f"labels_{i}": l for i, l in enumerate(labels)}
        np.savez(run["output"], boxes_xyxy=boxes.float().numpy(), **arrays)
    print("consumers ok")
    """
)


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], axis=1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def label_agreement(dump: dict, consumer: dict, same_size_only: bool = False):
    """(share of the dump's box pixels where the consumer's label is the same, boxes compared).

    Detections are paired by IoU (> 0.9); an unpaired dump box, or a pair whose integer box size
    differs, counts as all pixels disagreeing, unless `same_size_only` (then it is left out).
    """
    boxes_d, boxes_c = dump["boxes_xyxy"], consumer["boxes_xyxy"]
    iou = _box_iou(boxes_d, boxes_c) if len(boxes_c) else np.zeros((len(boxes_d), 0))
    agree = total = compared = 0
    for i in range(len(boxes_d)):
        ours = dump[f"labels_{i}"]
        j = int(iou[i].argmax()) if iou.shape[1] else -1
        theirs = consumer[f"labels_{j}"] if j >= 0 and iou[i, j] > 0.9 else None
        if theirs is None or theirs.shape != ours.shape:
            if not same_size_only:
                total += ours.size
            continue
        agree += int((theirs == ours).sum())
        total += ours.size
        compared += 1
    return agree / max(total, 1), compared


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Tiny chart model (YAML + checkpoint), a test image, its channel-swapped copy, and
    `apply_net dump` npz results of both."""
    tmp = tmp_path_factory.mktemp("interfaces")
    cfg = tiny_config("densepose_rcnn_R_50_FPN_s1x.yaml")
    config = tmp / "densepose_rcnn_R_50_FPN_s1x.yaml"
    config.write_text(cfg.dump())
    weights = save_checkpoint(tiny_model(cfg), tmp / "weights.pth")
    image = random_image().numpy()
    cv2.imwrite(str(tmp / "image.png"), image)
    # ControlNet tools give RGB to a model taking the config's order (BGR here): apply_net sees
    # the same pixels when reading the channel-reversed file
    cv2.imwrite(str(tmp / "image_swapped.png"), image[:, :, ::-1])
    dumps = {}
    for name in ("image", "image_swapped"):
        out = tmp / f"dump_{name}"
        args = [str(config), weights, str(tmp / f"{name}.png"), "--format", "npz"]
        args += ["--output", str(out / "r.pkl"), "--output_dir", str(out), "--device", "cpu"]
        assert apply_net(["dump", "--no-progress", *args]) == 0
        dumps[name] = dict(np.load(out / f"{name}.npz"))
        assert len(dumps[name]["boxes_xyxy"]) > 0
    return {"tmp": tmp, "config": str(config), "weights": weights, "dumps": dumps}


def _export(setup, interface: str, *extra) -> str:
    path = str(setup["tmp"] / default_interface_output("m", interface, "--fp16" in extra))
    args = [setup["config"], setup["weights"], "--interface", interface, "--output", path]
    assert export_main([*args, *extra]) == 0
    return path


def _consume(setup, runs: list) -> list:
    for k, run in enumerate(runs):
        run["output"] = str(setup["tmp"] / f"consumer_{k}.npz")
    script = setup["tmp"] / "consumers.py"
    script.write_text(CONSUMERS)
    proc = subprocess.run(
        [PYTHON, str(script), json.dumps(runs)],
        env=isolated_env(setup["tmp"]),
        cwd=str(setup["tmp"]),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0 and "consumers ok" in proc.stdout, proc.stderr[-3000:]
    return [dict(np.load(run["output"])) for run in runs]


@pytest.fixture(scope="module")
def files(setup) -> dict:
    return {i: _export(setup, i) for i in ("densepose-torchscript", "controlnet")}


def _check_agreement(setup, files, cases) -> None:
    """Runs the consumers on (interface, half) `cases`; compares with the apply_net dumps."""
    image_of = {"densepose-torchscript": "image", "controlnet": "image_swapped"}
    image = str(setup["tmp"] / "image.png")
    runs = [{"interface": i, "model": files[i], "image": image, "half": h} for i, h in cases]
    results = _consume(setup, runs)
    for run, result in zip(runs, results):
        dump = setup["dumps"][image_of[run["interface"]]]
        n = len(dump["boxes_xyxy"])
        if not run["half"]:
            # same graph computation as apply_net: same boxes, labels agree
            np.testing.assert_allclose(result["boxes_xyxy"], dump["boxes_xyxy"], atol=1e-3)
            agreement, compared = label_agreement(dump, result)
            assert agreement >= AGREEMENT and compared == n, (run, agreement, compared)
        else:
            # fp16 moves box corners by float16 rounding: boxes whose integer size changed
            # cannot be compared pixel by pixel and are left out (at most half of them)
            agreement, compared = label_agreement(dump, result, same_size_only=True)
            assert agreement >= AGREEMENT and compared >= n / 2, (run, agreement, compared)
        print(f"{run['interface']} half={run['half']}: {agreement:.5f} on {compared}/{n} boxes")


def test_interfaces_agree_with_apply_net_dump(setup, files):
    """fp32 of both interfaces and `.half()` (fp16 on CPU) of the ControlNet one."""
    cases = [("densepose-torchscript", False), ("controlnet", False), ("controlnet", True)]
    _check_agreement(setup, files, cases)


@pytest.mark.slow
def test_densepose_torchscript_half_agrees(setup, files):
    _check_agreement(setup, files, [("densepose-torchscript", True)])


@pytest.mark.slow
def test_fp16_weights_file(setup, files):
    """`--fp16` stores float16 weights (half the size); the file runs as is and after .float()."""
    fp32 = files["controlnet"]
    fp16 = _export(setup, "controlnet", "--fp16")
    assert os.path.getsize(fp16) < 0.6 * os.path.getsize(fp32)
    module = torch.jit.load(fp16)
    assert module.probe.dtype == torch.float16
    image = torch.from_numpy(cv2.imread(str(setup["tmp"] / "image.png"))[:, :, ::-1].copy())
    with torch.no_grad():
        outputs = module(image.permute(2, 0, 1))
        outputs32 = module.float()(image.permute(2, 0, 1))
    assert len(outputs) == 5 and len(outputs[0]) > 0 and len(outputs32[0]) > 0
    assert all(o.dtype == torch.float32 for o in outputs + outputs32)


def test_metadata_and_default_names(files):
    path = files["controlnet"]
    extra = {"densepose_metadata.json": ""}
    module = torch.jit.load(path, _extra_files=extra)
    meta = json.loads(extra["densepose_metadata.json"])
    assert meta["interface"] == "controlnet"
    assert meta["output_names"] == ["pred_boxes", "coarse_segm", "fine_segm", "u", "v"]
    assert meta["graphs"][:2] == ["fp32_cpu", "fp16_cpu"]
    assert isinstance(module, torch.jit.ScriptModule)
    name = default_interface_output
    assert (
        name("densepose_rcnn_R_50_FPN_DL_s1x", "controlnet") == "densepose_r50_fpn_dl.torchscript"
    )
    assert name("densepose_rcnn_R_101_FPN_DL_s1x", "controlnet") == (
        "densepose_r101_fpn_dl.torchscript"
    )
    assert name("densepose_rcnn_R_50_FPN_DL_WC1M_s1x", "densepose-torchscript", True) == (
        "densepose_r50_fpn_dl_wc1m_fp16.pt"
    )


def test_cuda_graph_missing_is_a_clear_error():
    """A file exported without CUDA says so when moved to CUDA (here: the fallback module)."""
    from densepose_ext.export.interfaces import MissingGraph

    with pytest.raises(Exception, match="no fp16_cuda graph"):  # torch.jit.Error
        torch.jit.script(MissingGraph("fp16_cuda"))(torch.zeros(3, 4, 4, dtype=torch.uint8))


def test_cse_and_bad_options_are_refused(tmp_path, capsys):
    cfg = tiny_config("cse/densepose_rcnn_R_50_FPN_s1x.yaml")
    config = tmp_path / "cse.yaml"
    config.write_text(cfg.dump())
    assert export_main([str(config), "", "--interface", "controlnet"]) == 2
    assert "CSE model" in capsys.readouterr().err
    chart = tmp_path / "chart.yaml"
    chart.write_text(tiny_config("densepose_rcnn_R_50_FPN_s1x.yaml").dump())
    assert export_main([str(chart), "", "--interface", "controlnet", "--bf16"]) == 2
    assert "fp32 or --fp16" in capsys.readouterr().err
    assert export_main([str(chart), "", "--interface", "controlnet", "--format", "onnx"]) == 2
    assert "TorchScript files only" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(
    "config_file",
    ["densepose_rcnn_R_50_FPN_DL_WC2M_s1x.yaml", "densepose_rcnn_R_50_FPN_s1x_legacy.yaml"],
)
def test_other_chart_families_match_densepose_ext_format(tmp_path, config_file):
    """DeepLab head with confidences, legacy head: the interface file gives the fields of our
    own export bit for bit (confidence fields are simply not part of the convention)."""
    from densepose_ext.export import DensePoseExportModule, export_interface

    cfg = tiny_config(config_file)
    model = tiny_model(cfg)
    weights = save_checkpoint(model, tmp_path / "w.pth")
    path = export_interface(cfg, weights, "densepose-torchscript", str(tmp_path / "m.pt")).path
    image = random_image()
    reference = DensePoseExportModule(
        model, cfg.INPUT.MIN_SIZE_TEST, cfg.INPUT.MAX_SIZE_TEST, cfg.INPUT.FORMAT
    )
    with torch.no_grad():
        ours = dict(zip(reference.output_names, reference(image)))
        theirs = torch.jit.load(path)(image)
    assert len(ours["boxes"]) > 0
    assert torch.equal(theirs["pred_boxes"], ours["boxes"])
    for field in ("coarse_segm", "fine_segm", "u", "v"):
        assert torch.equal(theirs[f"pred_densepose_{field}"], ours[field]), field
