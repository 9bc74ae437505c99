"""Fixtures of the evaluation tests (hand-built cases live in evaluation_cases.py)."""

import pytest
from evaluation_cases import line_surface

from densepose_ext.evaluation.surface import ChartSurface


@pytest.fixture
def surface() -> ChartSurface:
    return line_surface()
