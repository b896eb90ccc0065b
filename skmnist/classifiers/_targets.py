"""Class labels in and out of the network: encoding, and probabilities.

The estimators' targets are binary or multiclass labels, or a multilabel
indicator matrix; the network outputs one logit per class (one for binary).
"""

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.utils.multiclass import type_of_target, unique_labels


def fit_target_encoder(y, classes=None, *, require_classes=False):
    """Learn how ``y`` is encoded; return ``(classes, target_type)``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,) or (n_samples, n_labels)
        Labels, or a binary indicator matrix.
    classes : array-like of shape (n_classes,), default=None
        Every class that will ever be seen (``partial_fit``).
    require_classes : bool, default=False
        Refuse single-label ``y`` when ``classes`` is None.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        The sorted class labels (for multilabel targets, the label columns
        ``0 .. n_labels - 1``); the network's output ``i`` is ``classes[i]``.
    target_type : {"binary", "multiclass", "multilabel-indicator"}
        What the network is trained for.
    """
    target_type = type_of_target(y)
    if target_type not in ("binary", "multiclass", "multilabel-indicator"):
        raise ValueError(
            f"Unsupported target type {target_type!r}: expected binary or "
            "multiclass labels, or a multilabel indicator matrix."
        )
    if classes is not None and target_type != "multilabel-indicator":
        classes = np.unique(np.asarray(classes))
        unseen = np.setdiff1d(np.unique(y), classes)
        if unseen.size:
            raise ValueError(
                f"y contains labels {unseen.tolist()} that are not in "
                f"classes={classes.tolist()}."
            )
        target_type = "binary" if classes.size == 2 else "multiclass"
    elif require_classes and target_type != "multilabel-indicator":
        raise ValueError("classes must be passed on the first call to partial_fit.")
    if target_type == "multilabel-indicator":
        return np.arange(y.shape[1]), target_type
    classes = np.unique(y) if classes is None else classes
    if classes.size < 2:
        raise ValueError(
            f"The number of classes has to be greater than one; got {classes.size} "
            "class."
        )
    return classes, target_type


def check_same_classes(estimator, y, classes, *, incremental):
    """Refuse what ``MLPClassifier`` refuses when training goes on.

    A warm-started ``fit`` on ``y`` whose classes differ from ``classes_``
    (fewer ones too), and a ``partial_fit`` whose ``classes`` differ from
    ``classes_``: the messages are scikit-learn's.
    """
    if incremental:
        if classes is not None and not np.array_equal(
            estimator.classes_, unique_labels(classes)
        ):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to "
                f"partial_fit, was: {estimator.classes_!r}"
            )
    elif estimator.target_type_ != "multilabel-indicator" and y.ndim == 1:
        labels = unique_labels(y)
        if set(labels.tolist()) != set(estimator.classes_.tolist()):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as "
                f"in the previous call to fit. Previously got {estimator.classes_}, "
                f"`y` has {labels}"
            )


def encode_targets(estimator, y, *, what):
    """``y`` as the float32 targets of the fitted ``estimator``'s network.

    Parameters
    ----------
    estimator : BaseKerasClassifier
        Holds ``target_type_``, ``classes_`` and ``n_classes_`` from its
        first fit.
    y : ndarray
        Labels to encode.
    what : str
        How ``y`` is named in error messages.

    Returns
    -------
    ndarray of float32
        Class indices, or the indicator matrix for multilabel targets.
    """
    if estimator.target_type_ == "multilabel-indicator":
        if y.ndim != 2 or y.shape[1] != estimator.n_classes_:
            raise ValueError(
                f"{what} must be an indicator matrix with {estimator.n_classes_} "
                f"columns; got shape {y.shape}."
            )
        return np.asarray(y, dtype=np.float32)
    unseen = np.setdiff1d(np.unique(y), estimator.classes_)
    if unseen.size:
        raise ValueError(
            f"{what} contains labels {unseen.tolist()} that were not seen in "
            f"the first fit; known classes are {estimator.classes_.tolist()}."
        )
    # classes_ is sorted (np.unique), so a label's index is its rank.
    return np.searchsorted(estimator.classes_, y).astype(np.float32)


def probabilities(logits, target_type):
    """Softmax of the logits (multiclass), else the sigmoid of each logit.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_outputs)
        The network's outputs.
    target_type : {"binary", "multiclass", "multilabel-indicator"}
        What the network was trained for.

    Returns
    -------
    ndarray of shape (n_samples, n_classes), float64
        For binary targets two columns, ``1 - p`` and ``p``.
    """
    # In float64, as log_probabilities: a probability rounds to 1 or 0 only
    # where its logarithm does, so predict_log_proba is log(predict_proba).
    logits = np.asarray(logits, dtype=np.float64)
    if target_type == "multiclass":
        return softmax(logits, axis=1)
    if target_type == "binary":
        # expit(-z), not 1 - expit(z): exact where p rounds to 1.
        return np.column_stack([expit(-logits[:, 0]), expit(logits[:, 0])])
    return expit(logits)


def log_probabilities(logits, target_type):
    """The logarithm of :func:`probabilities`, computed from the logits.

    ``log_softmax`` and ``log_expit`` stay finite where the probability
    rounds to 0 (``np.log`` of it would be ``-inf``).
    """
    logits = np.asarray(logits, dtype=np.float64)
    if target_type == "multiclass":
        return log_softmax(logits, axis=1)
    if target_type == "binary":
        return np.column_stack([log_expit(-logits[:, 0]), log_expit(logits[:, 0])])
    return log_expit(logits)
