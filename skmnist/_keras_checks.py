"""Checks of a ``.keras`` archive before Keras (or TensorFlow) sees it.

Private helper of :mod:`skmnist._keras_state`. Every class and module named in
the config must be one skmnist builds; every size that decides what Keras
allocates (units, declared shapes, weight count) must be within the limits
below; the HDF5 weights file must hold plain numeric arrays only. Nothing
here imports TensorFlow, so a crafted file is refused cheaply.
"""

import io

from . import _safe_zip
from .exceptions import UntrustedModelError

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
_SHAPE_KEYS = {"batch_shape", "batch_input_shape", "shape", "input_shape"}


def _parse_json(data, name):
    return _safe_zip.parse_json(data, name, UntrustedModelError)


def _check_keras_archive(data, where, budget=None):
    """Check a ``.keras`` archive's entries, config and weights, without Keras."""
    entries = _safe_zip.read_zip(data, where, UntrustedModelError, budget=budget)
    if set(entries) != _KERAS_FILES:
        raise UntrustedModelError(f"{where} holds {sorted(entries)}; expected "
                                  f"{sorted(_KERAS_FILES)}.")
    _parse_json(entries["metadata.json"], f"{where}/metadata.json")
    config = _parse_json(entries["config.json"], f"{where}/config.json")
    _check_keras_config(config)
    _check_keras_sizes(config, f"{where}/config.json")
    _check_weights_file(entries["model.weights.h5"], f"{where}/model.weights.h5")


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
