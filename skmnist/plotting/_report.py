"""The report's PNG figures: every figure of a comparison, drawn by the Displays."""

import re
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._common import _as_images, _new_axes
from ._comparison import ComparisonDisplay
from ._grid import PredictionGridDisplay
from ._loss import LossCurveDisplay, _history_of

__all__ = ["save_report_figures"]


def _slug(name):
    return re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-") or "model"


def _save(fig, path, dpi):
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=dpi)
    plt.close(fig)  # figures from pyplot live until closed
    return path


def _best_with_proba(estimators, predictions, X_test, y_test, result):
    """The best model with ``predict_proba``, by ``ComparisonResult.best``'s rule.

    Ranked by the rows of ``result`` when it has one for each such model, else
    by rows measured here on the test images; either way as the table ranks.
    """
    from sklearn.metrics import log_loss

    from ..comparison._result import ComparisonResult

    scored = [name for name, est in estimators.items() if hasattr(est, "predict_proba")]
    rows = [
        row for row in getattr(result, "rows", None) or [] if row.get("model") in scored
    ]
    if len(rows) != len(scored):
        rows = []
        for name in scored:
            proba = estimators[name].predict_proba(X_test)
            loss = log_loss(y_test, proba, labels=estimators[name].classes_)
            accuracy = float(np.mean(predictions[name] == y_test))
            rows.append({"model": name, "log_loss": loss, "accuracy": accuracy})
    return ComparisonResult(rows).best["model"] if rows else None


def _best_label(name, result):
    best = getattr(result, "best", None)
    if best is None or best["model"] == name:
        return "Best model"
    return "Best model with predict_proba"  # the best overall has none


def _comparison_title(result, refit):
    n_train = getattr(result, "n_train", None)
    on_train = "" if n_train is None else f" on {n_train:,} training images"
    if refit:
        return f"Models compared by {result.cv}-fold cross-validation{on_train}"
    n_test = getattr(result, "n_test", None)
    on_test = "the test images" if n_test is None else f"{n_test:,} test images"
    return f"Models fitted{on_train}, scored on {on_test}"


def _loss_figure(histories, dpi, path):
    n_rows = len(histories)
    fig, axes = _new_axes(None, n_rows, 2, figsize=(11, 3.6 * n_rows))
    for row, (name, (history, best_epoch)) in zip(
        axes.reshape(-1, 2), histories.items()
    ):
        display = LossCurveDisplay(history, best_epoch=best_epoch, name=name)
        if "accuracy" in history or "val_accuracy" in history:
            display.plot(metric="both", ax=row)
        else:
            display.plot(metric="loss", ax=row[0])
            row[1].set_axis_off()
    return _save(fig, path, dpi)


def save_report_figures(
    out_dir, estimators, X_test, y_test, result=None, *, image_shape=None, dpi=100
):
    """Write the report's PNG figures and return their paths.

    Writes into ``out_dir``: ``loss_curves.png`` (training and validation
    curves of each estimator that keeps a per-epoch history),
    ``predictions.png`` (the tutorial's 5x3 grid of the first 15 test images
    for the best estimator with ``predict_proba``: ``result.best`` when
    ``result`` ranks it, else by the same rule, highest test accuracy, ties
    to the lower log loss),
    ``misclassified.png`` (the same for its first 15 mistakes),
    ``confusion_<model>.png`` for each estimator (scikit-learn's
    :class:`~sklearn.metrics.ConfusionMatrixDisplay`; the name slugified,
    numbered from ``-2`` when two slugify alike) and
    ``comparison.png`` when ``result`` is given (error rates and fit times,
    see :class:`ComparisonDisplay`). When ``result`` comes from a
    cross-validated comparison, the titles say that the models were refit on
    all training images. Figures are closed after saving.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder to write into; created if missing.
    estimators : dict of str to estimator
        Fitted classifiers by name.
    X_test : array-like of shape (n_samples, n_features) or (n_samples, h, w)
        Test images; flat ones must be square unless ``image_shape`` is given.
    y_test : array-like of shape (n_samples,)
        True test labels.
    result : ComparisonResult, default=None
        The comparison of these estimators: drawn as ``comparison.png``, and
        its ``best`` row chooses the model of the prediction grids.
    image_shape : tuple (height, width), default=None
        How to fold non-square flat samples into images.
    dpi : int, default=100
        Resolution of the PNGs.

    Returns
    -------
    paths : list of pathlib.Path
        The files written, in the order above.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_digits
    >>> from skmnist import KerasMLP
    >>> from skmnist.plotting import save_report_figures
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = KerasMLP(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    >>> clf = clf.fit(X[:500], y[:500])
    >>> with tempfile.TemporaryDirectory() as out:
    ...     paths = save_report_figures(out, {"mlp": clf}, X[500:], y[500:])
    ...     [p.name for p in paths]  # doctest: +NORMALIZE_WHITESPACE
    ['loss_curves.png', 'predictions.png', 'misclassified.png',
     'confusion_mlp.png']
    """
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    if not estimators:
        raise ValueError(
            "estimators must be a non-empty dict of name -> fitted "
            f"estimator; got {estimators!r}."
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _as_images(X_test, image_shape)  # fail on the shape before any work
    y_test = np.asarray(y_test)
    paths, histories = [], {}
    for name, estimator in estimators.items():
        check_is_fitted(estimator)
        try:
            histories[name] = _history_of(estimator)
        except TypeError:
            continue  # no per-epoch history to draw, e.g. LogisticRegression
    refit = bool(getattr(result, "cv", None))
    # Under cross-validation the figures show the models refit on all the
    # training images; say so wherever a model is named.
    fitted = " (refit on all training images)" if refit else ""
    if histories:
        histories = {f"{name}{fitted}": value for name, value in histories.items()}
        paths.append(_loss_figure(histories, dpi, out_dir / "loss_curves.png"))

    predictions = {name: est.predict(X_test) for name, est in estimators.items()}
    best = _best_with_proba(estimators, predictions, X_test, y_test, result)
    if best is not None:
        for file, mistakes in (("predictions.png", False), ("misclassified.png", True)):
            kind = "first misclassified" if mistakes else "first"
            label = f"{_best_label(best, result)}, {best}{fitted}"
            grid = PredictionGridDisplay.from_estimator(
                estimators[best],
                X_test,
                y_test,
                misclassified_only=mistakes,
                image_shape=image_shape,
                title=f"{label}: {kind} test images\n"
                "each labelled predicted  probability  (true); "
                "blue: the true class, red: a wrong prediction",
            )
            paths.append(_save(grid.figure_, out_dir / file, dpi))

    slugs = set()
    for name, y_pred in predictions.items():
        slug = base = _slug(name)
        n = 1
        while slug in slugs:  # two names may slugify alike: lr, lr-2, lr-3...
            n += 1
            slug = f"{base}-{n}"
        slugs.add(slug)
        fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
        labels = getattr(estimators[name], "classes_", None)
        ConfusionMatrixDisplay.from_predictions(
            y_test, y_pred, labels=labels, ax=ax, colorbar=False, cmap="Blues"
        )
        accuracy = np.mean(y_pred == y_test)
        ax.set_title(
            f"{name}{fitted}: confusion matrix\n"
            f"{len(y_test):,} test images, accuracy {accuracy:.3f}"
        )
        paths.append(_save(fig, out_dir / f"confusion_{slug}.png", dpi))

    if result is not None:
        metrics = ["error_rate", "fit_seconds"]
        if any(row.get("test_accuracy") is not None for row in result.rows):
            metrics.insert(1, "test_error_rate")
        title = _comparison_title(result, refit)
        display = ComparisonDisplay.from_result(result, metrics=metrics, title=title)
        paths.append(_save(display.figure_, out_dir / "comparison.png", dpi))
    return paths
