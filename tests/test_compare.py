import json
import math
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.model_selection import cross_val_score
from sklearn.naive_bayes import GaussianNB
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

import skmnist
from skmnist.comparison import ComparisonResult, compare, default_estimators
from skmnist.comparison._compare import _monitoring
from skmnist.comparison._describe import count_parameters

KEYS = [
    "model",
    "accuracy",
    "log_loss",
    "f1_macro",
    "fit_seconds",
    "predict_seconds",
    "n_parameters",
]
# What was fitted, beside the scores.
FITTED_KEYS = [
    "estimator",
    "n_train",
    "n_test",
    "n_iter",
    "max_iter",
    "iter_unit",
    "warnings",
]


@pytest.fixture(scope="module")
def quick():
    return {"logreg": LogisticRegression(max_iter=500), "nb": GaussianNB()}


@pytest.fixture(scope="module")
def holdout(quick, small_digits):
    X, X_test, y, y_test = small_digits
    return compare(quick, X, y, X_test, y_test)


def test_rows_have_exactly_the_contract_keys_and_sane_values(holdout):
    assert [row["model"] for row in holdout.rows] == ["logreg", "nb"]
    for row in holdout.rows:
        assert list(row) == KEYS + FITTED_KEYS
        assert 0.5 < row["accuracy"] <= 1 and 0.5 < row["f1_macro"] <= 1
        assert 0 < row["log_loss"] < 10
        assert row["fit_seconds"] > 0 and row["predict_seconds"] > 0
        assert isinstance(row["n_parameters"], int)
    assert holdout.rows[0]["n_parameters"] == 64 * 10 + 10
    assert holdout.n_train == 600 and holdout.n_test == 200 and holdout.cv is None


def test_holdout_metrics_are_sklearns_on_the_test_set(quick, small_digits, holdout):
    X, X_test, y, y_test = small_digits
    model = clone(quick["logreg"]).fit(X, y)
    row = holdout.rows[0]
    y_pred = model.predict(X_test)
    assert row["accuracy"] == pytest.approx(accuracy_score(y_test, y_pred))
    assert row["f1_macro"] == pytest.approx(
        f1_score(y_test, model.predict(X_test), average="macro")
    )
    assert row["log_loss"] == pytest.approx(
        log_loss(y_test, model.predict_proba(X_test)), rel=1e-6
    )
    fitted = holdout.estimators["logreg"]
    np.testing.assert_allclose(fitted.coef_, model.coef_)


def test_rows_name_the_estimator_and_what_its_fit_ran(holdout):
    logreg, nb = holdout.rows
    assert logreg["estimator"] == "LogisticRegression(max_iter=500)"
    assert nb["estimator"] == "GaussianNB()"
    fitted = holdout.estimators["logreg"]
    assert logreg["n_iter"] == int(fitted.n_iter_.max()) < 500
    assert (logreg["max_iter"], logreg["iter_unit"]) == (500, "lbfgs iterations")
    assert (nb["n_iter"], nb["max_iter"], nb["iter_unit"]) == (None, None, None)
    assert all((row["n_train"], row["n_test"]) == (600, 200) for row in holdout.rows)
    assert logreg["warnings"] == [] and nb["warnings"] == []


def _ranked(*rows):
    return ComparisonResult(
        [dict(zip(["model", "accuracy", "log_loss"], row)) for row in rows]
    )


def test_best_breaks_accuracy_ties_by_the_lower_log_loss():
    # The lowest log loss does not beat a higher accuracy ...
    assert _ranked(("a", 0.90, 0.50), ("b", 0.80, 0.10)).best["model"] == "a"
    # ... but decides between equal accuracies, whatever the order.
    assert _ranked(("a", 0.90, 0.50), ("b", 0.90, 0.30)).best["model"] == "b"
    assert _ranked(("b", 0.90, 0.30), ("a", 0.90, 0.50)).best["model"] == "b"
    # A model without a log loss loses the tie; a full tie goes to the first.
    assert _ranked(("svm", 0.9, None), ("nb", 0.9, 0.7)).best["model"] == "nb"
    assert _ranked(("x", 0.9, 0.2), ("y", 0.9, 0.2)).best["model"] == "x"
    assert _ranked(("x", 0.9, 0.2), ("y", 0.9, 0.1)).to_dict()["best"] == "y"


def test_json_round_trip(holdout):
    data = holdout.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["rows"] == holdout.rows and data["n_test"] == 200


def test_markdown_table(holdout):
    lines = holdout.to_markdown().splitlines()
    assert lines[0] == (
        "| model | accuracy | log loss | macro F1 | fit (s) | "
        "predict (s) | parameters |"
    )
    assert len(lines) == 2 + len(holdout.rows)
    assert lines[2].startswith("| logreg | ") and "| 650 |" in lines[2]


def test_cv_reports_mean_and_std_over_folds(quick, small_digits):
    X, _, y, _ = small_digits
    result = compare(quick, X, y, cv=3)
    scores = cross_val_score(quick["logreg"], X, y, cv=3)
    row = result.rows[0]
    assert row["accuracy"] == pytest.approx(scores.mean())
    assert row["accuracy_std"] == pytest.approx(scores.std())
    for key in KEYS[1:-1]:
        assert row[f"{key}_std"] >= 0
    assert result.cv == 3 and "±" in result.to_markdown()
    assert json.loads(json.dumps(result.to_dict()))["cv"] == 3
    # Without a test set there is no refit score, and no column for it.
    assert "test_accuracy" not in row
    assert "refit" not in result.to_markdown()


def test_cv_refits_on_all_training_data_and_scores_the_test_set(quick, small_digits):
    X, X_test, y, y_test = small_digits
    result = compare(quick, X, y, X_test, y_test, cv=3)
    refit = clone(quick["logreg"]).fit(X, y)
    kept = result.estimators["logreg"]
    np.testing.assert_allclose(kept.coef_, refit.coef_)
    row = result.rows[0]
    assert row["test_accuracy"] == pytest.approx(
        accuracy_score(y_test, refit.predict(X_test))
    )
    assert row["test_log_loss"] == pytest.approx(
        log_loss(y_test, refit.predict_proba(X_test)), rel=1e-6
    )
    # The cross-validated mean is still the table's accuracy.
    assert row["accuracy"] == pytest.approx(
        cross_val_score(quick["logreg"], X, y, cv=3).mean()
    )
    assert (result.n_train, result.n_test) == (600, 200)
    header = result.to_markdown().splitlines()[0]
    assert header.startswith("| model | accuracy | refit test accuracy | log loss")


def test_without_predict_proba_log_loss_is_none(small_digits):
    X, X_test, y, y_test = small_digits
    result = compare({"svm": LinearSVC(), "nb": GaussianNB()}, X, y, X_test, y_test)
    assert result.rows[0]["log_loss"] is None
    assert "n/a" in result.to_markdown()
    assert json.loads(json.dumps(result.to_dict()))["rows"][0]["log_loss"] is None
    assert result.best["model"] in {"svm", "nb"}


def test_without_test_set_holds_out_a_fifth(quick, small_digits):
    X, _, y, _ = small_digits
    result = compare([("nb", GaussianNB())], X, y)
    assert (result.n_train, result.n_test) == (480, 120)


def test_keras_estimator_is_counted_and_compared(small_digits):
    X, X_test, y, y_test = small_digits
    result = compare(
        {"keras": skmnist.KerasLogistic(max_iter=3, random_state=0)},
        X,
        y,
        X_test,
        y_test,
    )
    assert result.rows[0]["n_parameters"] == 650
    assert 0 < result.rows[0]["accuracy"] <= 1


def test_keras_loss_curves_record_the_test_loss_unless_stopping_early(small_digits):
    from sklearn.metrics import log_loss

    X, X_test, y, y_test = small_digits
    models = {"plain": skmnist.KerasLogistic(max_iter=3, random_state=0)}
    plain = compare(models, X, y, X_test, y_test).estimators["plain"]
    assert len(plain.history_["val_loss"]) == 3
    # Alpha's penalty is part of Keras' val_loss; it is tiny at this size.
    assert plain.history_["val_loss"][-1] == pytest.approx(
        log_loss(y_test, plain.predict_proba(X_test)), rel=1e-3
    )
    # Early stopping must never be steered by the test images, and estimators
    # without `validation_data` (or cross-validation) get no fit parameters.
    early = skmnist.KerasLogistic(early_stopping=True)
    assert _monitoring(early, X_test, y_test) is None
    assert _monitoring(MLPClassifier(), X_test, y_test) is None
    assert _monitoring(skmnist.KerasLogistic(), None, None) is None


def test_count_parameters_of_sklearn_mlp_and_pipeline(small_digits):
    X, _, y, _ = small_digits
    with pytest.warns(ConvergenceWarning):  # 5 epochs are enough to count
        mlp = MLPClassifier((16,), max_iter=5).fit(X, y)
    assert count_parameters(mlp) == 64 * 16 + 16 + 16 * 10 + 10
    baseline = skmnist.make_baseline().fit(X, y)
    assert count_parameters(baseline) == 650
    assert count_parameters(GaussianNB()) == 0


@pytest.mark.parametrize(
    "kwargs, error, phrase",
    [
        ({"cv": 3, "X_test": "x"}, ValueError, "y_test must be given"),
        ({"estimators": {}}, ValueError, "must not be empty"),
        ({"estimators": 3}, TypeError, "estimators must be a dict"),
        ({"y": None}, ValueError, "y must be given"),
    ],
)
def test_bad_arguments(small_digits, kwargs, error, phrase):
    X, _, y, _ = small_digits
    arguments = {"estimators": {"nb": GaussianNB()}, "X": X, "y": y, **kwargs}
    with pytest.raises(error, match=phrase):
        compare(**arguments)


def test_default_estimators():
    models = default_estimators(max_iter=4)
    assert list(models) == ["baseline", "logistic", "mlp", "sklearn-mlp"]
    assert models["mlp"].max_iter == 4 and models["logistic"].max_iter == 4
    assert models["sklearn-mlp"].named_steps["mlp"].max_iter == 4
    assert models["sklearn-mlp"].named_steps["mlp"].hidden_layer_sizes == (128,)
    # The baseline keeps its converging settings whatever the epoch budget.
    assert models["baseline"].named_steps["logreg"].max_iter == 1000
    with pytest.raises(ValueError, match="Unknown model name"):
        default_estimators(["rnn"])


def test_plot_delegates_to_comparison_display(holdout):
    display = holdout.plot()
    assert display.figure_ is not None


def test_package_function_survives_submodule_import(quick, small_digits):
    import skmnist
    import skmnist.comparison  # noqa: F401  binds skmnist.comparison, not compare

    X, X_test, y, y_test = small_digits
    result = skmnist.compare({"nb": GaussianNB()}, X, y, X_test, y_test)
    assert isinstance(result, ComparisonResult)


def test_result_from_rows_alone():
    row = dict(zip(KEYS, ["a", 0.5, math.nan, 0.5, 1.0, 0.1, 3]))
    result = ComparisonResult([row])
    assert result.to_dict()["rows"][0]["log_loss"] is None
    assert result.best["model"] == "a" and "ComparisonResult" in repr(result)


def test_convergence_warnings_are_recorded_per_model_other_warnings_shown(small_digits):
    X, X_test, y, y_test = small_digits

    class Noisy(GaussianNB):
        def fit(self, X, y):
            warnings.warn(
                "a warning that is not about convergence", UserWarning, stacklevel=2
            )
            return super().fit(X, y)

    models = {
        "short": MLPClassifier((8,), max_iter=2, random_state=0),
        "noisy": Noisy(),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # none escapes
        with pytest.warns(UserWarning, match="not about convergence"):
            result = compare(models, X, y, X_test, y_test)
    short, noisy = result.rows
    assert len(short["warnings"]) == 1
    assert "Maximum iterations (2) reached" in short["warnings"][0]
    assert (short["n_iter"], short["max_iter"], short["iter_unit"]) == (2, 2, "epochs")
    assert noisy["warnings"] == []
    assert (
        json.loads(json.dumps(result.to_dict()))["rows"][0]["warnings"]
        == short["warnings"]
    )


def test_progress_hooks_report_models_and_keras_epochs(small_digits):
    from sklearn.preprocessing import MinMaxScaler

    X, X_test, y, y_test = small_digits
    calls = []
    models = {
        "nb": GaussianNB(),
        "keras": make_pipeline(
            MinMaxScaler(), skmnist.KerasLogistic(max_iter=2, random_state=0)
        ),
    }
    result = compare(
        models,
        X,
        y,
        X_test,
        y_test,
        on_model_start=lambda *args: calls.append(("start", *args)),
        on_epoch=lambda name, epoch, n, logs: calls.append(
            ("epoch", name, epoch, n, "loss" in logs)
        ),
        on_model_end=lambda name, row: calls.append(("end", name, row["accuracy"])),
    )
    assert calls == [
        ("start", "nb", 0, 2),
        ("end", "nb", result.rows[0]["accuracy"]),
        ("start", "keras", 1, 2),
        ("epoch", "keras", 1, 2, True),
        ("epoch", "keras", 2, 2, True),
        ("end", "keras", result.rows[1]["accuracy"]),
    ]
    # The kept model holds its own callbacks, not the hook, and is described
    # as given.
    assert result.estimators["keras"][-1].callbacks is None
    assert result.rows[1]["estimator"] == (
        "Pipeline(MinMaxScaler(), KerasLogistic(max_iter=2, random_state=0))"
    )
    assert result.rows[1]["iter_unit"] == "epochs"


def test_epoch_hook_runs_for_every_fold_and_the_refit(small_digits):
    X, _, y, _ = small_digits
    epochs = []
    compare(
        {"k": skmnist.KerasLogistic(max_iter=2, random_state=0)},
        X,
        y,
        cv=2,
        on_epoch=lambda name, epoch, n, logs: epochs.append(epoch),
    )
    assert epochs == [1, 2] * 3  # two folds, then the refit


def test_describe_estimator_names_non_default_parameters():
    from sklearn.ensemble import BaggingClassifier

    from skmnist.comparison._describe import describe_estimator

    class Callback:
        pass

    assert describe_estimator(LogisticRegression()) == "LogisticRegression()"
    assert describe_estimator(skmnist.make_baseline(random_state=0)) == (
        "Pipeline(PixelScaler(), LogisticRegression(C=0.1, max_iter=1000, "
        "random_state=0))"
    )
    bagging = BaggingClassifier(GaussianNB(var_smoothing=1e-3), n_estimators=3)
    assert describe_estimator(bagging) == (
        "BaggingClassifier(estimator=GaussianNB(var_smoothing=0.001), n_estimators=3)"
    )
    keras = skmnist.KerasMLP(hidden_layer_sizes=(64,), callbacks=[Callback()])
    assert describe_estimator(keras) == (
        "KerasMLP(callbacks=[Callback], hidden_layer_sizes=(64,))"
    )
