"""Config overrides the synthetic experiments share: input sizes and a short step schedule."""

from typing import List, Optional


def size_overrides(size: int, max_ratio: Optional[float] = 1.6) -> List[str]:
    """Train and test on images of shortest side `size` (longest at most `max_ratio` x `size`;
    None keeps the config's maximum)."""
    opts = ["INPUT.MIN_SIZE_TRAIN", f"({size},)"]
    if max_ratio is not None:
        opts += ["INPUT.MAX_SIZE_TRAIN", str(int(size * max_ratio))]
    opts += ["INPUT.MIN_SIZE_TEST", str(size)]
    if max_ratio is not None:
        opts += ["INPUT.MAX_SIZE_TEST", str(int(size * max_ratio))]
    return opts


def schedule_overrides(
    iters: int, warmup_cap: Optional[int] = None, warmup_share: int = 4, checkpoints: bool = True
) -> List[str]:
    """`iters` steps, the learning rate dropped at 80 %; warm-up over min(`warmup_cap`,
    iters // `warmup_share`) steps when a cap is given; no intermediate checkpoints unless
    `checkpoints`."""
    opts = ["SOLVER.MAX_ITER", str(iters), "SOLVER.STEPS", f"({int(iters * 0.8)},)"]
    if warmup_cap is not None:
        opts += ["SOLVER.WARMUP_ITERS", str(min(warmup_cap, iters // warmup_share))]
    if not checkpoints:
        opts += ["SOLVER.CHECKPOINT_PERIOD", str(10**6)]
    return opts
