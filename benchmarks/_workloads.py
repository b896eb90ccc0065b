"""Data and timed workloads for benchmarks/run.py (kept apart to stay short)."""

import time

import numpy as np


def shifted_copies(images, n_samples, seed=0):
    """``n_samples`` images drawn from ``images``, each shifted by up to 2 px."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(len(images), size=n_samples)
    shifts = rng.integers(-2, 3, size=(n_samples, 2))
    out = np.empty((n_samples, 28, 28), dtype=np.uint8)
    for dx in range(-2, 3):
        for dy in range(-2, 3):
            rows = np.flatnonzero((shifts[:, 0] == dx) & (shifts[:, 1] == dy))
            out[rows] = np.roll(images[picks[rows]], (dx, dy), axis=(1, 2))
    return out.reshape(n_samples, -1), picks


def make_dataset(path, n_train):
    """Training and test arrays: full MNIST from ``path`` or shifted embedded."""
    from skmnist import load_mnist

    if path:
        train = load_mnist(source=path, subset="train")
        test = load_mnist(source=path, subset="test")
        return (
            train.data[:n_train],
            train.target[:n_train],
            test.data,
            test.target,
            f"MNIST from {path}",
        )
    train = load_mnist(source="embedded", subset="train")
    test = load_mnist(source="embedded", subset="test")
    X, picks = shifted_copies(train.images, n_train)
    return (
        X,
        train.target[picks],
        test.data,
        test.target,
        "embedded MNIST, training images shifted by up to 2 px",
    )


def warm_up_tensorflow(X, y):
    """One tiny fit, so the backend's one-off start-up is charged to no timing."""
    from skmnist import KerasMLP

    KerasMLP(max_iter=1).fit(X[:500], y[:500])


def keras_raw_fit_seconds(X, y, epochs, repeats=3):
    """Best-of-``repeats`` fit time of KerasMLP and of the same raw Keras model.

    Both seeded, both on the backend of this process, interleaved; the raw side
    is Keras' own ``Model.fit`` on the float32 arrays (``steps_per_execution``
    as KerasMLP's, which divides the epoch here), so both run the same steps.
    """
    from skmnist import KerasMLP
    from skmnist._engine import _optim
    from skmnist._engine._builders import build_model, compile_model, set_input_scaling

    estimator = KerasMLP(max_iter=epochs, n_iter_no_change=epochs + 1, random_state=0)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    wrapped, raw = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        estimator.fit(X, y)
        wrapped.append(time.perf_counter() - start)

        start = time.perf_counter()
        model = build_model(
            X.shape[1],
            10,
            hidden_layer_sizes=(128,),
            l2=estimator.alpha / (2 * _optim.batch_size(estimator, X.shape[0])),
            scale_inputs=True,
            seed=0,
        )
        set_input_scaling(model, 0.0, 255.0)
        # Keras' default jit_compile="auto" (XLA on JAX), as a user compiles;
        # skmnist's jit_compile=False would run JAX's step op by op.
        compile_model(
            model,
            "multiclass",
            optimizer=_optim.make_optimizer(estimator),
            steps_per_execution=estimator.model_.steps_per_execution,
            jit_compile="auto",
        )
        model.fit(
            X32,
            y32,
            batch_size=_optim.batch_size(estimator, X.shape[0]),
            epochs=epochs,
            shuffle=True,
            verbose=0,
        )
        raw.append(time.perf_counter() - start)
    return min(wrapped), min(raw)


def predict_latency(fitted, X_test, n_calls):
    """p50 and p95 of ``predict`` on one image, and Keras' own predict on one."""
    times = []
    for i in range(n_calls):
        row = X_test[i % len(X_test)][None, :]
        start = time.perf_counter()
        fitted.predict(row)
        times.append(time.perf_counter() - start)
    keras_times = []
    for i in range(min(n_calls, 30)):
        start = time.perf_counter()
        fitted.model_.predict(X_test[i : i + 1].astype(np.float32), verbose=0)
        keras_times.append(time.perf_counter() - start)
    return (
        float(np.percentile(times, 50)),
        float(np.percentile(times, 95)),
        float(np.median(keras_times)),
    )


def grid_search_seconds(X, y, quick):
    """``{side: (first, again)}`` seconds of a small grid search per side.

    Sides: ``serial`` (``n_jobs=1``), ``loky`` (``n_jobs=-1``, joblib's
    default) and ``threads`` (``n_jobs=-1`` on joblib's threading backend).
    Each run of a side is a fresh, warmed-up process (``_search.py``) that
    searches three times: ``first`` is the best over the runs of the first
    search (compiling, and starting workers for ``loky``), ``again`` the best of
    the later ones (warm programs and joblib's reused workers, as a notebook's
    next search). The sides alternate; a side whose scores differ from the
    serial search's raises.
    """
    import json
    import os
    import subprocess
    import sys
    import tempfile

    script = os.path.join(os.path.dirname(__file__), "_search.py")
    epochs, runs = (2, 1) if quick else (10, 3)
    sides = ("serial", "loky", "threads")
    seconds = {side: ([], []) for side in sides}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "data.npz")
        np.savez(path, X=X, y=y)
        scores = {}
        for _ in range(runs):
            for side in sides:
                output = subprocess.run(
                    [sys.executable, script, path, side, str(epochs), "3"],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                result = json.loads(output.strip().splitlines()[-1])
                seconds[side][0].append(result["seconds"][0])
                seconds[side][1].extend(result["seconds"][1:])
                scores[side] = result["scores"]
    for side in sides:
        np.testing.assert_allclose(scores[side], scores["serial"], rtol=1e-6)
    return {side: (min(first), min(again)) for side, (first, again) in seconds.items()}
