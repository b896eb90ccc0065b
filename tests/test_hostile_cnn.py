"""Crafted KerasCNN files (issue 20): each size is checked before Keras builds.

The CNN brings layers whose config decides what Keras allocates (filters,
kernel and pooling sizes, reshapes): the checks follow the chain of layers
from the declared input width, so none of them can be lied about.
"""

import json
import warnings

import hostile_files as hostile
import pytest
from sklearn.exceptions import ConvergenceWarning

import skmnist
from skmnist.exceptions import UntrustedModelError
from skmnist.persistence import _keras_checks


@pytest.fixture(scope="module")
def cnn_bytes(small_digits, tmp_path_factory):
    """A valid saved KerasCNN (8x8 images, shifts on), as bytes."""
    X, _, y, _ = small_digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = skmnist.KerasCNN(
            filters=(4, 8), dense_units=8, shift=1, max_iter=1, random_state=0
        ).fit(X, y)
    path = tmp_path_factory.mktemp("cnn") / "cnn.skmnist"
    return skmnist.save(clf, path).read_bytes()


def _config(data):
    inner = hostile.entries_of(hostile.entries_of(data)["model.keras"])
    return json.loads(inner["config.json"])


def _with_config(data, edit):
    config = _config(data)
    edit(config["config"]["layers"])
    return hostile._edit_keras(data, "config.json", json.dumps(config).encode())


def _layer(layers, class_name, index=0):
    return [layer for layer in layers if layer["class_name"] == class_name][index]


def _refused(tmp_path, data, match):
    path = tmp_path / "hostile.skmnist"
    path.write_bytes(data)
    with pytest.raises(UntrustedModelError, match=match):
        skmnist.load(path)


def _set(class_name, key, value, index=0):
    def edit(layers):
        _layer(layers, class_name, index)["config"][key] = value

    return edit


def _rewire(layers):
    # The Flatten reads the first convolution's output, skipping its pooling.
    node = _layer(layers, "Flatten")["inbound_nodes"][0]["args"][0]
    node["config"]["keras_history"][0] = _layer(layers, "Conv2D")["name"]


def test_valid_cnn_file_loads(cnn_bytes, tmp_path):
    path = tmp_path / "ok.skmnist"
    path.write_bytes(cnn_bytes)
    assert skmnist.load(path).image_shape_ == (8, 8)


@pytest.mark.parametrize(
    "edit, match",
    [
        (_set("Conv2D", "filters", 10**6), "filters=1000000; allowed are integers"),
        (_set("Conv2D", "filters", 0), "filters=0"),
        (_set("Conv2D", "kernel_size", [99, 99]), r"kernel_size=\[99, 99\]"),
        (_set("Conv2D", "strides", [0, 1]), "strides"),
        (_set("Conv2D", "dilation_rate", [4, 4]), "dilation_rate"),
        (_set("Conv2D", "groups", 2), "grouped convolution"),
        (_set("Conv2D", "padding", "causal"), "padding=causal"),
        (_set("Conv2D", "data_format", "channels_first"), "channels-last"),
        (_set("MaxPooling2D", "pool_size", [1000, 1000]), "pool_size"),
        (_set("Reshape", "target_shape", [64000, 1000, 1]), "reshapes"),
        (_set("Reshape", "target_shape", [-1, 8, 1]), "reshapes"),
        (_set("InputLayer", "batch_shape", [None, 8, 8, 1]), "declared input shape"),
        (_rewire, "is not called once on the output of"),
    ],
)
def test_cnn_sizes_are_checked_before_keras_builds(cnn_bytes, tmp_path, edit, match):
    _refused(tmp_path, _with_config(cnn_bytes, edit), match)


def test_huge_filters_never_reach_keras(cnn_bytes, tmp_path, monkeypatch):
    # 1024 filters and 15x15 kernels pass the per-layer limits; the weights
    # (15 x 15 x 1024 x 1024) do not pass the total, and Keras is never called.
    from skmnist.persistence import _keras_state

    def explode(*args, **kwargs):
        raise AssertionError("Keras was asked to load a refused file")

    monkeypatch.setattr(_keras_state, "_load_keras_model", explode)

    def edit(layers):
        for layer in layers:
            if layer["class_name"] == "Conv2D":
                layer["config"]["filters"] = 1024
                layer["config"]["kernel_size"] = [15, 15]

    _refused(tmp_path, _with_config(cnn_bytes, edit), r"may hold \d+ weights")


def test_feature_maps_are_bounded(cnn_bytes, tmp_path, monkeypatch):
    monkeypatch.setattr(_keras_checks, "MAX_FEATURE_MAP", 200)
    _refused(tmp_path, cnn_bytes, r"outputs 256 values per sample, over the limit")


def test_image_shape_must_match_the_reshape(cnn_bytes, tmp_path):
    def edit(document):
        document["attributes"]["image_shape_"] = {"__tuple__": [4, 16]}

    _refused(
        tmp_path,
        hostile._edit_estimator(cnn_bytes, edit),
        r"reads images of shape \[\(8, 8\)\]; the fitted attributes say \(4, 16\)",
    )


@pytest.mark.parametrize("shape", [[8, 9], [8], [0, 64], [8.0, 8], [1, 2, 32]])
def test_image_shape_attribute_is_checked(cnn_bytes, tmp_path, shape):
    def edit(document):
        document["attributes"]["image_shape_"] = {"__tuple__": shape}

    _refused(
        tmp_path,
        hostile._edit_estimator(cnn_bytes, edit),
        r"wrong type or size: \['image_shape_'\]",
    )
