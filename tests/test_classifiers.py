"""KerasLogistic and KerasMLP as scikit-learn classifiers (the package's core)."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import ConfusionMatrixDisplay, get_scorer
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    cross_validate,
)
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError

from skmnist import KerasLogistic, KerasMLP

FAST = dict(max_iter=15, batch_size=50, learning_rate_init=1e-2, random_state=0)


def test_import_does_not_import_tensorflow():
    code = (
        "import sys, time; t = time.perf_counter(); import skmnist; "
        "dt = time.perf_counter() - t; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules; "
        "skmnist.__version__; print(dt)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert float(result.stdout) < 5


@pytest.mark.parametrize("Estimator", [KerasLogistic, KerasMLP])
def test_is_a_classifier_to_sklearn(Estimator):
    estimator = Estimator()
    assert is_classifier(estimator)
    assert get_tags(estimator).estimator_type == "classifier"
    assert get_tags(estimator).classifier_tags.multi_label


def test_cross_validation_is_stratified(small_digits):
    # Labels sorted by class: plain KFold would test each fold on classes it
    # never trained on, so only stratified folds can score well here.
    X, _, y, _ = small_digits
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    result = cross_validate(KerasLogistic(**FAST), X, y, cv=3, return_indices=True)
    expected = [test for _, test in StratifiedKFold(3).split(X, y)]
    for used, wanted in zip(result["indices"]["test"], expected, strict=True):
        np.testing.assert_array_equal(used, wanted)
    assert result["test_score"].min() > 0.8


@pytest.mark.parametrize(
    "Estimator, minimum", [(KerasLogistic, 0.95), (KerasMLP, 0.97)]
)
def test_defaults_reach_target_accuracy_on_digits(
    request, digits_split, Estimator, minimum
):
    fixture = "fitted_logistic" if Estimator is KerasLogistic else "fitted_mlp"
    clf = request.getfixturevalue(fixture)
    _, X_test, _, y_test = digits_split
    assert clf.score(X_test, y_test) >= minimum


def test_predict_proba_is_a_softmax_of_the_logits(fitted_logistic, digits_split):
    _, X_test, _, _ = digits_split
    logits = fitted_logistic.decision_function(X_test[:20])
    proba = fitted_logistic.predict_proba(X_test[:20])
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert fitted_logistic.model_.layers[-1].activation.__name__ == "linear"


def test_loss_is_computed_from_logits(fitted_mlp):
    loss = fitted_mlp.model_.loss
    assert getattr(loss, "from_logits", False) is True


def test_raw_pixels_train_like_prescaled(small_digits):
    X_train, X_test, y_train, y_test = small_digits
    # digits' 0-16 as 8-bit pixels (0-240): input_scaling="auto" divides them
    # by their largest value, and leaves the prescaled 0-1 as they are.
    raw = KerasLogistic(**FAST).fit(X_train * 15, y_train).score(X_test * 15, y_test)
    scaled = (
        KerasLogistic(**FAST).fit(X_train / 16.0, y_train).score(X_test / 16.0, y_test)
    )
    assert abs(raw - scaled) <= 0.005


def test_uint8_input_is_not_copied_to_float64():
    X = np.random.default_rng(0).integers(0, 256, size=(50, 784), dtype=np.uint8)
    checked, _ = KerasLogistic()._check_data(X, reset=True)
    assert checked.dtype == np.uint8 and np.shares_memory(checked, X)


def test_image_stacks_are_flattened(small_digits):
    X_train, X_test, y_train, _ = small_digits
    images = X_train.reshape(-1, 8, 8)
    clf = KerasLogistic(**FAST).fit(images, y_train)
    assert clf.n_features_in_ == 64
    np.testing.assert_allclose(
        clf.predict_proba(X_test.reshape(-1, 8, 8)),
        clf.predict_proba(X_test),
        rtol=1e-6,
    )


@pytest.mark.parametrize("Estimator", [KerasLogistic, KerasMLP])
def test_target_shapes_match_mlpclassifier(Estimator, small_digits):
    X, X_test, y, y_test = small_digits
    targets = {
        "binary-strings": np.where(y % 2 == 0, "even", "odd"),
        "multiclass": y,
        "multilabel": np.column_stack(
            [y % 2 == 0, y >= 5, np.isin(y, [2, 3, 5, 7])]
        ).astype(int),
    }
    for name, target in targets.items():
        ours = Estimator(**FAST).fit(X, target)
        reference = MLPClassifier(max_iter=20, random_state=0).fit(X, target)
        np.testing.assert_array_equal(ours.classes_, reference.classes_)
        assert ours.predict(X_test).shape == reference.predict(X_test).shape, name
        assert ours.predict(X_test).dtype.kind == reference.predict(X_test).dtype.kind
        assert (
            ours.predict_proba(X_test).shape == reference.predict_proba(X_test).shape
        ), name
    # Held-out multilabel targets, scored with subset accuracy as sklearn does.
    test_labels = np.column_stack([y_test % 2 == 0, y_test >= 5]).astype(int)
    ours = Estimator(**FAST).fit(X, targets["multilabel"][:, :2])
    assert ours.score(X_test, test_labels) > 0.6


def test_binary_string_labels_are_learned(small_digits):
    X, X_test, y, y_test = small_digits
    labels = np.where(y == 0, "zero", "other")
    clf = KerasLogistic(**FAST).fit(X, labels)
    assert set(clf.predict(X_test)) <= {"zero", "other"}
    assert clf.score(X_test, np.where(y_test == 0, "zero", "other")) > 0.95
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("Estimator", [KerasLogistic, KerasMLP])
def test_same_seed_same_probabilities(Estimator, small_digits):
    X, X_test, y, _ = small_digits
    params = dict(max_iter=3, random_state=42)
    if Estimator is KerasMLP:
        params["dropout"] = 0.2
    first = Estimator(**params).fit(X, y).predict_proba(X_test)
    second = Estimator(**params).fit(X, y).predict_proba(X_test)
    np.testing.assert_array_equal(first, second)
    other = Estimator(**{**params, "random_state": 7}).fit(X, y).predict_proba(X_test)
    assert not np.array_equal(first, other)


# -- scikit-learn tools -------------------------------------------------------


def test_pipeline_and_grid_search_with_refit(small_digits):
    X, X_test, y, y_test = small_digits
    pipe = make_pipeline(StandardScaler(), KerasMLP(**FAST))
    grid = GridSearchCV(
        pipe,
        {
            "kerasmlp__hidden_layer_sizes": [(8,), (32,)],
            "kerasmlp__learning_rate_init": [1e-3, 1e-2],
        },
        cv=2,
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_params_["kerasmlp__hidden_layer_sizes"] in [(8,), (32,)]
    assert grid.score(X_test, y_test) > 0.8


def test_clone_keeps_every_parameter():
    estimator = KerasMLP(
        hidden_layer_sizes=(7, 3),
        activation="tanh",
        dropout=0.1,
        alpha=0.5,
        learning_rate_init=0.02,
        batch_size=17,
        max_iter=3,
        early_stopping=True,
        class_weight="balanced",
        random_state=5,
        verbose=1,
    )
    cloned = clone(estimator)
    assert cloned.get_params() == estimator.get_params()


def test_parameters_set_through_a_pipeline_shape_the_network(small_digits):
    X, _, y, _ = small_digits
    pipeline = make_pipeline(KerasMLP(max_iter=1, random_state=0))
    pipeline.set_params(
        kerasmlp__hidden_layer_sizes=(7, 3), kerasmlp__activation="tanh"
    )
    model = clone(pipeline).fit(X, y)[-1].model_
    hidden = [layer for layer in model.layers if layer.name.startswith("hidden_")]
    assert [layer.units for layer in hidden] == [7, 3]
    assert {layer.activation.__name__ for layer in hidden} == {"tanh"}


def test_pickle_round_trip_gives_identical_predictions(fitted_mlp, digits_split):
    _, X_test, _, _ = digits_split
    restored = pickle.loads(pickle.dumps(fitted_mlp))
    np.testing.assert_array_equal(
        restored.predict_proba(X_test), fitted_mlp.predict_proba(X_test)
    )


def test_calibration_voting_and_stacking(small_digits):
    X, X_test, y, y_test = small_digits
    calibrated = CalibratedClassifierCV(KerasLogistic(**FAST), cv=2).fit(X, y)
    assert calibrated.predict_proba(X_test).shape == (len(X_test), 10)
    members = [
        ("logistic", KerasLogistic(**FAST)),
        ("sklearn", LogisticRegression(max_iter=500)),
    ]
    voting = VotingClassifier(members, voting="soft").fit(X, y)
    assert voting.score(X_test, y_test) > 0.85
    stacking = StackingClassifier(members, cv=2).fit(X, y)
    assert stacking.score(X_test, y_test) > 0.85


def test_confusion_matrix_and_scorers(fitted_logistic, digits_split):
    import matplotlib.pyplot as plt

    _, X_test, _, y_test = digits_split
    display = ConfusionMatrixDisplay.from_estimator(fitted_logistic, X_test, y_test)
    assert display.confusion_matrix.sum() == len(y_test)
    plt.close("all")
    assert get_scorer("roc_auc_ovr")(fitted_logistic, X_test, y_test) > 0.95
    assert get_scorer("neg_log_loss")(fitted_logistic, X_test, y_test) > -0.5


# -- bad input ------------------------------------------------------------------


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_input_is_refused(value, small_digits):
    X, _, y, _ = small_digits
    X = X.copy()
    X[3, 5] = value
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        KerasLogistic(**FAST).fit(X, y)


def test_string_features_are_refused(small_digits):
    _, _, y, _ = small_digits
    X = np.array([["a", "b"]] * len(y))
    with pytest.raises(ValueError, match="could not convert string"):
        KerasLogistic(**FAST).fit(X, y)


def test_empty_input_is_refused():
    with pytest.raises(ValueError, match="0 sample"):
        KerasLogistic(**FAST).fit(np.empty((0, 4)), np.empty(0))


def test_feature_count_mismatch_is_refused(fitted_logistic, digits_split):
    _, X_test, _, _ = digits_split
    before = fitted_logistic.predict_proba(X_test[:5])
    with pytest.raises(
        ValueError,
        match="X has 63 features, but KerasLogistic is expecting 64 features",
    ):
        fitted_logistic.predict(X_test[:5, :63])
    np.testing.assert_array_equal(fitted_logistic.predict_proba(X_test[:5]), before)


def test_length_mismatch_is_refused(small_digits):
    X, _, y, _ = small_digits
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        KerasLogistic(**FAST).fit(X, y[:-1])


def test_single_class_is_refused(small_digits):
    X, _, y, _ = small_digits
    with pytest.raises(ValueError, match="greater than one"):
        KerasLogistic(**FAST).fit(X, np.zeros_like(y))


@pytest.mark.parametrize(
    "params, name",
    [
        ({"learning_rate_init": -1.0}, "learning_rate_init"),
        ({"batch_size": 0}, "batch_size"),
        ({"solver": "lbfgs"}, "solver"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
    ],
)
def test_invalid_parameters_are_refused(params, name, small_digits):
    X, _, y, _ = small_digits
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        KerasLogistic(**params).fit(X, y)


def test_invalid_hidden_layer_sizes_are_refused(small_digits):
    X, _, y, _ = small_digits
    with pytest.raises(ValueError, match="hidden_layer_sizes must be positive"):
        KerasMLP(hidden_layer_sizes=(10, 0)).fit(X, y)


def test_predict_before_fit_is_refused():
    with pytest.raises(NotFittedError):
        KerasMLP().predict(np.zeros((1, 4)))


def test_failed_refit_keeps_the_fitted_state(small_digits):
    X, X_test, y, _ = small_digits
    clf = KerasLogistic(**FAST).fit(X, y)
    before = clf.predict_proba(X_test)
    model = clf.model_
    with pytest.raises(ValueError):
        clf.fit(X, np.zeros_like(y))
    assert clf.model_ is model
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)
