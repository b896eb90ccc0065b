"""What the Displays share: their Axes, images, predictions and style keywords."""

from math import isqrt

import numpy as np
from sklearn.utils.validation import check_is_fitted


def _new_axes(ax, n_rows, n_cols, *, figsize, layout=""):
    """Return the figure and the ``n_rows * n_cols`` Axes (flat) to draw on.

    ``ax=None`` makes them with pyplot, so that a Display shows in notebooks as
    scikit-learn's do; Axes given are checked. ``layout`` explains their order.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, axes = plt.subplots(
            n_rows, n_cols, figsize=figsize, layout="constrained", squeeze=False
        )
        return fig, axes.ravel()
    axes = np.asarray(ax, dtype=object).ravel()
    if axes.size != n_rows * n_cols or not all(hasattr(a, "plot") for a in axes):
        raise ValueError(
            f"ax must be None or {n_rows * n_cols} matplotlib Axes{layout}; got {ax!r}."
        )
    return axes[0].figure, axes


def _as_images(X, image_shape=None):
    """Fold samples (flat, one flat sample, or images) into ``(n, height, width)``.

    Flat samples must hold a square number of pixels (28x28 MNIST, 8x8
    digits) unless ``image_shape`` says how to fold them.
    """
    X = np.asarray(X)
    if X.ndim == 3:
        return X
    if X.ndim == 1:
        X = X[np.newaxis, :]
    if X.ndim != 2:
        raise ValueError(
            "X must hold images of shape (n_samples, n_features) or "
            f"(n_samples, height, width); got an array of shape {X.shape}."
        )
    n_features = X.shape[1]
    if image_shape is None:
        side = isqrt(n_features)
        if side * side != n_features:
            raise ValueError(
                f"X has {n_features} features per sample, which is not a square "
                "image: the image must be square, or pass "
                "image_shape=(height, width)."
            )
        image_shape = (side, side)
    image_shape = tuple(int(s) for s in image_shape)
    if len(image_shape) != 2 or image_shape[0] * image_shape[1] != n_features:
        raise ValueError(
            f"image_shape must be (height, width) with height * width == "
            f"{n_features} (the features per sample); got {image_shape!r}."
        )
    return X.reshape(-1, *image_shape)


def _probabilities(estimator, X):
    """``(predict_proba(X), classes_)`` of a fitted classifier, or raise."""
    check_is_fitted(estimator)
    if not hasattr(estimator, "predict_proba"):
        raise TypeError(
            "estimator must have predict_proba to draw class probabilities; "
            f"got {type(estimator).__name__}."
        )
    return np.asarray(estimator.predict_proba(X)), np.asarray(estimator.classes_)


def _style(defaults, user, artist_class):
    """``user`` matplotlib keywords over ``defaults``, aliases (``c``...) resolved."""
    from matplotlib.cbook import normalize_kwargs

    return {
        **normalize_kwargs(defaults, artist_class),
        **normalize_kwargs(user or {}, artist_class),
    }
