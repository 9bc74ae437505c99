"""`DensePoseList`: per-instance DensePose GT of one image (`instances.gt_densepose`)."""

from typing import Any, List, Optional, Sequence, Tuple

import torch

from .data_relative import DensePoseDataRelative

__all__ = ["DensePoseList"]


class DensePoseList:
    """One `DensePoseDataRelative` (or None) per instance, with the instance boxes.

    boxes_xyxy_abs: float [N, 4] absolute XYXY in the image of size `image_size_hw`.
    Indexing follows `Instances`: an int gives the entry, a slice / bool tensor / index list or
    tensor gives a new `DensePoseList` (boxes sliced alongside).
    """

    def __init__(
        self,
        densepose_datas: Sequence[Optional[DensePoseDataRelative]],
        boxes_xyxy_abs: Any,
        image_size_hw: Tuple[int, int],
        device: Any = "cpu",
    ):
        boxes = getattr(boxes_xyxy_abs, "tensor", boxes_xyxy_abs)
        boxes = torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4)
        if len(densepose_datas) != len(boxes):
            raise ValueError(
                f"DensePoseList: {len(densepose_datas)} entries but {len(boxes)} boxes"
            )
        self.device = torch.device(device)
        self.densepose_datas: List[Optional[DensePoseDataRelative]] = [
            d.to(self.device) if d is not None else None for d in densepose_datas
        ]
        self.boxes_xyxy_abs = boxes.to(self.device)
        self.image_size_hw = tuple(int(s) for s in image_size_hw)

    def to(self, device: Any) -> "DensePoseList":
        if torch.device(device) == self.device:
            return self
        return DensePoseList(self.densepose_datas, self.boxes_xyxy_abs, self.image_size_hw, device)

    def __iter__(self):
        return iter(self.densepose_datas)

    def __len__(self) -> int:
        return len(self.densepose_datas)

    def __repr__(self) -> str:
        present = sum(d is not None for d in self.densepose_datas)
        return (
            f"DensePoseList(num_instances={len(self)}, with_data={present}, "
            f"image_height={self.image_size_hw[0]}, image_width={self.image_size_hw[1]})"
        )

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, int):
            return self.densepose_datas[item]
        if isinstance(item, slice):
            indices = list(range(len(self)))[item]
        else:
            index = torch.as_tensor(item)
            if index.dtype == torch.bool:
                if index.numel() != len(self):
                    raise IndexError(f"bool index of size {index.numel()} for {len(self)} entries")
                index = index.nonzero().flatten()
            indices = [int(i) for i in index.reshape(-1).tolist()]
        datas = [self.densepose_datas[i] for i in indices]
        boxes = self.boxes_xyxy_abs[torch.as_tensor(indices, dtype=torch.long, device=self.device)]
        return DensePoseList(datas, boxes, self.image_size_hw, self.device)

    @classmethod
    def cat(cls, lists: List["DensePoseList"]) -> "DensePoseList":
        """Concatenates lists of one image (used by `Instances.cat`)."""
        if not lists:
            raise ValueError("DensePoseList.cat needs at least one list")
        datas = [d for lst in lists for d in lst.densepose_datas]
        boxes = torch.cat([lst.boxes_xyxy_abs for lst in lists], dim=0)
        return DensePoseList(datas, boxes, lists[0].image_size_hw, lists[0].device)
