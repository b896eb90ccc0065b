"""Crafted KerasCNN files (issues 20, 27): each size is checked before Keras builds.

A saved KerasCNN holds no layer description: its network is rebuilt from the
parameters (filters, kernel size, dense units) and the fitted image shape, so
those are what a crafted file can change, and each is validated and bounded
before anything is built.
"""

import warnings

import hostile_files as hostile
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import skmnist
from skmnist.exceptions import UntrustedModelError
from skmnist.persistence import _keras_state


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


def _refused(tmp_path, data, match):
    path = tmp_path / "hostile.skmnist"
    path.write_bytes(data)
    with pytest.raises(UntrustedModelError, match=match):
        skmnist.load(path)


@pytest.fixture
def never_built(monkeypatch):
    def explode(*args, **kwargs):
        raise AssertionError("Keras was asked to build a refused network")

    monkeypatch.setattr(_keras_state, "_rebuild", explode)


def test_valid_cnn_file_loads(cnn_bytes, tmp_path):
    path = tmp_path / "ok.skmnist"
    path.write_bytes(cnn_bytes)
    assert skmnist.load(path).image_shape_ == (8, 8)


@pytest.mark.parametrize(
    "name, value, match",
    [
        ("filters", {"__tuple__": [10**6]}, "filters must be a non-empty sequence"),
        ("filters", {"__tuple__": [0]}, "filters must be"),
        ("filters", {"__tuple__": []}, "filters must be"),
        ("filters", {"__tuple__": [1] * 100}, "100 hidden layers or convolution"),
        ("kernel_size", 99, "kernel_size"),
        ("kernel_size", 0, "kernel_size"),
        ("dense_units", 0, "dense_units"),
        ("dense_units", 10**9, r"a network of \d+ weights, over the limit"),
        ("dropout", 1.5, "dropout"),
        ("shift", -1, "shift"),
    ],
)
def test_cnn_parameters_are_checked_before_keras_builds(
    cnn_bytes, tmp_path, never_built, name, value, match
):
    _refused(tmp_path, hostile.set_param(cnn_bytes, name, value), match)


def test_huge_filters_never_reach_keras(cnn_bytes, tmp_path, never_built):
    # 1024 filters and 15x15 kernels pass the per-parameter limits; the
    # weights (15 x 15 x 1024 x 1024 in the second block) do not.
    data = hostile.set_param(cnn_bytes, "filters", {"__tuple__": [1024, 1024]})
    data = hostile.set_param(data, "kernel_size", 15)
    _refused(tmp_path, data, r"a network of 236\d{6} weights, over the limit")


def test_image_shape_decides_the_network(cnn_bytes, tmp_path):
    # The image shape is read from the fitted attribute only (no Reshape layer
    # is read from the file): 4x16 images make another network, whose first
    # Dense kernel no longer fits the saved one.
    def edit(document):
        document["attributes"]["image_shape_"] = {"__tuple__": [2, 32]}

    _refused(
        tmp_path,
        hostile._edit_estimator(cnn_bytes, edit),
        r"model/hidden_0/kernel is F32 \(32, 8\), the network needs F32 \(64, 8\)",
    )


@pytest.mark.parametrize("shape", [[8, 9], [8], [0, 64], [8.0, 8], [1, 2, 32]])
def test_image_shape_attribute_is_checked(cnn_bytes, tmp_path, never_built, shape):
    def edit(document):
        document["attributes"]["image_shape_"] = {"__tuple__": shape}

    _refused(
        tmp_path,
        hostile._edit_estimator(cnn_bytes, edit),
        r"wrong type or size: \['image_shape_'\]",
    )


def test_image_shape_attribute_is_required(cnn_bytes, tmp_path, never_built):
    def edit(document):
        del document["attributes"]["image_shape_"]

    _refused(
        tmp_path,
        hostile._edit_estimator(cnn_bytes, edit),
        r"missing \['image_shape_'\]",
    )


def test_cnn_kernel_of_another_shape_is_refused(cnn_bytes, tmp_path):
    def edit(arrays):
        kernel = arrays["model/conv_1/kernel"]  # (3, 3, 4, 8)
        arrays["model/conv_1/kernel"] = np.ascontiguousarray(
            kernel.transpose(0, 1, 3, 2)
        )

    _refused(
        tmp_path,
        hostile.edit_tensors(cnn_bytes, edit),
        r"model/conv_1/kernel is F32 \(3, 3, 8, 4\), the network needs "
        r"F32 \(3, 3, 4, 8\)",
    )
