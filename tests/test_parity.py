"""KerasMLP as a drop-in for MLPClassifier: its attributes, stopping rule,
errors, sparse input and multilabel loss, each checked against scikit-learn's
own estimator run side by side."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import log_softmax
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier

from skmnist import KerasCNN, KerasLogistic, KerasMLP


@pytest.fixture(autouse=True)
def _no_convergence_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


# -- fitted attributes ----------------------------------------------------------


@pytest.mark.parametrize("early_stopping", [False, True])
def test_fitted_attributes_are_mlpclassifiers(iris, early_stopping):
    X, y = iris
    params = dict(max_iter=4, early_stopping=early_stopping, random_state=0)
    ours = KerasMLP(**params).fit(X, y)
    theirs = MLPClassifier(**params).fit(X, y)
    for name in ("loss_", "best_loss_", "validation_scores_", "best_validation_score_"):
        assert (getattr(ours, name) is None) == (getattr(theirs, name) is None), name
    assert ours.loss_ == ours.loss_curve_[-1] == ours.history_["loss"][-1]
    assert isinstance(ours.loss_, float)
    if early_stopping:
        assert len(ours.validation_scores_) == ours.n_iter_ == 4
        assert ours.best_validation_score_ == max(ours.validation_scores_)
    else:
        assert ours.best_loss_ == min(ours.loss_curve_)


@pytest.mark.parametrize(
    "Estimator, target", [(KerasMLP, "multiclass"), (KerasLogistic, "binary")]
)
def test_loss_is_on_mlpclassifiers_scale_with_its_l2_term(iris, Estimator, target):
    # A step too small to move the weights: the epoch's mean loss is the loss
    # of the final weights, which MLPClassifier's formula gives from them.
    X, y = iris
    y = y if target == "multiclass" else (y == 2).astype(int)
    alpha = 0.5
    clf = Estimator(
        alpha=alpha,
        solver="sgd",
        momentum=0.0,
        learning_rate_init=1e-12,
        batch_size=len(y),
        max_iter=1,
        input_scaling=None,
        random_state=0,
    ).fit(X, y)
    penalty = 0.5 * alpha * sum(np.sum(w.astype(np.float64) ** 2) for w in clf.coefs_)
    expected = log_loss(y, clf.predict_proba(X)) + penalty / len(y)
    assert clf.loss_ == pytest.approx(expected, rel=1e-4)


def test_multilabel_loss_is_summed_over_labels_as_mlpclassifier():
    X, Y = make_multilabel_classification(n_samples=60, n_classes=4, random_state=0)
    clf = KerasMLP(
        alpha=0.0,
        solver="sgd",
        momentum=0.0,
        learning_rate_init=1e-12,
        batch_size=60,
        max_iter=1,
        random_state=0,
    ).fit(X, Y)
    proba = clf.predict_proba(X)
    per_label = [log_loss(Y[:, j], proba[:, j], labels=[0, 1]) for j in range(4)]
    assert clf.loss_ == pytest.approx(sum(per_label), rel=1e-4)


def test_n_iter_counts_the_epochs_of_the_last_call(iris):
    X, y = iris
    for Estimator in (KerasMLP, MLPClassifier):
        warm = Estimator(max_iter=3, warm_start=True, random_state=0).fit(X, y)
        warm.fit(X, y)
        assert (warm.n_iter_, len(warm.loss_curve_), warm.t_) == (3, 6, 900)
        incremental = Estimator(random_state=0)
        for _ in range(3):
            incremental.partial_fit(X, y, classes=[0, 1, 2])
        assert (incremental.n_iter_, len(incremental.loss_curve_)) == (1, 3)


def test_kerascnn_has_no_dense_chain_attributes(iris):
    # coefs_ / n_layers_ describe a chain of Dense layers; a CNN's
    # convolutions are none of those matrices, so it has none of them.
    X, y = iris
    clf = KerasCNN(
        filters=(2,), dense_units=4, kernel_size=1, image_shape=(2, 2), max_iter=1
    ).fit(X, y)
    for name in ("coefs_", "intercepts_", "n_layers_"):
        assert not hasattr(clf, name)
    assert clf.n_outputs_ == 3 and clf.out_activation_ == "softmax"


# -- the stopping rule ---------------------------------------------------------


def _rng_walk(n, seed, drift):
    steps = np.random.default_rng(seed).normal(-drift, 0.01, n)
    return list(1.0 + np.cumsum(steps))


_SEQUENCES = {
    # Each epoch 0.004 better than the last: under tol=0.01 every time, yet
    # over it in three. Keras' EarlyStopping never stopped on this.
    "slow steady decrease": [2.0 - 0.004 * k for k in range(300)],
    "fast then flat": [2.0 * 0.7**k for k in range(300)],
    "noisy": _rng_walk(300, 0, 0.003),
}


def _sklearn_stopping_epoch(values, n_iter_no_change, tol, on_validation):
    """The epoch at which MLPClassifier's own rule stops on ``values``."""
    mlp = MLPClassifier(tol=tol, n_iter_no_change=n_iter_no_change)
    mlp.coefs_, mlp.intercepts_ = [np.zeros(1)], [np.zeros(1)]
    mlp.loss_curve_, mlp._no_improvement_count = [], 0
    mlp.best_loss_, mlp.validation_scores_ = np.inf, []
    mlp.best_validation_score_ = -np.inf
    scores = iter(values)
    mlp._score = lambda X, y, sample_weight=None: next(scores)
    for epoch, value in enumerate(values, start=1):
        mlp.loss_curve_.append(value)
        mlp._update_no_improvement_count(on_validation, None, None, None)
        if mlp._no_improvement_count > n_iter_no_change:
            return epoch
    return None


def _our_stopping_epoch(values, n_iter_no_change, tol, on_validation):
    """The epoch at which our stopping callback stops, fed ``values``."""
    from skmnist._engine import _optim
    from skmnist._engine._builders import build_model, compile_model
    from skmnist.classifiers import _stopping

    estimator = KerasMLP(tol=tol, n_iter_no_change=n_iter_no_change)
    model = compile_model(build_model(2, 2), "multiclass")
    rule = _stopping.stopping_rule(estimator, reset=True, on_validation=on_validation)
    _, stopper = _optim.schedule_callbacks(
        estimator, n_samples=10, initial_epoch=0, rule=rule
    )
    stopper.set_model(model)
    model.stop_training = False
    stopper.on_train_begin()
    for epoch, value in enumerate(values):
        logs = (
            {"loss": 1.0, "val_accuracy": value} if on_validation else {"loss": value}
        )
        stopper.on_epoch_end(epoch, logs)
        if model.stop_training:
            return epoch + 1
    return None


@pytest.mark.parametrize("n_iter_no_change", [2, 5, 10])
@pytest.mark.parametrize("sequence", list(_SEQUENCES))
@pytest.mark.parametrize("on_validation", [False, True])
def test_stopping_epoch_is_mlpclassifiers(n_iter_no_change, sequence, on_validation):
    values = _SEQUENCES[sequence]
    if on_validation:  # a score rises where a loss falls
        values = [2.0 - v for v in values]
    expected = _sklearn_stopping_epoch(values, n_iter_no_change, 0.01, on_validation)
    assert expected is not None
    assert _our_stopping_epoch(values, n_iter_no_change, 0.01, on_validation) == (
        expected
    )


def test_a_warm_fit_continues_the_stopping_count(iris):
    # As MLPClassifier: the count and best loss carry over to a warm fit,
    # which then stops as soon as the rule is exhausted again.
    X, y = iris
    params = dict(tol=100.0, n_iter_no_change=2, max_iter=50, random_state=0)
    for Estimator in (KerasMLP, MLPClassifier):
        clf = Estimator(warm_start=True, **params).fit(X, y)
        assert clf.n_iter_ == 4
        clf.fit(X, y)
        assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 5


# -- scikit-learn's errors ------------------------------------------------------


def _error(make, X, y):
    with pytest.raises(ValueError) as caught:
        make(X, y)
    return str(caught.value)


@pytest.mark.parametrize(
    "case",
    ["warm refit on fewer classes", "partial_fit other classes", "early stopping"],
)
def test_the_same_value_errors_as_mlpclassifier(iris, case):
    X, y = iris
    two = y < 2

    def scenario(Estimator):
        def run(X, y):
            if case == "warm refit on fewer classes":
                clf = Estimator(max_iter=2, warm_start=True, random_state=0)
                clf.fit(X, y).fit(X[two], y[two])
            elif case == "partial_fit other classes":
                clf = Estimator(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
                clf.partial_fit(X[two], y[two], classes=[0, 1])
            else:
                Estimator(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])

        return run

    assert _error(scenario(KerasMLP), X, y) == _error(scenario(MLPClassifier), X, y)


def test_a_refused_call_leaves_the_estimator_as_it_was(iris):
    X, y = iris
    clf = KerasMLP(max_iter=2, warm_start=True, random_state=0).fit(X, y)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError, match="warm_start can only be used"):
        clf.fit(X[y < 2], y[y < 2])
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert clf.n_iter_ == 2


# -- sparse input ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_sparse_input_trains_as_the_dense_matrix(small_digits, fmt, early_stopping):
    X, X_test, y, _ = small_digits
    params = dict(max_iter=3, early_stopping=early_stopping, random_state=0)
    dense = KerasMLP(**params).fit(X, y)
    sparse = KerasMLP(**params).fit(sp.csr_matrix(X).asformat(fmt), y)
    test = sp.csr_matrix(X_test)
    np.testing.assert_allclose(
        sparse.predict_proba(test), dense.predict_proba(X_test), atol=1e-5
    )
    assert sparse.history_.keys() == dense.history_.keys()
    np.testing.assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-5)


def test_sparse_input_is_never_densified_whole(monkeypatch, rng):
    """A call's rows at a time (a bound lowered here to a few batches)."""
    import tracemalloc

    from skmnist._engine import _jax_data

    monkeypatch.setattr(_jax_data, "SPARSE_PIECE_BYTES", 4 * 50 * 2000 * 8)
    X = sp.random(4000, 2000, density=0.005, format="csr", random_state=0)
    y = rng.integers(0, 3, 4000)
    clf = KerasMLP(hidden_layer_sizes=(4,), batch_size=50, max_iter=1)
    tracemalloc.start()
    try:
        clf.fit(X, y, validation_data=(X[:2000], y[:2000]))
        clf.predict_proba(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Dense, X is 64 MB and the validation rows 32 MB.
    assert peak < 16e6, peak
    assert clf.history_["val_loss"]


# -- multilabel ------------------------------------------------------------------


@pytest.mark.parametrize("input_scaling", ["auto", None])
def test_multilabel_partial_fit_learns_as_mlpclassifier(input_scaling):
    # scikit-learn's own test (test_multilabel_classification): 100 sgd
    # steps at 0.2. Keras' mean over labels divided the gradient by 5. The
    # inputs are word counts 0-11: the default scaling once took them for
    # pixels and divided them by 11, and so the first layer's steps, which
    # 100 steps at a fixed rate did not make up for (0.42).
    X, Y = make_multilabel_classification(
        n_samples=50, random_state=0, return_indicator=True
    )
    params = dict(
        solver="sgd",
        hidden_layer_sizes=50,
        max_iter=150,
        random_state=0,
        activation="logistic",
        alpha=1e-5,
        learning_rate_init=0.2,
    )
    ours = KerasMLP(input_scaling=input_scaling, **params)
    theirs = MLPClassifier(**params)
    for _ in range(100):
        ours.partial_fit(X, Y, classes=[0, 1, 2, 3, 4])
        theirs.partial_fit(X, Y, classes=[0, 1, 2, 3, 4])
    assert theirs.score(X, Y) > 0.9
    assert ours.score(X, Y) >= theirs.score(X, Y) - 0.02


# -- predict_log_proba ------------------------------------------------------------


@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel"])
def test_predict_log_proba_stays_finite_where_proba_rounds_to_zero(iris, target):
    X, y = iris
    Y = {"multiclass": y, "binary": (y == 2).astype(int)}.get(
        target, np.column_stack([y == 0, y == 2]).astype(int)
    )
    clf = KerasLogistic(max_iter=1, random_state=0).fit(X, Y)
    kernel = clf.model_.get_layer("logits").kernel
    kernel.assign(np.asarray(kernel.numpy()) * 1e4)  # logits in the thousands
    log_proba = clf.predict_log_proba(X)
    assert np.isfinite(log_proba).all()
    with np.errstate(divide="ignore"):
        assert np.isneginf(np.log(clf.predict_proba(X))).any()
    logits = clf.decision_function(X).astype(np.float64)
    if target == "multiclass":
        np.testing.assert_allclose(log_proba, log_softmax(logits, axis=1), rtol=1e-6)
    else:
        logits = logits.reshape(len(X), -1)
        positive = -np.logaddexp(0, -logits)
        np.testing.assert_allclose(
            log_proba[:, -1], positive[:, -1], rtol=1e-6, atol=1e-30
        )


# -- compilation -----------------------------------------------------------------


def test_a_5_fold_cv_compiles_its_programs_once(iris):
    """Each fold's scaling constants are data: folds 2 to 5 lower nothing."""
    from skmnist._engine._keras import import_keras

    if import_keras().backend.backend() != "jax":
        pytest.skip("compiled programs are cached on the JAX backend only")
    import jax

    from skmnist._engine._jax_engine import _PROGRAMS

    X, y = iris
    compiled = []

    def listener(event, duration, **kwargs):
        # A program lowered for XLA, whether XLA then compiles it or finds
        # it in the persistent cache (the test suite keeps one on disk).
        if event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            compiled.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    counts = {}
    try:
        for scaling in ("max_abs", "standard", None):
            _PROGRAMS.clear()  # the first fold compiles, whatever ran before
            per_fold = []
            for train, test in StratifiedKFold(5).split(X, y):
                before = len(compiled)
                clf = KerasMLP(
                    hidden_layer_sizes=(5,), max_iter=2, input_scaling=scaling
                )
                clf.fit(X[train], y[train]).score(X[test], y[test])
                per_fold.append(len(compiled) - before)
            counts[scaling] = per_fold
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    for per_fold in counts.values():
        assert per_fold[0] > 0 and per_fold[1:] == [0, 0, 0, 0], counts


def test_a_multilabel_estimator_unpickles_in_a_fresh_process(tmp_path):
    """Nothing of skmnist's needs registering with Keras before unpickling."""
    X, Y = make_multilabel_classification(n_samples=40, n_classes=3, random_state=0)
    clf = KerasLogistic(max_iter=1, random_state=0).fit(X, Y)
    path = tmp_path / "clf.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    code = (
        "import pickle, sys, numpy as np; "
        f"clf = pickle.loads(open({str(path)!r}, 'rb').read()); "
        f"X = np.load({str(tmp_path / 'X.npy')!r}); "
        "np.save(sys.argv[1], clf.predict_proba(X)); clf.partial_fit(X[:5], "
        "clf.predict(X[:5]))"
    )
    out = tmp_path / "proba.npy"
    subprocess.run([sys.executable, "-c", code, str(out)], check=True, timeout=300)
    np.testing.assert_array_equal(np.load(out), clf.predict_proba(X))
