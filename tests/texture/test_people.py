import cv2
import numpy as np
import pytest
import torch

from densepose_ext.converters.prediction import ImagePrediction
from densepose_ext.structures.chart_result import DensePoseChartResultWithConfidences
from densepose_ext.texture.people import (
    NoPersonError,
    people_from_iuv,
    people_from_prediction,
    read_iuv_png,
    select_people,
)
from densepose_ext.utils.files import ExternalFileError


def _iuv_pair():
    iuv = np.zeros((6, 8, 3), np.uint8)
    inds = np.zeros((6, 8), np.uint8)
    iuv[1:3, 1:4] = (2, 51, 102)  # detection 1: part 2, U 0.2, V 0.4
    inds[1:3, 1:4] = 1
    iuv[3:6, 5:7] = (24, 255, 0)
    inds[3:6, 5:7] = 2
    return iuv, inds


def test_people_from_iuv():
    people = people_from_iuv(*_iuv_pair())
    assert [p.index for p in people] == [1, 2]
    first = people[0]
    assert first.box_xywh == (1, 1, 3, 2) and first.score is None
    assert (first.labels == 2).all()
    assert np.allclose(first.u, 0.2) and np.allclose(first.v, 0.4)
    assert people[1].box_xywh == (5, 3, 2, 3)


def test_read_iuv_png_and_missing_inds(tmp_path):
    iuv, inds = _iuv_pair()
    cv2.imwrite(str(tmp_path / "a_IUV.png"), iuv)
    cv2.imwrite(str(tmp_path / "a_INDS.png"), inds)
    assert len(read_iuv_png(str(tmp_path / "a_IUV.png"))) == 2
    cv2.imwrite(str(tmp_path / "b_IUV.png"), iuv)
    with pytest.raises(ExternalFileError, match=r"b_IUV.png.*no instance map.*b_INDS.png"):
        read_iuv_png(str(tmp_path / "b_IUV.png"))
    cv2.imwrite(str(tmp_path / "c_IUV.png"), iuv)
    cv2.imwrite(str(tmp_path / "c_INDS.png"), inds[:3])
    with pytest.raises(ExternalFileError, match="c_INDS.png' is 3x8"):
        read_iuv_png(str(tmp_path / "c_IUV.png"))


def test_people_from_prediction_with_confidences():
    labels = torch.tensor([[0, 1], [3, 3]])
    uv = torch.full((2, 2, 2), 0.5)
    results = [
        DensePoseChartResultWithConfidences(
            labels=labels,
            uv=uv,
            sigma_2=torch.full((2, 2), 0.01),
            fine_segm_confidence=torch.full((2, 2), 0.8),
        ),
        DensePoseChartResultWithConfidences(labels=labels, uv=uv),
    ]
    prediction = ImagePrediction.from_results(
        (10, 10), [[1, 1, 3, 3], [4, 4, 6, 6]], results, scores=[0.7, 0.9]
    )
    people = people_from_prediction(prediction)
    assert [p.index for p in people] == [1, 2] and people[1].score == pytest.approx(0.9)
    assert np.allclose(people[0].confidence, 0.8 * 0.5)  # part prob x 1/(1 + (0.01/0.01)^2)
    assert people[1].confidence is None
    assert select_people(people)[0].index == 2  # highest score
    assert select_people(people, 1)[0].index == 1
    assert len(select_people(people, "all")) == 2


def test_selection_errors():
    with pytest.raises(NoPersonError, match="no person found in photo.jpg"):
        select_people([], None, "photo.jpg")
    people = people_from_iuv(*_iuv_pair())
    assert select_people(people)[0].index == 1  # no scores: the first detection
    with pytest.raises(NoPersonError, match=r"no instance 3 in x.*\[1, 2\]"):
        select_people(people, 3, "x")
