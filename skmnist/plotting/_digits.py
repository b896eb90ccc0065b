"""DigitPredictionDisplay: the tutorial's image beside its probability bars."""

from numbers import Integral

import numpy as np

from ._common import _as_images, _new_axes, _probabilities, _style

RIGHT_COLOR, WRONG_COLOR, BAR_COLOR = "blue", "red", "#777777"


def _check_prediction(y_true, y_proba, classes):
    y_proba = np.asarray(y_proba, dtype=float)
    if y_proba.ndim != 1:
        raise ValueError(
            f"y_proba must be 1-D, one probability per class; got shape "
            f"{y_proba.shape}."
        )
    classes = np.arange(y_proba.size) if classes is None else np.asarray(classes)
    if classes.shape != y_proba.shape:
        raise ValueError(
            f"labels must have one label per probability ({y_proba.size}); got "
            f"{classes.size}."
        )
    if not np.any(classes == y_true):
        raise ValueError(
            f"y_true={y_true!r} is not one of the classes {classes.tolist()}."
        )
    return y_proba, classes


class DigitPredictionDisplay:
    """One image beside the bar chart of its predicted class probabilities.

    The TensorFlow tutorial's ``plot_image`` + ``plot_value_array`` pair: the
    digit in grey, labelled ``"predicted  prob%  (true)"`` in blue when the
    prediction is right and red when wrong; the probabilities as grey bars,
    the predicted class red and the true class blue.

    Parameters
    ----------
    image : ndarray of shape (height, width)
        Pixels of the image.
    y_true : object
        True label, one of ``labels``.
    y_proba : ndarray of shape (n_classes,)
        Predicted probability of each class.
    labels : ndarray of shape (n_classes,), default=None
        Class labels in the order of ``y_proba``; ``None`` means ``0..n-1``.

    Attributes
    ----------
    y_pred_ : object
        Predicted label (the class of highest probability).
    im_ : matplotlib AxesImage
        The image.
    bars_ : matplotlib BarContainer
        One bar per class.
    ax_ : matplotlib Axes
        Axes of the image (its xlabel is the prediction).
    bar_ax_ : matplotlib Axes
        Axes of the bars.
    axes_ : ndarray of matplotlib Axes
        ``[ax_, bar_ax_]``.
    figure_ : matplotlib Figure
        Figure holding both.

    See Also
    --------
    PredictionGridDisplay : A grid of these pairs.

    Examples
    --------
    >>> import numpy as np
    >>> from skmnist.plotting import DigitPredictionDisplay
    >>> proba = np.full(10, 0.02); proba[3] = 0.82
    >>> display = DigitPredictionDisplay.from_predictions(
    ...     np.eye(8), y_true=5, y_proba=proba)
    >>> display.ax_.get_xlabel()
    '3 82% (5)'
    """

    def __init__(self, image, y_true, y_proba, *, labels=None):
        self.image = image
        self.y_true = y_true
        self.y_proba = y_proba
        self.labels = labels

    def plot(self, *, ax=None, im_kw=None, bar_kw=None, title=None):
        """Draw the image and the bars.

        Parameters
        ----------
        ax : sequence of 2 matplotlib Axes, default=None
            Axes for the image and for the bars; ``None`` makes a new figure.
        im_kw : dict, default=None
            Keywords passed to ``Axes.imshow``.
        bar_kw : dict, default=None
            Keywords passed to ``Axes.bar``.
        title : str, default=None
            Title above the image.

        Returns
        -------
        display : DigitPredictionDisplay
            The display, with ``ax_``, ``bar_ax_``, ``axes_`` and ``figure_``.
        """
        import matplotlib.pyplot as plt
        from matplotlib.patches import Rectangle

        image = np.asarray(self.image)
        image = image if image.ndim == 2 else _as_images(image)[0]
        y_proba, classes = _check_prediction(self.y_true, self.y_proba, self.labels)
        fig, axes = _new_axes(ax, 1, 2, figsize=(6, 3))
        image_ax, bar_ax = axes
        predicted = int(np.argmax(y_proba))
        true = int(np.flatnonzero(classes == self.y_true)[0])
        color = RIGHT_COLOR if predicted == true else WRONG_COLOR

        self.im_ = image_ax.imshow(image, **{"cmap": plt.cm.binary, **(im_kw or {})})
        image_ax.set(xticks=[], yticks=[])
        image_ax.set_xlabel(
            f"{classes[predicted]} {100 * y_proba[predicted]:2.0f}% ({classes[true]})",
            color=color,
        )
        if title is not None:
            image_ax.set_title(title, fontsize="small")

        positions = np.arange(classes.size)
        self.bars_ = bar_ax.bar(
            positions, y_proba, **_style({"color": BAR_COLOR}, bar_kw, Rectangle)
        )
        # Same order as the tutorial: a right prediction ends up blue.
        self.bars_[predicted].set_color(WRONG_COLOR)
        self.bars_[true].set_color(RIGHT_COLOR)
        bar_ax.set(ylim=(0, 1), yticks=[], xticks=positions)
        long_labels = max(len(str(c)) for c in classes) > 2
        ticks = bar_ax.set_xticklabels(
            [str(c) for c in classes], rotation=90 if long_labels else 0
        )
        # The true bar may be too short to see: its label carries the colour too.
        ticks[predicted].set_color(WRONG_COLOR)
        ticks[true].set_color(RIGHT_COLOR)

        self.y_pred_ = classes[predicted]
        self.ax_, self.bar_ax_, self.axes_, self.figure_ = image_ax, bar_ax, axes, fig
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        index=0,
        image_shape=None,
        ax=None,
        im_kw=None,
        bar_kw=None,
        title=None,
    ):
        """Predict sample ``X[index]`` and draw it.

        Parameters
        ----------
        estimator : estimator instance
            Fitted classifier with ``predict_proba`` and ``classes_``.
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            Images; flat ones must be square unless ``image_shape`` is given.
        y : array-like of shape (n_samples,)
            True labels.
        index : int, default=0
            Which sample to draw.
        image_shape : tuple (height, width), default=None
            How to fold non-square flat samples into images.
        ax : sequence of 2 matplotlib Axes, default=None
            Axes for the image and the bars; ``None`` makes a new figure.
        im_kw : dict, default=None
            Keywords passed to ``Axes.imshow``.
        bar_kw : dict, default=None
            Keywords passed to ``Axes.bar``.
        title : str, default=None
            Title above the image.

        Returns
        -------
        display : DigitPredictionDisplay
            The drawn display.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skmnist.plotting import DigitPredictionDisplay
        >>> X, y = load_digits(return_X_y=True)
        >>> clf = LogisticRegression(max_iter=200).fit(X / 16, y)
        >>> display = DigitPredictionDisplay.from_estimator(clf, X / 16, y, index=0)
        >>> len(display.bars_), str(display.y_pred_)
        (10, '0')
        """
        images = _as_images(X, image_shape)
        if not isinstance(index, Integral) or not 0 <= index < len(images):
            raise ValueError(
                f"index must be an integer in [0, {len(images)}); got {index!r}."
            )
        proba, classes = _probabilities(estimator, np.asarray(X)[index : index + 1])
        display = cls(images[index], np.asarray(y)[index], proba[0], labels=classes)
        return display.plot(ax=ax, im_kw=im_kw, bar_kw=bar_kw, title=title)

    @classmethod
    def from_predictions(
        cls,
        image,
        y_true,
        y_proba,
        *,
        labels=None,
        image_shape=None,
        ax=None,
        im_kw=None,
        bar_kw=None,
        title=None,
    ):
        """Draw one image from its pixels and predicted probabilities.

        Parameters
        ----------
        image : array-like of shape (height, width) or (n_features,)
            Pixels; flat ones must be square unless ``image_shape`` is given.
        y_true : object
            True label.
        y_proba : array-like of shape (n_classes,)
            Predicted probability of each class.
        labels : array-like of shape (n_classes,), default=None
            Class labels in the order of ``y_proba``; ``None`` means ``0..n-1``.
        image_shape : tuple (height, width), default=None
            How to fold a non-square flat ``image``.
        ax : sequence of 2 matplotlib Axes, default=None
            Axes for the image and the bars; ``None`` makes a new figure.
        im_kw : dict, default=None
            Keywords passed to ``Axes.imshow``.
        bar_kw : dict, default=None
            Keywords passed to ``Axes.bar``.
        title : str, default=None
            Title above the image.

        Returns
        -------
        display : DigitPredictionDisplay
            The drawn display.
        """
        if image_shape is not None:  # plot() folds flat square images itself
            image = _as_images(np.reshape(image, (1, -1)), image_shape)[0]
        display = cls(image, y_true, y_proba, labels=labels)
        return display.plot(ax=ax, im_kw=im_kw, bar_kw=bar_kw, title=title)
