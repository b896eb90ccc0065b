"""One process's grid searches, for row 7 of benchmarks/run.py.

Usage: ``python _search.py DATA.npz SIDE EPOCHS N_SEARCHES``, where SIDE is
``serial`` (``n_jobs=1``), ``loky`` (``n_jobs=-1``, joblib's default backend:
worker processes) or ``threads`` (``n_jobs=-1`` inside
``joblib.parallel_config(backend="threading")``). Prints the seconds of each
search as JSON. The process is warm as a notebook's is before its first search
(Keras and JAX imported, one tiny fit), so the first search pays what a
search's own start costs: programs to compile and, for ``loky``, workers to
start, each importing scikit-learn, Keras and JAX.
"""

import contextlib
import json
import sys
import time
import warnings


def main(path, side, epochs, n_searches):
    import numpy as np
    from joblib import parallel_config
    from sklearn.model_selection import GridSearchCV

    from skmnist import KerasMLP

    warnings.filterwarnings("ignore")
    data = np.load(path)
    X, y = data["X"], data["y"]
    KerasMLP(max_iter=1, hidden_layer_sizes=(8,)).fit(X[:500], y[:500])
    grid = {"hidden_layer_sizes": [(64,), (128,)], "alpha": [1e-4, 1e-2]}
    estimator = KerasMLP(max_iter=epochs, random_state=0)
    backend = (
        parallel_config(backend="threading")
        if side == "threads"
        else contextlib.nullcontext()
    )
    seconds = []
    with backend:
        for _ in range(n_searches):
            search = GridSearchCV(
                estimator, grid, cv=2, n_jobs=1 if side == "serial" else -1
            )
            start = time.perf_counter()
            search.fit(X, y)
            seconds.append(time.perf_counter() - start)
    scores = search.cv_results_["mean_test_score"]
    print(json.dumps({"seconds": seconds, "scores": [float(s) for s in scores]}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
