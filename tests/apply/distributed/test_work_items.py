"""Work items of `dump --ray`: images, video frame ranges, input lists (no Ray needed)."""

import numpy as np
import pytest
from dump_compare import write_test_images, write_test_video

from densepose_ext.apply.distributed.work_items import (
    WorkItem,
    list_work_inputs,
    plan_work_items,
    read_work_item,
)
from densepose_ext.engine.inputs import InputError, read_inputs


def test_video_is_split_into_frame_ranges_that_read_like_the_whole_video(tmp_path):
    video = str(write_test_video(tmp_path / "v.avi", 7, 10.0))
    image = str(write_test_images(tmp_path / "img", {"a.png": (80, 100)}) / "a.png")
    items = plan_work_items([image, video], frames_per_item=3)
    assert items == [
        WorkItem(1, image),
        WorkItem(2, video, 0, 3),
        WorkItem(2, video, 3, 6),
        WorkItem(2, video, 6, None),  # the last range reads to the end
    ]
    assert len({item.key for item in items}) == len(items)
    ranges = [frame for item in items for frame in read_work_item(item)]
    whole = list(read_inputs([image, video]))
    assert [(f.index, f.frame_index) for f in ranges] == [(f.index, f.frame_index) for f in whole]
    for ours, reference in zip(ranges, whole):
        np.testing.assert_array_equal(ours.image, reference.image)
        assert ours.fps == reference.fps


def test_unreadable_video_is_one_bad_item(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    items = plan_work_items([str(bad)], frames_per_item=4)
    assert items == [WorkItem(1, str(bad), 0, None)]
    (frame,) = read_work_item(items[0])
    assert frame.image is None and "broken.mp4" in frame.error


def test_input_list_keeps_order_and_resolves_relative_paths(tmp_path):
    images = write_test_images(tmp_path / "img", {"a.png": (80, 80), "b.png": (80, 80)})
    listing = tmp_path / "inputs.txt"
    listing.write_text(f"# comment\nimg/b.png\n\n{images / 'a.png'}\nimg/missing.png\n")
    paths = list_work_inputs(str(listing))
    assert paths == [
        str(tmp_path / "img" / "b.png"),
        str(images / "a.png"),
        str(tmp_path / "img" / "missing.png"),
    ]
    assert read_work_item(WorkItem(3, paths[2]))[0].error is not None  # a bad item, not a stop
    assert list_work_inputs(str(images)) == [str(images / "a.png"), str(images / "b.png")]
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(InputError, match="empty.txt"):
        list_work_inputs(str(tmp_path / "empty.txt"))
