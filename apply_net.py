#!/usr/bin/env python
"""Apply a DensePose model to images, directories, globs or videos.

    python apply_net.py show CONFIG MODEL INPUT VISUALIZATIONS [--output outputres.png] ...
    python apply_net.py dump CONFIG MODEL INPUT [--output results.pkl] [--format
    pkl,iuv_png,npz,json]

See docs/apply_net.md; the implementation lives in densepose_ext/apply/.
"""

import sys
import warnings

# deprecation notices of torch internals triggered by importing detectron2: not actionable here
warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
warnings.filterwarnings("ignore", message=r"torch\.meshgrid", category=UserWarning)

from densepose_ext.apply.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
