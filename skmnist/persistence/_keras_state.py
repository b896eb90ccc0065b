"""A fitted Keras classifier as JSON and safetensors, rebuilt by skmnist's builders.

Private helper of :mod:`skmnist.persistence`, which owns the archive and the
scikit-learn parts. A classifier is saved as ``estimator.json`` (class name,
parameters, fitted attributes, the settings fit chose for its network) and
``weights.safetensors`` (the network's weights and its optimizer's state, by
name). Loading reads no network description from the file: it validates the
parameters and attributes, bounds the network they describe, checks the
safetensors header, builds the network with skmnist's own builders, checks
every tensor's name, shape and dtype against the built variables, and only
then reads the numbers into them.
"""

import json
import math
import sys
import warnings

import numpy as np

from .._utils import _safe_zip
from ..exceptions import UntrustedModelError as Untrusted
from ._json_state import (
    _ATTRIBUTES,
    _check_attributes,
    _check_network,
    _decode,
    _encode,
)

_CLASS_NAMES = ("KerasLogistic", "KerasMLP", "KerasCNN")
_DTYPES = {"F32": np.float32, "I64": np.int64}  # what save writes
# Checked before anything is built or allocated.
MAX_LAYERS = 64  # hidden layers of a KerasMLP, convolution blocks of a KerasCNN
# Weights of the network the parameters describe, counted before building it:
# 64 MB of float32 (and at most three times that of optimizer state).
MAX_WEIGHTS = 16_000_000
_MAX_HEADER_BYTES = 1 << 20  # the safetensors header: ~100 bytes per tensor


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

    from .._engine._keras import import_keras

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
        if name not in _ATTRIBUTES:
            raise TypeError(
                f"Cannot save the fitted attribute {name!r}: it is not "
                "in skmnist.persistence's allow-list."
            )
        attributes[name] = _encode(value)
    try:
        _check_size(estimator)
    except ValueError as exc:
        raise ValueError(
            "This model is too large for skmnist.load, which bounds what a model "
            f"file may make it allocate: {exc} Nothing was written."
        ) from None
    network = _network_settings(estimator.model_)
    document = {
        "class": type(estimator).__name__,
        "params": _encode(params),
        "attributes": attributes,
        "network": {key: _encode(value) for key, value in network.items()},
    }
    to_numpy, tensors = import_keras().ops.convert_to_numpy, {}
    with warnings.catch_warnings():
        # TensorFlow's tensors lack numpy 2's __array__(copy=...): harmless.
        warnings.filterwarnings("ignore", "__array__ impl", DeprecationWarning)
        for name, variable in _variables(estimator.model_).items():
            array = np.asarray(to_numpy(variable))
            tensors[name] = array.astype(_DTYPES[_file_dtype(array.dtype)])
    return {
        f"{prefix}estimator.json": json.dumps(document).encode(),
        f"{prefix}weights.safetensors": safetensors.numpy.save(tensors),
    }


def _network_settings(model):
    """The builder arguments fit chose from its data, read from the network.

    The L2 strength, and whether the network scales its inputs: the
    scaling's constants are variables, saved with the weights.
    """
    from .._engine._builders import scales_inputs

    settings = {"l2": 0.0, "scale_inputs": scales_inputs(model)}
    for layer in model.layers:
        if getattr(layer, "kernel_regularizer", None) is not None:
            settings["l2"] = float(layer.kernel_regularizer.l2)
    return settings


def _variables(model):
    """Every variable a saved network holds, by its name in the file.

    The network's weights (trainable or not) under their Keras paths, and the
    optimizer's state (step count, learning rate, Adam's moments, SGD's
    momentum), so that ``partial_fit`` and ``warm_start`` continue where
    training stopped. Seed-generator states are left out: a loaded model
    draws dropout masks afresh.
    """
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    named = [(f"model/{v.path}", v) for v in model.weights]
    # Optimizer paths start with its numbered name ("adam_3/"): drop it.
    named += [(f"optimizer/{v.path.split('/', 1)[-1]}", v) for v in optimizer.variables]
    if len(dict(named)) != len(named):
        raise TypeError("Cannot save a network whose variables share names.")
    return dict(named)


def _file_dtype(dtype):
    """How a variable is stored: integers (step counts) as I64, floats as F32."""
    dtype = np.dtype(dtype)
    return "I64" if dtype.kind in "iu" else "F32" if dtype == np.float32 else dtype.name


# -- loading -----------------------------------------------------------------------


def _unpack_keras(entries, prefix):
    where = f"{prefix}estimator.json"
    document = _safe_zip.parse_json(entries[where], where, Untrusted)
    if not (
        isinstance(document, dict)
        and set(document) == {"class", "params", "attributes", "network"}
    ):
        raise Untrusted(
            f"{where} must hold exactly 'class', 'params', 'attributes' and 'network'."
        )
    if document["class"] not in _CLASS_NAMES:
        raise Untrusted(
            f"{where} names the class {str(document['class'])[:80]!r}; only "
            f"{sorted(_CLASS_NAMES)} are loaded."
        )
    estimator = _keras_classes()[document["class"]]()
    allowed = estimator.get_params(deep=False)
    try:
        params = _decode(document["params"])
        if not isinstance(params, dict) or not set(params) <= set(allowed):
            raise ValueError(f"it sets parameters outside {sorted(allowed)}")
        if params.get("callbacks") is not None:
            raise ValueError("it sets callbacks, which are never saved")
        estimator.set_params(**params)._validate_params()
        vars(estimator).update(_check_attributes(document["attributes"], estimator))
        network = _check_network(document["network"], estimator.n_features_in_)
        _check_size(estimator)
    except (TypeError, ValueError) as exc:
        raise Untrusted(f"{where}: {exc}") from exc
    # Everything above runs before Keras is imported: a crafted file is
    # refused in a fraction of a second and little memory.
    where = f"{prefix}weights.safetensors"
    header = _read_header(entries[where], where)
    estimator.model_ = _rebuild(estimator, network, entries[where], header, where)
    return estimator


def _rebuild(estimator, network, data, header, where):
    """The network built from the parameters, holding the file's weights."""
    import safetensors.numpy

    from .._engine import _optim
    from .._engine._builders import compile_model, output_units

    model = estimator._build_network(
        output_units(estimator.target_type_, estimator.n_classes_),
        seed=getattr(estimator, "_random_state", None),
        **network,
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
        raise Untrusted(
            f"{where} does not fit the network built from the saved parameters: "
            f"{'; '.join(problems[:5])}."
        )
    try:
        arrays = safetensors.numpy.load(data)
    except Exception as exc:  # SafetensorError, on what the checks above let by
        raise Untrusted(f"{where}: unreadable tensors ({exc}).") from exc
    for name, variable in variables.items():
        value = arrays[name].astype(variable.dtype)
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise Untrusted(f"{where}: {name} holds NaN or infinite values.")
        if not np.array_equal(value, arrays[name]):  # a step count past int32
            raise Untrusted(f"{where}: {name} holds values out of range.")
        # The input scaling divides by sqrt(variance): a negative one, which
        # fit never writes, would make every prediction NaN.
        if name.endswith("moving_variance") and (value < 0).any():
            raise Untrusted(f"{where}: {name} holds negative variances.")
        variable.assign(value)
    return model


def _read_header(data, where):
    """``{name: (shape, dtype)}`` from a safetensors header, checked.

    The header's length is bounded, every dtype is one save writes, and the
    tensors' byte ranges must tile the data exactly, each as long as its
    shape and dtype make: a declared shape claims no more than the file holds.
    """
    size = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if not 0 < size <= min(_MAX_HEADER_BYTES, len(data) - 8):
        raise Untrusted(
            f"{where}: a header of {size} bytes in a file of {len(data)}; "
            f"safetensors headers here are at most {_MAX_HEADER_BYTES} bytes."
        )
    header = _safe_zip.parse_json(data[8 : 8 + size], where, Untrusted)
    if not isinstance(header, dict):
        raise Untrusted(f"{where}: the header is not a JSON object.")
    tensors, spans = {}, []
    for name, entry in header.items():
        try:
            shape, (begin, end) = entry["shape"], entry["data_offsets"]
            itemsize = np.dtype(_DTYPES[entry["dtype"]]).itemsize
            ok = (
                len(entry) == 3
                and isinstance(shape, list)
                and len(shape) <= 4
                and all(type(d) is int and d >= 0 for d in [*shape, begin, end])
                and end - begin == math.prod(shape) * itemsize
            )
        except (TypeError, KeyError, ValueError):
            ok = False
        if not ok:
            raise Untrusted(
                f"{where}: tensor {name[:80]!r} is declared as {str(entry)[:120]}; "
                "expected a dtype of F32 or I64, a shape of at most 4 dimensions "
                "and a byte range as long as they make."
            )
        tensors[name] = (tuple(shape), entry["dtype"])
        spans.append((begin, end))
    covered = 0
    for begin, end in sorted(spans):
        covered = end if begin == covered else -1
    if covered != len(data) - 8 - size:
        raise Untrusted(
            f"{where}: the tensors' byte ranges do not cover its "
            f"{len(data) - 8 - size} bytes of data exactly (truncated, padded "
            "or overlapping)."
        )
    return tensors


def _check_size(estimator):
    """Refuse (``ValueError``) a network larger than :func:`load` builds.

    The weights are counted from the parameters as
    :mod:`skmnist._engine._builders` makes them: kernels and biases of each
    ``Conv2D`` (``"same"`` padding, each followed by a 2x2 pooling that halves
    the image, rounding up) and each ``Dense`` layer.
    """
    from .._engine._builders import output_units

    count, widths = 0, [estimator.n_features_in_]
    if hasattr(estimator, "_filters"):  # KerasCNN
        (height, width), channels = estimator.image_shape_, 1
        side, layers = int(estimator.kernel_size), estimator._filters()
        for filters in layers:
            count += side * side * channels * filters + filters
            height, width, channels = -(-height // 2), -(-width // 2), filters
        widths = [height * width * channels]
        hidden = () if estimator.dense_units is None else (estimator.dense_units,)
    else:
        layers = hidden = estimator._hidden_layers()
    if len(layers) > MAX_LAYERS:
        raise ValueError(
            f"the parameters describe {len(layers)} hidden layers or convolution "
            f"blocks, over the limit of {MAX_LAYERS}."
        )
    widths += [*hidden, output_units(estimator.target_type_, estimator.n_classes_)]
    count += sum((a + 1) * b for a, b in zip(widths, widths[1:]))
    if count > MAX_WEIGHTS:
        raise ValueError(
            f"the parameters describe a network of {count} weights, over the "
            f"limit of {MAX_WEIGHTS}."
        )
    return count
