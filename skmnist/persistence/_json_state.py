"""The JSON half of a saved Keras classifier: values encoded, then checked.

Private helper of :mod:`skmnist.persistence._keras_state`. ``estimator.json``
holds the parameters, the fitted attributes and the settings fit chose for
the network, in plain JSON with three tags (``__tuple__``, ``__dict__``,
``__ndarray__``) for what JSON lacks. Read back, every value is checked
against an allow-list of names and types before anything is built from it;
each check raises ``ValueError`` naming what is wrong.
"""

import math

import numpy as np

# Checked before anything is built or allocated.
MAX_CLASSES = 1 << 16
MAX_LABEL_BYTES = 1024  # itemsize of a label dtype, e.g. "<U256"
MAX_FEATURES = 1 << 20  # n_features_in_
_REQUIRED = ("classes_", "n_classes_", "target_type_", "n_features_in_")
_REQUIRED += ("history_", "n_iter_")
# The builder arguments that fit chooses from its data: the L2 strength
# (alpha over the first fit's batch size) and whether the network scales its
# inputs (the scaling's constants are variables: they travel with the weights).
_NETWORK_KEYS = {"l2", "scale_inputs"}


def _check_network(network, n_features):
    """The builder settings of ``estimator.json``: a finite l2, a bool."""
    if isinstance(network, dict):
        network = {key: _decode(value) for key, value in network.items()}
    l2 = network.get("l2") if isinstance(network, dict) else None
    ok = (
        isinstance(network, dict)
        and set(network) <= _NETWORK_KEYS
        and type(l2) in (int, float)
        and math.isfinite(l2)
        and l2 >= 0
        and type(network.get("scale_inputs", False)) is bool
    )
    if not ok:
        raise ValueError(
            "'network' must hold a finite l2 >= 0 and a boolean scale_inputs "
            f"(the inputs of the {n_features} features scaled or not)."
        )
    return network


# -- fitted attributes ---------------------------------------------------------------


def _is_count(value, low=0):
    return type(value) is int and value >= low


def _is_floats(value):
    return isinstance(value, list) and all(type(v) in (int, float) for v in value)


def _is_label_array(value, kind=(str, int, float, bool)):
    return (
        isinstance(value, np.ndarray)
        and value.ndim == 1
        and (value.dtype != object or all(isinstance(v, kind) for v in value))
        and (kind is not str or value.dtype.kind in "OU")
    )


# name -> check of the decoded value, given every decoded attribute.
_ATTRIBUTES = {
    "classes_": lambda v, a: _is_label_array(v) and len(v) == a["n_classes_"],
    "n_classes_": lambda v, a: _is_count(v, 1),
    "target_type_": lambda v, a: v in ("binary", "multiclass", "multilabel-indicator"),
    "n_features_in_": lambda v, a: _is_count(v, 1) and v <= MAX_FEATURES,
    "history_": lambda v, a: (
        isinstance(v, dict)
        and all(isinstance(k, str) and _is_floats(h) for k, h in v.items())
    ),
    "n_iter_": lambda v, a: _is_count(v),
    "feature_names_in_": lambda v, a: (
        _is_label_array(v, str) and len(v) == a["n_features_in_"]
    ),
    "loss_curve_": lambda v, a: _is_floats(v),
    "best_epoch_": lambda v, a: _is_count(v),
    "t_": lambda v, a: _is_count(v),
    "_random_state": lambda v, a: v is None or _is_count(v, -(2**63)),
    "image_shape_": lambda v, a: (
        isinstance(v, tuple)
        and len(v) == 2
        and all(_is_count(side, 1) for side in v)
        and v[0] * v[1] == a["n_features_in_"]
    ),
    # As MLPClassifier's (None where it has None).
    "loss_": lambda v, a: type(v) in (int, float),
    "best_loss_": lambda v, a: v is None or type(v) in (int, float),
    "validation_scores_": lambda v, a: v is None or _is_floats(v),
    "best_validation_score_": lambda v, a: v is None or type(v) in (int, float),
    "_no_improvement_count": lambda v, a: _is_count(v),  # the stopping rule's
}


def _check_attributes(encoded, estimator):
    if not isinstance(encoded, dict):
        raise ValueError("'attributes' must be a JSON object.")
    unknown = set(encoded) - set(_ATTRIBUTES)
    missing = set(_REQUIRED) - set(encoded)
    if hasattr(estimator, "_filters") != ("image_shape_" in encoded):
        missing.add("image_shape_")  # KerasCNN has one, the others none
    if unknown or missing:
        raise ValueError(
            f"fitted attributes outside the allow-list {sorted(unknown)} or "
            f"missing {sorted(missing)}."
        )
    attrs = {name: _decode(value) for name, value in encoded.items()}
    # n_classes_ and n_features_in_ first: other checks rely on them.
    bad = [
        n for n in ("n_classes_", "n_features_in_") if not _ATTRIBUTES[n](attrs[n], 0)
    ]
    bad = bad or [n for n, v in attrs.items() if not _ATTRIBUTES[n](v, attrs)]
    if bad:
        raise ValueError(f"fitted attributes of the wrong type or size: {bad}.")
    _check_classes(attrs["classes_"])
    return attrs


def _check_classes(classes):
    # scikit-learn's encoders need sorted, distinct, comparable labels (what
    # np.unique returns at fit); anything else fails later, deep inside them.
    if len(classes) > MAX_CLASSES:
        raise ValueError(f"{len(classes)} classes_, over the limit of {MAX_CLASSES}.")
    try:
        if any(type(c) is float and math.isnan(c) for c in classes.tolist()):
            raise TypeError("NaN")
        unique = np.unique(classes)
    except TypeError as exc:  # mixed str and int, or NaN
        raise ValueError(
            f"classes_ {classes.tolist()[:10]} cannot be sorted ({exc}); fitted "
            "labels are sorted and distinct."
        ) from exc
    if len(unique) != len(classes) or unique.tolist() != classes.tolist():
        raise ValueError(
            f"classes_ {classes.tolist()[:10]} are not sorted and distinct, as "
            "fitted labels always are."
        )


# -- JSON encoding of parameters and attributes -----------------------------------


def _encode(value):
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufUO":
            raise TypeError(f"Cannot save an array of dtype {value.dtype}.")
        dtype = value.dtype.str if value.dtype != object else "object"
        return {"__ndarray__": value.tolist(), "dtype": dtype}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"Cannot save a value of type {type(value).__name__}.")


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"__tuple__"} and isinstance(value["__tuple__"], list):
        return tuple(_decode(v) for v in value["__tuple__"])
    pairs = value.get("__dict__")
    if set(value) == {"__dict__"} and isinstance(pairs, list):
        try:
            return {_decode(k): _decode(v) for k, v in pairs}
        except TypeError as exc:  # not pairs, or unhashable keys
            raise ValueError(f"an invalid dictionary ({exc})") from exc
    if set(value) == {"__ndarray__", "dtype"}:
        return _decode_array(value["__ndarray__"], value["dtype"])
    raise ValueError(f"unexpected JSON object with keys {sorted(value)[:10]}")


def _decode_array(items, dtype):
    try:
        dtype = np.dtype(dtype if isinstance(dtype, str) and len(dtype) <= 16 else "V")
        if dtype.itemsize > MAX_LABEL_BYTES:
            raise ValueError(
                f"dtype {dtype.str} of {dtype.itemsize} bytes per item, over the "
                f"limit of {MAX_LABEL_BYTES}"
            )
        if dtype.kind not in "biufUO" or not isinstance(items, list):
            raise ValueError(f"dtype {dtype} or data of type {type(items).__name__}")
        if dtype.kind == "O" and not all(
            type(v) in (str, int, float, bool) for v in items
        ):
            raise ValueError("an object array holding non-scalar values")
        return np.array(items, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"invalid saved array: {exc}") from exc
