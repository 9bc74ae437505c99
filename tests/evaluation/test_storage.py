import pytest
import torch

from densepose_ext.evaluation.storage import (
    FileTensorStorage,
    RamTensorStorage,
    build_tensor_storage,
    storage_file_path,
)


def _records():
    torch.manual_seed(0)
    return [
        {"coarse_segm": torch.randn(2, 4, 4), "embedding": torch.randn(3, 4, 4)} for _ in range(3)
    ]


@pytest.mark.parametrize("kind", ["ram", "file"])
def test_put_get_roundtrip(kind, tmp_path):
    storage = build_tensor_storage(kind, "cse", str(tmp_path), rank=0)
    ids = [storage.put(r) for r in _records()]
    assert ids == [0, 1, 2] and len(storage) == 3
    for i, record in zip(ids, _records()):
        got = storage.get(i)
        assert set(got) == set(record) and all(torch.equal(got[k], record[k]) for k in record)


def test_file_storage_is_readable_by_another_process_instance(tmp_path):
    writer = build_tensor_storage("file", "iuv", str(tmp_path), rank=3)
    assert writer.path == storage_file_path(str(tmp_path), 3)
    assert writer.path.endswith("DensePoseEvaluatorStorage.3.bin")
    for r in _records():
        writer.put(r)
    reader = FileTensorStorage(writer.path, mode="r")
    assert len(reader) == 3 and torch.equal(reader.get(2)["embedding"], _records()[2]["embedding"])
    with pytest.raises(RuntimeError):
        reader.put(_records()[0])


def test_ram_storage_rewrap_blobs():
    storage = RamTensorStorage()
    storage.put(_records()[1])
    copy = RamTensorStorage(storage.blobs)
    assert torch.equal(copy.get(0)["coarse_segm"], _records()[1]["coarse_segm"])


def test_build_storage_types(tmp_path):
    assert build_tensor_storage("none", "iou", None, 0) is None
    assert isinstance(
        build_tensor_storage("ram", "iou", None, 0), RamTensorStorage
    )  # upstream raises here
    with pytest.raises(ValueError, match="TYPE"):
        build_tensor_storage("ram", "bogus", None, 0)
    with pytest.raises(ValueError, match="STORAGE"):
        build_tensor_storage("disk", "iuv", str(tmp_path), 0)
    with pytest.raises(ValueError, match="output directory"):
        build_tensor_storage("file", "iuv", None, 0)
