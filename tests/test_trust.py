"""Estimators under real use: exact epochs, seeds that stay local, failures
that leave no trace, refusal of diverging training, flat memory."""

import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from skmnist import KerasLogistic, KerasMLP


def _steps(clf):
    return int(clf.model_.optimizer.iterations.numpy())


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(4000, 16)).astype(np.uint8)
    y = (X[:, 0] > X[:, 1]).astype(int) + 2 * (X[:, 2] > 128)
    return X, y


# -- 1. an epoch is one pass ----------------------------------------------------


@pytest.mark.parametrize(
    "n_samples, batch_size, max_iter, steps_per_execution",
    [
        (100, 200, 1, 32),  # fewer rows than a batch: one step
        (4000, 200, 1, 32),  # 20 steps per epoch, not 32
        (4000, 200, 3, 1000),  # 60 steps, not 3,000
        (4000, 200, 3, 7),  # 7 does not divide 20
        (3700, 100, 2, 32),  # a prime number of steps per epoch (37)
        (333, 50, 3, 1),  # odd size, last batch partial
    ],
)
def test_an_epoch_is_exactly_one_pass(
    rows, n_samples, batch_size, max_iter, steps_per_execution
):
    X, y = rows
    clf = KerasLogistic(
        max_iter=max_iter,
        batch_size=batch_size,
        steps_per_execution=steps_per_execution,
        random_state=0,
    )
    clf.fit(X[:n_samples], y[:n_samples])
    steps_per_epoch = -(-n_samples // min(batch_size, n_samples))
    assert _steps(clf) == max_iter * steps_per_epoch
    assert clf.n_iter_ == max_iter == len(clf.history_["loss"])


def test_partial_fit_and_warm_start_count_exact_steps(rows):
    X, y = rows
    clf = KerasLogistic(batch_size=200, steps_per_execution=32, random_state=0)
    clf.partial_fit(X[:1000], y[:1000], classes=[0, 1, 2, 3])  # 5 steps
    clf.partial_fit(X[:700], y[:700])  # 4 steps: the call size changes
    assert _steps(clf) == 9 and len(clf.loss_curve_) == 2
    warm = KerasLogistic(
        max_iter=2, warm_start=True, batch_size=200, random_state=0
    ).fit(X[:600], y[:600])
    warm.fit(X[:1400], y[:1400])
    assert _steps(warm) == 2 * 3 + 2 * 7


# -- 3. seeds are local -----------------------------------------------------------


def _seeded_fit(X, y, seed):
    clf = KerasMLP(
        hidden_layer_sizes=(16,),
        dropout=0.1,
        max_iter=3,
        batch_size=100,
        random_state=seed,
    )
    return clf.fit(X, y).predict_proba(X[:200])


def test_seeded_fits_agree_alone_in_sequence_and_in_threads(small_digits):
    from tensorflow.python.framework import config

    X, _, y, _ = small_digits
    globals_before = (
        os.environ.get("TF_DETERMINISTIC_OPS"),
        random.getstate(),
        np.random.get_state()[1].copy(),  # noqa: NPY002 - the legacy global
        config.is_op_determinism_enabled(),
    )
    alone = {seed: _seeded_fit(X, y, seed) for seed in (0, 1)}
    threaded = {}
    threads = [
        threading.Thread(
            target=lambda seed=seed: threaded.__setitem__(seed, _seeded_fit(X, y, seed))
        )
        for seed in (0, 1, 0, 1)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for seed in (0, 1):
        np.testing.assert_array_equal(threaded[seed], alone[seed])
    np.testing.assert_array_equal(_seeded_fit(X, y, 0), alone[0])
    globals_after = (
        os.environ.get("TF_DETERMINISTIC_OPS"),
        random.getstate(),
        np.random.get_state()[1],  # noqa: NPY002 - the global state is the point
        config.is_op_determinism_enabled(),
    )
    assert globals_after[0] == globals_before[0]
    assert globals_after[1] == globals_before[1]
    np.testing.assert_array_equal(globals_after[2], globals_before[2])
    assert globals_after[3] == globals_before[3]


# -- 4. a failed fit leaves no trace ------------------------------------------------


def _raising_callback(exception, after_batches):
    import keras

    class Raise(keras.callbacks.Callback):
        seen = 0

        def on_train_batch_end(self, batch, logs=None):
            Raise.seen += 1
            if Raise.seen >= after_batches:
                raise exception

    return Raise()


def _state(clf):
    model = clf.model_
    return (
        [w.copy() for w in model.get_weights()],
        [v.numpy().copy() for v in model.optimizer.variables],
        {k: list(v) for k, v in clf.history_.items()},
        clf.n_iter_,
        clf.best_epoch_,
        list(clf.loss_curve_),
    )


def _assert_same_state(clf, before, probabilities, X):
    after = _state(clf)
    for old, new in zip(before[0], after[0]):
        np.testing.assert_array_equal(old, new)
    assert len(before[1]) <= len(after[1])
    for old, new in zip(before[1], after[1]):
        np.testing.assert_array_equal(old, new)
    assert after[2:] == before[2:]
    np.testing.assert_array_equal(clf.predict_proba(X), probabilities)


@pytest.mark.parametrize("exception", [RuntimeError("boom"), KeyboardInterrupt()])
@pytest.mark.parametrize("method", ["warm_start", "partial_fit"])
def test_failure_inside_training_leaves_the_estimator_as_it_was(
    small_digits, exception, method
):
    X, _, y, _ = small_digits
    # steps_per_execution=1 so the callback fires mid-epoch, after real steps.
    clf = KerasMLP(
        hidden_layer_sizes=(16,),
        max_iter=2,
        batch_size=100,
        steps_per_execution=1,
        warm_start=True,
        random_state=0,
    )
    if method == "warm_start":
        clf.fit(X, y)
    else:
        clf.partial_fit(X, y, classes=np.unique(y))
    before, probabilities = _state(clf), clf.predict_proba(X)
    clf.callbacks = [_raising_callback(exception, after_batches=3)]
    with pytest.raises(type(exception)):
        clf.fit(X, y) if method == "warm_start" else clf.partial_fit(X, y)
    _assert_same_state(clf, before, probabilities, X)
    # And it trains on as if nothing happened.
    clf.callbacks = None
    clf.partial_fit(X, y)
    assert len(clf.loss_curve_) == len(before[5]) + 1


# -- 5. non-finite training is refused -------------------------------------------

# These fits overflow on purpose; NumPy and JAX say so on the way to the error.
_OVERFLOWS = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")


@pytest.mark.parametrize(
    "params, cause",
    [
        ({"learning_rate_init": 1e308}, "learning rate is likely"),
        ({"alpha": 1e308}, "alpha=1e\\+308"),
    ],
)
@_OVERFLOWS
def test_diverging_training_is_refused(small_digits, params, cause):
    X, _, y, _ = small_digits
    with pytest.raises(ValueError, match=f"Training diverged.*{cause}"):
        KerasLogistic(max_iter=2, **params).fit(X, y)


@_OVERFLOWS
def test_diverging_warm_start_keeps_the_state(small_digits):
    X, _, y, _ = small_digits
    clf = KerasLogistic(max_iter=2, warm_start=True, random_state=0).fit(X, y)
    before, probabilities = _state(clf), clf.predict_proba(X)
    with pytest.raises(ValueError, match="Training diverged"):
        clf.fit(X, y, sample_weight=np.full(len(y), 1e38))
    _assert_same_state(clf, before, probabilities, X)
    assert np.isfinite(probabilities).all()


@pytest.mark.parametrize("class_weight", [{0: np.nan}, {0: -5.0}, {1: np.inf}])
def test_bad_class_weight_is_refused_like_sample_weight(small_digits, class_weight):
    X, _, y, _ = small_digits
    with pytest.raises(ValueError, match="class_weight must map classes to finite"):
        KerasLogistic(max_iter=1, class_weight=class_weight).fit(X, y)
    with pytest.raises(ValueError, match="[Nn]egative"):
        KerasLogistic(max_iter=1).fit(X, y, sample_weight=np.full(len(y), -1.0))


# -- 2. flat memory ----------------------------------------------------------------


def test_memory_stays_flat_over_many_fits():
    # SGD: Keras' own Adam update leaks ~3 MB of traced graphs per model (see
    # benchmarks/memory_per_fit.py); SGD leaves what skmnist itself retains.
    script = Path(__file__).parents[1] / "benchmarks" / "memory_per_fit.py"
    result = subprocess.run(
        [
            sys.executable,
            str(script),
            "--cycles",
            "20",
            "--warmup",
            "5",
            "--solver",
            "sgd",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    import json

    growth = json.loads(result.stdout.strip().splitlines()[-1])["mb_per_fit"]
    from skmnist._engine._keras import import_keras

    if import_keras().backend.backend() == "jax":
        # 0.08 MB measured; one kept KerasMLP(64,) with its optimizer is 0.6 MB.
        assert growth < 0.5, result.stdout
    else:
        # Keras keeps per-model TensorFlow state (tf-keras#286, keras#20245):
        # 5.2 to 5.6 MB per fit here with SGD's momentum (MLPClassifier's 0.9).
        # Only a loose bound: on JAX, above, a kept model would show.
        assert growth < 8.0, result.stdout


def test_a_single_image_gets_a_reshape_hint(fitted_logistic, digits_split):
    _, X_test, _, _ = digits_split
    image = X_test[0].reshape(8, 8)
    with pytest.raises(ValueError, match=r"8 features.*reshape\(1, 8, 8\)"):
        fitted_logistic.predict(image)
    assert fitted_logistic.predict(image[None]).shape == (1,)
