"""Fit several classifiers on the same data and compare them side by side.

Every number comes from :func:`sklearn.model_selection.cross_validate` and the
scorers of :mod:`sklearn.metrics`; a held-out test set is one predefined
split, so the hold-out and the cross-validated comparison share one code path.
"""

import inspect
import math
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import PredefinedSplit, cross_validate
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline

__all__ = ["ComparisonResult", "compare", "default_estimators"]

METRICS = ("accuracy", "log_loss", "f1_macro", "fit_seconds", "predict_seconds")
# Row key -> (column title, format) for tables.
COLUMNS = {
    "model": ("model", "{}"),
    "accuracy": ("accuracy", "{:.4f}"),
    "log_loss": ("log loss", "{:.4f}"),
    "f1_macro": ("macro F1", "{:.4f}"),
    "fit_seconds": ("fit (s)", "{:.2f}"),
    "predict_seconds": ("predict (s)", "{:.3f}"),
    "n_parameters": ("parameters", "{:,}"),
}
_SCORERS = {"accuracy": "accuracy", "log_loss": "neg_log_loss",
            "f1_macro": "f1_macro"}
MODEL_NAMES = ("baseline", "logistic", "mlp", "sklearn-mlp")
# Epochs of the three networks by default. Measured on the embedded MNIST
# (4,000 train / 1,000 test, 2 shared cores): at 30 epochs KerasMLP scores
# 0.936 and MLPClassifier 0.931 (0.939 / 0.932 at 40; MLPClassifier stops by
# itself after ~96 epochs at 0.936, KerasMLP after ~170 at 0.936), and the
# whole `skmnist compare` stays well under two minutes.
DEFAULT_EPOCHS = 30


def default_estimators(names=MODEL_NAMES, *, max_iter=DEFAULT_EPOCHS,
                       random_state=0, callbacks=None):
    """The models compared by default, unfitted, by name.

    Parameters
    ----------
    names : iterable of str, default=("baseline", "logistic", "mlp", "sklearn-mlp")
        Which of: ``"baseline"`` (:func:`~skmnist.make_baseline`),
        ``"logistic"`` (:class:`~skmnist.KerasLogistic`), ``"mlp"``
        (:class:`~skmnist.KerasMLP`) and ``"sklearn-mlp"`` (scikit-learn's
        ``MLPClassifier`` with one hidden layer of 128, after a
        :class:`~skmnist.PixelScaler`, the outside reference).
    max_iter : int or None, default=30
        Epochs of the three neural networks, the same budget for each (None:
        each one's own default, 100 for the Keras models and 200 for
        ``MLPClassifier``, which stop earlier when their loss stalls). The
        baseline keeps its measured lbfgs settings, so it always converges.
    random_state : int or None, default=0
        Seed of every model.
    callbacks : list of keras.callbacks.Callback, default=None
        Passed to the Keras models (e.g. a progress display).

    Returns
    -------
    estimators : dict of str to estimator

    Examples
    --------
    >>> from skmnist.comparison import default_estimators
    >>> models = default_estimators(["baseline", "mlp"], max_iter=5)
    >>> list(models), models["mlp"].max_iter
    (['baseline', 'mlp'], 5)
    """
    from .baseline import make_baseline
    from .preprocessing import PixelScaler

    unknown = [name for name in names if name not in MODEL_NAMES]
    if unknown:
        raise ValueError(f"Unknown model name(s) {unknown}; choose from "
                         f"{list(MODEL_NAMES)}.")
    epochs = {} if max_iter is None else {"max_iter": max_iter}
    estimators = {}
    for name in names:
        if name == "baseline":
            estimators[name] = make_baseline(random_state=random_state)
        elif name == "sklearn-mlp":
            estimators[name] = Pipeline([
                ("scale", PixelScaler()),
                ("mlp", MLPClassifier(hidden_layer_sizes=(128,), early_stopping=False,
                                      random_state=random_state, **epochs)),
            ])
        else:
            from .classifiers import KerasLogistic, KerasMLP

            cls = KerasLogistic if name == "logistic" else KerasMLP
            estimators[name] = cls(random_state=random_state, callbacks=callbacks,
                                   **epochs)
    return estimators


def count_parameters(estimator):
    """Number of fitted weights: Keras ``count_params()`` or sklearn's arrays.

    Sums ``coef_``, ``intercept_``, ``coefs_`` and ``intercepts_`` over the
    steps of a pipeline; 0 for an estimator with none of these.
    """
    if isinstance(estimator, Pipeline):
        return sum(count_parameters(step) for _, step in estimator.steps)
    model = getattr(estimator, "model_", None)
    if hasattr(model, "count_params"):
        return int(model.count_params())
    total = 0
    for attr in ("coef_", "intercept_", "coefs_", "intercepts_"):
        value = getattr(estimator, attr, None)
        if value is None:
            continue
        arrays = value if isinstance(value, list) else [value]
        total += sum(int(np.size(a)) for a in arrays)
    return total


class ComparisonResult:
    """What :func:`compare` measured: one row per model.

    Parameters
    ----------
    rows : list of dict
        One dict per model with keys ``"model"``, ``"accuracy"``,
        ``"log_loss"``, ``"f1_macro"``, ``"fit_seconds"``,
        ``"predict_seconds"`` and ``"n_parameters"``; with cross-validation
        also ``"<metric>_std"`` for the five measured metrics. ``log_loss`` is
        None for a model without ``predict_proba``.
    estimators : dict of str to estimator, default=None
        Fitted models by name: fitted on ``X`` for a hold-out comparison, the
        list of per-fold models with cross-validation.
    cv : int or None, default=None
        Number of folds, or None for a hold-out test set.
    n_train, n_test : int, default=None
        Samples fitted on and scored on (per fold with cross-validation).

    Attributes
    ----------
    rows, estimators_, cv, n_train, n_test
        As given.

    Examples
    --------
    >>> from skmnist.comparison import ComparisonResult
    >>> result = ComparisonResult([
    ...     {"model": "a", "accuracy": 0.9, "log_loss": 0.3, "f1_macro": 0.9,
    ...      "fit_seconds": 1.0, "predict_seconds": 0.1, "n_parameters": 10},
    ...     {"model": "b", "accuracy": 0.95, "log_loss": 0.2, "f1_macro": 0.95,
    ...      "fit_seconds": 2.0, "predict_seconds": 0.1, "n_parameters": 20}])
    >>> result.best_["model"]
    'b'
    >>> print(result.to_markdown().splitlines()[0])
    | model | accuracy | log loss | macro F1 | fit (s) | predict (s) | parameters |
    """

    def __init__(self, rows, estimators=None, *, cv=None, n_train=None,
                 n_test=None):
        self.rows = list(rows)
        self.estimators_ = dict(estimators or {})
        self.cv = cv
        self.n_train = n_train
        self.n_test = n_test

    @property
    def best_(self):
        """The row (a dict) of the most accurate model.

        Ties go to the lower log loss.
        """
        def key(row):
            loss = row["log_loss"]
            return (row["accuracy"], -(math.inf if loss is None else loss))

        return max(self.rows, key=key)

    def to_dict(self):
        """JSON-serialisable summary: ``rows``, ``cv``, ``n_train``, ``n_test``.

        NaN becomes None and NumPy scalars become Python numbers.
        """
        return {"rows": [{key: _plain(value) for key, value in row.items()}
                         for row in self.rows],
                "cv": self.cv, "n_train": self.n_train, "n_test": self.n_test}

    def formatted_rows(self):
        """Rows as lists of strings in table order; ``mean ± std`` with cv."""
        table = []
        for row in self.rows:
            cells = []
            for key, (_, fmt) in COLUMNS.items():
                value = row.get(key)
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    cells.append("n/a")
                    continue
                cell = fmt.format(value)
                std = row.get(f"{key}_std")
                if std is not None and not math.isnan(std):
                    cell += " ± " + fmt.format(std)
                cells.append(cell)
            table.append(cells)
        return table

    def to_markdown(self):
        """The comparison as a GitHub-flavoured Markdown table."""
        header = [title for title, _ in COLUMNS.values()]
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
        lines += ["| " + " | ".join(cells) + " |" for cells in self.formatted_rows()]
        return "\n".join(lines)

    def plot(self, ax=None, **kwargs):
        """Bar chart of the rows: a :class:`~skmnist.plotting.ComparisonDisplay`."""
        from .plotting import ComparisonDisplay

        return ComparisonDisplay.from_result(self, ax=ax, **kwargs)

    def __repr__(self):
        names = [row["model"] for row in self.rows]
        return f"ComparisonResult(models={names}, cv={self.cv})"


def _plain(value):
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def compare(estimators=None, X=None, y=None, X_test=None, y_test=None, *, cv=None,
            n_jobs=None, verbose=0):
    """Fit classifiers on the same data and measure each one.

    Parameters
    ----------
    estimators : dict of str to estimator, list of (name, estimator), or None
        The classifiers, cloned before fitting. None uses
        :func:`default_estimators`: the baseline, ``KerasLogistic``,
        ``KerasMLP`` and scikit-learn's ``MLPClassifier``, 30 epochs each.
    X, y : array-like, default=None
        Training data; None loads the MNIST train subset with
        :func:`~skmnist.load_mnist` (``source="auto"``).
    X_test, y_test : array-like, default=None
        Test data scored after fitting on ``X``. None loads the MNIST test
        subset when ``X`` was None too; otherwise 20 % of ``X`` is held out
        (stratified, seed 0). Not allowed together with ``cv``.
    cv : int or cross-validation splitter, default=None
        Cross-validate on ``X, y`` instead, reporting the mean over folds and
        ``<metric>_std`` the standard deviation.
    n_jobs : int, default=None
        Folds fitted in parallel (see :func:`~sklearn.model_selection.cross_validate`).
    verbose : int, default=0
        Passed to ``cross_validate``.

    Returns
    -------
    result : ComparisonResult
        One row per estimator: ``accuracy``, ``log_loss``, ``f1_macro`` (from
        the scorers of :mod:`sklearn.metrics`), ``fit_seconds``,
        ``predict_seconds`` (scoring the test set, including
        ``predict_proba`` for the log loss) and ``n_parameters``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skmnist import compare
    >>> X, y = load_digits(return_X_y=True)
    >>> result = compare({"logreg": LogisticRegression(max_iter=2000),
    ...                   "tree": DecisionTreeClassifier(random_state=0)}, X, y)
    >>> [row["model"] for row in result.rows], result.best_["model"]
    (['logreg', 'tree'], 'logreg')
    >>> cv_result = compare({"tree": DecisionTreeClassifier(random_state=0)},
    ...                     X, y, cv=3)
    >>> 0 < cv_result.rows[0]["accuracy_std"] < 0.1
    True
    """
    return _run(estimators, X, y, X_test, y_test, cv=cv, n_jobs=n_jobs,
                verbose=verbose)


def _run(estimators, X, y, X_test, y_test, *, cv=None, n_jobs=None, verbose=0,
         on_start=None, on_end=None):
    """:func:`compare` with progress hooks.

    ``on_start(name, index, n_models)`` runs before each model is fitted and
    ``on_end(name, row, notes)`` after, ``notes`` listing convergence warnings.
    """
    from sklearn.model_selection import train_test_split

    estimators = _as_named(estimators)
    if cv is not None and (X_test is not None or y_test is not None):
        raise ValueError("X_test and y_test must be None when cv is given: "
                         f"cross-validation scores on folds of X; got cv={cv!r}.")
    if X is None:
        from .datasets import load_mnist

        X, y = load_mnist(subset="train", return_X_y=True)
        if cv is None and X_test is None:
            X_test, y_test = load_mnist(subset="test", return_X_y=True)
    elif y is None:
        raise ValueError("y must be given with X; got y=None.")
    if cv is None and X_test is None:
        X, X_test, y, y_test = train_test_split(X, y, test_size=0.2, stratify=y,
                                                random_state=0)
    if cv is None:
        if y_test is None:
            raise ValueError("y_test must be given with X_test; got y_test=None.")
        X_all, y_all = np.concatenate([X, X_test]), np.concatenate([y, y_test])
        splitter = PredefinedSplit(np.r_[np.full(len(X), -1), np.zeros(len(X_test))])
        n_train, n_test = len(X), len(X_test)
    else:
        X_all, y_all, splitter = X, y, cv
        n_train = n_test = None

    rows, fitted = [], {}
    for index, (name, estimator) in enumerate(estimators.items()):
        if on_start is not None:
            on_start(name, index, len(estimators))
        scoring = {key: scorer for key, scorer in _SCORERS.items()
                   if key != "log_loss" or hasattr(estimator, "predict_proba")}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            scores = cross_validate(clone(estimator), X_all, y_all, cv=splitter,
                                    scoring=scoring, n_jobs=n_jobs, verbose=verbose,
                                    return_estimator=True, error_score="raise",
                                    params=_monitoring(estimator, X_test, y_test))
        notes = sorted({str(w.message).splitlines()[0] for w in caught
                        if issubclass(w.category, ConvergenceWarning)})
        row = _row(name, scores, with_std=cv is not None)
        rows.append(row)
        models = list(scores["estimator"])
        fitted[name] = models[0] if cv is None else models
        if on_end is not None:
            on_end(name, row, notes)
    folds = None if cv is None else len(scores["fit_time"])
    return ComparisonResult(rows, fitted, cv=folds, n_train=n_train, n_test=n_test)


def _monitoring(estimator, X_test, y_test):
    """Fit parameters that record test loss per epoch, for the loss curves.

    Only for a Keras estimator on a hold-out split, and only when it does not
    stop early: the curves then show over-fitting (the tutorial's lesson), while
    nothing about the model is chosen from the test images.
    """
    if X_test is None or getattr(estimator, "early_stopping", True):
        return None
    if "validation_data" not in inspect.signature(estimator.fit).parameters:
        return None
    return {"validation_data": (X_test, y_test)}


def _as_named(estimators):
    if estimators is None:
        return default_estimators()
    if isinstance(estimators, dict):
        named = dict(estimators)
    else:
        try:
            named = dict(estimators)
        except (TypeError, ValueError):
            raise TypeError("estimators must be a dict of name -> estimator or a "
                            "list of (name, estimator) pairs; got "
                            f"{type(estimators).__name__}.") from None
    if not named:
        raise ValueError("estimators must not be empty; got an empty collection.")
    return named


def _row(name, scores, *, with_std):
    values = {
        "accuracy": scores["test_accuracy"],
        "log_loss": (-scores["test_log_loss"] if "test_log_loss" in scores
                     else None),
        "f1_macro": scores["test_f1_macro"],
        "fit_seconds": scores["fit_time"],
        "predict_seconds": scores["score_time"],
    }
    row = {"model": name}
    for key in METRICS:
        row[key] = None if values[key] is None else float(np.mean(values[key]))
    row["n_parameters"] = count_parameters(scores["estimator"][0])
    if with_std:
        for key in METRICS:
            row[f"{key}_std"] = (None if values[key] is None
                                 else float(np.std(values[key])))
    return row
