"""Selector parsing and matching: field[:type]=value, field[:type]=min-max, *, and bad input."""

import pytest

from densepose_ext.query.selector import SelectorError, parse_selector

ENTRIES = [
    {"image_id": 1, "file_name": "img/000001.jpg", "height": 480, "score": 0.5},
    {"image_id": 2, "file_name": "img/000002.jpg", "height": 240, "score": -1.5},
    {"image_id": 3, "file_name": "img/x-3.png", "height": 480},
]


def ids(selector_text: str, limit=None):
    return [e["image_id"] for e in parse_selector(selector_text).select(ENTRIES, limit)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("*", [1, 2, 3]),
        (" * ", [1, 2, 3]),
        ("image_id:int=2", [2]),
        ("image_id:int=2-3", [2, 3]),
        ("image_id:int=3-3", [3]),
        ("image_id:float=1.5-2.5", [2]),
        ("score:float=-2--1", [2]),
        ("score:float=-1.5", [2]),
        ("height:int=480,image_id:int=2-9", [3]),
        ("file_name=img/000002.jpg", [2]),
        ("file_name=img/x-3.png", [3]),  # a dash in a str value is not a range
        ("file_name=*.jpg", [1, 2]),
        ("image_id=2", [2]),  # str comparison of str(2)
        ("image_id:int=7", []),
    ],
)
def test_selection(text, expected):
    assert ids(text) == expected


def test_limit_keeps_dataset_order():
    assert ids("*", limit=2) == [1, 2]
    assert ids("height:int=480", limit=1) == [1]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty selector"),
        ("image_id", "is not field[:type]=value or field[:type]=min-max"),
        ("image_id:int=", "no value for 'image_id'"),
        ("image_id:integer=3", "unknown type 'integer'"),
        ("image_id:int=three", "'three' is not a valid int"),
        ("image_id:int=1.5", "'1.5' is not a valid int"),
        ("image_id:int=5-2", "empty range 5-2"),
        ("image_id:int=1,,height:int=2", "empty condition between commas"),
        ("=3", "is not field[:type]=value"),
    ],
)
def test_bad_selectors_give_one_clear_error(text, fragment):
    with pytest.raises(SelectorError, match="selector") as info:
        parse_selector(text)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_unknown_field_is_an_error_not_an_empty_result():
    selector = parse_selector("imageid:int=3")
    with pytest.raises(SelectorError, match="no entry has the field 'imageid'.*image_id"):
        selector.check_fields(ENTRIES)
    parse_selector("score:float=0-1").check_fields(ENTRIES)  # present in some entries: fine
