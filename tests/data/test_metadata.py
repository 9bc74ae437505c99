import pytest
from detectron2.data import MetadataCatalog

from densepose_ext.data.metadata import set_dataset_metadata


def test_changed_entries_are_replaced_and_others_kept():
    name = "densepose_ext_test_metadata"
    if name in MetadataCatalog.list():
        MetadataCatalog.remove(name)
    MetadataCatalog.get(name).set(a=1, b=[1, 2])
    with pytest.raises(AssertionError):  # what detectron2 alone does
        MetadataCatalog.get(name).set(a=2)
    set_dataset_metadata(name, {"a": 2, "c": "new"})
    set_dataset_metadata(name, {"b": [1, 2]})  # unchanged value: nothing happens
    meta = MetadataCatalog.get(name)
    assert (meta.a, meta.b, meta.c) == (2, [1, 2], "new")
