"""A fitted Keras classifier (KerasLogistic, KerasMLP, KerasCNN) as JSON and ``.keras``.

Private helper of :mod:`skmnist.persistence`, which owns the archive and the
scikit-learn parts; :mod:`skmnist.persistence._keras_checks` checks the ``.keras`` file.
Everything read back is checked against allow-lists before
anything is built from it: the class, the parameter names (re-validated), the
fitted attribute names and types, and every class named in the Keras config.
"""

import json
import math
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .._engine._keras import without_tensorflow
from .._engine._optim import fix_legacy_params
from .._utils import _safe_zip
from ..exceptions import UntrustedModelError
from ._keras_checks import _check_keras_archive

# Fitted attributes a Keras classifier may carry; model_ is rebuilt, never
# read from JSON (target_encoder_ was written by 0.1 files: ignored).
_REQUIRED = (
    "classes_",
    "n_classes_",
    "target_type_",
    "n_features_in_",
    "history_",
    "n_iter_",
)
_OPTIONAL = (
    "feature_names_in_",
    "loss_curve_",
    "best_epoch_",
    "t_",  # files saved before it existed lack it
    "_random_state",
    "image_shape_",
)
_REBUILT = ("model_", "target_encoder_")
_CLASS_NAMES = ("KerasLogistic", "KerasMLP", "KerasCNN")  # _keras_classes()
_TARGET_TYPES = ("binary", "multiclass", "multilabel-indicator")

# Checked in estimator.json before numpy allocates anything.
MAX_CLASSES = 1 << 16
MAX_LABEL_BYTES = 1024  # itemsize of a label dtype, e.g. "<U256"


def _parse_json(data, name):
    return _safe_zip.parse_json(data, name, UntrustedModelError)


def _keras_classes():
    from ..classifiers import KerasCNN, KerasLogistic, KerasMLP

    return {"KerasLogistic": KerasLogistic, "KerasMLP": KerasMLP, "KerasCNN": KerasCNN}


def _is_keras_classifier(estimator):
    # Importing skmnist.classifiers imports TensorFlow; if it is not imported
    # yet, no Keras classifier can exist, and saving a baseline stays cheap.
    if "skmnist.classifiers" not in sys.modules:
        return False
    return type(estimator) in _keras_classes().values()


def _pack_keras(estimator, prefix):
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    params = estimator.get_params(deep=False)
    if params["callbacks"]:
        warnings.warn(
            "Keras callbacks are not saved; the loaded estimator has callbacks=None.",
            UserWarning,
            stacklevel=4,
        )
        params["callbacks"] = None
    if not (params["random_state"] is None or isinstance(params["random_state"], int)):
        params["random_state"] = estimator._random_state  # the seed it drew
    attributes = {}
    for name, value in vars(estimator).items():
        if name in params or name in _REBUILT:
            continue
        if name not in _REQUIRED + _OPTIONAL:
            raise TypeError(
                f"Cannot save the fitted attribute {name!r}: it is not "
                "in skmnist.persistence's allow-list."
            )
        attributes[name] = _encode(value)
    document = {
        "class": type(estimator).__name__,
        "params": _encode(params),
        "attributes": attributes,
    }
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        # TensorFlow's tensors still lack numpy 2's __array__(copy=...) keyword;
        # Keras' saver trips on that, harmlessly, for every weight.
        warnings.filterwarnings(
            "ignore", "__array__ implementation", DeprecationWarning
        )
        with without_tensorflow():  # Keras' saver would import it on JAX
            estimator.model_.save(Path(tmp, "model.keras"))
        model = Path(tmp, "model.keras").read_bytes()
    return {
        f"{prefix}estimator.json": json.dumps(document).encode(),
        f"{prefix}model.keras": model,
    }


def _unpack_keras(entries, prefix, budget=None):
    document = _parse_json(
        entries[f"{prefix}estimator.json"], f"{prefix}estimator.json"
    )
    if not (
        isinstance(document, dict)
        and set(document) == {"class", "params", "attributes"}
    ):
        raise UntrustedModelError(
            "estimator.json must hold exactly 'class', 'params' and 'attributes'."
        )
    if document["class"] not in _CLASS_NAMES:
        raise UntrustedModelError(
            f"estimator.json names the class {document['class']!r}; only "
            f"{sorted(_CLASS_NAMES)} are loaded."
        )
    params = _decode(document["params"])
    if isinstance(params, dict):
        # Saved when learning_rate was the step size: now learning_rate_init.
        params = fix_legacy_params(params)
    attributes = _check_attributes(document["attributes"])
    where = f"{prefix}model.keras"
    # Everything in the file is checked before TensorFlow is imported: a
    # crafted file is refused in a fraction of a second and ~150 MB.
    _check_keras_archive(entries[where], where, budget)
    estimator = _keras_classes()[document["class"]]()
    allowed = set(estimator.get_params(deep=False))
    if (
        not isinstance(params, dict)
        or not set(params) <= allowed
        or params.get("callbacks") is not None
    ):
        raise UntrustedModelError(
            f"estimator.json sets parameters outside {sorted(allowed)}, or "
            "callbacks (never saved)."
        )
    try:
        estimator.set_params(**params)._validate_params()
    except ValueError as exc:
        raise UntrustedModelError(f"Invalid saved parameters: {exc}") from exc
    vars(estimator).update(attributes)
    estimator.model_ = _load_keras_model(entries[where], where)
    _check_model_shape(estimator)
    return estimator


def _check_attributes(encoded):
    if not isinstance(encoded, dict):
        raise UntrustedModelError("'attributes' must be a JSON object.")
    unknown = set(encoded) - set(_REQUIRED + _OPTIONAL)
    missing = set(_REQUIRED) - set(encoded)
    if unknown or missing:
        raise UntrustedModelError(
            f"Fitted attributes outside the allow-list {sorted(unknown)} or "
            f"missing {sorted(missing)}."
        )
    attrs = {name: _decode(value) for name, value in encoded.items()}
    checks = {
        "classes_": _is_label_array(attrs["classes_"]),
        "n_classes_": _is_count(attrs["n_classes_"], 1),
        "target_type_": attrs["target_type_"] in _TARGET_TYPES,
        "n_features_in_": _is_count(attrs["n_features_in_"], 1),
        "history_": isinstance(attrs["history_"], dict)
        and all(
            isinstance(k, str) and _is_floats(v) for k, v in attrs["history_"].items()
        ),
        "n_iter_": _is_count(attrs["n_iter_"], 0),
        "feature_names_in_": _is_label_array(attrs.get("feature_names_in_"), str)
        and len(attrs["feature_names_in_"]) == attrs["n_features_in_"],
        "loss_curve_": _is_floats(attrs.get("loss_curve_")),
        "best_epoch_": _is_count(attrs.get("best_epoch_"), 0),
        "t_": _is_count(attrs.get("t_"), 0),
        "_random_state": attrs.get("_random_state") is None
        or _is_count(attrs["_random_state"], -(2**63)),
        # (height, width) whose pixels are the features: the model's Reshape
        # must agree, which _check_model_shape sees after Keras loads it.
        "image_shape_": isinstance(attrs.get("image_shape_"), tuple)
        and len(attrs["image_shape_"]) == 2
        and all(_is_count(side, 1) for side in attrs["image_shape_"])
        and attrs["image_shape_"][0] * attrs["image_shape_"][1]
        == attrs["n_features_in_"],
    }
    bad = [name for name, ok in checks.items() if name in attrs and not ok]
    if bad or len(attrs["classes_"]) != attrs["n_classes_"]:
        raise UntrustedModelError(
            f"estimator.json: fitted attributes of the wrong "
            f"type or size: {bad or ['classes_', 'n_classes_']}."
        )
    _check_classes(attrs["classes_"])
    return attrs


def _check_classes(classes):
    # scikit-learn's encoders need sorted, distinct, comparable labels (what
    # np.unique returns at fit); anything else fails later, deep inside them.
    if len(classes) > MAX_CLASSES:
        raise UntrustedModelError(
            f"estimator.json: {len(classes)} classes_, over the limit of {MAX_CLASSES}."
        )
    try:
        floats = classes.dtype.kind == "f" or (
            classes.dtype == object and any(type(c) is float for c in classes)
        )
        if floats and any(math.isnan(c) for c in classes.tolist() if type(c) is float):
            raise TypeError("NaN")
        unique = np.unique(classes)
    except TypeError as exc:  # mixed str and int, or NaN
        raise UntrustedModelError(
            f"estimator.json: classes_ {classes.tolist()[:10]} cannot be sorted "
            f"({exc}); fitted labels are sorted and distinct."
        ) from exc
    if len(unique) != len(classes) or not all(
        a == b for a, b in zip(unique.tolist(), classes.tolist())
    ):
        raise UntrustedModelError(
            f"estimator.json: classes_ {classes.tolist()[:10]} are not sorted and "
            "distinct, as fitted labels always are."
        )


def _is_count(value, low):
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


def _check_model_shape(estimator):
    from .._engine._builders import output_units

    model = estimator.model_
    expected = (
        estimator.n_features_in_,
        output_units(estimator.target_type_, estimator.n_classes_),
    )
    found = (model.input_shape[-1], model.output_shape[-1])
    if len(model.inputs) != 1 or found != expected:
        raise UntrustedModelError(
            f"The Keras model maps {found[0]} features to {found[1]} outputs; the "
            f"fitted attributes need {expected[0]} to {expected[1]}."
        )
    image_shape = getattr(estimator, "image_shape_", None)
    reshapes = [
        tuple(layer.target_shape[:2])
        for layer in model.layers
        if type(layer).__name__ == "Reshape"
    ]
    if (image_shape is not None or reshapes) and reshapes != [image_shape]:
        raise UntrustedModelError(
            f"The Keras model reads images of shape {reshapes}; the fitted "
            f"attributes say {image_shape}."
        )


def _load_keras_model(data, where):
    from .._engine._keras import import_keras

    keras = import_keras()
    with tempfile.TemporaryDirectory() as tmp, without_tensorflow():
        Path(tmp, "model.keras").write_bytes(data)
        try:
            return keras.saving.load_model(
                Path(tmp, "model.keras"), compile=True, safe_mode=True
            )
        except Exception as exc:  # Keras raises ValueError, TypeError, KeyError...
            raise UntrustedModelError(
                f"{where}: Keras refused the model (safe_mode=True): {exc}"
            ) from exc


# -- JSON encoding of parameters and attributes -----------------------------------


def _encode(value):
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufUO":
            raise TypeError(f"Cannot save an array of dtype {value.dtype}.")
        return {
            "__ndarray__": value.tolist(),
            "dtype": value.dtype.str if value.dtype != object else "object",
        }
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
    if (
        set(value) == {"__dict__"}
        and isinstance(value["__dict__"], list)
        and all(isinstance(p, list) and len(p) == 2 for p in value["__dict__"])
    ):
        return {_hashable(_decode(k)): _decode(v) for k, v in value["__dict__"]}
    if set(value) == {"__ndarray__", "dtype"}:
        return _decode_array(value["__ndarray__"], value["dtype"])
    raise UntrustedModelError(
        f"estimator.json: unexpected JSON object with keys {sorted(value)}."
    )


def _hashable(key):
    if isinstance(key, (list, dict)):
        raise UntrustedModelError(f"Unexpected dictionary key {key!r}.")
    return key


def _decode_array(items, dtype):
    try:
        if not isinstance(dtype, str) or len(dtype) > 16:
            raise ValueError(f"dtype {str(dtype)[:40]!r}")
        dtype = np.dtype(dtype)
        if dtype.itemsize > MAX_LABEL_BYTES:
            raise ValueError(
                f"dtype {dtype.str} of {dtype.itemsize} bytes per "
                f"item, over the limit of {MAX_LABEL_BYTES}"
            )
        if dtype.kind not in "biufUO" or not isinstance(items, list):
            raise ValueError(f"dtype {dtype} or data of type {type(items).__name__}")
        if dtype.kind == "O" and not all(
            type(v) in (str, int, float, bool) for v in items
        ):
            raise ValueError("an object array holding non-scalar values")
        return np.array(items, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise UntrustedModelError(
            f"estimator.json: invalid saved array: {exc}"
        ) from exc
