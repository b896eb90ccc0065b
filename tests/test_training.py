"""Training controls: early stopping, validation data, history, partial_fit,
warm_start, class and sample weights, verbosity, and bad input."""

import re

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss, recall_score
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import InvalidParameterError

from skmnist import KerasLogistic, KerasMLP

QUICK = dict(batch_size=50, learning_rate_init=1e-2, random_state=0)


@pytest.fixture(scope="module")
def fitted_quick(small_digits):
    X, _, y, _ = small_digits
    return KerasLogistic(max_iter=5, **QUICK).fit(X, y)


def test_early_stopping_keeps_best_weights_of_a_stratified_split(small_digits):
    X, _, y, _ = small_digits
    clf = KerasMLP(
        hidden_layer_sizes=(64,),
        alpha=0.0,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        tol=1e-3,
        max_iter=200,
        **QUICK,
    ).fit(X, y)
    scores = clf.validation_scores_
    assert clf.n_iter_ < 200, "validation score never stopped improving"
    # As MLPClassifier: the score is the accuracy on the held-out rows, the
    # best is kept, and the last n_iter_no_change + 1 epochs did not beat it.
    assert scores == clf.history_["val_accuracy"] and len(scores) == clf.n_iter_
    assert clf.best_validation_score_ == max(scores)
    assert scores.index(max(scores)) + 1 == clf.best_epoch_
    n = len(scores)
    assert all(scores[k] < max(scores[:k]) + 1e-3 for k in range(n - 4, n))
    assert clf.best_loss_ is None
    # The split is stratified and seeded by random_state: rebuild it and check
    # that the kept weights are those of the best epoch, not the last.
    _, val = train_test_split(
        np.arange(len(y)), test_size=0.2, random_state=0, stratify=y
    )
    assert clf.score(X[val], y[val]) == pytest.approx(clf.best_validation_score_)
    restored = log_loss(y[val], clf.predict_proba(X[val]), labels=clf.classes_)
    best_loss = clf.history_["val_loss"][clf.best_epoch_ - 1]
    assert restored == pytest.approx(best_loss, rel=1e-4)


def test_validation_data_overrides_the_split(small_digits):
    X, X_val, y, y_val = small_digits
    clf = KerasLogistic(
        alpha=0.0,
        early_stopping=True,
        n_iter_no_change=2,
        max_iter=100,
        **QUICK,
    )
    clf.fit(X, y, validation_data=(X_val, y_val))
    assert clf.score(X_val, y_val) == pytest.approx(clf.best_validation_score_)
    best = clf.history_["val_loss"][clf.best_epoch_ - 1]
    assert log_loss(y_val, clf.predict_proba(X_val)) == pytest.approx(best, rel=1e-4)
    # Without early stopping, validation data is scored but does not stop training.
    plain = KerasLogistic(max_iter=4, n_iter_no_change=50, **QUICK)
    plain.fit(X, y, validation_data=(X_val, y_val))
    assert plain.n_iter_ == 4 and len(plain.history_["val_accuracy"]) == 4
    assert plain.validation_scores_ is None


def test_history_and_iteration_attributes(fitted_quick):
    history = fitted_quick.history_
    assert set(history) == {"loss", "accuracy"}
    assert all(len(values) == 5 for values in history.values())
    assert fitted_quick.n_iter_ == 5
    assert fitted_quick.loss_curve_ == history["loss"]
    assert history["loss"][-1] < history["loss"][0]
    assert 1 <= fitted_quick.best_epoch_ <= 5


def test_training_loss_plateau_stops_like_mlpclassifier(small_digits):
    X, _, y, _ = small_digits
    clf = KerasLogistic(max_iter=500, tol=10.0, n_iter_no_change=2, **QUICK)
    # No epoch can improve by 10: as MLPClassifier, stop once more than
    # n_iter_no_change epochs in a row did not (1 + 3 epochs).
    clf.fit(X, y)
    assert clf.n_iter_ == 4 and clf.best_epoch_ == 4


def test_partial_fit_needs_classes_then_adds_one_epoch_per_call(small_digits):
    X, X_test, y, y_test = small_digits
    clf = KerasMLP(hidden_layer_sizes=(16,), **QUICK)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    assert not hasattr(clf, "model_")
    first_half = y < 5
    clf.partial_fit(X[first_half], y[first_half], classes=np.arange(10))
    assert clf.n_iter_ == 1 and clf.classes_.tolist() == list(range(10))
    assert clf.predict_proba(X_test).shape == (len(X_test), 10)
    for epochs in (2, 3):
        clf.partial_fit(X, y)
        # As MLPClassifier: n_iter_ counts the call's epoch, loss_curve_ all.
        assert clf.n_iter_ == 1 and len(clf.loss_curve_) == epochs
    # Three short epochs, the first on classes 0-4 only: well above chance
    # (0.1) on held-out labels, and the later classes are predicted too.
    assert clf.score(X_test, y_test) > 0.3
    assert set(clf.predict(X_test)) & {5, 6, 7, 8, 9}


def test_partial_fit_refuses_a_new_class_and_keeps_its_state(small_digits):
    X, X_test, y, _ = small_digits
    clf = KerasLogistic(**QUICK).partial_fit(X, y % 3, classes=[0, 1, 2])
    before = clf.predict_proba(X_test)
    with pytest.raises(ValueError, match=r"labels \[3\] that were not seen"):
        clf.partial_fit(X, y % 4)
    assert clf.n_iter_ == 1
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)


def test_warm_start_continues_from_current_weights(small_digits):
    X, _, y, _ = small_digits
    clf = KerasLogistic(max_iter=3, warm_start=True, **QUICK).fit(X, y)
    first_losses = list(clf.history_["loss"])
    clf.fit(X, y)
    # As MLPClassifier: n_iter_ is this fit's epochs; the curve goes on.
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 6 and clf.t_ == 6 * len(y)
    assert clf.history_["loss"][:3] == first_losses
    assert clf.history_["loss"][3] < first_losses[0]
    cold = KerasLogistic(max_iter=3, **QUICK).fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 3


def test_balanced_class_weight_lifts_minority_recall():
    X, y = make_classification(
        n_samples=600, n_features=10, weights=[0.93], class_sep=0.6, random_state=0
    )
    params = dict(max_iter=30, batch_size=100, learning_rate_init=1e-2, random_state=0)
    plain = KerasLogistic(**params).fit(X, y)
    balanced = KerasLogistic(class_weight="balanced", **params).fit(X, y)
    as_dict = KerasLogistic(class_weight={0: 1.0, 1: 600 / 84}, **params).fit(X, y)
    assert recall_score(y, balanced.predict(X)) > recall_score(y, plain.predict(X))
    assert recall_score(y, as_dict.predict(X)) > recall_score(y, plain.predict(X))


def test_zero_sample_weight_behaves_like_dropping_rows():
    X, y = make_classification(n_samples=200, n_features=5, flip_y=0.1, random_state=0)
    weights = np.ones(len(y))
    weights[::2] = 0.0
    # Full-batch training on a convex loss: both reach the same optimum.
    params = dict(
        alpha=0.0,
        batch_size=200,
        max_iter=400,
        tol=0.0,
        n_iter_no_change=400,
        learning_rate_init=0.05,
        random_state=0,
    )
    weighted = KerasLogistic(**params).fit(X, y, sample_weight=weights)
    dropped = KerasLogistic(**params).fit(X[1::2], y[1::2])
    np.testing.assert_allclose(
        weighted.predict_proba(X), dropped.predict_proba(X), atol=0.02
    )


def test_verbose_levels(small_digits, capsys):
    X, _, y, _ = small_digits
    KerasLogistic(max_iter=3, verbose=0, **QUICK).fit(X, y)
    assert capsys.readouterr().out == ""
    KerasLogistic(max_iter=3, verbose=1, **QUICK).fit(
        X, y, validation_data=(X[:50], y[:50])
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    # Train and validation metrics are named apart, loss first.
    assert re.match(
        r"Epoch 1/3 - train loss \d\.\d{4}, train accuracy \d\.\d{4}, "
        r"val loss \d\.\d{4}, val accuracy \d\.\d{4} - ",
        lines[0],
    )


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (
            lambda X, y: {"validation_data": (X[:, :10], y)},
            ValueError,
            "X has 10 features",
        ),
        (
            lambda X, y: {"validation_data": (X, y + 100)},
            ValueError,
            "validation_data y contains labels",
        ),
        (
            lambda X, y: {"validation_data": X},
            TypeError,
            "validation_data must be a tuple",
        ),
        (
            lambda X, y: {"sample_weight": -np.ones(len(y))},
            ValueError,
            "Negative values in data passed to",
        ),
    ],
)
def test_bad_fit_input_keeps_previous_state(
    fitted_quick, small_digits, bad, error, message
):
    X, X_test, y, _ = small_digits
    before = fitted_quick.predict_proba(X_test)
    model, n_iter = fitted_quick.model_, fitted_quick.n_iter_
    with pytest.raises(error, match=message):
        fitted_quick.fit(X, y, **bad(X, y))
    assert fitted_quick.model_ is model and fitted_quick.n_iter_ == n_iter
    np.testing.assert_array_equal(fitted_quick.predict_proba(X_test), before)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_validation_fraction_must_be_inside_zero_one(fraction, small_digits):
    X, _, y, _ = small_digits
    with pytest.raises(InvalidParameterError, match="'validation_fraction'"):
        KerasLogistic(early_stopping=True, validation_fraction=fraction).fit(X, y)


def test_running_out_of_epochs_warns_as_mlpclassifier_does(small_digits):
    from sklearn.exceptions import ConvergenceWarning

    X, _, y, _ = small_digits
    with pytest.warns(ConvergenceWarning, match=r"maximum iterations \(2\)"):
        KerasLogistic(max_iter=2, **QUICK).fit(X, y)
    # A fit that stops because the loss stalled converged: no warning.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = KerasLogistic(max_iter=50, tol=1e9, n_iter_no_change=1, **QUICK)
        assert clf.fit(X, y).n_iter_ < 50
