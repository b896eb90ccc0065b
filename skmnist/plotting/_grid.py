"""PredictionGridDisplay: the tutorial's grid of image + probability pairs."""

from math import ceil
from numbers import Integral

import numpy as np

from ._common import _as_images, _new_axes, _probabilities
from ._digits import DigitPredictionDisplay


def _check_positive(value, name):
    if not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")


class PredictionGridDisplay:
    """A grid of images, each beside the bars of its predicted probabilities.

    The TensorFlow tutorial's 5x3 figure of test images: see
    :class:`DigitPredictionDisplay` for the colours. With
    ``misclassified_only=True`` it shows only the mistakes.

    Parameters
    ----------
    images : ndarray of shape (n_images, height, width)
        Pixels of the images to show.
    y_true : ndarray of shape (n_images,)
        True labels.
    y_proba : ndarray of shape (n_images, n_classes)
        Predicted probabilities.
    labels : ndarray of shape (n_classes,), default=None
        Class labels in the order of ``y_proba``'s columns.
    indices : ndarray of shape (n_images,), default=None
        Position of each image in the data set, shown above it.

    Attributes
    ----------
    displays_ : ndarray of DigitPredictionDisplay, shape (n_rows, n_cols)
        One display per cell, ``None`` for empty cells.
    axes_ : ndarray of matplotlib Axes, shape (n_rows, n_cols, 2)
        Image and bar Axes of each cell.
    ax_ : matplotlib Axes
        The first image Axes.
    figure_ : matplotlib Figure
        Figure holding the grid.

    See Also
    --------
    DigitPredictionDisplay : One pair.

    Examples
    --------
    >>> import numpy as np
    >>> from skmnist.plotting import PredictionGridDisplay
    >>> rng = np.random.default_rng(0)
    >>> images, proba = rng.random((6, 8, 8)), rng.dirichlet(np.ones(10), size=6)
    >>> display = PredictionGridDisplay(images, np.arange(6), proba).plot(n_cols=3)
    >>> display.axes_.shape
    (2, 3, 2)
    """

    def __init__(self, images, y_true, y_proba, *, labels=None, indices=None):
        self.images = images
        self.y_true = y_true
        self.y_proba = y_proba
        self.labels = labels
        self.indices = indices

    def plot(self, *, n_cols=3, ax=None, im_kw=None, bar_kw=None, title=None):
        """Draw the grid.

        Parameters
        ----------
        n_cols : int, default=3
            Pairs per row; the number of rows follows from the images.
        ax : array-like of matplotlib Axes, default=None
            ``n_rows * n_cols * 2`` Axes, image then bars for each cell, in
            row-major order; ``None`` makes a new figure.
        im_kw : dict, default=None
            Keywords passed to ``Axes.imshow``.
        bar_kw : dict, default=None
            Keywords passed to ``Axes.bar``.
        title : str, default=None
            Title of the figure (``Figure.suptitle``).

        Returns
        -------
        display : PredictionGridDisplay
            The display, with ``displays_``, ``axes_``, ``ax_`` and ``figure_``.
        """
        _check_positive(n_cols, "n_cols")
        images, y_true = np.asarray(self.images), np.asarray(self.y_true)
        n_rows = max(1, ceil(len(images) / n_cols))
        fig, axes = _new_axes(
            ax,
            n_rows,
            2 * n_cols,
            figsize=(4 * n_cols, 2 * n_rows + 0.3),  # the tutorial's 4 x 2 in a pair
            layout=f" (n_rows={n_rows}, n_cols={n_cols}, 2 per image)",
        )
        axes = axes.reshape(n_rows, n_cols, 2)
        self.displays_ = np.empty((n_rows, n_cols), dtype=object)
        for cell, pair in enumerate(axes.reshape(-1, 2)):
            if cell >= len(images):
                for empty in pair:
                    empty.set_axis_off()
                continue
            label = None if self.indices is None else f"#{self.indices[cell]}"
            self.displays_.flat[cell] = DigitPredictionDisplay(
                images[cell],
                y_true[cell],
                np.asarray(self.y_proba)[cell],
                labels=self.labels,
            ).plot(ax=pair, im_kw=im_kw, bar_kw=bar_kw, title=label)
        self.axes_, self.ax_, self.figure_ = axes, axes[0, 0, 0], fig
        if len(images) == 0:  # an empty Axes spans 0..1: (0.5, 0.5) is its centre
            self.ax_.text(0.5, 0.5, "no images to show", ha="center", va="center")
        if title is not None:
            fig.suptitle(title)
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        n_rows=5,
        n_cols=3,
        misclassified_only=False,
        image_shape=None,
        ax=None,
        im_kw=None,
        bar_kw=None,
        title=None,
    ):
        """Predict the first ``n_rows * n_cols`` samples (or mistakes) and draw them.

        Parameters
        ----------
        estimator : estimator instance
            Fitted classifier with ``predict_proba`` and ``classes_``.
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            Images; flat ones must be square unless ``image_shape`` is given.
        y : array-like of shape (n_samples,)
            True labels.
        n_rows : int, default=5
            Rows of the grid (the tutorial's); fewer when fewer images qualify.
        n_cols : int, default=3
            Images per row.
        misclassified_only : bool, default=False
            Show only the images the estimator gets wrong.
        image_shape : tuple (height, width), default=None
            How to fold non-square flat samples into images.
        ax : array-like of matplotlib Axes, default=None
            ``n_rows * n_cols * 2`` Axes, image then bars for each cell, in
            row-major order; ``None`` makes a new figure.
        im_kw : dict, default=None
            Keywords passed to ``Axes.imshow``.
        bar_kw : dict, default=None
            Keywords passed to ``Axes.bar``.
        title : str, default=None
            Title of the figure (``Figure.suptitle``).

        Returns
        -------
        display : PredictionGridDisplay
            The drawn display.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skmnist.plotting import PredictionGridDisplay
        >>> X, y = load_digits(return_X_y=True)
        >>> clf = LogisticRegression(max_iter=1000).fit(X[:300] / 16, y[:300])
        >>> display = PredictionGridDisplay.from_estimator(
        ...     clf, X[300:] / 16, y[300:], n_rows=2, n_cols=2,
        ...     misclassified_only=True)
        >>> all(d.y_pred_ != d.y_true for d in display.displays_.flat)
        True
        """
        images = _as_images(X, image_shape)  # fail on the shape before predicting
        X, y = np.asarray(X), np.asarray(y)
        if len(y) != len(images):
            raise ValueError(
                f"X and y must have the same number of samples; got {len(images)} "
                f"and {len(y)}."
            )
        _check_positive(n_rows, "n_rows")
        _check_positive(n_cols, "n_cols")
        # Mistakes may be anywhere; otherwise only the samples shown are predicted.
        n_predicted = len(y) if misclassified_only else n_rows * n_cols
        proba, classes = _probabilities(estimator, X[:n_predicted])
        return cls.from_predictions(
            images[:n_predicted],
            y[:n_predicted],
            proba,
            labels=classes,
            n_rows=n_rows,
            n_cols=n_cols,
            misclassified_only=misclassified_only,
            ax=ax,
            im_kw=im_kw,
            bar_kw=bar_kw,
            title=title,
        )

    @classmethod
    def from_predictions(
        cls,
        images,
        y_true,
        y_proba,
        *,
        labels=None,
        n_rows=5,
        n_cols=3,
        misclassified_only=False,
        image_shape=None,
        ax=None,
        im_kw=None,
        bar_kw=None,
        title=None,
    ):
        """Draw the first ``n_rows * n_cols`` images (or mistakes) from predictions.

        Parameters
        ----------
        images : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            Pixels; flat ones must be square unless ``image_shape`` is given.
        y_true : array-like of shape (n_samples,)
            True labels.
        y_proba : array-like of shape (n_samples, n_classes)
            Predicted probabilities.
        labels : array-like of shape (n_classes,), default=None
            Class labels in the order of ``y_proba``'s columns.
        n_rows : int, default=5
            Rows of the grid (the tutorial's); fewer when fewer images qualify.
        n_cols : int, default=3
            Images per row.
        misclassified_only : bool, default=False
            Show only the images whose most probable class is not ``y_true``.
        image_shape : tuple (height, width), default=None
            How to fold non-square flat samples into images.
        ax : array-like of matplotlib Axes, default=None
            ``n_rows * n_cols * 2`` Axes, image then bars for each cell, in
            row-major order; ``None`` makes a new figure.
        im_kw : dict, default=None
            Keywords passed to ``Axes.imshow``.
        bar_kw : dict, default=None
            Keywords passed to ``Axes.bar``.
        title : str, default=None
            Title of the figure (``Figure.suptitle``).

        Returns
        -------
        display : PredictionGridDisplay
            The drawn display.
        """
        images = _as_images(images, image_shape)
        y_true, y_proba = np.asarray(y_true), np.asarray(y_proba, dtype=float)
        _check_positive(n_rows, "n_rows")
        _check_positive(n_cols, "n_cols")
        if y_proba.ndim != 2:
            raise ValueError(
                "y_proba must be 2-D, one row of class probabilities per image; "
                f"got shape {y_proba.shape}."
            )
        if not len(images) == len(y_true) == len(y_proba):
            raise ValueError(
                "images, y_true and y_proba must have the same number of samples; "
                f"got {len(images)}, {len(y_true)} and {len(y_proba)}."
            )
        columns = np.arange(y_proba.shape[1]) if labels is None else np.asarray(labels)
        keep = np.arange(len(y_true))
        if misclassified_only:
            keep = np.flatnonzero(columns[np.argmax(y_proba, axis=1)] != y_true)
        keep = keep[: n_rows * n_cols]
        display = cls(
            images[keep], y_true[keep], y_proba[keep], labels=labels, indices=keep
        )
        return display.plot(
            n_cols=n_cols, ax=ax, im_kw=im_kw, bar_kw=bar_kw, title=title
        )
