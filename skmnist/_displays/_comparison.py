"""ComparisonDisplay: one bar per model for each metric of a comparison."""

import numpy as np

from ._common import new_axes, style

_AXIS_LABELS = {
    "accuracy": "test accuracy",
    "log_loss": "test log loss",
    "f1_macro": "test F1 (macro)",
    "fit_seconds": "fit time (s)",
    "predict_seconds": "predict time (s)",
    "n_parameters": "parameters",
}
_FORMATS = {"fit_seconds": "{:.2f} s", "predict_seconds": "{:.3f} s",
            "n_parameters": "{:,.0f}"}


class ComparisonDisplay:
    """Horizontal bars per model: accuracy beside fit time, by default.

    Create one with :meth:`from_result` from a
    :class:`~skmnist.ComparisonResult`; all parameters are stored as
    attributes.

    Parameters
    ----------
    names : list of str
        Model names, drawn top to bottom.
    values : dict of str to array-like of shape (n_models,)
        Each metric's value per model; one panel per metric, in order.
    errors : dict of str to array-like of shape (n_models,), default=None
        Standard deviations drawn as error bars, for the metrics that have them.

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

    Examples
    --------
    >>> from skmnist.plotting import ComparisonDisplay
    >>> display = ComparisonDisplay(
    ...     ["baseline", "mlp"],
    ...     {"accuracy": [0.92, 0.97], "fit_seconds": [3.1, 12.0]}).plot()
    >>> [len(display.bars_[m]) for m in ("accuracy", "fit_seconds")]
    [2, 2]
    """

    def __init__(self, names, values, *, errors=None):
        self.names = names
        self.values = values
        self.errors = errors

    def plot(self, *, ax=None, **kwargs):
        """Draw one panel of bars per metric.

        Parameters
        ----------
        ax : matplotlib Axes or sequence of Axes, default=None
            One Axes per metric; ``None`` makes a new figure.
        **kwargs : dict
            Keywords passed to ``Axes.barh`` for every panel.

        Returns
        -------
        display : ComparisonDisplay
        """
        from matplotlib.patches import Rectangle

        names = [str(name) for name in self.names]
        errors = self.errors or {}
        fig, axes = new_axes(ax, len(self.values),
                             figsize=(5 * len(self.values), 1.2 + 0.45 * len(names)))
        colors = [f"C{i % 10}" for i in range(len(names))]
        positions = np.arange(len(names))
        self.bars_ = {}
        for (metric, values), panel in zip(self.values.items(), axes):
            values = np.asarray(values, dtype=float)
            if values.shape != (len(names),):
                raise ValueError(
                    f"values[{metric!r}] must hold one number per model "
                    f"({len(names)}); got shape {values.shape}."
                )
            bar_kw = style({"color": colors, "xerr": errors.get(metric),
                            "capsize": 3}, kwargs, Rectangle)
            bars = panel.barh(positions, values, **bar_kw)
            text = _FORMATS.get(metric, "{:.3f}")
            panel.bar_label(bars, labels=[text.format(v) for v in values], padding=5)
            for position in positions[np.isnan(values)]:  # no bar to label
                panel.text(0, position, " n/a", va="center")
            panel.set_yticks(positions, names if panel is axes[0] else [])
            panel.invert_yaxis()  # first model on top, as in the table
            panel.margins(x=0.2)  # room for the value labels
            panel.set(xlabel=_AXIS_LABELS.get(metric, metric))
            panel.grid(True, axis="x", alpha=0.3)
            self.bars_[metric] = bars
        self.ax_, self.axes_, self.figure_ = axes[0], axes, fig
        return self

    @classmethod
    def from_result(cls, result, *, metrics=("accuracy", "fit_seconds"), ax=None,
                    **kwargs):
        """Draw a comparison's rows.

        Parameters
        ----------
        result : ComparisonResult
            Anything with ``rows``: a list of dicts with ``"model"`` and each
            metric (``"<metric>_std"``, when present, gives error bars).
        metrics : sequence of str, default=("accuracy", "fit_seconds")
            Keys of the rows to draw, one panel each.
        ax : matplotlib Axes or sequence of Axes, default=None
            One Axes per metric; ``None`` makes a new figure.
        **kwargs : dict
            Keywords passed to ``Axes.barh``.

        Returns
        -------
        display : ComparisonDisplay

        Examples
        --------
        >>> from types import SimpleNamespace
        >>> from skmnist.plotting import ComparisonDisplay
        >>> result = SimpleNamespace(rows=[
        ...     {"model": "baseline", "accuracy": 0.92, "fit_seconds": 3.1},
        ...     {"model": "mlp", "accuracy": 0.97, "accuracy_std": 0.01,
        ...      "fit_seconds": 12.0}])
        >>> display = ComparisonDisplay.from_result(result, metrics=["accuracy"])
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
            missing = [i for i, row in enumerate(rows) if metric not in row]
            if missing:
                raise ValueError(
                    f"metric {metric!r} is missing from rows {missing}; the rows "
                    f"have {sorted(rows[missing[0]])}."
                )
        # None marks a metric a model lacks (log loss without predict_proba).
        def number(value):
            return np.nan if value is None else float(value)

        values = {m: [number(row[m]) for row in rows] for m in metrics}
        errors = {m: [number(row.get(f"{m}_std")) for row in rows] for m in metrics
                  if any(row.get(f"{m}_std") is not None for row in rows)}
        display = cls([row["model"] for row in rows], values, errors=errors)
        return display.plot(ax=ax, **kwargs)
