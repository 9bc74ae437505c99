"""Entry selectors of `query_db.py`: which dataset entries to print or show.

A selector is `*` (every entry) or a comma-separated list of conditions, all of which must hold:

* `field[:type]=value`: the entry's top-level `field` equals `value` converted to `type`;
  for `str` the value may be a shell-style pattern (`file_name=*0003.jpg`);
* `field[:type]=min-max`: `min <= field <= max` (numeric types; either bound may be negative).

`type` is `int`, `float` or `str` (default `str`).
"""

import fnmatch
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

__all__ = ["SelectorError", "Condition", "EntrySelector", "parse_selector", "SELECTOR_TYPES"]

SELECTOR_TYPES: Dict[str, Callable[[str], Any]] = {"int": int, "float": float, "str": str}
_CONDITION = re.compile(
    r"^\s*(?P<field>[A-Za-z_][\w.]*)\s*(?::\s*(?P<type>\w+)\s*)?=(?P<value>.*)$"
)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*(?P<low>{_NUMBER})\s*-\s*(?P<high>{_NUMBER})\s*$")
_WILDCARDS = set("*?[")


class SelectorError(ValueError):
    """A selector that cannot be parsed, or that names a field no entry has."""


@dataclass(frozen=True)
class Condition:
    """One `field[:type]=value` or `field[:type]=min-max` condition."""

    field: str
    type_name: str
    value: Any = None  # exact value (or pattern for str)
    low: Any = None  # range bounds (inclusive), numeric types only
    high: Any = None

    @property
    def is_range(self) -> bool:
        return self.low is not None

    def matches(self, entry: Dict[str, Any]) -> bool:
        if self.field not in entry:
            return False
        try:
            actual = SELECTOR_TYPES[self.type_name](entry[self.field])
        except (TypeError, ValueError):
            return False
        if self.is_range:
            return self.low <= actual <= self.high
        if self.type_name == "str" and _WILDCARDS & set(self.value):
            return fnmatch.fnmatchcase(actual, self.value)
        return actual == self.value


@dataclass(frozen=True)
class EntrySelector:
    """All `conditions` must hold; no condition (`*`) selects everything."""

    conditions: Sequence[Condition] = ()
    text: str = "*"

    def __call__(self, entry: Dict[str, Any]) -> bool:
        return all(c.matches(entry) for c in self.conditions)

    def check_fields(self, entries: Iterable[Dict[str, Any]]) -> None:
        """Raises `SelectorError` when a condition names a field that no entry has (a typo)."""
        seen: set = set()
        for entry in entries:
            seen.update(entry.keys())
        for condition in self.conditions:
            if condition.field not in seen:
                fields = ", ".join(sorted(str(k) for k in seen)) or "none"
                raise SelectorError(
                    f"bad selector {self.text!r}: no entry has the field {condition.field!r} "
                    f"(fields: {fields})"
                )

    def select(self, entries: Iterable[Dict[str, Any]], limit: Optional[int] = None) -> List[dict]:
        """The matching entries in dataset order, at most `limit` of them."""
        selected = []
        for entry in entries:
            if limit is not None and len(selected) >= limit:
                break
            if self(entry):
                selected.append(entry)
        return selected


def _convert(text: str, type_name: str, selector: str) -> Any:
    try:
        return SELECTOR_TYPES[type_name](text.strip() if type_name != "str" else text)
    except ValueError:
        raise SelectorError(
            f"bad selector {selector!r}: {text.strip()!r} is not a valid {type_name}"
        ) from None


def _parse_condition(part: str, selector: str) -> Condition:
    match = _CONDITION.match(part)
    if match is None:
        raise SelectorError(
            f"bad selector {selector!r}: {part.strip()!r} is not field[:type]=value or "
            "field[:type]=min-max (e.g. image_id:int=3, image_id:int=0-9, or * for all)"
        )
    field, type_name, value = match["field"], (match["type"] or "str"), match["value"]
    if type_name not in SELECTOR_TYPES:
        raise SelectorError(
            f"bad selector {selector!r}: unknown type {type_name!r} in {part.strip()!r} "
            f"(use {', '.join(SELECTOR_TYPES)})"
        )
    if value.strip() == "":
        raise SelectorError(f"bad selector {selector!r}: no value for {field!r}")
    if type_name != "str":
        bounds = _RANGE.match(value)
        if bounds is not None:
            low = _convert(bounds["low"], type_name, selector)
            high = _convert(bounds["high"], type_name, selector)
            if low > high:
                raise SelectorError(
                    f"bad selector {selector!r}: empty range {low}-{high} for {field!r}"
                )
            return Condition(field, type_name, low=low, high=high)
    return Condition(field, type_name, value=_convert(value, type_name, selector))


def parse_selector(text: str) -> EntrySelector:
    """`"*"` or `"field[:type]=value,field[:type]=min-max,..."` -> `EntrySelector`."""
    if text is None or not text.strip():
        raise SelectorError("empty selector: use * for all entries or field[:type]=value")
    if text.strip() == "*":
        return EntrySelector((), "*")
    parts = text.split(",")
    if any(not p.strip() for p in parts):
        raise SelectorError(f"bad selector {text!r}: empty condition between commas")
    return EntrySelector(tuple(_parse_condition(p, text) for p in parts), text)
