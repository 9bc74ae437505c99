#!/usr/bin/env python
"""Look into a registered dataset: print entries or draw their ground truth.

    python query_db.py print DATASET SELECTOR [--max-entries N] [--full]
    python query_db.py show DATASET SELECTOR VISUALIZATIONS [--output outputres.png]

See docs/query_db.md; the implementation lives in densepose_ext/query/.
"""

import sys
import warnings

# deprecation notices of torch internals triggered by importing detectron2: not actionable here
warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
warnings.filterwarnings("ignore", message=r"torch\.meshgrid", category=UserWarning)

from densepose_ext.query.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
