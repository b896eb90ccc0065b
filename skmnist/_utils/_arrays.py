"""Array shapes shared by the estimators and transformers."""


def flatten_images(X):
    """``(n, h, w)`` images as ``(n, h * w)`` rows (a view); anything else as it is.

    The one place image stacks become rows (estimators, ``PixelScaler``).
    """
    if getattr(X, "ndim", 2) == 3:
        return X.reshape(X.shape[0], -1)
    return X
