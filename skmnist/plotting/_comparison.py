"""ComparisonDisplay: one bar per model for each metric of a comparison."""

import numpy as np

from ._common import _new_axes, _style

_AXIS_LABELS = {
    "error_rate": "test error rate (1 - accuracy; lower is better)",
    "test_error_rate": "refit model's test error rate (lower is better)",
    "accuracy": "test accuracy",
    "test_accuracy": "refit model's test accuracy",
    "log_loss": "test log loss",
    "f1_macro": "test F1 (macro)",
    "fit_seconds": "fit time (s)",
    "predict_seconds": "predict time (s)",
    "n_parameters": "parameters",
}
_FORMATS = {
    "error_rate": "{:.1%}",
    "test_error_rate": "{:.1%}",
    "fit_seconds": "{:.2f} s",
    "predict_seconds": "{:.3f} s",
    "n_parameters": "{:,.0f}",
}
# Error rates derived from accuracies: (accuracy key, its std key).
_DERIVED = {
    "error_rate": ("accuracy", "accuracy_std"),
    "test_error_rate": ("test_accuracy", None),
}
# Neither red nor blue: those mean "wrong" and "right" in the other figures.
BAR_COLOR, BEST_COLOR = "#a6a6a6", "#3b7d4f"


class ComparisonDisplay:
    """Horizontal bars per model: error rate beside fit time, by default.

    Create one with :meth:`from_result` from a
    :class:`~skmnist.ComparisonResult`; all parameters are stored as
    attributes. Bars are grey, the best model's green (red and blue mean
    wrong and right in the other figures), and each bar is labelled with its
    value, so that 9 % and 11 % error read apart even where the bars look
    alike.

    Parameters
    ----------
    names : list of str
        Model names, drawn top to bottom.
    values : dict of str to array-like of shape (n_models,)
        Each metric's value per model; one panel per metric, in order.
    errors : dict of str to array-like of shape (n_models,), default=None
        Standard deviations drawn as error bars, for the metrics that have them.
    best : str, default=None
        Name of the model to highlight.
    labels : dict of str to str, default=None
        Axis label of each metric, over the built-in ones.

    Attributes
    ----------
    bars_ : dict of str to matplotlib BarContainer
        The bars of each metric.
    ax_ : matplotlib Axes
        The first panel.
    axes_ : ndarray of matplotlib Axes
        One panel per metric.
    figure_ : matplotlib Figure
        Figure holding the panels.

    See Also
    --------
    skmnist.ComparisonResult.plot : Draws a comparison's rows.

    Examples
    --------
    >>> from skmnist.plotting import ComparisonDisplay
    >>> display = ComparisonDisplay(
    ...     ["baseline", "mlp"],
    ...     {"error_rate": [0.08, 0.03], "fit_seconds": [3.1, 12.0]},
    ...     best="mlp").plot(title="Two models")
    >>> [len(display.bars_[m]) for m in ("error_rate", "fit_seconds")]
    [2, 2]
    >>> [t.get_text() for t in display.ax_.texts]
    ['8.0%', '3.0%']
    """

    def __init__(self, names, values, *, errors=None, best=None, labels=None):
        self.names = names
        self.values = values
        self.errors = errors
        self.best = best
        self.labels = labels

    def plot(self, *, ax=None, title=None, **kwargs):
        """Draw one panel of bars per metric.

        Parameters
        ----------
        ax : matplotlib Axes or sequence of Axes, default=None
            One Axes per metric; ``None`` makes a new figure.
        title : str, default=None
            Title of the figure (``Figure.suptitle``).
        **kwargs : dict
            Keywords passed to ``Axes.barh`` for every panel.

        Returns
        -------
        display : ComparisonDisplay
            The display, with ``ax_``, ``axes_``, ``figure_`` and ``bars_``.
        """
        from matplotlib.patches import Rectangle
        from matplotlib.ticker import PercentFormatter

        names = [str(name) for name in self.names]
        labels = {**_AXIS_LABELS, **(self.labels or {})}
        n_panels = len(self.values)
        figsize = (5 * n_panels, 1.4 + 0.45 * len(names))
        fig, axes = _new_axes(ax, 1, n_panels, figsize=figsize)
        best = None if self.best is None else str(self.best)
        colors = [BEST_COLOR if name == best else BAR_COLOR for name in names]
        positions = np.arange(len(names))
        self.bars_, rates = {}, []
        for (metric, values), panel in zip(self.values.items(), axes):
            values = np.asarray(values, dtype=float)
            if values.shape != (len(names),):
                raise ValueError(
                    f"values[{metric!r}] must hold one number per model "
                    f"({len(names)}); got shape {values.shape}."
                )
            error = (self.errors or {}).get(metric)
            bar_kw = _style(
                {"color": colors, "xerr": error, "capsize": 3}, kwargs, Rectangle
            )
            self.bars_[metric] = bars = panel.barh(positions, values, **bar_kw)
            text = _FORMATS.get(metric, "{:.3f}")
            panel.bar_label(bars, labels=_value_labels(values, error, text), padding=5)
            for position in positions[np.isnan(values)]:  # no bar to label
                panel.text(0, position, " n/a", va="center")
            panel.set_yticks(positions, names if panel is axes[0] else [])
            if panel is axes[0] and best in names:
                panel.get_yticklabels()[names.index(best)].set_fontweight("bold")
            panel.invert_yaxis()  # first model on top, as in the table
            panel.margins(x=0.25)  # room for the value labels
            if "error_rate" in metric:
                panel.xaxis.set_major_formatter(PercentFormatter(1.0))
                rates.append(panel)
            panel.set(xlabel=labels.get(metric, metric))
            panel.grid(True, axis="x", alpha=0.3)
        if len(rates) > 1:  # error rates side by side read on one scale
            right = max(panel.get_xlim()[1] for panel in rates)
            for panel in rates:
                panel.set_xlim(0, right)
        if title is not None:
            fig.suptitle(title)
        self.ax_, self.axes_, self.figure_ = axes[0], axes, fig
        return self

    @classmethod
    def from_result(
        cls,
        result,
        *,
        metrics=("error_rate", "fit_seconds"),
        title=None,
        ax=None,
        **kwargs,
    ):
        """Draw a comparison's rows.

        Parameters
        ----------
        result : ComparisonResult
            Anything with ``rows``: a list of dicts with ``"model"`` and each
            metric (``"<metric>_std"``, when present, gives error bars); its
            ``best`` row, when it has one, is highlighted.
        metrics : sequence of str, default=("error_rate", "fit_seconds")
            Keys of the rows to draw, one panel each; ``"error_rate"`` is
            ``1 - accuracy`` and ``"test_error_rate"`` ``1 - test_accuracy``.
        title : str, default=None
            Title of the figure (``Figure.suptitle``).
        ax : matplotlib Axes or sequence of Axes, default=None
            One Axes per metric; ``None`` makes a new figure.
        **kwargs : dict
            Keywords passed to ``Axes.barh``.

        Returns
        -------
        display : ComparisonDisplay
            The drawn display.

        Examples
        --------
        >>> from types import SimpleNamespace
        >>> from skmnist.plotting import ComparisonDisplay
        >>> result = SimpleNamespace(rows=[
        ...     {"model": "baseline", "accuracy": 0.92, "fit_seconds": 3.1},
        ...     {"model": "mlp", "accuracy": 0.97, "accuracy_std": 0.01,
        ...      "fit_seconds": 12.0}])
        >>> display = ComparisonDisplay.from_result(result, metrics=["error_rate"])
        >>> display.axes_.shape
        (1,)
        """
        rows = list(getattr(result, "rows", None) or [])
        if not rows:
            raise ValueError(
                "result must have non-empty rows (a list of dicts, one per "
                f"model); got {type(result).__name__} without any."
            )
        metrics = list(metrics)
        for metric in ["model", *metrics]:
            key = _DERIVED.get(metric, (metric,))[0]
            missing = [i for i, row in enumerate(rows) if key not in row]
            if missing:
                raise ValueError(
                    f"metric {metric!r} needs {key!r}, which is missing from "
                    f"rows {missing}; the rows have {sorted(rows[missing[0]])}."
                )
        values, errors = {}, {}
        for metric in metrics:
            key, std_key = _DERIVED.get(metric, (metric, f"{metric}_std"))
            # None (a metric a model lacks: log loss without predict_proba) -> NaN
            column = np.array([row[key] for row in rows], dtype=float)
            values[metric] = (1 - column if metric in _DERIVED else column).tolist()
            if std_key and any(row.get(std_key) is not None for row in rows):
                stds = np.array([row.get(std_key) for row in rows], dtype=float)
                errors[metric] = stds.tolist()
        cv_label = "cross-validated error rate, mean ± std (lower is better)"
        labels = {"error_rate": cv_label} if getattr(result, "cv", None) else None
        try:
            best = result.best["model"]
        except (AttributeError, KeyError, TypeError, ValueError):
            best = None
        names = [row["model"] for row in rows]
        display = cls(names, values, errors=errors, best=best, labels=labels)
        return display.plot(ax=ax, title=title, **kwargs)


def _value_labels(values, errors, text):
    errors = np.full(len(values), np.nan) if errors is None else errors
    return [
        text.format(v) if np.isnan(e) else f"{text.format(v)} ± {text.format(e)}"
        for v, e in zip(values, np.asarray(errors, dtype=float))
    ]
