"""Helpers shared by the displays: axes handling and pixels-to-image reshaping."""

from math import isqrt

import numpy as np


def new_axes(ax, n_panels, *, figsize):
    """Return ``n_panels`` new Axes in a row, or those given.

    Parameters
    ----------
    ax : matplotlib Axes, sequence of Axes or None
        ``None`` (a new pyplot figure, so that the display shows in notebooks
        as scikit-learn's do), one Axes when ``n_panels == 1``, or a sequence
        of ``n_panels`` Axes.
    n_panels : int
        Axes wanted.
    figsize : tuple of float
        Size of a new figure, in inches.

    Returns
    -------
    figure : matplotlib Figure
        The figure of the Axes.
    axes : ndarray of matplotlib Axes
        The ``n_panels`` Axes, flat.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, axes = plt.subplots(
            1, n_panels, figsize=figsize, layout="constrained", squeeze=False
        )
        return fig, axes.ravel()
    axes = np.asarray(ax, dtype=object).ravel()
    if axes.size != n_panels or not all(hasattr(a, "plot") for a in axes):
        raise ValueError(f"ax must be None or {n_panels} matplotlib Axes; got {ax!r}.")
    return axes[0].figure, axes


def as_images(X, image_shape=None):
    """Reshape samples ``X`` to an array of 2-D images ``(n, height, width)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), (n_features,) or (n, h, w)
        Samples; flat ones must hold a square number of pixels (28x28 MNIST,
        8x8 digits) unless ``image_shape`` says how to fold them.
    image_shape : tuple (height, width), default=None
        How to fold non-square flat samples.

    Returns
    -------
    images : ndarray of shape (n_samples, height, width)
        The samples as images (a view when possible).
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


def style(defaults, user, artist_class):
    """Merge ``user`` matplotlib keywords over ``defaults``, aliases understood.

    Parameters
    ----------
    defaults : dict
        The display's keywords.
    user : dict or None
        The caller's keywords, which win.
    artist_class : type
        The matplotlib artist whose aliases (``c`` for ``color``...) apply.

    Returns
    -------
    kwargs : dict
        The merged keywords, under their full names.
    """
    from matplotlib.cbook import normalize_kwargs

    return {
        **normalize_kwargs(defaults, artist_class),
        **normalize_kwargs(user or {}, artist_class),
    }
