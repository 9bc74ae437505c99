"""`python -m densepose_ext.texture extract | convert | apply`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
