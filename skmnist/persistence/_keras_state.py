"""A fitted Keras classifier as JSON and safetensors, rebuilt by skmnist's builders.

Private helper of :mod:`skmnist.persistence`, which owns the archive and the
scikit-learn parts. A classifier is saved as ``estimator.json`` (class name,
parameters, fitted attributes, the settings its network was built with) and
``weights.safetensors`` (every weight of the network and the optimizer's
state, by name). Loading reads no network description from the file: it
validates the parameters and attributes, bounds the network they describe,
checks the safetensors header, rebuilds the network with skmnist's own
builders, checks every tensor's name, shape and dtype against the built
variables and only then reads the arrays into them.
"""

import json
import math
import sys
import warnings

import numpy as np

from .._utils import _safe_zip
from ..exceptions import UntrustedModelError

# Fitted attributes a Keras classifier may carry; model_ is rebuilt, never
# read from JSON.
_REQUIRED = ("classes_", "n_classes_", "target_type_", "n_features_in_", "history_")
_REQUIRED += ("n_iter_",)
_OPTIONAL = ("feature_names_in_", "loss_curve_", "best_epoch_", "t_", "_random_state")
_OPTIONAL += ("image_shape_", "loss_", "best_loss_", "validation_scores_")
_OPTIONAL += ("best_validation_score_",)
_CLASS_NAMES = ("KerasLogistic", "KerasMLP", "KerasCNN")
_TARGET_TYPES = ("binary", "multiclass", "multilabel-indicator")
# What the builders take besides the architecture's parameters: the L2
# strength (alpha scaled by the first fit's batch size) and the input scaling
# that fit measured.
_NETWORK_KEYS = {"l2", "input_scale", "input_mean", "input_variance"}

# Checked before anything is built or allocated.
MAX_CLASSES = 1 << 16
MAX_LABEL_BYTES = 1024  # itemsize of a label dtype, e.g. "<U256"
MAX_FEATURES = 1 << 20  # n_features_in_
MAX_LAYERS = 64  # hidden layers of a KerasMLP, convolution blocks of a KerasCNN
# Weights of the network the parameters describe, counted before building it:
# 64 MB of float32 (and at most three times that of optimizer state).
MAX_WEIGHTS = 16_000_000
_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
_MAX_HEADER_BYTES = 1 << 20  # the safetensors header: ~100 bytes per tensor


def _fail(message):
    return UntrustedModelError(message)


def _keras_classes():
    from ..classifiers import KerasCNN, KerasLogistic, KerasMLP

    return {"KerasLogistic": KerasLogistic, "KerasMLP": KerasMLP, "KerasCNN": KerasCNN}


def _is_keras_classifier(estimator):
    # Without skmnist.classifiers imported no Keras classifier exists, and
    # saving a baseline never imports Keras.
    if "skmnist.classifiers" not in sys.modules:
        return False
    return type(estimator) in _keras_classes().values()


# -- saving ------------------------------------------------------------------------


def _pack_keras(estimator, prefix):
    import safetensors.numpy
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
        if name in params or name == "model_":
            continue
        if name not in _REQUIRED + _OPTIONAL:
            raise TypeError(
                f"Cannot save the fitted attribute {name!r}: it is not "
                "in skmnist.persistence's allow-list."
            )
        attributes[name] = _encode(value)
    try:
        _check_size(estimator)
    except ValueError as exc:
        raise ValueError(
            f"This model is too large for skmnist.load, which bounds what a model "
            f"file may make it allocate: {exc} Nothing was written."
        ) from None
    document = {
        "class": type(estimator).__name__,
        "params": _encode(params),
        "attributes": attributes,
        "network": {
            key: _encode(value)
            for key, value in _network_settings(estimator.model_).items()
        },
    }
    from .._engine._keras import import_keras

    to_numpy = import_keras().ops.convert_to_numpy
    tensors = {}
    with warnings.catch_warnings():
        # TensorFlow's tensors lack numpy 2's __array__(copy=...): harmless.
        warnings.filterwarnings("ignore", "__array__ impl", DeprecationWarning)
        for name, variable in _variables(estimator.model_).items():
            array = np.asarray(to_numpy(variable))
            integer = array.dtype.kind in "iu"
            tensors[name] = array.astype(np.int64) if integer else array
    return {
        f"{prefix}estimator.json": json.dumps(document).encode(),
        f"{prefix}weights.safetensors": safetensors.numpy.save(tensors),
    }


def _network_settings(model):
    """The builder arguments fit chose from its data, read from the network.

    The scaling is a constant of its layer (``Rescaling`` or ``Normalization``)
    today, so it is saved here; a scaling held in variables would travel with
    the weights instead.
    """
    settings = {"l2": 0.0}
    for layer in model.layers:
        regularizer = getattr(layer, "kernel_regularizer", None)
        if regularizer is not None:
            settings["l2"] = float(regularizer.l2)
        if type(layer).__name__ == "Rescaling" and np.ndim(layer.scale) == 0:
            settings["input_scale"] = float(layer.scale)
        if type(layer).__name__ == "Normalization" and layer.input_mean is not None:
            for key in ("input_mean", "input_variance"):
                value = np.asarray(getattr(layer, key), dtype=np.float32)
                settings[key] = value.reshape(-1)
    return settings


def _variables(model):
    """Every variable a saved network holds, by its name in the file.

    The network's weights (trainable or not) under their Keras paths, and
    the optimizer's state (step count, learning rate, Adam's moments or the
    momentum of SGD) so that ``partial_fit`` and ``warm_start`` continue
    where training stopped. Seed-generator states are left out: a loaded
    model draws dropout masks afresh.
    """
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    named = [(f"model/{v.path}", v) for v in model.weights]
    # Optimizer paths start with its numbered name ("adam_3/"): drop it.
    named += [(f"optimizer/{v.path.split('/', 1)[-1]}", v) for v in optimizer.variables]
    variables = dict(named)
    if len(variables) != len(named):
        raise TypeError("Cannot save a network whose variables share names.")
    return variables


# -- loading -----------------------------------------------------------------------


def _unpack_keras(entries, prefix):
    where = f"{prefix}estimator.json"
    document = _safe_zip.parse_json(entries[where], where, UntrustedModelError)
    if not (
        isinstance(document, dict)
        and set(document) == {"class", "params", "attributes", "network"}
    ):
        raise _fail(
            f"{where} must hold exactly 'class', 'params', 'attributes' and 'network'."
        )
    if document["class"] not in _CLASS_NAMES:
        raise _fail(
            f"{where} names the class {str(document['class'])[:80]!r}; only "
            f"{sorted(_CLASS_NAMES)} are loaded."
        )
    estimator = _keras_classes()[document["class"]]()
    params = _decode(document["params"])
    allowed = set(estimator.get_params(deep=False))
    if (
        not isinstance(params, dict)
        or not set(params) <= allowed
        or params.get("callbacks") is not None
    ):
        raise _fail(
            f"{where} sets parameters outside {sorted(allowed)}, or "
            "callbacks (never saved)."
        )
    try:
        estimator.set_params(**params)._validate_params()
    except (TypeError, ValueError) as exc:
        raise _fail(f"{where}: invalid saved parameters: {exc}") from exc
    vars(estimator).update(_check_attributes(document["attributes"], estimator))
    network = document["network"]
    if isinstance(network, dict):
        network = {key: _decode(value) for key, value in network.items()}
    network = _check_network(network, estimator.n_features_in_)
    try:
        _check_size(estimator)
    except ValueError as exc:
        raise _fail(f"{where}: {exc}") from exc
    # Everything above runs before Keras is imported: a crafted file is
    # refused in a fraction of a second and little memory.
    where = f"{prefix}weights.safetensors"
    data = entries[where]
    header = _read_header(data, where)
    estimator.model_ = _rebuild(estimator, network, data, header, where)
    return estimator


def _rebuild(estimator, network, data, header, where):
    """The network built from the parameters, holding the file's weights."""
    import safetensors.numpy

    from .._engine import _optim
    from .._engine._builders import compile_model, output_units

    n_outputs = output_units(estimator.target_type_, estimator.n_classes_)
    model = estimator._build_network(
        n_outputs, seed=getattr(estimator, "_random_state", None), **network
    )
    model = compile_model(
        model,
        estimator.target_type_,
        optimizer=_optim.make_optimizer(estimator),
        jit_compile=estimator.jit_compile,
    )
    variables = _variables(model)
    expected = {
        name: (tuple(int(d) for d in v.shape), _file_dtype(v.dtype))
        for name, v in variables.items()
    }
    if header != expected:
        problems = [f"missing {name}" for name in expected if name not in header]
        problems += [f"unexpected {name}" for name in header if name not in expected]
        problems += [
            f"{name} is {header[name][1]} {header[name][0]}, the network needs "
            f"{expected[name][1]} {expected[name][0]}"
            for name in expected
            if name in header and header[name] != expected[name]
        ]
        raise _fail(
            f"{where} does not fit the network built from the saved parameters: "
            f"{'; '.join(problems[:5])}."
        )
    try:
        arrays = safetensors.numpy.load(data)
    except Exception as exc:  # SafetensorError: refused after the checks above
        raise _fail(f"{where}: unreadable tensors ({exc}).") from exc
    for name, variable in variables.items():
        array = arrays[name].astype(variable.dtype)
        if not np.array_equal(array, arrays[name]):
            raise _fail(f"{where}: {name} holds values out of range.")
        variable.assign(array)
    return model


def _file_dtype(dtype):
    """How a variable of ``dtype`` is stored: integers (counters) as I64."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        return "I64"
    return {"float32": "F32", "float64": "F64"}.get(dtype.name, dtype.name)


def _read_header(data, where):
    """``{name: (shape, dtype)}`` from a safetensors header, checked.

    The header's length is bounded, every tensor's dtype is one skmnist
    writes, and the tensors' byte ranges must tile the data exactly, each as
    long as its shape and dtype say: a declared shape can claim no more
    memory than the file holds.
    """
    size = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if not 0 < size <= min(_MAX_HEADER_BYTES, len(data) - 8):
        raise _fail(
            f"{where}: a header of {size} bytes in a file of {len(data)}; "
            f"safetensors headers here are at most {_MAX_HEADER_BYTES} bytes."
        )
    header = _safe_zip.parse_json(data[8 : 8 + size], where, UntrustedModelError)
    if not isinstance(header, dict):
        raise _fail(f"{where}: the header is not a JSON object.")
    tensors, spans = {}, []
    for name, entry in header.items():
        shape = entry.get("shape") if isinstance(entry, dict) else None
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        ok = (
            isinstance(entry, dict)
            and set(entry) == {"dtype", "shape", "data_offsets"}
            and entry["dtype"] in _DTYPES
            and isinstance(shape, list)
            and len(shape) <= 4
            and all(type(d) is int and d >= 0 for d in shape)
            and isinstance(offsets, list)
            and len(offsets) == 2
            and all(type(o) is int for o in offsets)
        )
        if ok:
            n_bytes = math.prod(shape) * np.dtype(_DTYPES[entry["dtype"]]).itemsize
            ok = offsets[1] - offsets[0] == n_bytes
        if not ok:
            raise _fail(
                f"{where}: tensor {name[:80]!r} is declared as {str(entry)[:120]}; "
                "expected a dtype of F32, F64 or I64, a shape of at most 4 "
                "dimensions and a byte range as long as they make."
            )
        tensors[name] = (tuple(shape), entry["dtype"])
        spans.append(offsets)
    end = 0
    for begin, stop in sorted(spans):
        if begin != end:
            break
        end = stop
    if end != len(data) - 8 - size:
        raise _fail(
            f"{where}: the tensors' byte ranges do not cover its "
            f"{len(data) - 8 - size} bytes of data exactly (truncated, padded "
            "or overlapping)."
        )
    return tensors


def _check_size(estimator):
    """Refuse (``ValueError``) a network larger than :func:`load` builds."""
    n_weights = _n_weights(estimator)
    if n_weights > MAX_WEIGHTS:
        raise ValueError(
            f"the parameters describe a network of {n_weights} weights, over the "
            f"limit of {MAX_WEIGHTS}."
        )


def _n_weights(estimator):
    """Weights of the network the parameters describe, counted without building it.

    Kernels and biases of each ``Conv2D`` (``"same"`` padding, each followed
    by a 2x2 pooling that halves the image, rounding up) and each ``Dense``
    layer, as :mod:`skmnist._engine._builders` makes them.
    """
    from .._engine._builders import output_units

    count, widths = 0, [estimator.n_features_in_]
    if hasattr(estimator, "_filters"):  # KerasCNN
        height, width = estimator.image_shape_
        channels, side = 1, int(estimator.kernel_size)
        layers = estimator._filters()
        for filters in layers:
            count += side * side * channels * filters + filters
            height, width, channels = -(-height // 2), -(-width // 2), filters
        widths = [height * width * channels]
        dense = estimator.dense_units
        hidden = () if dense is None else (int(dense),)
    else:
        layers = hidden = estimator._hidden_layers()
    if len(layers) > MAX_LAYERS:
        raise ValueError(
            f"the parameters describe {len(layers)} hidden layers or convolution "
            f"blocks, over the limit of {MAX_LAYERS}."
        )
    widths += [*hidden, output_units(estimator.target_type_, estimator.n_classes_)]
    return count + sum((a + 1) * b for a, b in zip(widths, widths[1:]))


def _check_network(network, n_features):
    """The builder settings of ``estimator.json``: finite, of the right sizes."""

    def finite(value, low):
        return type(value) in (int, float) and math.isfinite(value) and value >= low

    def vector(value):
        return (
            isinstance(value, np.ndarray)
            and value.dtype == np.float32
            and value.shape == (n_features,)
            and bool(np.isfinite(value).all())
        )

    ok = (
        isinstance(network, dict)
        and set(network) <= _NETWORK_KEYS
        and finite(network.get("l2"), 0)
        and ("input_mean" in network) == ("input_variance" in network)
        and not ("input_mean" in network and "input_scale" in network)
        and finite(network.get("input_scale", 1.0), -math.inf)
        and ("input_mean" not in network or vector(network["input_mean"]))
        and ("input_mean" not in network or vector(network["input_variance"]))
        and ("input_mean" not in network or (network["input_variance"] >= 0).all())
    )
    if not ok:
        raise _fail(
            "estimator.json: 'network' must hold a finite l2 >= 0 and either a "
            f"finite input_scale or an input_mean and input_variance of "
            f"{n_features} finite float32 values each."
        )
    return network


# -- fitted attributes ---------------------------------------------------------------


def _check_attributes(encoded, estimator):
    if not isinstance(encoded, dict):
        raise _fail("estimator.json: 'attributes' must be a JSON object.")
    unknown = set(encoded) - set(_REQUIRED + _OPTIONAL)
    missing = set(_REQUIRED) - set(encoded)
    if hasattr(estimator, "_filters") != ("image_shape_" in encoded):
        missing.add("image_shape_")  # KerasCNN has one, the others none
    if unknown or missing:
        raise _fail(
            f"estimator.json: fitted attributes outside the allow-list "
            f"{sorted(unknown)} or missing {sorted(missing)}."
        )
    attrs = {name: _decode(value) for name, value in encoded.items()}
    n_features = attrs["n_features_in_"]
    checks = {
        "classes_": _is_label_array(attrs["classes_"]),
        "n_classes_": _is_count(attrs["n_classes_"], 1),
        "target_type_": attrs["target_type_"] in _TARGET_TYPES,
        "n_features_in_": _is_count(n_features, 1) and n_features <= MAX_FEATURES,
        "history_": isinstance(attrs["history_"], dict)
        and all(
            isinstance(k, str) and _is_floats(v) for k, v in attrs["history_"].items()
        ),
        "n_iter_": _is_count(attrs["n_iter_"], 0),
        "feature_names_in_": _is_label_array(attrs.get("feature_names_in_"), str)
        and len(attrs["feature_names_in_"]) == n_features,
        "loss_curve_": _is_floats(attrs.get("loss_curve_")),
        "best_epoch_": _is_count(attrs.get("best_epoch_"), 0),
        "t_": _is_count(attrs.get("t_"), 0),
        "_random_state": attrs.get("_random_state") is None
        or _is_count(attrs["_random_state"], -(2**63)),
        "image_shape_": isinstance(attrs.get("image_shape_"), tuple)
        and len(attrs["image_shape_"]) == 2
        and all(_is_count(side, 1) for side in attrs["image_shape_"])
        and math.prod(attrs["image_shape_"]) == n_features,
        "loss_": _is_float(attrs.get("loss_")),
        "best_loss_": _is_float(attrs.get("best_loss_"), none=True),
        "validation_scores_": attrs.get("validation_scores_") is None
        or _is_floats(attrs["validation_scores_"]),
        "best_validation_score_": _is_float(
            attrs.get("best_validation_score_"), none=True
        ),
    }
    bad = [name for name, ok in checks.items() if name in attrs and not ok]
    if bad or len(attrs["classes_"]) != attrs["n_classes_"]:
        raise _fail(
            "estimator.json: fitted attributes of the wrong type or size: "
            f"{bad or ['classes_', 'n_classes_']}."
        )
    _check_classes(attrs["classes_"])
    return attrs


def _check_classes(classes):
    # scikit-learn's encoders need sorted, distinct, comparable labels (what
    # np.unique returns at fit); anything else fails later, deep inside them.
    if len(classes) > MAX_CLASSES:
        raise _fail(
            f"estimator.json: {len(classes)} classes_, over the limit of {MAX_CLASSES}."
        )
    try:
        if any(type(c) is float and math.isnan(c) for c in classes.tolist()):
            raise TypeError("NaN")
        unique = np.unique(classes)
    except TypeError as exc:  # mixed str and int, or NaN
        raise _fail(
            f"estimator.json: classes_ {classes.tolist()[:10]} cannot be sorted "
            f"({exc}); fitted labels are sorted and distinct."
        ) from exc
    if len(unique) != len(classes) or not all(
        a == b for a, b in zip(unique.tolist(), classes.tolist())
    ):
        raise _fail(
            f"estimator.json: classes_ {classes.tolist()[:10]} are not sorted and "
            "distinct, as fitted labels always are."
        )


def _is_count(value, low):
    return type(value) is int and value >= low


def _is_float(value, none=False):
    return (none and value is None) or type(value) in (int, float)


def _is_floats(value):
    return isinstance(value, list) and all(type(v) in (int, float) for v in value)


def _is_label_array(value, kind=(str, int, float, bool)):
    return (
        isinstance(value, np.ndarray)
        and value.ndim == 1
        and (value.dtype != object or all(isinstance(v, kind) for v in value))
        and (kind is not str or value.dtype.kind in "OU")
    )


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
        try:
            return {_decode(k): _decode(v) for k, v in value["__dict__"]}
        except TypeError as exc:  # a list or array as a key
            raise _fail(f"estimator.json: unexpected dictionary key ({exc}).") from exc
    if set(value) == {"__ndarray__", "dtype"}:
        return _decode_array(value["__ndarray__"], value["dtype"])
    raise _fail(f"estimator.json: unexpected JSON object with keys {sorted(value)}.")


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
        raise _fail(f"estimator.json: invalid saved array: {exc}") from exc
