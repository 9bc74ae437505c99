"""Resumable results of a distributed `dump`: `<output>.parts/` beside the output.

One file per finished work item (`<key>.pt`, a `torch.save` of its entries), written atomically,
so its presence means the item is done; `manifest.json` lists the items with their status and
errors, and the settings the parts were made with (a re-run with other settings is refused, since
mixing them would give a file no single run produces). Only the driver writes here.
"""

import io
import json
import os
import time
from typing import Dict, List, Optional, Sequence

import torch

from ...engine.output_files import atomic_write_bytes
from .work_items import WorkItem

__all__ = ["MANIFEST_NAME", "PartStore", "PartsError", "check_writable", "parts_directory"]

MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1


class PartsError(ValueError):
    """The parts folder cannot be used (other settings, unreadable manifest or part)."""


def parts_directory(output: str) -> str:
    """`results.pkl` -> `results.pkl.parts`."""
    return os.path.abspath(output) + ".parts"


def check_writable(path: str) -> None:
    """OSError naming `path` when it cannot be created or written (its nearest existing ancestor
    must be a writable folder); creates nothing."""
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        raise NotADirectoryError(f"cannot create output folder {path!r}: {probe!r} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot create output folder {path!r}: {probe!r} is not writable")


class PartStore:
    """Reads and writes the parts of one output; `signature` is a JSON-able dict of settings."""

    def __init__(self, directory: str, signature: dict, manifest_interval: float = 2.0):
        self.directory = directory
        self.signature = json.loads(json.dumps(signature))  # as it reads back
        self.manifest_interval = manifest_interval
        self._items: List[WorkItem] = []
        self._status: Dict[str, dict] = {}
        self._last_manifest = 0.0

    @property
    def manifest_path(self) -> str:
        return os.path.join(self.directory, MANIFEST_NAME)

    def part_path(self, item: WorkItem) -> str:
        return os.path.join(self.directory, item.key + ".pt")

    def check_compatible(self) -> Optional[dict]:
        """The existing manifest (None if there is none); PartsError when its parts were made
        with other settings."""
        old = self._read_manifest()
        if old is not None and old.get("signature") != self.signature:
            changed = sorted(
                k
                for k in set(self.signature) | set(old.get("signature", {}))
                if self.signature.get(k) != old.get("signature", {}).get(k)
            )
            raise PartsError(
                f"{self.directory!r} holds parts of a run with other settings "
                f"({', '.join(changed)}); delete it or re-run the same command"
            )
        return old

    def open(self, items: Sequence[WorkItem]) -> None:
        """Creates the folder, or takes over the status of the parts already there."""
        old = self.check_compatible()
        os.makedirs(self.directory, exist_ok=True)
        self._items = list(items)
        known = {entry["key"]: entry for entry in (old or {}).get("items", [])}
        for item in self._items:
            if not self.is_done(item):
                continue
            entry = known.get(item.key)
            if entry is not None and entry.get("status") in ("done", "bad"):
                self._status[item.key] = {
                    "status": entry["status"],
                    "records": entry.get("records", 0),
                    "errors": entry.get("errors", []),
                }
            else:  # finished after the last manifest was written
                self._record(item, self.load(item)["entries"])
        self.write_manifest()

    def _read_manifest(self) -> Optional[dict]:
        if not os.path.exists(self.manifest_path):
            return None
        try:
            with open(self.manifest_path) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            raise PartsError(f"cannot read {self.manifest_path!r}: {e}") from e

    def is_done(self, item: WorkItem) -> bool:
        return os.path.isfile(self.part_path(item))

    def _record(self, item: WorkItem, entries: list) -> None:
        errors = [e[1] for e in entries if e[0] == "failed"]
        self._status[item.key] = {
            "status": "bad" if errors else "done",
            "records": len(entries) - len(errors),
            "errors": errors,
        }

    def save(self, item: WorkItem, entries: list, model_seconds: float = 0.0) -> None:
        """Stores `entries` of `item` (("ok", InputItem, ImagePrediction) or ("failed",
        message)) atomically."""
        buffer = io.BytesIO()
        torch.save({"item": item, "entries": entries, "model_seconds": model_seconds}, buffer)
        atomic_write_bytes(self.part_path(item), buffer.getvalue())
        self._record(item, entries)
        if time.monotonic() - self._last_manifest >= self.manifest_interval:
            self.write_manifest()

    def load(self, item: WorkItem) -> dict:
        path = self.part_path(item)
        try:
            return torch.load(path, map_location="cpu", weights_only=False)
        except Exception as e:  # truncated by hand, foreign file
            raise PartsError(f"cannot read part {path!r} ({item.describe()}): {e}") from e

    def counts(self) -> Dict[str, int]:
        done = [s for s in self._status.values()]
        return {
            "total_items": len(self._items),
            "done_items": len(done),
            "records": sum(s["records"] for s in done),
            "failed": sum(len(s["errors"]) for s in done),
        }

    def write_manifest(self) -> None:
        items = []
        for item in self._items:
            entry = {
                "key": item.key,
                "path": item.path,
                "frames": None if item.frame_start is None else [item.frame_start, item.frame_stop],
            }
            status = self._status.get(item.key)
            if status is None:
                entry["status"] = "pending"
            else:
                entry.update(status, part=item.key + ".pt")
            items.append(entry)
        manifest = {"format": FORMAT_VERSION, "signature": self.signature, **self.counts()}
        manifest["items"] = items
        atomic_write_bytes(self.manifest_path, (json.dumps(manifest, indent=1) + "\n").encode())
        self._last_manifest = time.monotonic()
