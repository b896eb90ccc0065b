"""Array shapes shared by the estimators and transformers."""


def flatten_images(X):
    """Turn an ``(n, h, w)`` image stack into ``(n, h * w)`` rows, without copying.

    The one place image stacks become rows (estimators, ``PixelScaler``);
    anything that is not a 3-D array is returned as it is.

    Parameters
    ----------
    X : array-like
        Images ``(n, h, w)``, or rows already.

    Returns
    -------
    array-like
        ``X.reshape(n, h * w)`` (a view) for 3-D arrays, else ``X``.
    """
    if getattr(X, "ndim", 2) == 3:
        return X.reshape(X.shape[0], -1)
    return X
