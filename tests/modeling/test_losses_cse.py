"""CSE losses on hand-computed cases: two tiny meshes with known geodesics (S = 4 outputs)."""

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from detectron2.config import get_cfg
from detectron2.structures import BitMasks, Boxes, Instances

from densepose_ext import add_densepose_config
from densepose_ext.data.meshes.catalog import MeshCatalog, MeshInfo, register_mesh
from densepose_ext.modeling.losses import DensePoseCseLoss
from densepose_ext.structures import (
    DensePoseDataRelative,
    DensePoseEmbeddingPredictorOutput,
    DensePoseList,
)

S, D = 4, 3
MESHES = {"loss_test_mesh_a": 4, "loss_test_mesh_b": 5}


def _geodists(n):
    idx = np.arange(n)
    return np.abs(idx[:, None] - idx[None, :]).astype(np.float64)  # path graph


@pytest.fixture(scope="module", autouse=True)
def meshes(tmp_path_factory):
    d = tmp_path_factory.mktemp("meshes")
    for name, n in MESHES.items():
        with open(d / f"{name}.pkl", "wb") as f:
            pickle.dump(
                {
                    "vertices": np.random.default_rng(n).random((n, 3)),
                    "faces": np.array([[0, 1, 2]]),
                },
                f,
            )
        with open(d / f"g_{name}.pkl", "wb") as f:
            pickle.dump(_geodists(n), f)
        register_mesh(
            MeshInfo(name=name, data=str(d / f"{name}.pkl"), geodists=str(d / f"g_{name}.pkl"))
        )


class TinyEmbedder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(1)
        self.mesh_names = set(MESHES)
        self.emb = torch.nn.ParameterDict(
            {k: torch.nn.Parameter(torch.randn(n, D, generator=g)) for k, n in MESHES.items()}
        )

    def forward(self, name):
        return F.normalize(self.emb[name], dim=1)

    def has_embeddings(self, name):
        return name in self.mesh_names


def _cfg(**cse):
    cfg = get_cfg()
    add_densepose_config(cfg)
    head = cfg.MODEL.ROI_DENSEPOSE_HEAD
    head.HEATMAP_SIZE = S
    head.INDEX_WEIGHTS = 2.0
    head.CSE.EMBED_LOSS_WEIGHT = 0.5
    head.CSE.EMBEDDING_DIST_GAUSS_SIGMA = 0.1
    head.CSE.GEODESIC_DIST_GAUSS_SIGMA = 0.5
    for name, n in MESHES.items():
        head.CSE.EMBEDDERS[name] = type(head.CSE)({"TYPE": "vertex_direct", "NUM_VERTICES": n})
    for k, v in cse.items():
        node = head.CSE
        *path, key = k.split(".")
        for p in path:
            node = getattr(node, p)
        setattr(node, key, v)
    return cfg


def _proposals(vertices=(2, 1), with_mask=False):
    ann = {
        "dp_x": [64.0, 96.0],
        "dp_y": [64.0, 32.0],
        "dp_vertex": list(vertices),
        "ref_model": "loss_test_mesh_a",
    }
    segm = torch.zeros(256, 256)
    segm[:, :100] = 1
    ann["dp_masks"] = segm
    data = DensePoseDataRelative(ann, mesh_name_to_id=MeshCatalog.get_mesh_id)
    inst = Instances((16, 16))
    inst.proposal_boxes = Boxes(torch.tensor([[0.0, 0.0, 8.0, 8.0]]))
    inst.gt_boxes = inst.proposal_boxes.clone()
    inst.gt_densepose = DensePoseList([data], inst.gt_boxes, (16, 16))
    if with_mask:
        mask = torch.zeros(1, 16, 16, dtype=torch.bool)
        mask[0, 2:6, 2:4] = True  # grid cells rows 1..2, column 1
        inst.gt_masks = BitMasks(mask)
    return inst


def _outputs():
    g = torch.Generator().manual_seed(0)
    return DensePoseEmbeddingPredictorOutput(
        embedding=torch.randn(1, D, S, S, generator=g).requires_grad_(),
        coarse_segm=torch.randn(1, 2, S, S, generator=g).requires_grad_(),
    )


def _pixel_embeddings(out):
    e = out.embedding.detach()[0]
    return F.normalize(torch.stack([e[:, 1, 1], e[:, 0:2, 1:3].mean(dim=(1, 2))]), dim=1)  # [2, D]


def _d2(p, v):
    return ((p[:, None, :] - v[None, :, :]) ** 2).sum(-1)


def test_hard_embedding_loss():
    embedder = TinyEmbedder()
    out = _outputs()
    losses = DensePoseCseLoss(_cfg())([_proposals()], out, embedder=embedder)
    assert set(losses) == {
        "loss_densepose_S",
        "loss_densepose_Eloss_test_mesh_a",
        "loss_densepose_Eloss_test_mesh_b",
    }
    logits = -_d2(_pixel_embeddings(out), embedder("loss_test_mesh_a").detach()) / 0.1
    expected = F.cross_entropy(logits, torch.tensor([2, 1])) * 0.5
    assert losses["loss_densepose_Eloss_test_mesh_a"].item() == pytest.approx(
        expected.item(), rel=1e-5
    )
    assert losses["loss_densepose_Eloss_test_mesh_b"].item() == 0.0
    target = torch.tensor([[1, 1, 0, 0]] * 4)
    expected_s = F.cross_entropy(out.coarse_segm.detach(), target[None]) * 2.0
    assert losses["loss_densepose_S"].item() == pytest.approx(expected_s.item(), rel=1e-5)
    sum(losses.values()).backward()
    assert torch.isfinite(out.embedding.grad).all()
    for name in MESHES:  # absent mesh still in the graph (zero gradient)
        assert embedder.emb[name].grad is not None and torch.isfinite(embedder.emb[name].grad).all()
    assert float(embedder.emb["loss_test_mesh_b"].grad.abs().sum()) == 0.0


def test_soft_embedding_loss_uses_geodesics():
    embedder = TinyEmbedder()
    out = _outputs()
    losses = DensePoseCseLoss(_cfg(EMBED_LOSS_NAME="SoftEmbeddingLoss"))(
        [_proposals()], out, embedder=embedder
    )
    log_p = F.log_softmax(
        -_d2(_pixel_embeddings(out), embedder("loss_test_mesh_a").detach()) / 0.1, dim=1
    )
    geo = torch.tensor(_geodists(4), dtype=torch.float32)[[2, 1]]
    q = F.softmax(-geo / 0.5, dim=1)
    expected = -(q * log_p).sum(1).mean() * 0.5
    assert losses["loss_densepose_Eloss_test_mesh_a"].item() == pytest.approx(
        expected.item(), rel=1e-5
    )


def test_zero_points_give_zero_losses():
    embedder = TinyEmbedder()
    out = _outputs()
    for proposals in ([], [Instances((16, 16), proposal_boxes=Boxes(torch.zeros(0, 4)))]):
        losses = DensePoseCseLoss(_cfg())(proposals, out, embedder=embedder)
        assert all(v.item() == 0.0 and torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert out.embedding.grad is not None and float(out.embedding.grad.abs().sum()) == 0.0
    with pytest.raises(ValueError, match="embedder"):
        DensePoseCseLoss(_cfg())([], out)


def test_shape_to_shape_cycle_loss():
    embedder = TinyEmbedder()
    cfg = _cfg(
        **{
            "SHAPE_TO_SHAPE_CYCLE_LOSS.ENABLED": True,
            "SHAPE_TO_SHAPE_CYCLE_LOSS.WEIGHT": 0.1,
            "SHAPE_TO_SHAPE_CYCLE_LOSS.MAX_NUM_VERTICES": 0,
            "SHAPE_TO_SHAPE_CYCLE_LOSS.TEMPERATURE": 0.5,
        }
    )
    losses = DensePoseCseLoss(cfg)([], _outputs(), embedder=embedder)
    e1, e2 = (embedder(n).detach().numpy().astype(np.float64) for n in MESHES)
    g1, g2 = _geodists(4), _geodists(5)

    def softmax(x):
        x = np.exp(x - x.max(1, keepdims=True))
        return x / x.sum(1, keepdims=True)

    a = e1 @ e2.T
    p12, p21 = softmax(a / 0.5), softmax(a.T / 0.5)
    expected = np.linalg.norm((g1 * (p12 @ p21)).ravel()) + np.linalg.norm(
        (g2 * (p21 @ p12)).ravel()
    )
    assert losses["loss_shape2shape"].item() == pytest.approx(expected * 0.1, rel=1e-4)
    losses["loss_shape2shape"].backward()
    assert all(torch.isfinite(p.grad).all() for p in embedder.parameters())


def test_pix_to_shape_cycle_loss():
    embedder = TinyEmbedder()
    cfg = _cfg(
        **{
            "PIX_TO_SHAPE_CYCLE_LOSS.ENABLED": True,
            "PIX_TO_SHAPE_CYCLE_LOSS.WEIGHT": 1.0,
            "PIX_TO_SHAPE_CYCLE_LOSS.NUM_PIXELS_TO_SAMPLE": 0,
        }
    )
    out = _outputs()
    losses = DensePoseCseLoss(cfg)([_proposals(with_mask=True)], out, embedder=embedder)
    # mask rows 2..5, columns 2..3 of the 8 x 8 box -> grid cells (1, 1) and (2, 1)
    pix = [(1, 1), (2, 1)]
    e = out.embedding.detach()[0]
    p = F.normalize(torch.stack([e[:, r, c] for r, c in pix]), dim=1).double()
    v = embedder("loss_test_mesh_a").detach().double()
    a = p @ v.T
    cycle = torch.softmax(a / 0.05, 1) @ torch.softmax(a.T / 0.05, 1)
    coords = torch.tensor(pix, dtype=torch.float64)
    d_pix = ((coords[:, None] - coords[None]) ** 2).sum(-1)
    expected = torch.linalg.vector_norm((d_pix * cycle).reshape(-1))
    assert losses["loss_pix2shape"].item() == pytest.approx(expected.item(), rel=1e-4)
    losses["loss_pix2shape"].backward()
    assert torch.isfinite(out.embedding.grad).all()
    with pytest.raises(ValueError, match="gt_masks"):
        DensePoseCseLoss(cfg)([_proposals(with_mask=False)], _outputs(), embedder=embedder)
