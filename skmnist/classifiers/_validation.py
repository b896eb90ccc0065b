"""Input checks of the Keras classifiers, on top of scikit-learn's ``validate_data``.

``validate_data`` does the work (types, finiteness, ``n_features_in_``); this
adds what pixel data need: ``(n, h, w)`` image stacks are read as rows (a
view, no copy), integer and float32 pixels keep their dtype (a 60,000 x 784
uint8 MNIST never becomes a 376 MB float64 copy), and a lone image or 4-D
input gets a message that says what it looks like. Also the checks before a
network is built: its size, and how KerasCNN reads flat rows as images.
"""

import math
import os
from numbers import Integral

import numpy as np
from scipy.sparse import issparse
from sklearn.utils.validation import check_array, column_or_1d, validate_data

from .._utils._arrays import flatten_images


def check_data(estimator, X=None, y=None, *, reset=False):
    """Validate ``X`` (and ``y``) for ``estimator``; return ``(X, y)``.

    Parameters
    ----------
    estimator : BaseKerasClassifier
        Receives ``n_features_in_`` (and ``feature_names_in_``) when ``reset``.
    X : {array-like, sparse matrix} of shape (n_samples, n_features) or \
(n_samples, h, w), default=None
        Samples; None to check ``y`` alone.
    y : array-like of shape (n_samples,) or (n_samples, n_labels), default=None
        Targets, or None.
    reset : bool, default=False
        True when fitting afresh; False checks ``X`` against the fitted width.

    Returns
    -------
    X : ndarray, CSR or CSC matrix, or None
        2-D, in an accepted dtype (bool becomes uint8, a view when dense).
    y : ndarray or None
        ``y`` checked, a column vector raveled with a warning.
    """
    if X is None:
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        return None, y
    if not reset:
        _refuse_a_single_image(estimator, X)
    X = _flatten_image_stack(X)
    _refuse_non_pixels(X)
    check_params = dict(
        dtype=_ACCEPTED_DTYPES,
        allow_nd=True,
        ensure_all_finite=True,
        # Trained and predicted a batch at a time, each densified alone.
        accept_sparse=["csr", "csc"],
    )
    if y is None:
        X = validate_data(estimator, X, reset=reset, **check_params)
    else:
        X, y = validate_data(
            estimator, X, y, reset=reset, multi_output=True, **check_params
        )
        if y.ndim == 2 and y.shape[1] == 1:
            # A column vector is one label per row, not a one-label
            # multilabel problem: warn and ravel, as scikit-learn does.
            y = column_or_1d(y, warn=True)
    if X.dtype == np.bool_:
        X = X.astype(np.uint8) if issparse(X) else X.view(np.uint8)
    elif X.dtype == np.float64 and X.shape[0] and _largest(X) > _F32_MAX:
        # The model computes in float32, where these become inf and every
        # probability NaN: refuse them instead of predicting NaN.
        raise ValueError(
            "X has values beyond the float32 range the model computes in "
            f"(|x| <= {_F32_MAX:.3g}); got {_largest(X):.3g}."
        )
    return X, y


def _largest(X):
    """The largest ``|x|``, dense or sparse, without a copy of ``X``."""
    return max(float(X.max()), -float(X.min()))


_F32_MAX = float(np.finfo(np.float32).max)


# Bytes each weight takes while training: the float32 weight, its gradient and
# the two moments Adam keeps (SGD with momentum keeps one).
TRAINING_BYTES_PER_WEIGHT = 16


def check_network_size(estimator, n_weights, layers):
    """Refuse, before Keras allocates anything, a network too large to train here.

    The limit is this machine's memory: ``n_weights`` times
    :data:`TRAINING_BYTES_PER_WEIGHT` must fit in it. Without the check an
    absurd size (``hidden_layer_sizes=(10**8,)``) dies deep in JAX or
    TensorFlow with an out-of-memory error, or takes the machine's memory.

    Parameters
    ----------
    estimator : BaseKerasClassifier
        Named in the message.
    n_weights : int
        Weights and biases of the network.
    layers : str
        What decides the size, e.g. ``"hidden_layer_sizes=(10,) on 784
        features and 10 outputs"``.
    """
    memory = physical_memory()
    need = n_weights * TRAINING_BYTES_PER_WEIGHT
    if memory is not None and need > memory:
        raise ValueError(
            f"{type(estimator).__name__} with {layers} would have {n_weights:,} "
            f"weights: {need / 2**30:,.1f} GiB to train ({TRAINING_BYTES_PER_WEIGHT} "
            "bytes each: float32 weights, gradients and Adam's two moments), "
            f"more than this machine's {memory / 2**30:,.1f} GiB of memory, "
            f"which holds {memory // TRAINING_BYTES_PER_WEIGHT:,} weights at "
            "most. Use smaller layers."
        )


def physical_memory():
    """Bytes of memory of this machine, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf
        return None


def _refuse_a_single_image(estimator, X):
    """A lone ``(28, 28)`` image reads as 28 rows of 28 features: say so."""
    shape = getattr(X, "shape", None)
    n_features = getattr(estimator, "n_features_in_", None)
    if (
        shape is not None
        and len(shape) == 2
        and n_features is not None
        and shape[1] != n_features
        and shape[0] * shape[1] == n_features
    ):
        raise ValueError(
            f"X has {shape[1]} features, but {type(estimator).__name__} is "
            f"expecting {n_features} features as input. X of shape {shape} looks "
            "like one image: pass a stack of one, images[:1] or "
            f"X.reshape(1, {shape[0]}, {shape[1]})."
        )


def _refuse_non_pixels(X):
    """Refuse 4-D and date/time input before ``validate_data`` misreads it."""
    if getattr(X, "ndim", 2) > 2:  # 3-D stacks were flattened already
        raise ValueError(
            "Expected X as a 2-D array (n_samples, n_features) or a 3-D image "
            f"stack (n_samples, height, width); got shape {X.shape}."
        )
    if getattr(getattr(X, "dtype", None), "kind", "") in ("m", "M"):
        raise TypeError(
            f"X has dtype {X.dtype}; expected numbers (bool, integer or float pixels)."
        )


# Integer pixels stay integers and float32 stays float32: the model casts each
# batch, so a 60,000 x 784 uint8 MNIST never becomes a 376 MB float64 copy.
_ACCEPTED_DTYPES = [
    "float32",
    "float64",
    "uint8",
    "uint16",
    "int8",
    "int16",
    "int32",
    "int64",
    "bool",
]


def _flatten_image_stack(X):
    if issparse(X) or hasattr(X, "iloc"):
        return X
    if not hasattr(X, "ndim"):
        X = np.asarray(X)
    return flatten_images(X)


def image_shape_of_rows(image_shape, n_features, stack_shape):
    """``(height, width)`` of the rows: given, from a 3-D input, or inferred."""
    if image_shape is not None:
        shape = tuple(image_shape)
        if not (
            len(shape) == 2
            and all(isinstance(side, Integral) and side >= 1 for side in shape)
        ):
            raise ValueError(
                "image_shape must be None or a pair (height, width) of positive "
                f"integers; got {image_shape!r}."
            )
        shape = (int(shape[0]), int(shape[1]))
        if shape[0] * shape[1] != n_features:
            raise ValueError(
                f"image_shape={image_shape!r} holds {shape[0] * shape[1]} pixels, "
                f"but X has {n_features} features per sample."
            )
        if stack_shape is not None and shape != stack_shape:
            raise ValueError(
                f"image_shape={image_shape!r} differs from the shape of the "
                f"images in X, {stack_shape}."
            )
        return shape
    if stack_shape is not None:
        return stack_shape
    side = math.isqrt(n_features)
    if side * side == n_features:
        return (side, side)
    for channels, kind in ((3, "RGB"), (4, "RGBA")):
        side = math.isqrt(n_features // channels)
        if n_features % channels == 0 and side * side * channels == n_features:
            if side >= _MIN_COLOUR_SIDE:
                # Read as one row of pixels it would train, on nonsense.
                raise ValueError(
                    f"X has {n_features} features per sample, {channels} x "
                    f"{side * side}: flattened {kind} images of {side} x {side} "
                    f"pixels? KerasCNN reads one channel: convert them to grey "
                    f"levels, e.g. X.reshape(-1, {side}, {side}, {channels})"
                    f"{'[..., :3]' if channels == 4 else ''}.mean(axis=-1), or "
                    f"pass image_shape=(1, "
                    f"{n_features}) to read each row as one line of pixels."
                )
    # Other rows that are not square images are read as one row of pixels, so
    # any flat data trains (convolutions and pooling keep "same" sizes).
    return (1, n_features)


# Rows of 3 or 4 x side**2 features (side >= this) are taken for flattened
# colour images and refused; smaller ones are tabular data more likely.
_MIN_COLOUR_SIDE = 8
