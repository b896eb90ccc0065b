"""ComparisonResult: the rows that :func:`skmnist.compare` measured, as tables."""

import math
from numbers import Real

import numpy as np

# Row key -> (column title, format) for tables.
COLUMNS = {
    "model": ("model", "{}"),
    "accuracy": ("accuracy", "{:.4f}"),
    "test_accuracy": ("refit test accuracy", "{:.4f}"),
    "log_loss": ("log loss", "{:.4f}"),
    "f1_macro": ("macro F1", "{:.4f}"),
    "fit_seconds": ("fit (s)", "{:.2f}"),
    "predict_seconds": ("predict (s)", "{:.3f}"),
    "n_parameters": ("parameters", "{:,}"),
}
# Tables show "mean ± std" for these; the times' spread stays in to_dict().
_WITH_STD = ("accuracy", "log_loss", "f1_macro")


def _missing(value):
    return value is None or (isinstance(value, Real) and math.isnan(value))


def _rank(row):
    """Sort key of "best": higher accuracy, ties to the lower log loss."""
    loss = row.get("log_loss")
    return (row["accuracy"], -math.inf if _missing(loss) else -loss)


class ComparisonResult:
    """What :func:`compare` measured: one row per model.

    All parameters are stored as attributes of the same names.

    Parameters
    ----------
    rows : list of dict
        One dict per model. Scores: ``"model"``, ``"accuracy"``,
        ``"log_loss"`` (None for a model without ``predict_proba``),
        ``"f1_macro"``, ``"fit_seconds"``, ``"predict_seconds"``,
        ``"n_parameters"``; with cross-validation also ``"<metric>_std"`` for
        the five measured metrics and, when a test set was scored,
        ``"test_accuracy"``, ``"test_log_loss"`` and ``"test_f1_macro"`` of the
        model refit on all training samples. What was fitted:
        ``"estimator"`` (class and non-default parameters), ``"n_train"``,
        ``"n_test"``, ``"n_iter"`` / ``"max_iter"`` (epochs or solver
        iterations run, and allowed; None for a model without them),
        ``"iter_unit"`` and ``"warnings"`` (the convergence warnings of its
        fits). Only ``"model"`` and ``"accuracy"`` are required.
    estimators : dict of str to estimator, default=None
        Fitted models by name: fitted on the training set for a hold-out
        comparison, refit on all of it after cross-validation.
    cv : int or None, default=None
        Number of folds, or None for a hold-out test set.
    n_train : int, default=None
        Training samples: those each model was fitted on (with
        cross-validation, those split into folds and used for the refit).
    n_test : int, default=None
        Test samples scored (with cross-validation, by the refit model).

    Examples
    --------
    >>> from skmnist.comparison import ComparisonResult
    >>> result = ComparisonResult([
    ...     {"model": "a", "accuracy": 0.9, "log_loss": 0.3, "f1_macro": 0.9,
    ...      "fit_seconds": 1.0, "predict_seconds": 0.1, "n_parameters": 10},
    ...     {"model": "b", "accuracy": 0.95, "log_loss": 0.2, "f1_macro": 0.95,
    ...      "fit_seconds": 2.0, "predict_seconds": 0.1, "n_parameters": 20}])
    >>> result.best["model"]
    'b'
    >>> print(result.to_markdown().splitlines()[0])
    | model | accuracy | log loss | macro F1 | fit (s) | predict (s) | parameters |
    """

    def __init__(self, rows, estimators=None, *, cv=None, n_train=None, n_test=None):
        self.rows = list(rows)
        self.estimators = dict(estimators or {})
        self.cv = cv
        self.n_train = n_train
        self.n_test = n_test

    @property
    def best(self):
        """The row (a dict) of the most accurate model.

        Ties go to the lower log loss (a model without one loses the tie),
        then to the first row. Every figure and message that names the best
        model uses this row.

        Returns
        -------
        row : dict
            The best row.
        """
        return max(self.rows, key=_rank)

    def to_dict(self):
        """JSON-serialisable summary.

        Returns
        -------
        summary : dict
            ``rows``, ``best`` (the best model's name), ``cv``, ``n_train``
            and ``n_test``; NaN becomes None and NumPy scalars become Python
            numbers.
        """
        return {
            "rows": [_plain(row) for row in self.rows],
            "best": self.best["model"],
            "cv": self.cv,
            "n_train": self.n_train,
            "n_test": self.n_test,
        }

    def columns(self):
        """The table's columns: those that some row holds.

        Returns
        -------
        columns : dict of str to tuple of (str, str)
            Row key to ``(column title, format)``, in table order.
        """
        return {
            key: spec
            for key, spec in COLUMNS.items()
            if key == "model" or any(key in row for row in self.rows)
        }

    def formatted_rows(self, *, std_for=_WITH_STD):
        """Rows as lists of strings in the order of :meth:`columns`.

        Parameters
        ----------
        std_for : sequence of str, default=("accuracy", "log_loss", "f1_macro")
            Columns shown as ``mean ± std`` when the rows hold a standard
            deviation (with cross-validation); fewer keep a table narrow.

        Returns
        -------
        table : list of list of str
            One list per row, ``n/a`` for a missing value.
        """
        table = []
        for row in self.rows:
            cells = []
            for key, (_, fmt) in self.columns().items():
                value, std = row.get(key), row.get(f"{key}_std")
                cell = "n/a" if _missing(value) else fmt.format(value)
                if key in std_for and not _missing(value) and not _missing(std):
                    cell += " ± " + fmt.format(std)
                cells.append(cell)
            table.append(cells)
        return table

    def to_markdown(self):
        """The comparison as a GitHub-flavoured Markdown table.

        Returns
        -------
        table : str
            Header, alignment line and one line per row.
        """
        header = [title for title, _ in self.columns().values()]
        lines = [
            "| " + " | ".join(header) + " |",
            "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
        ]
        lines += ["| " + " | ".join(cells) + " |" for cells in self.formatted_rows()]
        return "\n".join(lines)

    def plot(self, ax=None, **kwargs):
        """Bar charts of the rows: a :class:`~skmnist.plotting.ComparisonDisplay`.

        Parameters
        ----------
        ax : matplotlib Axes or sequence of Axes, default=None
            One Axes per metric drawn; ``None`` makes a new figure.
        **kwargs : dict
            Passed to :meth:`ComparisonDisplay.from_result
            <skmnist.plotting.ComparisonDisplay.from_result>` (``metrics``,
            ``title``, ``Axes.barh`` keywords).

        Returns
        -------
        display : ComparisonDisplay
            The drawn display.
        """
        from ..plotting._comparison import ComparisonDisplay

        return ComparisonDisplay.from_result(self, ax=ax, **kwargs)

    def __repr__(self):
        names = [row["model"] for row in self.rows]
        return f"ComparisonResult(models={names}, cv={self.cv})"


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
