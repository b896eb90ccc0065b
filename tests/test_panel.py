"""The fast subset of benchmarks/panel.py: KerasMLP() keeps up with MLPClassifier().

Both at their defaults, on the cells where the default input scaling decides
(wine and 300 digits, raw / StandardScaler / MinMaxScaler, 3 folds): wine's
features span 0.1 to 1680, and digits after ``StandardScaler`` are already
scaled. One seed on 300 test rows is noisy, so a cell may be up to 3 points
below (the full panel's target is 1.5, over 5 folds of all the data); the
full panel and its figures are in benchmarks/RESULTS.md.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(scope="module")
def panel():
    path = Path(__file__).parents[1] / "benchmarks" / "panel.py"
    spec = importlib.util.spec_from_file_location("skmnist_benchmark_panel", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_default_scaling_keeps_up_with_mlpclassifier_on_the_quick_panel(panel):
    from skmnist import KerasMLP

    default = str(KerasMLP().input_scaling)
    # One BLAS thread: MLPClassifier's small products spin-wait for minutes
    # when test workers already fill the cores; its accuracy is unchanged.
    with threadpool_limits(limits=1, user_api="blas"):
        results = panel.run_panel(
            panel.QUICK_DATASETS,
            panel.make_sides([default]),
            seeds=[0],
            n_splits=panel.QUICK_SPLITS,
            quick=True,
        )
    table = panel.table(results, default)
    diffs = [
        100 * (cell[default]["acc"] - cell["MLPClassifier"]["acc"])
        for cell in results.values()
    ]
    assert min(diffs) >= panel.QUICK_WORST_CELL_PT, table
    assert np.mean(diffs) >= 0, table
