"""The tutorial's figures as scikit-learn Display objects, and the report's PNGs.

matplotlib is imported inside the functions that draw, not here.
"""

from ._comparison import ComparisonDisplay
from ._digits import DigitPredictionDisplay
from ._grid import PredictionGridDisplay
from ._loss import LossCurveDisplay
from ._report import save_report_figures

__all__ = [
    "ComparisonDisplay",
    "DigitPredictionDisplay",
    "LossCurveDisplay",
    "PredictionGridDisplay",
    "save_report_figures",
]
