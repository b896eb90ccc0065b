"""
=================================================
One grid search: one process, two, and on Dask
=================================================

The same :class:`~sklearn.model_selection.GridSearchCV` over a
:class:`~skmnist.KerasMLP` runs three ways: in this process
(``n_jobs=1``), in two joblib worker processes (``n_jobs=2``), and on a Dask
``LocalCluster`` of two single-threaded workers through
:func:`skmnist.parallel.search_backend`. With a fixed ``random_state`` all
three runs find the same parameters and the same scores (the printed gap is
zero); only the wall time changes. The initial weights come from a NumPy
generator seeded by ``random_state``, so the Dask worker's own threads cannot
change them (see :ref:`scaling`).

A ``LocalCluster`` stands in for a real cluster here: with ``dask scheduler``
on one machine and ``dask worker tcp://HOST:8786 --nthreads 1`` on others,
``search_backend("tcp://HOST:8786")`` runs the identical code there.
"""

# %%
# The search
# ----------
# A small grid on scikit-learn's 8x8 digits keeps the example short. Each
# worker process imports Keras and its backend and compiles its own training
# steps, a start-up cost that a search this small does not earn back: on
# the machine that built these pages the parallel runs may well be the
# slower ones (the bars below). A longer search amortises it.
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skmnist import KerasMLP
from skmnist.parallel import search_backend

X, y = load_digits(return_X_y=True)
grid = {"hidden_layer_sizes": [(32,), (64,)], "alpha": [1e-4, 1e-2]}


def timed_search(n_jobs=None, scheduler=None):
    """Fit the grid; return the fitted search and its seconds."""
    search = GridSearchCV(
        KerasMLP(max_iter=10, batch_size=50, random_state=0),
        grid,
        cv=3,
        scoring="neg_log_loss",
        n_jobs=n_jobs,
    )
    start = time.perf_counter()
    # 10 epochs on purpose: a ConvergenceWarning per fit would
    # say only that (scikit-learn passes the filter to workers).
    with (
        search_backend(scheduler, n_workers=2),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    return search, time.perf_counter() - start


# %%
# Three runs
# ----------
# Worker processes (loky's and Dask's) re-import this script when it is run
# as ``python plot_dask_search.py``; the ``__main__`` guard keeps them from
# starting searches of their own. Any script that starts a ``LocalCluster``
# needs it.
if __name__ == "__main__":
    runs = {
        "n_jobs=1": timed_search(n_jobs=1),
        "n_jobs=2": timed_search(n_jobs=2),
        "LocalCluster\n(2 workers)": timed_search(
            scheduler="local"
        ),
    }
    reference = runs["n_jobs=1"][0].cv_results_["mean_test_score"]
    for name, (search, seconds) in runs.items():
        gap = np.abs(
            search.cv_results_["mean_test_score"] - reference
        ).max()
        print(
            f"{name.splitlines()[0]:>12}: {seconds:5.1f} s, "
            f"log loss {-search.best_score_:.4f}, "
            f"gap to n_jobs=1 {gap:.1e}"
        )
        print(f"{'':>12}  best {search.best_params_}")

    # Wall times: two workers can at best halve the time on two
    # free cores; the parallel bars include starting the workers.
    fig, ax = plt.subplots(figsize=(6, 3))
    names = list(runs)
    ax.barh(
        names, [runs[name][1] for name in names], color="tab:blue"
    )
    ax.invert_yaxis()
    ax.set_xlabel("wall time of the search (s)")
    ax.set_title("The same 2x2 grid with cv=3, three ways")
    fig.tight_layout()
    plt.show()
