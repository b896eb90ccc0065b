"""The state of a fitted KerasLogistic / KerasMLP, as JSON and a ``.keras`` file.

Private helper of :mod:`skmnist.persistence`, which owns the archive and the
scikit-learn parts. Everything read back is checked against allow-lists before
anything is built from it: the class, the parameter names (re-validated), the
fitted attribute names and types, and every class named in the Keras config.
"""

import io
import json
import math
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from . import _safe_zip
from .exceptions import UntrustedModelError

# Fitted attributes a Keras classifier may carry; model_ and target_encoder_
# are rebuilt, never read from JSON.
_REQUIRED = ("classes_", "n_classes_", "target_type_", "n_features_in_",
             "history_", "n_iter_")
_OPTIONAL = ("feature_names_in_", "loss_curve_", "best_epoch_", "_random_state")
_REBUILT = ("model_", "target_encoder_")
_TARGET_TYPES = ("binary", "multiclass", "multilabel-indicator")

# Everything skmnist's builders put in a Keras config (layers, initialisers,
# regulariser, optimizers, losses, metrics): nothing else is handed to Keras.
_KERAS_CLASSES = {
    "Functional", "InputLayer", "Dense", "Dropout", "Rescaling", "Normalization",
    "DTypePolicy", "GlorotUniform", "Zeros", "L2", "Adam", "SGD", "RMSprop",
    "SparseCategoricalCrossentropy", "BinaryCrossentropy",
    "SparseCategoricalAccuracy", "BinaryAccuracy", "__keras_tensor__",
}
_KERAS_MODULES = {None, "keras", "keras.layers", "keras.initializers",
                  "keras.regularizers", "keras.optimizers", "keras.losses",
                  "keras.metrics", "keras.src.models.functional"}
_KERAS_FILES = {"metadata.json", "config.json", "model.weights.h5"}

# Checked before Keras builds anything: a config's sizes decide what Keras
# allocates, whatever the weights file holds.
MAX_LAYERS = 64
MAX_UNITS = 1 << 16  # units of one Dense layer
MAX_FEATURES = 1 << 20  # any dimension of a declared shape
# Weights, counted as sum(units * (widest declared dimension + 1)) over Dense
# layers: an upper bound on the real count, so Keras allocates at most ~64 MB
# of float32 weights (and twice that for Adam's moments).
MAX_WEIGHTS = 16_000_000
MAX_CLASSES = 1 << 16
MAX_LABEL_BYTES = 1024  # itemsize of a label dtype, e.g. "<U256"
_SHAPE_KEYS = {"batch_shape", "batch_input_shape", "shape", "input_shape"}




def _parse_json(data, name):
    return _safe_zip.parse_json(data, name, UntrustedModelError)


def _keras_classes():
    from .classifiers import KerasLogistic, KerasMLP

    return {"KerasLogistic": KerasLogistic, "KerasMLP": KerasMLP}


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
        warnings.warn("Keras callbacks are not saved; the loaded estimator has "
                      "callbacks=None.", UserWarning, stacklevel=4)
        params["callbacks"] = None
    if not (params["random_state"] is None or isinstance(params["random_state"], int)):
        params["random_state"] = estimator._random_state  # the seed it drew
    attributes = {}
    for name, value in vars(estimator).items():
        if name in params or name in _REBUILT:
            continue
        if name not in _REQUIRED + _OPTIONAL:
            raise TypeError(f"Cannot save the fitted attribute {name!r}: it is not "
                            "in skmnist.persistence's allow-list.")
        attributes[name] = _encode(value)
    document = {"class": type(estimator).__name__, "params": _encode(params),
                "attributes": attributes}
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        # TensorFlow's tensors still lack numpy 2's __array__(copy=...) keyword;
        # Keras' saver trips on that, harmlessly, for every weight.
        warnings.filterwarnings("ignore", "__array__ implementation",
                                DeprecationWarning)
        estimator.model_.save(Path(tmp, "model.keras"))
        model = Path(tmp, "model.keras").read_bytes()
    return {f"{prefix}estimator.json": json.dumps(document).encode(),
            f"{prefix}model.keras": model}


def _unpack_keras(entries, prefix, budget=None):
    document = _parse_json(entries[f"{prefix}estimator.json"],
                           f"{prefix}estimator.json")
    if not (isinstance(document, dict)
            and set(document) == {"class", "params", "attributes"}):
        raise UntrustedModelError("estimator.json must hold exactly 'class', "
                                  "'params' and 'attributes'.")
    classes = _keras_classes()
    if document["class"] not in classes:
        raise UntrustedModelError(
            f"estimator.json names the class {document['class']!r}; only "
            f"{sorted(classes)} are loaded.")
    estimator = classes[document["class"]]()
    params = _decode(document["params"])
    allowed = set(estimator.get_params(deep=False))
    if (not isinstance(params, dict) or not set(params) <= allowed
            or params.get("callbacks") is not None):
        raise UntrustedModelError(
            f"estimator.json sets parameters outside {sorted(allowed)}, or "
            "callbacks (never saved).")
    try:
        estimator.set_params(**params)._validate_params()
    except ValueError as exc:
        raise UntrustedModelError(f"Invalid saved parameters: {exc}") from exc
    attributes = _check_attributes(document["attributes"])
    vars(estimator).update(attributes)
    estimator.model_ = _load_keras_model(entries[f"{prefix}model.keras"],
                                         f"{prefix}model.keras", budget)
    _check_model_shape(estimator)
    estimator.target_encoder_ = _rebuild_target_encoder(estimator)
    return estimator


def _check_attributes(encoded):
    if not isinstance(encoded, dict):
        raise UntrustedModelError("'attributes' must be a JSON object.")
    unknown = set(encoded) - set(_REQUIRED + _OPTIONAL)
    missing = set(_REQUIRED) - set(encoded)
    if unknown or missing:
        raise UntrustedModelError(
            f"Fitted attributes outside the allow-list {sorted(unknown)} or "
            f"missing {sorted(missing)}.")
    attrs = {name: _decode(value) for name, value in encoded.items()}
    checks = {
        "classes_": _is_label_array(attrs["classes_"]),
        "n_classes_": _is_count(attrs["n_classes_"], 1),
        "target_type_": attrs["target_type_"] in _TARGET_TYPES,
        "n_features_in_": _is_count(attrs["n_features_in_"], 1),
        "history_": isinstance(attrs["history_"], dict) and all(
            isinstance(k, str) and _is_floats(v) for k, v in attrs["history_"].items()),
        "n_iter_": _is_count(attrs["n_iter_"], 0),
        "feature_names_in_": _is_label_array(attrs.get("feature_names_in_"), str)
        and len(attrs["feature_names_in_"]) == attrs["n_features_in_"],
        "loss_curve_": _is_floats(attrs.get("loss_curve_")),
        "best_epoch_": _is_count(attrs.get("best_epoch_"), 0),
        "_random_state": attrs.get("_random_state") is None
        or _is_count(attrs["_random_state"], -(2 ** 63)),
    }
    bad = [name for name, ok in checks.items() if name in attrs and not ok]
    if bad or len(attrs["classes_"]) != attrs["n_classes_"]:
        raise UntrustedModelError(f"estimator.json: fitted attributes of the wrong "
                                  f"type or size: {bad or ['classes_', 'n_classes_']}.")
    _check_classes(attrs["classes_"])
    return attrs


def _check_classes(classes):
    # scikit-learn's encoders need sorted, distinct, comparable labels (what
    # np.unique returns at fit); anything else fails later, deep inside them.
    if len(classes) > MAX_CLASSES:
        raise UntrustedModelError(f"estimator.json: {len(classes)} classes_, over "
                                  f"the limit of {MAX_CLASSES}.")
    try:
        floats = classes.dtype.kind == "f" or (
            classes.dtype == object and any(type(c) is float for c in classes))
        if floats and any(math.isnan(c) for c in classes.tolist()
                          if type(c) is float):
            raise TypeError("NaN")
        unique = np.unique(classes)
    except TypeError as exc:  # mixed str and int, or NaN
        raise UntrustedModelError(
            f"estimator.json: classes_ {classes.tolist()[:10]} cannot be sorted "
            f"({exc}); fitted labels are sorted and distinct.") from exc
    if len(unique) != len(classes) or not all(
            a == b for a, b in zip(unique.tolist(), classes.tolist())):
        raise UntrustedModelError(
            f"estimator.json: classes_ {classes.tolist()[:10]} are not sorted and "
            "distinct, as fitted labels always are.")


def _is_count(value, low):
    return type(value) is int and value >= low


def _is_floats(value):
    return isinstance(value, list) and all(
        type(v) in (int, float) for v in value)


def _is_label_array(value, kind=(str, int, float, bool)):
    return (isinstance(value, np.ndarray) and value.ndim == 1
            and (value.dtype != object or all(isinstance(v, kind) for v in value))
            and (kind is not str or value.dtype.kind in "OU"))


def _check_model_shape(estimator):
    from ._builders import output_units

    model = estimator.model_
    expected = (estimator.n_features_in_,
                output_units(estimator.target_type_, estimator.n_classes_))
    found = (model.input_shape[-1], model.output_shape[-1])
    if len(model.inputs) != 1 or found != expected:
        raise UntrustedModelError(
            f"The Keras model maps {found[0]} features to {found[1]} outputs; the "
            f"fitted attributes need {expected[0]} to {expected[1]}.")


def _rebuild_target_encoder(estimator):
    # Refit rather than deserialise: the encoder is fully determined by classes_.
    from scikeras.utils.transformers import ClassifierLabelEncoder

    if estimator.target_type_ == "multilabel-indicator":
        labels = np.tile([[0], [1]], estimator.n_classes_)
        return ClassifierLabelEncoder().fit(labels)
    classes = estimator.classes_
    return ClassifierLabelEncoder(categories=[classes]).fit(classes)


def _load_keras_model(data, where, budget=None):
    from ._compat import import_keras

    entries = _safe_zip.read_zip(data, where, UntrustedModelError, budget=budget)
    if set(entries) != _KERAS_FILES:
        raise UntrustedModelError(f"{where} holds {sorted(entries)}; expected "
                                  f"{sorted(_KERAS_FILES)}.")
    _parse_json(entries["metadata.json"], f"{where}/metadata.json")
    config = _parse_json(entries["config.json"], f"{where}/config.json")
    _check_keras_config(config)
    _check_keras_sizes(config, f"{where}/config.json")
    _check_weights_file(entries.pop("model.weights.h5"), f"{where}/model.weights.h5")
    del entries
    keras = import_keras()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "model.keras").write_bytes(data)
        try:
            return keras.saving.load_model(Path(tmp, "model.keras"), compile=True,
                                           safe_mode=True)
        except Exception as exc:  # Keras raises ValueError, TypeError, KeyError...
            raise UntrustedModelError(
                f"{where}: Keras refused the model (safe_mode=True): {exc}") from exc


def _check_keras_sizes(config, where):
    """Refuse a config whose layers would make Keras allocate past the limits."""
    layers = config.get("config", {}).get("layers") if isinstance(
        config.get("config"), dict) else None
    if config.get("class_name") != "Functional" or not isinstance(layers, list):
        raise UntrustedModelError(f"{where}: not a Functional model config.")
    if len(layers) > MAX_LAYERS:
        raise UntrustedModelError(f"{where}: {len(layers)} layers, over the limit "
                                  f"of {MAX_LAYERS}.")
    # Every node of the tree, not only the layer list: wherever a Dense hides,
    # its units count (depth is already bounded by parse_json).
    widest, units, stack = 1, [], [config]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key in _SHAPE_KEYS:
                widest = max(widest, _shape_width(value, where))
            elif key == "units" and node is not config:
                if type(value) is not int or not 1 <= value <= MAX_UNITS:
                    raise UntrustedModelError(
                        f"{where}: a Dense layer has units={value!r}; allowed are "
                        f"integers 1 to {MAX_UNITS}.")
                units.append(value)
            stack.append(value)
    widest = max([widest, *units])
    weights = sum(n * (widest + 1) for n in units)
    if weights > MAX_WEIGHTS:
        raise UntrustedModelError(
            f"{where}: Dense layers of {units} units on inputs up to {widest} wide "
            f"may hold {weights} weights, over the limit of {MAX_WEIGHTS}.")


def _shape_width(shape, where):
    if shape is None:
        return 1
    if not (isinstance(shape, list) and len(shape) == 2 and shape[0] is None
            and type(shape[1]) is int and 1 <= shape[1] <= MAX_FEATURES):
        raise UntrustedModelError(
            f"{where}: declared shape {str(shape)[:80]}; skmnist models take "
            f"[null, n] with n from 1 to {MAX_FEATURES}.")
    return shape[1]


def _check_weights_file(data, where):
    """Refuse HDF5 links, filters and datasets larger than the file could hold."""
    import h5py

    total, stack = 0, []
    try:
        with h5py.File(io.BytesIO(data), "r") as store:
            stack.append(store)
            while stack:
                group = stack.pop()
                for key in group:
                    if not isinstance(group.get(key, getlink=True), h5py.HardLink):
                        raise UntrustedModelError(f"{where}: {group.name}/{key} is "
                                                  "a link; Keras writes none.")
                    item = group[key]
                    if isinstance(item, h5py.Group):
                        stack.append(item)
                        continue
                    if (not isinstance(item, h5py.Dataset)
                            or item.dtype.kind not in "biuf" or item.is_virtual
                            or item.compression or item.external):
                        raise UntrustedModelError(
                            f"{where}: {item.name} is not a plain numeric "
                            "array, as Keras writes.")
                    total += item.size * item.dtype.itemsize
                    if total > _safe_zip.MAX_ENTRY_BYTES:
                        raise UntrustedModelError(
                            f"{where}: its arrays declare over "
                            f"{_safe_zip.MAX_ENTRY_BYTES} bytes.")
    except UntrustedModelError:
        raise
    except Exception as exc:  # h5py raises OSError, KeyError, ValueError...
        raise UntrustedModelError(f"{where}: unreadable HDF5 file: {exc}") from exc


def _check_keras_config(node):
    """Refuse a Keras config naming a class or module skmnist does not build."""
    if isinstance(node, list):
        for item in node:
            _check_keras_config(item)
    elif isinstance(node, dict):
        # Pickling a Keras model registers Functional as ">Functional" (empty
        # package) for the rest of the process; both names mean the same class.
        if "class_name" in node:
            name, module = node["class_name"], node.get("module")
            registered = node.get("registered_name")
            if (name not in _KERAS_CLASSES or module not in _KERAS_MODULES
                    or registered not in (None, name, f">{name}")):
                raise UntrustedModelError(
                    f"The Keras config names {module}.{name} (registered as "
                    f"{registered!r}), which skmnist models never contain; only "
                    f"{sorted(_KERAS_CLASSES)} are loaded.")
        for value in node.values():
            _check_keras_config(value)


# -- JSON encoding of parameters and attributes -----------------------------------

def _encode(value):
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufUO":
            raise TypeError(f"Cannot save an array of dtype {value.dtype}.")
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str
                if value.dtype != object else "object"}
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
    if set(value) == {"__dict__"} and isinstance(value["__dict__"], list) and all(
            isinstance(p, list) and len(p) == 2 for p in value["__dict__"]):
        return {_hashable(_decode(k)): _decode(v) for k, v in value["__dict__"]}
    if set(value) == {"__ndarray__", "dtype"}:
        return _decode_array(value["__ndarray__"], value["dtype"])
    raise UntrustedModelError(f"Unexpected JSON object with keys {sorted(value)}.")


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
            raise ValueError(f"dtype {dtype.str} of {dtype.itemsize} bytes per "
                             f"item, over the limit of {MAX_LABEL_BYTES}")
        if dtype.kind not in "biufUO" or not isinstance(items, list):
            raise ValueError(f"dtype {dtype} or data of type {type(items).__name__}")
        if dtype.kind == "O" and not all(
                type(v) in (str, int, float, bool) for v in items):
            raise ValueError("an object array holding non-scalar values")
        return np.array(items, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise UntrustedModelError(f"Invalid saved array: {exc}") from exc
