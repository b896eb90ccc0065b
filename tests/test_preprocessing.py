"""Tests for skmnist.preprocessing.PixelScaler.

scikit-learn's estimator checks run on it in test_common.py.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skmnist.preprocessing import PixelScaler


def test_scales_uint8_pixels_to_float32_unit_range():
    X = np.array([[0, 51, 102, 255]], dtype=np.uint8)
    Xt = PixelScaler().fit_transform(X)
    assert Xt.dtype == np.float32
    np.testing.assert_allclose(Xt, [[0.0, 0.2, 0.4, 1.0]], rtol=1e-7)
    assert Xt[0, 0] == 0.0 and Xt[0, 3] == 1.0  # the ends are exact


def test_images_are_flattened_and_match_the_flat_path(rng):
    images = rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    scaler = PixelScaler().fit(images)
    assert scaler.n_features_in_ == 784
    Xt = scaler.transform(images)
    assert Xt.shape == (6, 784)
    flat = PixelScaler().fit_transform(images.reshape(6, -1))
    np.testing.assert_array_equal(Xt, flat)
    np.testing.assert_allclose(Xt, images.reshape(6, -1) / 255.0, rtol=1e-6)
    nested = images[:2].tolist()  # a nested list of images works too
    np.testing.assert_array_equal(scaler.transform(nested), Xt[:2])


def test_float_input_and_input_left_unchanged(rng):
    X = rng.uniform(0, 255, size=(5, 4))
    before = X.copy()
    Xt = PixelScaler().fit_transform(X)
    assert Xt.dtype == np.float32
    np.testing.assert_allclose(Xt, before / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("method", ["fit", "transform"])
def test_out_of_range_values_are_rejected(method):
    scaler = PixelScaler().fit(np.zeros((1, 2)))
    call = getattr(scaler, method)
    with pytest.raises(ValueError, match="Negative values.*minimum of -0.5"):
        call(np.array([[-0.5, 10.0]]))
    with pytest.raises(ValueError, match="above 255.*maximum of 256"):
        call(np.array([[0.0, 256.0]]))
    with pytest.raises(ValueError, match="NaN"):
        call(np.array([[np.nan, 1.0]]))


def test_stateless_transform_unfitted_and_feature_count_checked_after_fit():
    X = np.full((2, 3), 255, dtype=np.uint8)
    np.testing.assert_array_equal(PixelScaler().transform(X), np.ones((2, 3)))
    scaler = PixelScaler().fit(X)
    with pytest.raises(ValueError, match="3 features"):
        scaler.transform(np.zeros((2, 4)))
    assert clone(scaler).get_params() == {}
    assert scaler.get_feature_names_out().tolist() == ["x0", "x1", "x2"]


def test_in_a_pipeline_on_digits():
    X, y = load_digits(return_X_y=True)
    X = X * 255.0 / 16.0  # digits' 0-16 grey levels as 0-255 pixels
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    model = make_pipeline(PixelScaler(), LogisticRegression(max_iter=500))
    model.fit(X_train, y_train)
    assert model.score(X_test, y_test) > 0.93
