"""Checks of a ``.keras`` archive before Keras (or TensorFlow) sees it.

Private helper of :mod:`skmnist.persistence._keras_state`. Every class and
module named in the config must be one skmnist builds; every size that decides
what Keras allocates (units, declared shapes, weight count) must be within the
limits below; the HDF5 weights file must hold plain numeric arrays only. Nothing
here imports TensorFlow, so a crafted file is refused cheaply.
"""

import io

from .._utils import _safe_zip
from ..exceptions import UntrustedModelError

# Everything skmnist's builders put in a Keras config (layers, initialisers,
# regulariser, optimizers, losses, metrics): nothing else is handed to Keras.
_KERAS_CLASSES = {
    "Functional",
    "InputLayer",
    "Dense",
    "Dropout",
    "Reshape",
    "RandomTranslation",
    "Conv2D",
    "MaxPooling2D",
    "Flatten",
    "Rescaling",
    "Normalization",
    "DTypePolicy",
    "GlorotUniform",
    "Zeros",
    "L2",
    "Adam",
    "SGD",
    "RMSprop",
    "SparseCategoricalCrossentropy",
    "BinaryCrossentropy",
    "SparseCategoricalAccuracy",
    "BinaryAccuracy",
    "__keras_tensor__",
}
_KERAS_MODULES = {
    None,
    "keras",
    "keras.layers",
    "keras.initializers",
    "keras.regularizers",
    "keras.optimizers",
    "keras.losses",
    "keras.metrics",
    "keras.src.models.functional",
}
_KERAS_FILES = {"metadata.json", "config.json", "model.weights.h5"}

# Checked before Keras builds anything: a config's sizes decide what Keras
# allocates, whatever the weights file holds.
MAX_LAYERS = 64
MAX_UNITS = 1 << 16  # units of one Dense layer
MAX_FEATURES = 1 << 20  # any dimension of a declared shape
MAX_FILTERS = 1024  # filters of one Conv2D layer
MAX_KERNEL_SIZE = 15  # side of a convolution kernel or pooling window
# Values per sample of any layer's output (images times filters): 64 MB.
MAX_FEATURE_MAP = 1 << 24
# Weights, counted as sum(units * (widest dimension + 1)) over Dense layers
# plus the exact count of every Conv2D: an upper bound on the real count, so
# Keras allocates at most ~64 MB of float32 weights (twice that for Adam's
# moments).
MAX_WEIGHTS = 16_000_000
_SHAPE_KEYS = {"batch_shape", "batch_input_shape", "shape", "input_shape"}


def _parse_json(data, name):
    return _safe_zip.parse_json(data, name, UntrustedModelError)


def _check_keras_archive(data, where, budget=None):
    """Check a ``.keras`` archive's entries, config and weights, without Keras."""
    entries = _safe_zip.read_zip(data, where, UntrustedModelError, budget=budget)
    if set(entries) != _KERAS_FILES:
        raise UntrustedModelError(
            f"{where} holds {sorted(entries)}; expected {sorted(_KERAS_FILES)}."
        )
    _parse_json(entries["metadata.json"], f"{where}/metadata.json")
    config = _parse_json(entries["config.json"], f"{where}/config.json")
    _check_keras_config(config)
    _check_keras_sizes(config, f"{where}/config.json")
    _check_weights_file(entries["model.weights.h5"], f"{where}/model.weights.h5")


def _check_keras_sizes(config, where):
    """Refuse a config whose layers would make Keras allocate past the limits."""
    layers = (
        config.get("config", {}).get("layers")
        if isinstance(config.get("config"), dict)
        else None
    )
    if config.get("class_name") != "Functional" or not isinstance(layers, list):
        raise UntrustedModelError(f"{where}: not a Functional model config.")
    if len(layers) > MAX_LAYERS:
        raise UntrustedModelError(
            f"{where}: {len(layers)} layers, over the limit of {MAX_LAYERS}."
        )
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
                        f"integers 1 to {MAX_UNITS}."
                    )
                units.append(value)
            stack.append(value)
    flat_widths, conv_weights = _chain_shapes(layers, config["config"], where)
    widest = max([widest, *units, *flat_widths])
    weights = sum(n * (widest + 1) for n in units) + conv_weights
    if weights > MAX_WEIGHTS:
        raise UntrustedModelError(
            f"{where}: Dense layers of {units} units on inputs up to {widest} wide "
            f"(and {conv_weights} convolution weights) may hold {weights} weights, "
            f"over the limit of {MAX_WEIGHTS}."
        )


def _chain_shapes(layers, model_config, where):
    """Follow the layers as Keras will build them; check every size on the way.

    skmnist's models are chains: each layer takes the previous one's output.
    Anything else is refused, so the shapes computed here from the input's
    declared width and each layer's own config are the shapes Keras builds,
    whatever shapes the file declares elsewhere. Returns the widths of the
    flat (1-D) outputs and the exact number of convolution weights.
    """
    names = [layer.get("name") if isinstance(layer, dict) else None for layer in layers]
    ends = [
        _single_endpoint(model_config.get(key), where)
        for key in ("input_layers", "output_layers")
    ]
    if (
        len(set(names)) != len(names)
        or not all(isinstance(name, str) for name in names)
        or ends != [names[0], names[-1]]
    ):
        raise UntrustedModelError(
            f"{where}: the layers do not form the chain skmnist builds "
            "(unnamed or repeated names, or other input and output layers)."
        )
    shape, flat_widths, conv_weights = None, [], 0
    for index, layer in enumerate(layers):
        name, settings = names[index], layer.get("config")
        if not isinstance(settings, dict):
            raise UntrustedModelError(f"{where}: layer {name!r} has no config.")
        if index == 0:
            if layer.get("class_name") != "InputLayer" or layer.get("inbound_nodes"):
                raise UntrustedModelError(f"{where}: the first layer is no input.")
            batch_shape = settings.get("batch_shape", settings.get("batch_input_shape"))
            if not (isinstance(batch_shape, list) and len(batch_shape) == 2):
                raise UntrustedModelError(
                    f"{where}: declared input shape {str(batch_shape)[:80]}; "
                    "skmnist models take flat rows, [null, n]."
                )
            shape = (_shape_width(batch_shape, where),)
        else:
            _check_inbound(layer.get("inbound_nodes"), names[index - 1], name, where)
            shape, weights = _output_shape(layer["class_name"], settings, shape, name)
            conv_weights += weights
        size = 1
        for dim in shape:
            size *= dim
        if size > MAX_FEATURE_MAP:
            raise UntrustedModelError(
                f"{where}: layer {name!r} outputs {size} values per sample, over "
                f"the limit of {MAX_FEATURE_MAP}."
            )
        if len(shape) == 1:
            flat_widths.append(shape[0])
    return flat_widths, conv_weights


def _single_endpoint(value, where):
    # Keras writes ["name", 0, 0] for one input, [["name", 0, 0]] for a list.
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if isinstance(value, list) and len(value) == 3 and value[1:] == [0, 0]:
        return value[0]
    raise UntrustedModelError(f"{where}: not a single-input, single-output model.")


def _check_inbound(nodes, previous, name, where):
    """The layer is called once, on the previous layer's output, as built."""
    ok = isinstance(nodes, list) and len(nodes) == 1 and isinstance(nodes[0], dict)
    if ok:
        args, kwargs = nodes[0].get("args"), nodes[0].get("kwargs", {})
        ok = (
            isinstance(args, list)
            and len(args) == 1
            and isinstance(args[0], dict)
            and args[0].get("class_name") == "__keras_tensor__"
            and isinstance(args[0].get("config"), dict)
            and isinstance(args[0]["config"].get("keras_history"), list)
            and args[0]["config"]["keras_history"][:1] == [previous]
            and isinstance(kwargs, dict)
            and set(kwargs) <= {"training"}
        )
    if not ok:
        raise UntrustedModelError(
            f"{where}: layer {name!r} is not called once on the output of "
            f"{previous!r}, as in the chain skmnist builds."
        )


def _pair(value, what, name, low, high):
    """A Keras 2-D size (``[a, b]``, or one int for both) within bounds."""
    pair = [value, value] if type(value) is int else value
    if not (
        isinstance(pair, list)
        and len(pair) == 2
        and all(type(v) is int and low <= v <= high for v in pair)
    ):
        raise UntrustedModelError(
            f"layer {name!r} has {what}={str(value)[:40]}; allowed are "
            f"integers {low} to {high}."
        )
    return pair


def _window_output(size, window, stride, padding):
    if padding == "same":
        return -(-size // stride)
    return (size - window) // stride + 1


def _output_shape(class_name, settings, shape, name):
    """(output shape without the batch axis, weights) of one layer."""
    if class_name in ("Rescaling", "Normalization", "Dropout"):
        return shape, 0
    image_layer = class_name in ("RandomTranslation", "Conv2D", "MaxPooling2D")
    if image_layer or class_name == "Flatten":
        if settings.get("data_format", "channels_last") != "channels_last" or (
            image_layer and len(shape) != 3
        ):
            raise UntrustedModelError(
                f"layer {name!r} ({class_name}) on input of shape {shape}: skmnist "
                "builds channels-last images of shape (height, width, channels)."
            )
    if class_name in ("RandomTranslation", "Flatten"):
        size = 1
        for dim in shape:
            size *= dim
        return (shape if class_name == "RandomTranslation" else (size,)), 0
    if class_name == "Reshape":
        target = settings.get("target_shape")
        size = 1
        for dim in target if isinstance(target, list) else [0]:
            size *= dim if type(dim) is int and dim > 0 else 0
        before = 1
        for dim in shape:
            before *= dim
        if not (1 <= len(target or []) <= 3 and size == before):
            raise UntrustedModelError(
                f"layer {name!r} reshapes {shape} to {str(target)[:40]}; skmnist "
                "reshapes rows to images of as many positive-sized pixels."
            )
        return tuple(target), 0
    if class_name == "Dense":
        if len(shape) != 1:
            raise UntrustedModelError(
                f"layer {name!r} (Dense) on input of shape {shape}; skmnist "
                "applies Dense layers to flat rows."
            )
        return (settings["units"],), 0
    if class_name not in ("Conv2D", "MaxPooling2D"):
        raise UntrustedModelError(
            f"layer {name!r}: {class_name} is not a layer of skmnist's chains."
        )
    padding = settings.get("padding")
    if padding not in ("same", "valid"):
        raise UntrustedModelError(f"layer {name!r} has padding={str(padding)[:20]}.")
    window_key = "kernel_size" if class_name == "Conv2D" else "pool_size"
    window = _pair(settings.get(window_key), window_key, name, 1, MAX_KERNEL_SIZE)
    strides = settings.get("strides")
    strides = window if strides is None else strides
    strides = _pair(strides, "strides", name, 1, MAX_KERNEL_SIZE)
    channels, weights = shape[2], 0
    if class_name == "Conv2D":
        filters = settings.get("filters")
        if type(filters) is not int or not 1 <= filters <= MAX_FILTERS:
            raise UntrustedModelError(
                f"layer {name!r} has filters={str(filters)[:20]}; allowed are "
                f"integers 1 to {MAX_FILTERS}."
            )
        _pair(settings.get("dilation_rate", 1), "dilation_rate", name, 1, 1)
        if settings.get("groups", 1) != 1:
            raise UntrustedModelError(f"layer {name!r}: grouped convolution.")
        weights = window[0] * window[1] * channels * filters + filters
        channels = filters
    height, width = (
        _window_output(side, size, stride, padding)
        for side, size, stride in zip(shape[:2], window, strides)
    )
    if height < 1 or width < 1:
        raise UntrustedModelError(
            f"layer {name!r}: a {window} window does not fit input {shape}."
        )
    return (height, width, channels), weights


def _shape_width(shape, where):
    """Width of a declared ``[null, n]`` shape (images: ``[null, h, w, c]``)."""
    if shape is None:
        return 1
    if not (
        isinstance(shape, list)
        and 2 <= len(shape) <= 4
        and shape[0] is None
        and all(type(dim) is int and 1 <= dim <= MAX_FEATURES for dim in shape[1:])
    ):
        raise UntrustedModelError(
            f"{where}: declared shape {str(shape)[:80]}; skmnist models take "
            f"[null, n] with n from 1 to {MAX_FEATURES} (and images "
            "[null, height, width, channels] inside)."
        )
    # Only flat shapes bound a Dense layer's input; image shapes are followed
    # layer by layer in _chain_shapes.
    return shape[1] if len(shape) == 2 else 1


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
                        raise UntrustedModelError(
                            f"{where}: {group.name}/{key} is a link; Keras writes none."
                        )
                    item = group[key]
                    if isinstance(item, h5py.Group):
                        stack.append(item)
                        continue
                    if (
                        not isinstance(item, h5py.Dataset)
                        or item.dtype.kind not in "biuf"
                        or item.is_virtual
                        or item.compression
                        or item.external
                    ):
                        raise UntrustedModelError(
                            f"{where}: {item.name} is not a plain numeric "
                            "array, as Keras writes."
                        )
                    total += item.size * item.dtype.itemsize
                    if total > _safe_zip.MAX_ENTRY_BYTES:
                        raise UntrustedModelError(
                            f"{where}: its arrays declare over "
                            f"{_safe_zip.MAX_ENTRY_BYTES} bytes."
                        )
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
            if (
                name not in _KERAS_CLASSES
                or module not in _KERAS_MODULES
                or registered not in (None, name, f">{name}")
            ):
                raise UntrustedModelError(
                    f"The Keras config names {module}.{name} (registered as "
                    f"{registered!r}), which skmnist models never contain; only "
                    f"{sorted(_KERAS_CLASSES)} are loaded."
                )
        for value in node.values():
            _check_keras_config(value)
