"""MLPClassifier's parameters on the Keras classifiers, and Keras' own names.

Every quantity is read from what trained: the optimizer's variables and config,
``history_``, ``t_``, the weights. The expected schedules come from
scikit-learn's own ``SGDOptimizer``, not from a formula copied here.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

from skmnist import KerasLogistic, KerasMLP
from skmnist.classifiers import _fit_data
from skmnist.classifiers._targets import encode_targets
from skmnist.plotting import LossCurveDisplay

QUICK = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _rate(estimator):
    return float(estimator.model_.optimizer.learning_rate.numpy())


# -- the parameters ---------------------------------------------------------------


def test_every_mlpclassifier_parameter_with_its_default():
    ours, theirs = KerasMLP().get_params(), MLPClassifier().get_params()
    assert set(theirs) <= set(ours)
    different = {name for name in theirs if ours[name] != theirs[name]}
    assert different == {"hidden_layer_sizes"}  # (128,): the tutorial's
    logistic = KerasLogistic().get_params()
    # The linear model's step size and penalty are its own (see KerasLogistic's
    # docstring, and coming_from.rst, which lists them).
    own = {"learning_rate_init": 3e-3, "alpha": 1e-2}
    assert {name: logistic[name] for name in own} == own
    shared = set(theirs) - {"hidden_layer_sizes", "activation", *own}
    assert {name: logistic[name] for name in shared} == {
        name: theirs[name] for name in shared
    }


@pytest.mark.parametrize("target", ["multiclass", "binary"])
def test_mlpclassifier_params_fit_with_its_fitted_attributes(small_digits, target):
    X, _, y, _ = small_digits
    if target == "binary":
        y = (y > 4).astype(int)
    params = MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=3).get_params()
    ours = KerasMLP(**params).set_params(random_state=0).fit(X, y)
    theirs = MLPClassifier(**params).set_params(random_state=0).fit(X, y)
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    for name in ("n_layers_", "n_outputs_", "out_activation_", "t_", "n_iter_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert all(isinstance(c, np.ndarray) for c in ours.coefs_ + ours.intercepts_)


def test_coefs_are_the_model_weights_and_follow_partial_fit(small_digits):
    X, _, y, _ = small_digits
    clf = KerasLogistic(max_iter=2, random_state=0, input_scaling="max_abs")
    clf.fit(X, y)
    assert clf.n_layers_ == 2 and clf.coefs_[0].shape == (64, 10)
    # The logits are X_scaled @ coefs_ + intercepts_ (max_abs: 1 / 16).
    logits = (X / 16.0) @ clf.coefs_[0] + clf.intercepts_[0]
    np.testing.assert_allclose(clf.decision_function(X), logits, rtol=1e-4, atol=1e-4)
    before = clf.coefs_[0].copy()
    clf.partial_fit(X, y)
    assert not np.allclose(clf.coefs_[0], before)
    assert clf.t_ == 3 * X.shape[0]
    assert not hasattr(KerasMLP(), "coefs_")


def test_optimizer_parameters_reach_keras(small_digits):
    X, _, y, _ = small_digits
    sgd = KerasMLP(solver="sgd", momentum=0.5, nesterovs_momentum=False, **QUICK)
    config = sgd.fit(X, y).model_.optimizer.get_config()
    assert (config["momentum"], config["nesterov"]) == (0.5, False)
    adam = KerasMLP(beta_1=0.8, beta_2=0.99, epsilon=1e-6, **QUICK).fit(X, y)
    config = adam.model_.optimizer.get_config()
    assert (config["beta_1"], config["beta_2"], config["epsilon"]) == (0.8, 0.99, 1e-6)
    assert KerasMLP(**QUICK).fit(X, y).model_.optimizer.get_config()["epsilon"] == 1e-8


@pytest.mark.parametrize("n_rows, steps", [(600, 3), (150, 1)])
def test_batch_size_auto_is_min_200_n(small_digits, n_rows, steps):
    X, _, y, _ = small_digits
    clf = KerasMLP(batch_size="auto", **QUICK).fit(X[:n_rows], y[:n_rows])
    iterations = int(clf.model_.optimizer.iterations.numpy())
    assert iterations == clf.n_iter_ * steps


def test_shuffle_false_takes_rows_in_order():
    from skmnist._engine._training import _on_jax

    weights = np.ones(7, dtype=np.float32)
    if _on_jax():
        from skmnist._engine._jax_data import epoch_plan as _epoch_plan

        rng = np.random.default_rng(0)
        rows = _epoch_plan(rng, weights, 3, shuffle=False)[0].ravel()[:7]
        shuffled = _epoch_plan(rng, weights, 3, shuffle=True)[0].ravel()[:7]
    else:
        from skmnist._engine._training import _repeating_batches

        X = np.arange(7).reshape(7, 1)

        def first_epoch(shuffle):
            batches = _repeating_batches(X, X, None, 3, 0, shuffle).take(3)
            return np.concatenate([b[0].numpy().ravel() for b in batches])

        rows, shuffled = first_epoch(False), first_epoch(True)
    assert rows.tolist() == list(range(7))
    assert (
        sorted(shuffled.tolist()) == list(range(7))
        and shuffled.tolist() != rows.tolist()
    )


# -- learning_rate: the schedules ---------------------------------------------------


def test_invscaling_sets_sklearns_rate_before_each_epoch(small_digits):
    X, _, y, _ = small_digits
    n = X.shape[0]
    clf = KerasMLP(
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=0.5,
        power_t=0.25,
        **QUICK,
    ).fit(X, y)
    clf.partial_fit(X, y)
    # scikit-learn's SGDOptimizer sets the next epoch's rate after each epoch
    # from the samples seen so far (t_), not from the optimizer steps.
    sklearn_rates = [0.5]
    optimizer = SGDOptimizer([], 0.5, lr_schedule="invscaling", power_t=0.25)
    for epoch in range(1, 4):
        optimizer.iteration_ends(epoch * n)
        sklearn_rates.append(optimizer.learning_rate)
    np.testing.assert_allclose(clf.history_["learning_rate"], sklearn_rates, rtol=1e-6)
    assert _rate(clf) == pytest.approx(sklearn_rates[-1], rel=1e-6)
    assert clf.t_ == 4 * n


def test_adaptive_divides_by_5_after_n_iter_no_change_stalled_epochs(small_digits):
    X, _, y, _ = small_digits
    # tol=10: no epoch after the first improves enough, so every one stalls;
    # as MLPClassifier, the rule fires after n_iter_no_change + 1 of them.
    params = dict(solver="sgd", learning_rate_init=0.1, tol=10.0, n_iter_no_change=2)
    params.update(QUICK, max_iter=7)
    constant = KerasMLP(**params).fit(X, y)
    assert constant.n_iter_ == 4 and _rate(constant) == pytest.approx(0.1)
    adaptive = KerasMLP(learning_rate="adaptive", **params).fit(X, y)
    assert adaptive.n_iter_ == 7  # lowered the rate instead of stopping
    np.testing.assert_allclose(
        adaptive.history_["learning_rate"],
        [0.1, 0.1, 0.1, 0.1, 0.02, 0.02, 0.02],
        rtol=1e-6,
    )
    assert _rate(adaptive) == pytest.approx(0.1 / 5**2, rel=1e-6)


def test_adaptive_stops_once_the_rate_is_at_most_1e_6(small_digits):
    X, _, y, _ = small_digits
    clf = KerasMLP(
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=1e-6,
        tol=10.0,
        n_iter_no_change=2,
        **dict(QUICK, max_iter=7),
    ).fit(X, y)
    assert clf.n_iter_ == 4 and _rate(clf) == pytest.approx(1e-6)


@pytest.mark.parametrize("schedule", ["invscaling", "adaptive"])
def test_schedules_apply_to_sgd_only_as_in_sklearn(small_digits, schedule):
    X, _, y, _ = small_digits
    clf = KerasMLP(learning_rate=schedule, tol=10.0, n_iter_no_change=2, **QUICK)
    clf.set_params(max_iter=6).fit(X, y)
    assert _rate(clf) == pytest.approx(1e-3)
    assert "learning_rate" not in clf.history_
    assert clf.n_iter_ == 4  # adam stops on the first plateau


def test_mlpclassifier_grid_runs_unchanged(small_digits):
    X, _, y, _ = small_digits
    grid = {
        "learning_rate_init": [1e-3, 1e-2],
        "batch_size": ["auto", 64],
        "learning_rate": ["constant", "adaptive"],
        "solver": ["sgd"],
    }
    search = GridSearchCV(KerasMLP(**QUICK), grid, cv=2).fit(X[:300], y[:300])
    assert len(search.cv_results_["params"]) == 8
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.learning_rate_init in (1e-3, 1e-2)


# -- validation_split -------------------------------------------------------------


def test_validation_split_records_every_epoch_and_restores_nothing(small_digits):
    X, _, y, _ = small_digits
    clf = KerasMLP(
        validation_split=0.25, alpha=0.0, n_iter_no_change=50, **dict(QUICK, max_iter=6)
    ).fit(X, y)
    assert clf.n_iter_ == 6 and clf.best_epoch_ == 6
    assert len(clf.history_["val_loss"]) == len(clf.history_["val_accuracy"]) == 6
    assert clf.t_ == 6 * 450  # trained on the other 75%
    # The held-out rows (stratified, seeded) scored by the final weights give
    # the last val_loss: the weights were not rolled back.
    y_encoded = encode_targets(clf, y, what="y")
    _, _, _, (X_val, y_val, _) = _fit_data.split_validation(
        clf, X, y, y_encoded, None, None, True, 0
    )
    proba = clf.predict_proba(X_val)
    labels = y_val.astype(int).ravel()
    loss = -np.mean(np.log(proba[np.arange(len(labels)), labels]))
    assert loss == pytest.approx(clf.history_["val_loss"][-1], rel=1e-3)


def test_validation_split_holds_out_a_stratified_seeded_share(small_digits):
    X, _, y, _ = small_digits
    clf = KerasMLP(validation_split=0.2)
    clf.target_type_ = "multiclass"

    def held_out(seed):
        marked = np.arange(X.shape[0])[:, None]
        return _fit_data.split_validation(clf, marked, y, y, None, None, True, seed)[3]

    rows, labels, weights = held_out(0)
    assert len(rows) == 120 and weights is None  # one label: no factor
    np.testing.assert_array_equal(labels, y[rows.ravel()])
    expected = np.bincount(y, minlength=10) * 0.2
    assert np.all(np.abs(np.bincount(labels, minlength=10) - expected) <= 1)
    assert np.array_equal(held_out(0)[0], rows)
    assert not np.array_equal(held_out(1)[0], rows)


def test_loss_curve_display_shows_the_validation_curve(small_digits):
    X, _, y, _ = small_digits
    clf = KerasMLP(validation_split=0.2, **QUICK).fit(X, y)
    display = LossCurveDisplay.from_estimator(clf)
    labels = [line.get_label() for line in display.lines_["loss"]]
    assert labels == ["training", "validation"]
    np.testing.assert_allclose(
        display.lines_["loss"][1].get_ydata(), clf.history_["val_loss"]
    )


# -- errors that say what to write instead ----------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: KerasMLP(epochs=5), "KerasMLP.. has no argument 'epochs'.*max_iter"),
        (lambda: KerasLogistic(optimizer="adam"), "use solver"),
        (lambda: KerasMLP().set_params(epochs=5), "use max_iter"),
        (
            lambda: KerasMLP().fit(np.zeros((4, 2)), [0, 1, 0, 1], epochs=3),
            r"KerasMLP.fit\(\) has no argument 'epochs'.*KerasMLP\(max_iter=50\)",
        ),
        (
            lambda: KerasMLP().fit(
                np.zeros((4, 2)), [0, 1, 0, 1], validation_split=0.2
            ),
            r"pass validation_split to the constructor.*KerasMLP\(validation_split",
        ),
        (
            lambda: KerasMLP().fit(np.zeros((4, 2)), [0, 1, 0, 1], batch_size=2),
            "pass batch_size to the constructor",
        ),
        (
            lambda: KerasMLP().fit(np.zeros((4, 2)), [0, 1, 0, 1], colour=2),
            "unexpected keyword argument 'colour'",
        ),
    ],
)
def test_keras_names_raise_a_type_error_naming_ours(call, message):
    with pytest.raises(TypeError, match=message):
        call()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"learning_rate": 0.01}, r"learning_rate_init=0.01"),
        ({"solver": "lbfgs"}, r"\['adam', 'sgd', 'rmsprop'\].*lbfgs"),
        ({"learning_rate": "optimal"}, "constant"),
        ({"batch_size": "big"}, "auto"),
        (
            {"validation_split": 0.2, "early_stopping": True},
            "validation_split=0.2 and early_stopping=True",
        ),
    ],
)
def test_invalid_combinations_raise_value_errors(small_digits, params, message):
    X, _, y, _ = small_digits
    with pytest.raises(ValueError, match=message):
        KerasMLP(**params).fit(X, y)
