"""Runs train_net.py on the tiny dataset of $TINY_DENSEPOSE_DATA (written beforehand).

The dataset is registered at import time, so the processes spawned by `launch` register it too
(spawned children re-import this module as `__mp_main__`).
"""

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # tests/: coco_test_data
sys.path.insert(0, str(HERE.parents[1]))  # repository root: train_net.py

from tiny_densepose_dataset import register_tiny_dataset  # noqa: E402

register_tiny_dataset("tiny_densepose_train", json.loads(os.environ["TINY_DENSEPOSE_DATA"]))

if __name__ == "__main__":
    import train_net

    train_net.invoke_main()
