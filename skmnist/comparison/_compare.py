"""Fit several classifiers on the same data and compare them side by side.

Every number comes from :func:`sklearn.model_selection.cross_validate` and the
scorers of :mod:`sklearn.metrics`; a held-out test set is one predefined
split, so the hold-out and the cross-validated comparison share one code path.
"""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import PredefinedSplit, cross_validate
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import has_fit_parameter

from ._describe import count_parameters, describe_estimator, iterations_run
from ._result import ComparisonResult

__all__ = ["ComparisonResult", "compare", "default_estimators"]

METRICS = ("accuracy", "log_loss", "f1_macro", "fit_seconds", "predict_seconds")
_SCORERS = {"accuracy": "accuracy", "log_loss": "neg_log_loss", "f1_macro": "f1_macro"}
# Every model compare knows; "cnn" is opt-in: each of its epochs costs tens of
# MLP epochs on CPUs (benchmarks/RESULTS.md), too long for the default run.
MODEL_NAMES = ("baseline", "logistic", "mlp", "sklearn-mlp", "cnn")
DEFAULT_MODEL_NAMES = ("baseline", "logistic", "mlp", "sklearn-mlp")
# Epochs of the three networks by default: the same budget for each, enough
# for them to pass the baseline on the embedded MNIST while `skmnist compare`
# stays short; none has converged by then (benchmarks/RESULTS.md and the
# README hold measured accuracies).
DEFAULT_EPOCHS = 30


def default_estimators(
    names=DEFAULT_MODEL_NAMES,
    *,
    max_iter=DEFAULT_EPOCHS,
    random_state=0,
    callbacks=None,
):
    """The models compared by default, unfitted, by name.

    Parameters
    ----------
    names : iterable of str, default=("baseline", "logistic", "mlp", "sklearn-mlp")
        Which of: ``"baseline"`` (:func:`~skmnist.make_baseline`),
        ``"logistic"`` (:class:`~skmnist.KerasLogistic`), ``"mlp"``
        (:class:`~skmnist.KerasMLP`), ``"sklearn-mlp"`` (scikit-learn's
        ``MLPClassifier`` with one hidden layer of 128, after a
        :class:`~skmnist.PixelScaler`, the outside reference) and, only when
        named, ``"cnn"`` (:class:`~skmnist.KerasCNN`, much slower to fit).
    max_iter : int or None, default=30
        Epochs of the neural networks, the same budget for each (None: each
        one's own default, 100 for ``KerasLogistic`` and ``KerasMLP``, 12
        for ``KerasCNN`` and 200 for ``MLPClassifier``, which stop earlier
        when their loss stalls). The baseline keeps its measured lbfgs
        settings, so it always converges.
    random_state : int or None, default=0
        Seed of every model.
    callbacks : list of keras.callbacks.Callback, default=None
        Passed to the Keras models (e.g. a progress display).

    Returns
    -------
    estimators : dict of str to estimator
        Unfitted models by name, in the order of ``names``.

    Examples
    --------
    >>> from skmnist.comparison import default_estimators
    >>> models = default_estimators(["baseline", "mlp"], max_iter=5)
    >>> list(models), models["mlp"].max_iter
    (['baseline', 'mlp'], 5)
    >>> type(default_estimators(["cnn"])["cnn"]).__name__
    'KerasCNN'
    """
    from ..baseline import make_baseline
    from ..preprocessing import PixelScaler

    unknown = [name for name in names if name not in MODEL_NAMES]
    if unknown:
        raise ValueError(
            f"Unknown model name(s) {unknown}; choose from {list(MODEL_NAMES)}."
        )
    from ..classifiers import KerasCNN, KerasLogistic, KerasMLP

    epochs = {} if max_iter is None else {"max_iter": max_iter}
    keras = {"logistic": KerasLogistic, "mlp": KerasMLP, "cnn": KerasCNN}
    estimators = {}
    for name in names:
        if name == "baseline":
            estimators[name] = make_baseline(random_state=random_state)
        elif name == "sklearn-mlp":
            mlp = MLPClassifier(
                hidden_layer_sizes=(128,), random_state=random_state, **epochs
            )
            estimators[name] = Pipeline([("scale", PixelScaler()), ("mlp", mlp)])
        else:
            estimators[name] = keras[name](
                random_state=random_state, callbacks=callbacks, **epochs
            )
    return estimators


def compare(
    estimators=None,
    X=None,
    y=None,
    X_test=None,
    y_test=None,
    *,
    cv=None,
    n_jobs=None,
    verbose=0,
    on_model_start=None,
    on_epoch=None,
    on_model_end=None,
):
    """Fit classifiers on the same data and measure each one.

    Parameters
    ----------
    estimators : dict of str to estimator, list of (name, estimator), or None
        The classifiers, cloned before fitting. None uses
        :func:`default_estimators`: the baseline, ``KerasLogistic``,
        ``KerasMLP`` and scikit-learn's ``MLPClassifier``, 30 epochs each.
    X : array-like of shape (n_samples, n_features), default=None
        Training images; None loads the MNIST train subset with
        :func:`~skmnist.load_mnist` (``source="auto"``), and its test subset
        when ``X_test`` is None too.
    y : array-like of shape (n_samples,), default=None
        Training labels; required when ``X`` is given.
    X_test : array-like of shape (n_test, n_features), default=None
        Test images, scored by the models fitted on ``X``. None without
        ``cv`` holds out 20 % of ``X`` (stratified, seed 0); None with ``cv``
        scores no test set (unless MNIST was loaded).
    y_test : array-like of shape (n_test,), default=None
        Test labels; required when ``X_test`` is given.
    cv : int or cross-validation splitter, default=None
        Cross-validate on ``X, y`` instead of scoring the test set: the rows
        hold the mean over folds and ``<metric>_std`` the standard deviation.
        Each model is then refit on all of ``X, y``: that model is kept in
        ``estimators`` and, with a test set, scored as ``test_accuracy``,
        ``test_log_loss`` and ``test_f1_macro``.
    n_jobs : int, default=None
        Folds fitted in parallel with ``cv`` (see
        :func:`~sklearn.model_selection.cross_validate`). ``on_epoch`` is not
        called from other processes, nor are their warnings recorded.
    verbose : int, default=0
        Passed to ``cross_validate``.
    on_model_start : callable, default=None
        Called as ``on_model_start(name, index, n_models)`` before each model
        is fitted (``index`` counts from 0).
    on_epoch : callable, default=None
        Called as ``on_epoch(name, epoch, n_epochs, logs)`` at the end of each
        epoch of a Keras model (one with a ``callbacks`` parameter, alone or
        last in a pipeline), ``epoch`` counting from 1 and ``logs`` the dict of
        Keras metrics, with ``test_loss`` and ``test_accuracy`` in place of
        Keras' ``val_`` names when the test set is what each epoch is scored
        on (no ``cv``, no early stopping); every fit counts again from 1
        (each fold, then the refit). It reaches the model through a Keras
        callback added to the clone being fitted; the models in
        ``estimators`` keep their own ``callbacks``.
    on_model_end : callable, default=None
        Called as ``on_model_end(name, row)`` after each model, with its row
        of the result (``row["warnings"]`` lists its convergence warnings).

    Returns
    -------
    result : ComparisonResult
        One row per estimator: ``accuracy``, ``log_loss``, ``f1_macro`` (from
        the scorers of :mod:`sklearn.metrics`), ``fit_seconds``,
        ``predict_seconds`` (scoring the test set, including
        ``predict_proba`` for the log loss), ``n_parameters``, and what was
        fitted (``estimator``, ``n_train``, ``n_test``, ``n_iter``,
        ``max_iter``, ``iter_unit``, ``warnings``); see
        :class:`ComparisonResult`. The best row is ``result.best``.

    Notes
    -----
    Convergence warnings raised while fitting are recorded in each row's
    ``"warnings"`` instead of being shown; other warnings pass through.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skmnist import compare
    >>> X, y = load_digits(return_X_y=True)
    >>> result = compare({"logreg": LogisticRegression(max_iter=2000),
    ...                   "tree": DecisionTreeClassifier(random_state=0)}, X, y)
    >>> [row["model"] for row in result.rows], result.best["model"]
    (['logreg', 'tree'], 'logreg')
    >>> result.rows[0]["estimator"], result.rows[0]["n_train"]
    ('LogisticRegression(max_iter=2000)', 1437)
    >>> cv_result = compare({"tree": DecisionTreeClassifier(random_state=0)},
    ...                     X[:1000], y[:1000], X[1000:], y[1000:], cv=3)
    >>> row = cv_result.rows[0]
    >>> 0 < row["accuracy_std"] < 0.1, 0.5 < row["test_accuracy"] <= 1
    (True, True)
    """
    estimators = _as_named(estimators)
    if X is None:
        from ..datasets import load_mnist

        X, y = load_mnist(subset="train", return_X_y=True)
        if X_test is None:
            X_test, y_test = load_mnist(subset="test", return_X_y=True)
    elif y is None:
        raise ValueError("y must be given with X; got y=None.")
    if X_test is not None and y_test is None:
        raise ValueError("y_test must be given with X_test; got y_test=None.")
    if cv is None and X_test is None:
        from sklearn.model_selection import train_test_split

        X, X_test, y, y_test = train_test_split(
            X, y, test_size=0.2, stratify=y, random_state=0
        )
    if cv is None:
        X_all, y_all = np.concatenate([X, X_test]), np.concatenate([y, y_test])
        splitter = PredefinedSplit(np.r_[np.full(len(X), -1), np.zeros(len(X_test))])
    else:
        X_all, y_all, splitter = X, y, cv
    n_train, n_test = len(X), (None if X_test is None else len(X_test))
    # Callbacks cannot report back from worker processes.
    in_process = cv is None or n_jobs in (None, 1)

    rows, fitted = [], {}
    for index, (name, estimator) in enumerate(estimators.items()):
        if on_model_start is not None:
            on_model_start(name, index, len(estimators))
        monitoring = _monitoring(estimator, X_test, y_test, cv=cv)
        model, hook_key = _with_epoch_hook(
            clone(estimator),
            name,
            on_epoch if in_process else None,
            validation="test" if monitoring else "val",
        )
        scoring = {
            key: scorer
            for key, scorer in _SCORERS.items()
            if key != "log_loss" or hasattr(estimator, "predict_proba")
        }
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            scores = cross_validate(
                model,
                X_all,
                y_all,
                cv=splitter,
                scoring=scoring,
                n_jobs=n_jobs,
                verbose=verbose,
                return_estimator=True,
                error_score="raise",
                params=monitoring,
            )
            final = scores["estimator"][0]
            if cv is not None:
                final = clone(model).fit(X, y)
        notes = _convergence_notes(caught)
        if hook_key is not None:  # the fitted model keeps the user's callbacks
            final.set_params(**{hook_key: estimator.get_params()[hook_key]})
        row = _row(name, scores, with_std=cv is not None)
        if cv is not None and X_test is not None:
            row.update(_test_scores(final, scoring, X_test, y_test))
        n_iter, max_iter, unit = iterations_run(final)
        row.update(
            n_parameters=count_parameters(final),
            estimator=describe_estimator(estimator),
            n_train=n_train,
            n_test=n_test,
            n_iter=n_iter,
            max_iter=max_iter,
            iter_unit=unit,
            warnings=notes,
        )
        rows.append(row)
        fitted[name] = final
        if on_model_end is not None:
            on_model_end(name, row)
    folds = None if cv is None else len(scores["fit_time"])
    return ComparisonResult(rows, fitted, cv=folds, n_train=n_train, n_test=n_test)


def _with_epoch_hook(estimator, name, on_epoch, validation="val"):
    """Add a callback calling ``on_epoch`` to a Keras model's ``callbacks``.

    Keras' ``val_`` metrics are passed on as ``{validation}_``: ``test_`` when
    the model is monitored on the test set (see :func:`_monitoring`).
    Returns the estimator and the parameter set (``None`` when none was).
    """
    if on_epoch is None:
        return estimator, None
    params = estimator.get_params()
    key = "callbacks"
    if isinstance(estimator, Pipeline):
        key = f"{estimator.steps[-1][0]}__callbacks"
    if key not in params:
        return estimator, None
    from .._engine._keras import import_keras

    keras = import_keras()

    class EpochHook(keras.callbacks.Callback):
        # clone() deep-copies parameters: every clone must call the same hook.
        def __deepcopy__(self, memo):
            return self

        def on_epoch_end(self, epoch, logs=None):
            logs = {
                f"{validation}_{metric[4:]}" if metric.startswith("val_") else metric: v
                for metric, v in (logs or {}).items()
            }
            on_epoch(name, epoch + 1, self.params.get("epochs") or epoch + 1, logs)

    estimator.set_params(**{key: [*(params[key] or []), EpochHook()]})
    return estimator, key


def _convergence_notes(caught):
    """First lines of the convergence warnings; other warnings shown again."""
    notes = []
    for record in caught:
        if issubclass(record.category, ConvergenceWarning):
            note = str(record.message).splitlines()[0].strip()
            if note not in notes:
                notes.append(note)
        else:
            warnings.warn_explicit(
                record.message, record.category, record.filename, record.lineno
            )
    return notes


def _test_scores(model, scoring, X_test, y_test):
    from sklearn.metrics import get_scorer

    scores = {f"test_{key}": None for key in _SCORERS}
    for key, scorer in scoring.items():
        value = float(get_scorer(scorer)(model, X_test, y_test))
        scores[f"test_{key}"] = -value if key == "log_loss" else value
    return scores


def _monitoring(estimator, X_test, y_test, *, cv=None):
    """Fit parameters that record test loss per epoch, for the loss curves.

    Only for a Keras estimator on a hold-out split, and only when it does not
    stop early: the curves then show over-fitting (the tutorial's lesson), while
    nothing about the model is chosen from the test images.
    """
    if cv is not None or X_test is None or getattr(estimator, "early_stopping", True):
        return None
    if not has_fit_parameter(estimator, "validation_data"):
        return None
    return {"validation_data": (X_test, y_test)}


def _as_named(estimators):
    if estimators is None:
        return default_estimators()
    try:
        named = dict(estimators)
    except (TypeError, ValueError):
        raise TypeError(
            "estimators must be a dict of name -> estimator or a list of "
            f"(name, estimator) pairs; got {type(estimators).__name__}."
        ) from None
    if not named:
        raise ValueError("estimators must not be empty; got an empty collection.")
    return named


def _row(name, scores, *, with_std):
    values = {  # cross_validate's arrays, one value per split
        "accuracy": scores["test_accuracy"],
        "log_loss": -scores["test_log_loss"] if "test_log_loss" in scores else None,
        "f1_macro": scores["test_f1_macro"],
        "fit_seconds": scores["fit_time"],
        "predict_seconds": scores["score_time"],
    }
    row = {"model": name}
    statistics = {"": np.mean, "_std": np.std} if with_std else {"": np.mean}
    for suffix, statistic in statistics.items():
        for key in METRICS:
            value = values[key]
            row[key + suffix] = None if value is None else float(statistic(value))
    return row
