"""The reference side of benchmarks/run.py, in a process of its own.

Some machines set ``OPENBLAS_CORETYPE`` (and ``OPENBLAS_L2_SIZE``) for old
OpenBLAS builds; with a current NumPy they pick a slower kernel (on one
machine here ``Prescott`` slowed MLPClassifier from 5.2 s to 7.4 s).
OpenBLAS reads them once, when loaded, so the reference runs here, started
by :func:`start` with both unset, and reports the BLAS kernel it got.

Protocol: one JSON request per line on stdin, one JSON answer per line on
stdout: ``{"task": "blas"}``, ``{"task": "mlp", "data": PATH, "seed": S,
"epochs": E, "test": PATH}``, ``{"task": "lbfgs", ...}``, ``{"task": "exit"}``.
"""

import json
import os
import subprocess
import sys
import time

OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def blas_in_this_process():
    """The BLAS libraries NumPy loaded here: library, version, kernel, threads."""
    import numpy  # noqa: F401 - loads NumPy's BLAS
    from threadpoolctl import threadpool_info

    return "; ".join(
        f"{info['internal_api']} {info.get('version') or ''} "
        f"kernel {info.get('architecture') or '?'}, {info['num_threads']} threads"
        for info in threadpool_info()
        if info["user_api"] == "blas"
    )


def openblas_settings(environ=None):
    """The ``OPENBLAS_*`` variables set in ``environ`` (this process's by default)."""
    environ = os.environ if environ is None else environ
    found = [
        f"{name}={environ[name]}" for name in OPENBLAS_VARIABLES if name in environ
    ]
    return ", ".join(found) or "none set"


def start():
    """Start the reference process, with the ``OPENBLAS_*`` variables unset."""
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARIABLES}
    return subprocess.Popen(
        [sys.executable, os.path.abspath(__file__)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def ask(process, **request):
    process.stdin.write(json.dumps(request) + "\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def stop(process):
    process.stdin.write(json.dumps({"task": "exit"}) + "\n")
    process.stdin.close()
    process.wait()


def _load(cache, path):
    import numpy as np

    if path not in cache:
        with np.load(path) as data:
            cache[path] = (data["X"] / 255.0, data["y"])
    return cache[path]


def _answer(request, cache):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if request["task"] == "blas":
        return {"blas": blas_in_this_process(), "openblas": openblas_settings()}
    X, y = _load(cache, request["data"])
    X_test, y_test = _load(cache, request["test"])
    if request["task"] == "mlp":
        epochs = request["epochs"]
        model = MLPClassifier(
            hidden_layer_sizes=(128,),
            max_iter=epochs,
            n_iter_no_change=epochs + 1,
            random_state=request["seed"],
        )
    else:
        model = LogisticRegression(max_iter=request["max_iter"])
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "accuracy": float(model.score(X_test, y_test)),
        "n_iter": int(getattr(model, "n_iter_", [0])[0])
        if request["task"] == "lbfgs"
        else int(model.n_iter_),
    }


def main():
    cache = {}
    for line in sys.stdin:
        request = json.loads(line)
        if request["task"] == "exit":
            break
        print(json.dumps(_answer(request, cache)), flush=True)


if __name__ == "__main__":
    main()
