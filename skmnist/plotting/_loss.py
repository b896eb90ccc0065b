"""LossCurveDisplay: training and validation curves per epoch."""

from collections.abc import Mapping

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._common import _new_axes, _style

_METRICS = ("loss", "accuracy", "both")
# History key prefix, colour and legend label of the two curves of a panel.
_CURVES = (("", "C0", "training"), ("val_", "C1", "validation"))


def _history_of(estimator):
    """``(history, best_epoch)`` of a fitted estimator, or raise."""
    check_is_fitted(estimator)
    if hasattr(estimator, "steps"):  # a Pipeline: the history is its last step's
        estimator = estimator[-1]
    history = getattr(estimator, "history_", None)
    if isinstance(history, Mapping) and history.get("loss"):
        best = getattr(estimator, "best_epoch_", None)
        # best_epoch_ is set after every fit; it only marks kept weights when
        # early stopping watched a validation loss.
        stopped_early = getattr(estimator, "early_stopping", False)
        return dict(history), (best if stopped_early else None)
    loss_curve = getattr(estimator, "loss_curve_", None)
    if loss_curve is not None:  # scikit-learn's MLPClassifier
        history = {"loss": list(loss_curve)}
        scores = getattr(estimator, "validation_scores_", None)
        best = None
        if scores is not None:
            history["val_accuracy"] = list(scores)
            best = int(np.argmax(scores)) + 1
        return history, best
    raise TypeError(
        "LossCurveDisplay.from_estimator needs an estimator with a per-epoch "
        "history: a Keras estimator with history_ (KerasLogistic, KerasMLP) or "
        f"MLPClassifier's loss_curve_; got {type(estimator).__name__}, which "
        "has neither."
    )


class LossCurveDisplay:
    """Training and validation loss (and accuracy) per epoch.

    Falling training loss beside rising validation loss is overfitting, as in
    the TensorFlow tutorial. Create one with :meth:`from_estimator`, or from a
    history dict; all parameters are stored as attributes.

    Parameters
    ----------
    history : dict of str to list of float
        Per-epoch values: ``loss`` and optionally ``accuracy``, ``val_loss``,
        ``val_accuracy`` (``history_`` of :class:`~skmnist.KerasMLP`, or a
        Keras ``History``).
    best_epoch : int, default=None
        1-based epoch whose weights were kept by early stopping; marked with
        a dashed vertical line. ``None`` draws no marker.
    name : str, default=None
        Estimator name used in the titles.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The first (or only) panel.
    axes_ : ndarray of matplotlib Axes
        Every panel: one, or two for ``metric="both"``.
    figure_ : matplotlib Figure
        Figure holding the panels.
    lines_ : dict of str to list of matplotlib Line2D
        Curves per metric, training first, then validation when present.
    best_epoch_lines_ : list of matplotlib Line2D or None
        The best-epoch marker of each panel, or ``None`` without one.

    See Also
    --------
    DigitPredictionDisplay : One image with its predicted probabilities.

    Examples
    --------
    >>> from skmnist.plotting import LossCurveDisplay
    >>> history = {"loss": [0.9, 0.5, 0.3], "val_loss": [0.8, 0.6, 0.7]}
    >>> display = LossCurveDisplay(history, best_epoch=2).plot()
    >>> [line.get_label() for line in display.lines_["loss"]]
    ['training', 'validation']
    """

    def __init__(self, history, *, best_epoch=None, name=None):
        self.history = history
        self.best_epoch = best_epoch
        self.name = name

    def plot(
        self,
        *,
        metric="loss",
        ax=None,
        name=None,
        best_epoch_kw=None,
        title=None,
        **kwargs,
    ):
        """Plot the curves.

        Parameters
        ----------
        metric : {"loss", "accuracy", "both"}, default="loss"
            What to draw; ``"both"`` draws loss and accuracy side by side.
        ax : matplotlib Axes or sequence of 2 Axes, default=None
            Where to draw (two Axes for ``metric="both"``). ``None`` makes a
            new figure.
        name : str, default=None
            Name for the titles; overrides the one stored.
        best_epoch_kw : dict, default=None
            Keywords for the best-epoch ``axvline``.
        title : str, default=None
            Title of the figure (``Figure.suptitle``); each panel keeps its
            own title naming the metric.
        **kwargs : dict
            Keywords passed to ``Axes.plot`` for every curve.

        Returns
        -------
        display : LossCurveDisplay
            The display, with ``ax_``, ``axes_``, ``figure_`` and ``lines_``.
        """
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator

        history = getattr(self.history, "history", self.history)  # keras History
        if metric not in _METRICS:
            raise ValueError(f"metric must be one of {list(_METRICS)}; got {metric!r}.")
        panels = ["loss", "accuracy"] if metric == "both" else [metric]
        for key in panels:
            if key not in history and f"val_{key}" not in history:
                raise ValueError(
                    f"metric={metric!r} needs {key!r} or 'val_{key}' in the "
                    f"history; it has {sorted(history)}."
                )
        fig, axes = _new_axes(ax, 1, len(panels), figsize=(5.5 * len(panels), 4))
        name = self.name if name is None else name
        self.lines_, markers = {}, []
        for key, panel in zip(panels, axes):
            self.lines_[key] = []
            for prefix, color, label in _CURVES:
                if prefix + key not in history:
                    continue
                values = np.asarray(history[prefix + key], dtype=float)
                epochs = np.arange(1, values.size + 1)
                # Dots show each epoch while they stay apart.
                dots = {"marker": "o", "markersize": 3} if values.size <= 30 else {}
                line_kw = _style(
                    {"label": label, "color": color, **dots}, kwargs, Line2D
                )
                self.lines_[key].extend(panel.plot(epochs, values, **line_kw))
            if self.best_epoch is not None:
                best = f"best epoch ({self.best_epoch})"
                marker_kw = {"color": "0.35", "linestyle": "--", "label": best}
                marker_kw = _style(marker_kw, best_epoch_kw, Line2D)
                markers.append(panel.axvline(self.best_epoch, **marker_kw))
            panel.xaxis.set_major_locator(MaxNLocator(integer=True))
            panel_title = f"{name}: {key}" if name else key.capitalize()
            panel.set(xlabel="epoch", ylabel=key, title=panel_title)
            panel.grid(True, alpha=0.3)
            panel.legend()
        if title is not None:
            fig.suptitle(title)
        self.best_epoch_lines_ = markers or None
        self.ax_, self.axes_, self.figure_ = axes[0], axes, fig
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        metric="loss",
        ax=None,
        name=None,
        best_epoch_kw=None,
        title=None,
        **kwargs,
    ):
        """Plot the per-epoch curves of a fitted estimator.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~skmnist.KerasMLP` or :class:`~skmnist.KerasLogistic`
            (reads ``history_``; ``best_epoch_`` is marked when it ran with
            ``early_stopping=True``), or scikit-learn's ``MLPClassifier``
            (``loss_curve_``, and ``validation_scores_`` as accuracy); for a
            ``Pipeline``, its last step.
        metric : {"loss", "accuracy", "both"}, default="loss"
            What to draw.
        ax : matplotlib Axes or sequence of 2 Axes, default=None
            Where to draw; ``None`` makes a new figure.
        name : str, default=None
            Name for the titles; defaults to the estimator's class name.
        best_epoch_kw : dict, default=None
            Keywords for the best-epoch ``axvline``.
        title : str, default=None
            Title of the figure (``Figure.suptitle``); each panel keeps its
            own title naming the metric.
        **kwargs : dict
            Keywords passed to ``Axes.plot`` for every curve.

        Returns
        -------
        display : LossCurveDisplay
            The drawn display.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        TypeError
            If the estimator keeps no per-epoch history.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from skmnist import KerasMLP
        >>> from skmnist.plotting import LossCurveDisplay
        >>> X, y = load_digits(return_X_y=True)
        >>> clf = KerasMLP(hidden_layer_sizes=(16,), max_iter=5, early_stopping=True,
        ...                random_state=0).fit(X, y)
        >>> display = LossCurveDisplay.from_estimator(clf, metric="both")
        >>> display.axes_.shape, display.best_epoch_lines_ is not None
        ((2,), True)
        """
        history, best_epoch = _history_of(estimator)
        name = type(estimator).__name__ if name is None else name
        display = cls(history, best_epoch=best_epoch, name=name)
        return display.plot(
            metric=metric, ax=ax, best_epoch_kw=best_epoch_kw, title=title, **kwargs
        )
