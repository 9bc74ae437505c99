"""Entry point: `python -m densepose_ext.teacher train|inpaint ...`."""

from .cli import main

if __name__ == "__main__":
    main()
