"""`python -m densepose_ext.app --help`"""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
