"""scikit-learn's callback protocol (``sklearn.callback``, scikit-learn >= 1.9).

Each epoch of a Keras classifier is a subtask of its fit task; ProgressBar and
ScoringMonitor work on the estimators alone and through Pipeline and
GridSearchCV, on whichever Keras backend runs the tests.
"""

import importlib.util
import pickle
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import skmnist
from skmnist import KerasLogistic, KerasMLP, PixelScaler
from skmnist.classifiers import _callbacks as _sk_callbacks

pytestmark = pytest.mark.skipif(
    not _sk_callbacks.SUPPORTED, reason="scikit-learn < 1.9 has no sklearn.callback"
)

QUICK = dict(hidden_layer_sizes=(32,), batch_size=50, random_state=0)


def _scoring_monitor():
    from sklearn.callback import ScoringMonitor

    return ScoringMonitor(scoring="accuracy")


class TaskRecorder:
    """Records every task that ends, with its estimator; propagated everywhere.

    Optionally raises at, or asks to stop after, the end of epoch ``at``.
    """

    max_propagation_depth = None  # an AutoPropagatedCallback: all levels

    def __init__(self, raise_at=None, stop_at=None):
        self.raise_at, self.stop_at = raise_at, stop_at
        self.ended, self.teardowns = [], 0

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.ended.append((context.estimator_name, context.task_name))
        if context.task_name != "epoch":
            return False
        epoch = fitted_estimator.n_iter_
        if epoch == self.raise_at:
            raise RuntimeError(f"callback failed at epoch {epoch}")
        return epoch == self.stop_at

    def teardown(self, estimator, context):
        self.teardowns += 1


def _epochs_logged(monitor):
    rows = monitor.get_logs().data
    return [row for row in rows if row["task_name"] == "epoch"], [
        row for row in rows if row["task_name"] == "fit"
    ]


def test_scoring_monitor_logs_one_real_score_per_epoch(small_digits):
    X, _, y, _ = small_digits
    X = X / 16.0  # digits' pixels are 0-16
    monitor = _scoring_monitor()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = KerasMLP(max_iter=4, **QUICK).set_callbacks(monitor).fit(X, y)
    epochs, fits = _epochs_logged(monitor)
    assert [row["task_id"] for row in epochs] == [0, 1, 2, 3]
    scores = [row["accuracy"] for row in epochs]
    # Scored on the model of each epoch: 4 early epochs improve it each time.
    assert np.all(np.diff(scores) > 0) and scores[-1] > scores[0] + 0.1
    assert scores[-1] == pytest.approx(clf.score(X, y))
    # The fit task itself is scored once, on the fitted estimator.
    assert len(fits) == 1 and fits[0]["accuracy"] == pytest.approx(clf.score(X, y))


def test_warm_start_and_partial_fit_epochs_are_subtasks(small_digits):
    X, _, y, _ = small_digits
    monitor = _scoring_monitor()
    clf = KerasLogistic(max_iter=2, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.set_callbacks(monitor).fit(X, y).fit(X, y)
    first, second = monitor.get_logs(select="all")
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 4  # as MLPClassifier
    assert [r["task_name"] for r in second.data] == ["fit", "epoch", "epoch"]
    # The second fit continues the first: its first epoch beats the first's last.
    assert second.data[1]["accuracy"] > first.data[-1]["accuracy"]

    clf = KerasLogistic(random_state=0).set_callbacks(monitor)
    for _ in range(2):
        clf.partial_fit(X, y, classes=np.unique(y))
    logs = monitor.get_logs(select="all")[-2:]
    assert [[r["task_name"] for r in log.data] for log in logs] == [
        ["fit", "epoch"],
        ["fit", "epoch"],
    ]
    assert logs[-1].data[1]["accuracy"] == pytest.approx(clf.score(X, y))
    assert not hasattr(clf, "_callback_fit_ctx")  # torn down after partial_fit


def test_progress_bar_through_a_grid_search(small_digits, capsys, monkeypatch):
    from sklearn.callback import ProgressBar

    monkeypatch.setenv("COLUMNS", "160")  # rich truncates long task names
    X, _, y, _ = small_digits
    recorder, monitor = TaskRecorder(), _scoring_monitor()
    search = GridSearchCV(
        KerasMLP(max_iter=2, **QUICK).set_callbacks(monitor),
        {"alpha": [1e-4, 1e-2]},
        cv=2,
    ).set_callbacks(ProgressBar(max_propagation_depth=None), recorder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X, y)
    # Keras' own DeprecationWarnings aside, only "not converged in 2 epochs".
    assert {
        type(w.message)
        for w in caught
        if not issubclass(w.category, DeprecationWarning)
    } <= {ConvergenceWarning}
    out = capsys.readouterr().out
    for i in range(4):
        assert f"GridSearchCV - candidate-split-evaluation | KerasMLP - fit #{i}" in out
    assert "GridSearchCV - refit-with-best-params | KerasMLP - fit" in out
    assert "100%" in out and "50%" not in out  # every fit's bar completed
    # search -> fit -> epochs: 5 fits of 2 epochs, each under its fit.
    fits = [i for i, task in enumerate(recorder.ended) if task == ("KerasMLP", "fit")]
    assert len(fits) == 5
    for end in fits:
        assert recorder.ended[end - 2 : end] == [("KerasMLP", "epoch")] * 2
    assert recorder.teardowns == 1  # set up and torn down once, by the search
    # The monitor set on the searched estimator: 2 epoch scores per fit.
    epochs, fits = _epochs_logged(monitor)
    assert len(epochs) == 10 and len(fits) == 5
    # The refit is the search's second task, (0, 1); the 4 fits are in its first.
    [refit] = [row for row in fits if row["task_id_path"] == (0, 1)]
    assert refit["accuracy"] == pytest.approx(search.best_estimator_.score(X, y))
    # The propagated callbacks are gone from the refit model, its own stays.
    assert search.best_estimator_._skl_callbacks == [monitor]


def test_progress_bar_through_a_pipeline_with_pixel_scaler(
    small_digits, capsys, monkeypatch
):
    from sklearn.callback import ProgressBar

    monkeypatch.setenv("COLUMNS", "160")
    X, _, y, _ = small_digits
    recorder = TaskRecorder()
    pipe = make_pipeline(PixelScaler(), KerasMLP(max_iter=3, **QUICK))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe.set_callbacks(ProgressBar(), recorder).fit(X, y)
    assert not [w for w in caught if "callbacks" in str(w.message)]
    out = capsys.readouterr().out
    assert "Pipeline - fit-final-estimator | KerasMLP - fit" in out
    assert recorder.ended == [
        ("PixelScaler", "fit"),
        *[("KerasMLP", "epoch")] * 3,
        ("KerasMLP", "fit"),
        ("Pipeline", "fit"),
    ]


@pytest.mark.parametrize("warm_start", [False, True])
def test_a_raising_callback_leaves_the_estimator_unchanged(small_digits, warm_start):
    X, X_test, y, _ = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = KerasLogistic(max_iter=2, warm_start=warm_start, random_state=0)
        clf.fit(X, y)
    before = clf.predict_proba(X_test)
    state = {k: v for k, v in vars(clf).items() if k != "model_"}
    model = clf.model_
    recorder = TaskRecorder(raise_at=1)  # n_iter_ counts this fit's epochs
    clf.set_callbacks(recorder)
    with pytest.raises(RuntimeError, match="callback failed at epoch"):
        clf.fit(X, y)
    assert clf.model_ is model and clf.n_iter_ == 2
    assert clf.history_ == state["history_"]
    np.testing.assert_array_equal(clf.predict_proba(X_test), before)
    assert recorder.teardowns == 1 and not hasattr(clf, "_callback_fit_ctx")
    assert set(vars(clf)) == set(state) | {"model_", "_skl_callbacks"}


def test_a_callback_can_stop_the_training(small_digits):
    X, _, y, _ = small_digits
    recorder = TaskRecorder(stop_at=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # stopped, not "max_iter"
        clf = KerasLogistic(max_iter=10, random_state=0)
        clf.set_callbacks(recorder).fit(X, y)
    assert clf.n_iter_ == 2 and len(clf.history_["loss"]) == 2


def test_clone_and_pickle_keep_working(small_digits):
    X, X_test, y, _ = small_digits
    monitor = _scoring_monitor()
    clf = KerasLogistic(max_iter=2, random_state=0).set_callbacks(monitor)
    # As for scikit-learn's estimators: a clone shares the callback instances.
    assert clone(clf)._skl_callbacks[0] is monitor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        copy = pickle.loads(pickle.dumps(clf))
        np.testing.assert_allclose(
            copy.predict_proba(X_test), clf.predict_proba(X_test)
        )
        copy.fit(X, y)  # the unpickled monitor logs its own run
    assert len(copy._skl_callbacks[0].get_logs().data) == 3


def test_save_leaves_sklearn_callbacks_out(small_digits, tmp_path):
    X, X_test, y, _ = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_pipeline(PixelScaler(), KerasLogistic(max_iter=2, random_state=0))
        pipe.set_callbacks(_scoring_monitor()).fit(X, y)
        clf = pipe[-1].set_callbacks(_scoring_monitor())
    for estimator in (clf, pipe):
        with pytest.warns(UserWarning, match="set_callbacks are not saved"):
            path = skmnist.save(estimator, tmp_path / "model.skmnist")
        loaded = skmnist.load(path)
        assert not hasattr(loaded, "_skl_callbacks")
        np.testing.assert_allclose(
            loaded.predict_proba(X_test), estimator.predict_proba(X_test)
        )
        assert hasattr(estimator, "_skl_callbacks")  # the original keeps them


def test_without_sklearn_callback_set_callbacks_says_what_is_needed(monkeypatch):
    # This module as it loads under scikit-learn < 1.9 (no sklearn.callback).
    monkeypatch.setitem(sys.modules, "sklearn.callback", None)
    spec = importlib.util.spec_from_file_location(
        "skmnist._sk_callbacks_old", _sk_callbacks.__file__
    )
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    assert not old.SUPPORTED

    class Scaler(old.CallbackSupport, PixelScaler):
        pass

    with pytest.raises(ImportError, match=r"needs scikit-learn >= 1.9"):
        Scaler().set_callbacks(object())
    task = old.FitTask(Scaler(), 3)  # a no-op
    task.begin(np.zeros((1, 1)), None)
    assert task.keras_callbacks() == []
    task.end()


def test_tune_progress_bar_draws_sklearn_bars_on_stdout(tmp_path, capsys, monkeypatch):
    from skmnist import cli

    # Off a terminal the bars are as wide as the command's output, not cut at
    # rich's default of 80 columns.
    monkeypatch.delenv("COLUMNS", raising=False)
    argv = ["tune", "--model", "logistic", "--param", "alpha=1e-4,1.0", "--cv", "2"]
    tiny = ["--source", "embedded", "--n-train", "200", "--n-test", "100"]
    tiny += ["--max-iter", "2", "--progress-bar"]
    assert cli.main([*argv, *tiny, "--out", str(tmp_path / "t")]) == 0
    captured = capsys.readouterr()
    assert "GridSearchCV - fit" in captured.out
    for i in range(4):  # 2 candidates x 2 folds, then the refit
        assert f"candidate-split-evaluation | KerasLogistic - fit #{i}" in captured.out
    assert "refit-with-best-params | KerasLogistic - fit" in captured.out
    assert "\u2026" not in captured.out  # rich's ellipsis for a cut line
    assert "Best parameters: alpha=" in captured.out
    assert "fit 1/5" not in captured.err  # skmnist's own progress is off
    assert (tmp_path / "t" / "best_model.skmnist").stat().st_size > 0

    monkeypatch.setattr(_sk_callbacks, "SUPPORTED", False)  # as scikit-learn < 1.9
    assert cli.main([*argv, *tiny, "--out", str(tmp_path / "u")]) == 2
    assert "--progress-bar needs scikit-learn >= 1.9" in capsys.readouterr().err
    assert not (tmp_path / "u").exists()
