"""What a fit trains and validates on: sample weights, the held-out rows, and
the constants of the input scaling.

Functions of the estimator's parameters, called by
:meth:`skmnist.classifiers._base.BaseKerasClassifier._fit` once its input is validated.
"""

import numpy as np
from scipy.sparse import issparse
from sklearn.model_selection import train_test_split
from sklearn.utils import compute_sample_weight
from sklearn.utils.validation import _check_sample_weight

from ._targets import encode_targets


def sample_weights(estimator, X, y, sample_weight):
    """``sample_weight`` times ``class_weight`` as float32 (None: all ones).

    For multilabel targets, times the number of labels too (see
    :func:`label_factor`).
    """
    factor = label_factor(estimator)
    if sample_weight is None and estimator.class_weight is None:
        return None if factor == 1 else np.full(X.shape[0], factor, np.float32)
    weights = _check_sample_weight(
        sample_weight, X, dtype=np.float32, ensure_non_negative=True
    )
    if isinstance(estimator.class_weight, dict):
        bad = {
            label: weight
            for label, weight in estimator.class_weight.items()
            if not (np.isfinite(weight) and weight >= 0)
        }
        if bad:
            raise ValueError(
                "class_weight must map classes to finite, non-negative "
                f"weights (as sample_weight must be); got {bad}."
            )
    if estimator.class_weight is not None:
        weights = weights * compute_sample_weight(estimator.class_weight, y)
    return (weights * factor).astype(np.float32, copy=False)


def label_factor(estimator):
    """The number of labels for multilabel targets, else 1.

    ``MLPClassifier``'s multilabel loss sums the binary cross-entropy over the
    labels (and averages over the samples); Keras' ``BinaryCrossentropy``
    averages over the labels, which divides the gradient by their number
    (100 ``partial_fit`` steps of scikit-learn's multilabel test scored 0.16
    where ``MLPClassifier`` scores 1.00). Weighting every row by the number
    of labels makes Keras' loss scikit-learn's, training and validation
    alike, with Keras' own loss class (nothing to register for pickling);
    the accuracy, a weighted mean, is unchanged.
    """
    if estimator.target_type_ == "multilabel-indicator":
        return estimator.n_classes_
    return 1


def _validation_weights(estimator, n_rows):
    factor = label_factor(estimator)
    return None if factor == 1 else np.full(n_rows, factor, np.float32)


def split_validation(
    estimator, X, y, y_encoded, weights, validation_data, monitor, seed
):
    """``(X, y_encoded, weights, validation)`` for training.

    ``validation_data`` is used as given; otherwise, in a monitored ``fit``,
    ``validation_fraction`` (``early_stopping=True``) or ``validation_split``
    of the rows is held out, stratified by class and seeded by ``seed``.
    ``validation`` is None or ``(X_val, y_val, weights_val)``, the weights
    None or the label factor (:func:`label_factor`).
    """
    if validation_data is not None:
        if not (
            isinstance(validation_data, (tuple, list)) and len(validation_data) == 2
        ):
            raise TypeError(
                "validation_data must be a tuple (X_val, y_val); "
                f"got {type(validation_data).__name__}."
            )
        X_val, y_val = estimator._check_data(*validation_data, reset=False)
        y_val = encode_targets(estimator, y_val, what="validation_data y")
        validation = (X_val, y_val, _validation_weights(estimator, X_val.shape[0]))
        return X, y_encoded, weights, validation
    if not monitor or not (estimator.early_stopping or estimator.validation_split):
        return X, y_encoded, weights, None
    single_label = estimator.target_type_ != "multilabel-indicator"
    train, val = train_test_split(
        np.arange(X.shape[0]),
        test_size=estimator.validation_fraction
        if estimator.early_stopping
        else estimator.validation_split,
        random_state=seed,
        stratify=y if single_label else None,
    )
    train_weights = None if weights is None else weights[train]
    validation = (X[val], y_encoded[val], _validation_weights(estimator, val.size))
    return X[train], y_encoded[train], train_weights, validation


# Rows per chunk when the column statistics are summed: a float64 copy of a
# chunk of MNIST is 16 MB, never a copy of the whole of X.
_MOMENT_ROWS = 2048
# input_scaling="auto" leaves data within +-this as they are. Measured on
# issue 25's panel (benchmarks/panel.py): any bound in [8, 38) gives the same
# table (raw iris reaches 7.9, standardised digits 37.9).
_SMALL_RANGE = 10.0


def _largest(X):
    """The largest ``|x|``: max and min, not ``abs(X)``, so no copy of ``X``.

    Sparse ``X`` too (its implicit zeros count); an unsigned ``-min`` would
    wrap around, a float does not.
    """
    return max(abs(float(X.max())), abs(float(X.min()))) if X.shape[0] else 0.0


def scaling_constants(X, input_scaling):
    """``(center, divisor)``: the input scaling feeds ``(x - center) / divisor``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        The training rows.
    input_scaling : {"auto", "max_abs", "standard"}
        ``"max_abs"``: no centre, and one divisor for every feature, the
        largest ``|x|`` (255 for raw pixels). ``"standard"``: each feature's
        mean and standard deviation; a feature constant in ``X`` keeps a
        divisor of 1, as in ``StandardScaler``. ``"auto"``: ``"max_abs"``
        for pixel-like ``X`` (:func:`pixel_like`); else, every ``|x|`` at
        most 10, no scaling (already scaled data: standardised, min-max
        scaled); else ``"standard"``.

    Returns
    -------
    center, divisor : ndarray of shape (n_features,), float64
    """
    n_features = X.shape[1]
    if input_scaling == "auto":
        if pixel_like(X):
            input_scaling = "max_abs"
        elif _largest(X) <= _SMALL_RANGE:
            return np.zeros(n_features), np.ones(n_features)  # as they are
        else:
            input_scaling = "standard"
    if input_scaling == "max_abs":
        largest = _largest(X)
        divisor = np.full(n_features, largest if largest > 0 else 1.0)
        return np.zeros(n_features), divisor
    mean, variance = _column_moments(X)
    std = np.sqrt(variance)
    # As scikit-learn's _handle_zeros_in_scale: no division by ~0.
    std[std < 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)] = 1.0
    return mean, std


def _column_moments(X):
    """Mean and variance of each column in float64, a chunk of rows at a time."""
    if issparse(X):
        from sklearn.utils.sparsefuncs import mean_variance_axis

        return mean_variance_axis(X.astype(np.float64), axis=0)
    n_samples = X.shape[0]
    total = np.zeros(X.shape[1])
    for start in range(0, n_samples, _MOMENT_ROWS):
        total += X[start : start + _MOMENT_ROWS].sum(axis=0, dtype=np.float64)
    mean = total / n_samples
    squares = np.zeros(X.shape[1])
    for start in range(0, n_samples, _MOMENT_ROWS):
        chunk = X[start : start + _MOMENT_ROWS].astype(np.float64) - mean
        squares += np.einsum("ij,ij->j", chunk, chunk)
    return mean, squares / n_samples


def pixel_like(X):
    """Whether ``X`` holds 8-bit pixels: whole numbers from 0 to 255, up to 128+.

    Raw 8-bit images (MNIST's 0-255) share one scale across their features,
    which ``"max_abs"`` keeps (the tutorial's ``/ 255``). Small whole numbers
    are not taken for pixels: on counts (0-11, scikit-learn's multilabel
    sample) one divisor left sgd learning a third as much as standardising
    did, and on digits' 0-16 the two scored 0.9777 and 0.9744. Checked a
    chunk of rows at a time (sparse ``X``: its stored values), so no copy of
    ``X`` is made.
    """
    if not X.shape[0] or float(X.min()) < 0 or not 128 <= float(X.max()) <= 255:
        return False
    if X.dtype.kind in "biu":
        return True
    if issparse(X):
        return bool(np.all(X.data == np.rint(X.data)))
    return all(
        np.all(chunk == np.rint(chunk))
        for chunk in (
            X[start : start + _MOMENT_ROWS]
            for start in range(0, X.shape[0], _MOMENT_ROWS)
        )
    )
