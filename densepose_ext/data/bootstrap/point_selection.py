"""Vectorised per-group point selection used by the bootstrap samplers.

Points are grouped (e.g. by fine part label); each group g with k_g points gets
n_g = min(count, k_g) points, chosen uniformly at random, or uniformly among the
m_g = min(max(floor(window_fraction * k_g), n_g), k_g) points with the lowest (or highest) key.
"""

from typing import Optional

import torch

__all__ = ["rank_within_groups", "select_per_group"]


def rank_within_groups(groups: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Rank (0-based, ascending `keys`, ties by position) of every element inside its group.

    groups: int64 [P] (non-negative ids); keys: [P]. Returns int64 [P].
    """
    num = groups.numel()
    if num == 0:
        return torch.zeros(0, dtype=torch.int64, device=groups.device)
    order = torch.argsort(keys, stable=True)
    order = order[torch.argsort(groups[order], stable=True)]  # by group, then by key
    counts = torch.bincount(groups)
    starts = torch.cumsum(counts, 0) - counts  # [G] first position of each group
    rank = torch.empty(num, dtype=torch.int64, device=groups.device)
    rank[order] = torch.arange(num, device=groups.device) - starts[groups[order]]
    return rank


def select_per_group(
    groups: torch.Tensor,
    count: int,
    keys: Optional[torch.Tensor] = None,
    descending: bool = False,
    window_fraction: float = 0.5,
    generator: Optional[torch.Generator] = None,
) -> torch.Tensor:
    """Indices (int64, sorted) of the selected points; see the module docstring.

    groups: int64 [P]; keys: [P] or None (uniform selection over the whole group).
    """
    num = groups.numel()
    device = groups.device
    if num == 0 or count <= 0:
        return torch.zeros(0, dtype=torch.int64, device=device)
    sizes = torch.bincount(groups)  # [G] k_g
    wanted = sizes.clamp(max=count)  # [G] n_g
    eligible = torch.ones(num, dtype=torch.bool, device=device)
    if keys is not None:
        window = torch.maximum((sizes.double() * window_fraction).floor().long(), wanted).clamp(
            max=sizes
        )
        ordered_keys = -keys if descending else keys
        eligible = rank_within_groups(groups, ordered_keys) < window[groups]
    random_keys = torch.rand(num, generator=generator, device="cpu").to(device)
    random_keys[~eligible] = 2.0  # never picked before an eligible point of the same group
    chosen = rank_within_groups(groups, random_keys) < wanted[groups]
    return torch.nonzero(chosen & eligible).flatten()
