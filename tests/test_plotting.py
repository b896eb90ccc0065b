"""Tests for skmnist.plotting: assertions on the drawn artists and written PNGs."""

import subprocess
import sys
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.image import imread
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmnist.plotting import (
    ComparisonDisplay,
    DigitPredictionDisplay,
    LossCurveDisplay,
    PredictionGridDisplay,
    save_report_figures,
)

BLUE, RED, GREY = to_rgba("blue"), to_rgba("red"), to_rgba("#777777")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def mlp_early(small_digits):
    from skmnist import KerasMLP

    X_train, _, y_train, _ = small_digits
    return KerasMLP(
        hidden_layer_sizes=(16,),
        max_iter=12,
        batch_size=50,
        early_stopping=True,
        n_iter_no_change=3,
        random_state=0,
    ).fit(X_train, y_train)


@pytest.fixture(scope="module")
def mlp_validated(small_digits):
    """Validation curves but no early stopping: no best-epoch marker."""
    from skmnist import KerasMLP

    X_train, X_test, y_train, y_test = small_digits
    return KerasMLP(
        hidden_layer_sizes=(16,), max_iter=5, batch_size=50, random_state=0
    ).fit(X_train, y_train, validation_data=(X_test, y_test))


def _proba(n_classes, winner, p=0.82):
    proba = np.full(n_classes, (1 - p) / (n_classes - 1))
    proba[winner] = p
    return proba


def _labels(lines):
    return [line.get_label() for line in lines]


# -- import hygiene ----------------------------------------------------------


def test_import_does_not_pull_matplotlib_or_tensorflow():
    code = (
        "import sys, skmnist.plotting; "
        "print('matplotlib' in sys.modules, 'tensorflow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "False"]


# -- LossCurveDisplay --------------------------------------------------------


def test_loss_curve_marks_best_epoch_with_early_stopping(mlp_early):
    display = LossCurveDisplay.from_estimator(mlp_early)
    lines = display.lines_["loss"]
    assert _labels(lines) == ["training", "validation"]
    history = mlp_early.history_
    np.testing.assert_array_equal(
        lines[0].get_xdata(), np.arange(1, mlp_early.n_iter_ + 1)
    )
    np.testing.assert_allclose(lines[0].get_ydata(), history["loss"])
    np.testing.assert_allclose(lines[1].get_ydata(), history["val_loss"])
    (marker,) = display.best_epoch_lines_
    assert list(marker.get_xdata()) == [mlp_early.best_epoch_] * 2
    assert marker.get_label() == f"best epoch ({mlp_early.best_epoch_})"
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend == ["training", "validation", f"best epoch ({mlp_early.best_epoch_})"]
    assert display.ax_.get_title() == "KerasMLP: loss"
    assert display.ax_.get_xlabel() == "epoch"
    assert display.figure_ is display.ax_.figure


def test_loss_curve_has_no_marker_without_early_stopping(mlp_validated):
    display = LossCurveDisplay.from_estimator(mlp_validated)
    assert display.best_epoch_lines_ is None
    assert _labels(display.ax_.get_lines()) == ["training", "validation"]


def test_loss_curve_both_panels(mlp_early):
    display = LossCurveDisplay.from_estimator(mlp_early, metric="both", name="mlp")
    assert display.axes_.shape == (2,)
    assert display.ax_ is display.axes_[0]
    assert [ax.get_title() for ax in display.axes_] == ["mlp: loss", "mlp: accuracy"]
    assert _labels(display.lines_["accuracy"]) == ["training", "validation"]
    np.testing.assert_allclose(
        display.lines_["accuracy"][1].get_ydata(), mlp_early.history_["val_accuracy"]
    )
    assert len(display.best_epoch_lines_) == 2


def test_loss_curve_shows_overfitting_as_given():
    # Training keeps falling while validation turns up: both drawn unchanged.
    history = {
        "loss": [1.0, 0.6, 0.4, 0.3, 0.2],
        "val_loss": [1.1, 0.8, 0.7, 0.75, 0.9],
    }
    display = LossCurveDisplay(history).plot()
    train, validation = display.lines_["loss"]
    assert np.all(np.diff(train.get_ydata()) < 0)
    assert validation.get_ydata()[-1] > min(validation.get_ydata())
    assert display.ax_.get_title() == "Loss"


def test_loss_curve_plot_returns_self_and_forwards_kwargs():
    display = LossCurveDisplay({"loss": [1.0, 0.5]}, best_epoch=1)
    fig, ax = plt.subplots()
    assert display.plot(ax=ax, lw=4, alpha=0.5, best_epoch_kw={"color": "k"}) is display
    assert display.ax_ is ax and display.figure_ is fig
    (line,) = display.lines_["loss"]
    assert (line.get_linewidth(), line.get_alpha()) == (4, 0.5)
    assert to_rgba(display.best_epoch_lines_[0].get_color()) == to_rgba("k")


def test_loss_curve_accepts_keras_history_object():
    history = SimpleNamespace(history={"loss": [0.9, 0.5], "accuracy": [0.5, 0.8]})
    display = LossCurveDisplay(history).plot(metric="accuracy")
    assert _labels(display.ax_.get_lines()) == ["training"]


def test_loss_curve_from_mlpclassifier(small_digits):
    X_train, _, y_train, _ = small_digits
    clf = MLPClassifier((8,), max_iter=5, random_state=0)
    with pytest.warns(UserWarning):  # ConvergenceWarning: few iterations on purpose
        clf.fit(X_train, y_train)
    display = LossCurveDisplay.from_estimator(clf)
    assert _labels(display.ax_.get_lines()) == ["training"]
    assert display.best_epoch_lines_ is None
    pipeline = make_pipeline(StandardScaler(), clf)
    with pytest.warns(UserWarning):
        pipeline.fit(X_train, y_train)
    display = LossCurveDisplay.from_estimator(pipeline)
    np.testing.assert_allclose(display.lines_["loss"][0].get_ydata(), clf.loss_curve_)

    clf.set_params(early_stopping=True, max_iter=8)
    with pytest.warns(UserWarning):
        clf.fit(X_train, y_train)
    display = LossCurveDisplay.from_estimator(clf, metric="accuracy")
    assert _labels(display.lines_["accuracy"]) == ["validation"]
    best = int(np.argmax(clf.validation_scores_)) + 1
    assert display.best_epoch_lines_[0].get_xdata()[0] == best


def test_loss_curve_errors(small_digits, mlp_early):
    from skmnist import KerasMLP

    X_train, _, y_train, _ = small_digits
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(KerasMLP())
    fitted = LogisticRegression(max_iter=300).fit(X_train / 16, y_train)
    with pytest.raises(TypeError, match="Keras estimator with history_"):
        LossCurveDisplay.from_estimator(fitted)
    with pytest.raises(ValueError, match="metric must be one of"):
        LossCurveDisplay.from_estimator(mlp_early, metric="f1")
    with pytest.raises(ValueError, match="needs 'accuracy'"):
        LossCurveDisplay({"loss": [1.0]}).plot(metric="both")
    _, axes = plt.subplots(1, 3)
    with pytest.raises(ValueError, match="ax must be None or 2 matplotlib Axes"):
        LossCurveDisplay.from_estimator(mlp_early, metric="both", ax=axes)


# -- DigitPredictionDisplay --------------------------------------------------


def _bar_colors(display):
    return [to_rgba(bar.get_facecolor()) for bar in display.bars_]


def test_digit_right_prediction_is_blue():
    display = DigitPredictionDisplay.from_predictions(np.eye(8), 3, _proba(10, 3))
    label = display.ax_.xaxis.label
    assert label.get_text() == "3 82% (3)"
    assert to_rgba(label.get_color()) == BLUE
    colors = _bar_colors(display)
    assert len(colors) == 10
    assert colors[3] == BLUE
    assert colors[:3] + colors[4:] == [GREY] * 9
    assert display.bar_ax_.get_ylim() == (0, 1)
    ticks = [t.get_text() for t in display.bar_ax_.get_xticklabels()]
    assert ticks == list("0123456789")
    assert display.ax_.get_xticks().size == 0 and display.ax_.get_yticks().size == 0


def test_digit_wrong_prediction_is_red():
    display = DigitPredictionDisplay.from_predictions(np.eye(8), 5, _proba(10, 3))
    label = display.ax_.xaxis.label
    assert label.get_text() == "3 82% (5)"
    assert to_rgba(label.get_color()) == RED
    colors = _bar_colors(display)
    assert (colors[3], colors[5]) == (RED, BLUE)
    assert colors.count(GREY) == 8
    ticks = display.bar_ax_.get_xticklabels()
    assert (to_rgba(ticks[3].get_color()), to_rgba(ticks[5].get_color())) == (RED, BLUE)
    np.testing.assert_allclose(
        [bar.get_height() for bar in display.bars_], _proba(10, 3)
    )


def test_digit_string_classes_and_flat_784_pixels():
    image = np.zeros(784)
    display = DigitPredictionDisplay.from_predictions(
        image, "dog", [0.1, 0.7, 0.2], labels=["cat", "dog", "bird"]
    )
    assert display.im_.get_array().shape == (28, 28)
    assert display.ax_.get_xlabel() == "dog 70% (dog)"
    assert display.y_pred_ == "dog"


def test_digit_from_estimator(mlp_early, small_digits):
    _, X_test, _, y_test = small_digits
    display = DigitPredictionDisplay.from_estimator(mlp_early, X_test, y_test, index=7)
    assert display.im_.get_array().shape == (8, 8)  # digits: 64 = 8 x 8 pixels
    np.testing.assert_array_equal(display.im_.get_array(), X_test[7].reshape(8, 8))
    assert display.y_pred_ == mlp_early.predict(X_test[7:8])[0]
    np.testing.assert_allclose(
        [bar.get_height() for bar in display.bars_],
        mlp_early.predict_proba(X_test[7:8])[0],
        rtol=1e-6,
    )
    assert display.axes_.tolist() == [display.ax_, display.bar_ax_]
    # 3-D input, the shape KerasMLP also accepts, draws the same image.
    again = DigitPredictionDisplay.from_estimator(
        mlp_early, X_test.reshape(-1, 8, 8), y_test, index=7
    )
    assert again.ax_.get_xlabel() == display.ax_.get_xlabel()


def test_digit_plot_returns_self_and_forwards_kwargs():
    display = DigitPredictionDisplay(np.eye(4), 1, _proba(3, 1))
    fig, axes = plt.subplots(1, 2)
    out = display.plot(ax=axes, im_kw={"cmap": "viridis"}, bar_kw={"width": 0.5})
    assert out is display and display.figure_ is fig and display.ax_ is axes[0]
    assert display.im_.get_cmap().name == "viridis"
    assert {bar.get_width() for bar in display.bars_} == {0.5}


def test_digit_image_shape_for_non_square_features():
    display = DigitPredictionDisplay.from_predictions(
        np.arange(12), 0, _proba(2, 0), image_shape=(3, 4)
    )
    assert display.im_.get_array().shape == (3, 4)


def test_digit_errors(small_digits, mlp_early):
    from skmnist import KerasMLP

    X_train, X_test, y_train, y_test = small_digits
    with pytest.raises(ValueError, match="must be square, or pass image_shape"):
        DigitPredictionDisplay.from_predictions(np.zeros(10), 0, _proba(2, 0))
    with pytest.raises(ValueError, match="must be square, or pass image_shape"):
        DigitPredictionDisplay.from_estimator(mlp_early, X_test[:, :60], y_test)
    with pytest.raises(ValueError, match="image_shape must be"):
        DigitPredictionDisplay.from_predictions(
            np.zeros(12), 0, _proba(2, 0), image_shape=(5, 5)
        )
    with pytest.raises(ValueError, match="index must be an integer in"):
        DigitPredictionDisplay.from_estimator(mlp_early, X_test, y_test, index=10**6)
    with pytest.raises(ValueError, match="y_true=11 is not one of the classes"):
        DigitPredictionDisplay.from_predictions(np.eye(8), 11, _proba(10, 3))
    with pytest.raises(ValueError, match="labels must have one label per"):
        DigitPredictionDisplay.from_predictions(
            np.eye(8), 1, _proba(10, 3), labels=[0, 1]
        )
    with pytest.raises(NotFittedError):
        DigitPredictionDisplay.from_estimator(KerasMLP(), X_test, y_test)
    ridge = RidgeClassifier().fit(X_train, y_train)
    with pytest.raises(TypeError, match="must have predict_proba"):
        DigitPredictionDisplay.from_estimator(ridge, X_test, y_test)


# -- PredictionGridDisplay ---------------------------------------------------


def test_grid_from_estimator_is_the_tutorials_5x3(mlp_early, small_digits):
    _, X_test, _, y_test = small_digits
    display = PredictionGridDisplay.from_estimator(mlp_early, X_test, y_test)
    assert display.axes_.shape == (5, 3, 2)
    assert display.displays_.shape == (5, 3)
    assert display.figure_.get_size_inches().tolist() == pytest.approx([12, 10.3])
    assert display.ax_ is display.axes_[0, 0, 0]
    predicted = mlp_early.predict(X_test[:15])
    assert [d.y_pred_ for d in display.displays_.flat] == list(predicted)
    assert display.axes_[1, 2, 0].get_title() == "#5"


def test_grid_misclassified_only():
    y_true = np.arange(20) % 10
    winners = y_true.copy()
    winners[[2, 5, 17]] = (y_true[[2, 5, 17]] + 1) % 10  # three mistakes
    y_proba = np.array([_proba(10, w) for w in winners])
    images = np.zeros((20, 64))
    display = PredictionGridDisplay.from_predictions(
        images, y_true, y_proba, misclassified_only=True
    )
    assert display.axes_.shape == (1, 3, 2)
    assert [ax.get_title() for ax in display.axes_[0, :, 0]] == ["#2", "#5", "#17"]
    for d in display.displays_.flat:
        assert to_rgba(d.ax_.xaxis.label.get_color()) == RED

    everything = PredictionGridDisplay.from_predictions(
        images, y_true, y_proba, n_rows=2, n_cols=4
    )
    assert everything.axes_.shape == (2, 4, 2)
    # The first 8 images hold the mistakes at 2 and 5.
    assert sum(d.y_pred_ != d.y_true for d in everything.displays_.flat) == 2


def test_grid_with_no_mistakes_says_so():
    y_proba = np.array([_proba(10, k) for k in range(10)])
    display = PredictionGridDisplay.from_predictions(
        np.zeros((10, 8, 8)), np.arange(10), y_proba, misclassified_only=True
    )
    assert [t.get_text() for t in display.ax_.texts] == ["no images to show"]
    assert not display.ax_.axison


def test_grid_plot_on_given_axes_returns_self():
    y_proba = np.array([_proba(3, k % 3) for k in range(4)])
    display = PredictionGridDisplay(np.zeros((4, 2, 2)), np.arange(4) % 3, y_proba)
    fig, axes = plt.subplots(2, 4)
    assert display.plot(n_cols=2, ax=axes) is display
    assert display.figure_ is fig and display.axes_.shape == (2, 2, 2)
    with pytest.raises(
        ValueError, match=r"ax must be None or 8 matplotlib Axes \(n_rows=2, n_cols=2"
    ):
        display.plot(n_cols=2, ax=axes[0])


def test_grid_errors(mlp_early, small_digits):
    _, X_test, _, y_test = small_digits
    with pytest.raises(ValueError, match="n_rows must be a positive integer"):
        PredictionGridDisplay.from_estimator(mlp_early, X_test, y_test, n_rows=0)
    with pytest.raises(ValueError, match="same number of samples"):
        PredictionGridDisplay.from_estimator(mlp_early, X_test, y_test[:-1])
    with pytest.raises(ValueError, match="must be square"):
        PredictionGridDisplay.from_estimator(mlp_early, X_test[:, :50], y_test)
    # A 1-D y_proba once failed with an IndexError naming no argument.
    with pytest.raises(ValueError, match="y_proba must be 2-D"):
        PredictionGridDisplay.from_predictions(X_test[:3], y_test[:3], np.ones(3))


# -- ComparisonDisplay -------------------------------------------------------


def _result():
    return SimpleNamespace(
        rows=[
            {
                "model": "baseline",
                "accuracy": 0.92,
                "fit_seconds": 3.0,
                "f1_macro": 0.9,
            },
            {
                "model": "KerasMLP",
                "accuracy": 0.97,
                "accuracy_std": 0.01,
                "fit_seconds": 12.0,
                "f1_macro": 0.96,
            },
        ]
    )


def test_comparison_from_result_draws_error_rates_and_fit_times():
    display = ComparisonDisplay.from_result(_result())
    assert display.axes_.shape == (2,)
    errors, seconds = display.bars_["error_rate"], display.bars_["fit_seconds"]
    np.testing.assert_allclose([bar.get_width() for bar in errors], [0.08, 0.03])
    assert [bar.get_width() for bar in seconds] == [3.0, 12.0]
    assert [t.get_text() for t in display.ax_.get_yticklabels()] == [
        "baseline",
        "KerasMLP",
    ]
    # The accuracy's standard deviation is the error rate's.
    assert errors.errorbar is not None and seconds.errorbar is None
    assert [t.get_text() for t in display.ax_.texts] == ["8.0%", "3.0% ± 1.0%"]
    assert [t.get_text() for t in display.axes_[1].texts] == ["3.00 s", "12.00 s"]
    assert "lower is better" in display.ax_.get_xlabel()
    assert display.axes_[1].get_xlabel() == "fit time (s)"


def test_comparison_colours_avoid_red_and_blue_and_mark_the_best():
    from skmnist.comparison import ComparisonResult

    rows = [
        {"model": name, "accuracy": accuracy, "log_loss": loss, "fit_seconds": 1.0}
        for name, accuracy, loss in [
            ("a", 0.90, 0.3),
            ("b", 0.93, 0.4),
            ("c", 0.93, 0.2),
            ("d", 0.91, 0.1),
        ]
    ]
    display = ComparisonResult(rows).plot(title="four")
    assert display.figure_.get_suptitle() == "four"
    for bars in display.bars_.values():
        colours = [bar.get_facecolor() for bar in bars]
        assert not {BLUE, RED} & set(colours)
        # Only the best (c: tied on accuracy with b, lower log loss) stands out.
        assert colours[2] != colours[0] == colours[1] == colours[3]
    weights = [t.get_fontweight() for t in display.ax_.get_yticklabels()]
    assert weights[2] == "bold" and "bold" not in weights[:2] + weights[3:]


def test_comparison_error_rate_panels_share_one_scale():
    rows = [
        {"model": "a", "accuracy": 0.9, "test_accuracy": 0.97},
        {"model": "b", "accuracy": 0.8, "test_accuracy": 0.99},
    ]
    display = ComparisonDisplay.from_result(
        SimpleNamespace(rows=rows), metrics=["error_rate", "test_error_rate"]
    )
    assert display.axes_[0].get_xlim() == display.axes_[1].get_xlim()
    np.testing.assert_allclose(
        [bar.get_width() for bar in display.bars_["test_error_rate"]], [0.03, 0.01]
    )


def test_comparison_with_real_result_and_missing_values():
    from skmnist.comparison import ComparisonResult

    rows = [
        {"model": "svc", "accuracy": 0.9, "log_loss": None, "log_loss_std": None},
        {"model": "mlp", "accuracy": 0.95, "log_loss": 0.2, "log_loss_std": 0.05},
    ]
    display = ComparisonResult(rows).plot(metrics=["accuracy", "log_loss"])
    assert isinstance(display, ComparisonDisplay)
    texts = [t.get_text().strip() for t in display.axes_[1].texts]
    assert sorted(filter(None, texts)) == ["0.200 ± 0.050", "n/a"]
    assert display.bars_["log_loss"].errorbar is not None
    assert display.bars_["accuracy"].errorbar is None


def test_comparison_plot_forwards_kwargs_and_returns_self():
    display = ComparisonDisplay(["a", "b", "c"], {"f1_macro": [0.5, 0.6, 0.7]})
    fig, ax = plt.subplots()
    assert display.plot(ax=ax, height=0.5, alpha=0.4) is display
    assert display.ax_ is ax and display.figure_ is fig
    bars = display.bars_["f1_macro"]
    assert len(bars) == 3
    assert {(bar.get_height(), bar.get_alpha()) for bar in bars} == {(0.5, 0.4)}


def test_comparison_errors():
    with pytest.raises(ValueError, match="non-empty rows"):
        ComparisonDisplay.from_result(SimpleNamespace(rows=[]))
    with pytest.raises(ValueError, match="'log_loss', which is missing from rows"):
        ComparisonDisplay.from_result(_result(), metrics=["log_loss"])
    with pytest.raises(ValueError, match="one number per model"):
        ComparisonDisplay(["a", "b"], {"accuracy": [0.1]}).plot()


# -- save_report_figures -----------------------------------------------------


def test_save_report_figures(tmp_path, small_digits, mlp_early, mlp_validated):
    X_train, X_test, y_train, y_test = small_digits
    baseline = LogisticRegression(max_iter=300).fit(X_train / 16, y_train)
    estimators = {"KerasMLP (early stop)": mlp_early, "validated": mlp_validated}
    open_before = plt.get_fignums()
    paths = save_report_figures(tmp_path, estimators, X_test, y_test, _result())
    assert plt.get_fignums() == open_before  # every figure closed
    assert [p.name for p in paths] == [
        "loss_curves.png",
        "predictions.png",
        "misclassified.png",
        "confusion_kerasmlp-early-stop.png",
        "confusion_validated.png",
        "comparison.png",
    ]
    best = max(estimators.values(), key=lambda est: est.score(X_test, y_test))
    n_wrong = min(15, int(np.sum(best.predict(X_test) != y_test)))
    wrong_rows = max(1, -(-n_wrong // 3))
    expected = {  # (height, width) in pixels at dpi=100
        "loss_curves.png": (720, 1100),
        "predictions.png": (1030, 1200),
        "misclassified.png": (round(100 * (2 * wrong_rows + 0.3)), 1200),
        "confusion_kerasmlp-early-stop.png": (500, 600),
        "confusion_validated.png": (500, 600),
        "comparison.png": (230, 1000),
    }
    for path in paths:
        assert imread(path).shape[:2] == expected[path.name], path.name

    # No per-epoch history: no loss curves; a name collision gets a suffix.
    paths = save_report_figures(
        tmp_path / "b", {"lr": baseline, "LR": baseline}, X_test / 16, y_test
    )
    assert [p.name for p in paths] == [
        "predictions.png",
        "misclassified.png",
        "confusion_lr.png",
        "confusion_lr-2.png",
    ]


def test_save_report_figures_with_names_that_slugify_alike(tmp_path):
    # "A" slugifies as "a", which is taken, and so is "a-3": the suffix once
    # counted the names seen (2 + 1) and looped forever on "a-3". In a
    # subprocess, so that a loop fails the test instead of hanging it.
    code = (
        "import sys; from sklearn.datasets import load_digits; "
        "from sklearn.naive_bayes import GaussianNB; "
        "from skmnist.plotting import save_report_figures; "
        "X, y = load_digits(return_X_y=True); m = GaussianNB().fit(X, y); "
        "paths = save_report_figures(sys.argv[1], dict.fromkeys(['a-3', 'a', 'A'], m), "
        "X[:20], y[:20]); print(*[p.name for p in paths if 'confusion' in p.name])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    assert out == ["confusion_a-3.png", "confusion_a.png", "confusion_a-2.png"]


def test_save_report_figures_errors(tmp_path, small_digits):
    from skmnist import KerasMLP

    _, X_test, _, y_test = small_digits
    with pytest.raises(ValueError, match="estimators must be a non-empty dict"):
        save_report_figures(tmp_path, {}, X_test, y_test)
    with pytest.raises(ValueError, match="must be square"):
        save_report_figures(tmp_path / "x", {"m": KerasMLP()}, X_test[:, :50], y_test)
    with pytest.raises(NotFittedError):
        save_report_figures(tmp_path / "y", {"m": KerasMLP()}, X_test, y_test)
    assert not list((tmp_path / "y").iterdir())


# -- title= on every display -------------------------------------------------


def _title_of(display):
    """The figure's suptitle, else the first Axes' title."""
    return display.figure_.get_suptitle() or display.ax_.get_title()


@pytest.mark.parametrize(
    "build",
    [
        lambda est, X, y: DigitPredictionDisplay.from_estimator(est, X, y, title="T"),
        lambda est, X, y: DigitPredictionDisplay.from_predictions(
            X[0], y[0], est.predict_proba(X[:1])[0], title="T"
        ),
        lambda est, X, y: PredictionGridDisplay.from_estimator(
            est, X, y, n_rows=1, title="T"
        ),
        lambda est, X, y: PredictionGridDisplay.from_predictions(
            X[:3], y[:3], est.predict_proba(X[:3]), n_rows=1, title="T"
        ),
        lambda est, X, y: LossCurveDisplay.from_estimator(
            est, metric="both", title="T"
        ),
        lambda est, X, y: ComparisonDisplay.from_result(_result(), title="T"),
    ],
    ids=[
        "digit-estimator",
        "digit-predictions",
        "grid-estimator",
        "grid-predictions",
        "loss-estimator",
        "comparison-result",
    ],
)
def test_every_display_constructor_takes_a_title(build, mlp_early, small_digits):
    _, X_test, _, y_test = small_digits
    assert _title_of(build(mlp_early, X_test, y_test)) == "T"


def test_grid_title_does_not_replace_the_image_indices():
    display = PredictionGridDisplay(
        np.zeros((2, 4, 4)), [0, 1], np.eye(2), indices=[5, 9]
    ).plot(title="Two digits")
    assert display.figure_.get_suptitle() == "Two digits"
    assert [d.ax_.get_title() for d in display.displays_.flat[:2]] == ["#5", "#9"]


# -- which model the report figures show -------------------------------------


@pytest.fixture
def saved_titles(monkeypatch):
    """Titles of the figures save_report_figures writes, by file name."""
    import skmnist.plotting

    titles, save = {}, skmnist.plotting._report._save

    def recording(fig, path, dpi):
        texts = [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes]
        titles[path.name] = " | ".join(filter(None, texts))
        return save(fig, path, dpi)

    monkeypatch.setattr(skmnist.plotting._report, "_save", recording)
    return titles


def test_report_grids_show_result_best_and_say_refit(
    tmp_path, small_digits, saved_titles
):
    from skmnist.comparison import ComparisonResult

    X_train, X_test, y_train, y_test = small_digits
    sharp = LogisticRegression(max_iter=500).fit(X_train, y_train)
    soft = LogisticRegression(C=1e-4, max_iter=500).fit(X_train, y_train)
    # Equal accuracy in the result's rows: the lower log loss, "soft", is best
    # although it comes second and scores lower on these test images.
    rows = [
        {"model": "sharp", "accuracy": 0.9, "log_loss": 0.5, "fit_seconds": 1},
        {"model": "soft", "accuracy": 0.9, "log_loss": 0.2, "fit_seconds": 1},
    ]
    assert sharp.score(X_test, y_test) > soft.score(X_test, y_test)
    result = ComparisonResult(rows, cv=3, n_train=600, n_test=200)
    save_report_figures(
        tmp_path, {"sharp": sharp, "soft": soft}, X_test, y_test, result
    )
    for name in ("predictions.png", "misclassified.png"):
        assert saved_titles[name].startswith(
            "Best model, soft (refit on all training images):"
        )
    assert (
        "sharp (refit on all training images): confusion matrix"
        in saved_titles["confusion_sharp.png"]
    )
    assert "3-fold cross-validation on 600" in saved_titles["comparison.png"]


def test_report_grids_without_result_break_ties_by_log_loss(
    tmp_path, small_digits, saved_titles
):
    from sklearn.metrics import log_loss

    X_train, X_test, y_train, y_test = small_digits
    first = LogisticRegression(max_iter=500).fit(X_train, y_train)
    # Same predictions, other probabilities: a tie on accuracy only.
    second = make_pipeline(
        StandardScaler(with_mean=False, with_std=False),
        LogisticRegression(max_iter=500),
    ).fit(X_train, y_train)
    second[-1].coef_ = first.coef_ * 0.5
    second[-1].intercept_ = first.intercept_ * 0.5
    np.testing.assert_array_equal(first.predict(X_test), second.predict(X_test))
    losses = {
        name: log_loss(y_test, est.predict_proba(X_test))
        for name, est in (("first", first), ("second", second))
    }
    expected = min(losses, key=losses.get)
    save_report_figures(tmp_path, {"first": first, "second": second}, X_test, y_test)
    assert saved_titles["predictions.png"].startswith(f"Best model, {expected}:")
    assert "refit" not in saved_titles["predictions.png"]
