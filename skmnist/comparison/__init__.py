"""Fit several classifiers on the same data and compare them side by side."""

from ._compare import compare, default_estimators
from ._result import ComparisonResult

__all__ = ["ComparisonResult", "compare", "default_estimators"]
