"""KerasCNN: accuracy, images in and out, augmentation, seeds, persistence (issue 20).

scikit-learn's own checks run on it in test_common.py; crafted CNN files are
refused in test_hostile_cnn.py.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import skmnist
from skmnist import KerasCNN

# Small and quick: the tests check behaviour, not the default architecture.
SMALL = dict(filters=(8,), dense_units=16, batch_size=64, random_state=0)


def _fit(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return KerasCNN(**{**SMALL, **params}).fit(X, y)


def test_digits_accuracy_with_defaults(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = KerasCNN(random_state=0).fit(X_train, y_train)
    assert clf.image_shape_ == (8, 8)
    assert clf.n_iter_ == clf.max_iter
    assert clf.score(X_test, y_test) >= 0.95


@pytest.mark.slow
def test_embedded_mnist_accuracy_with_defaults():
    train = skmnist.load_mnist(source="embedded", subset="train")
    test = skmnist.load_mnist(source="embedded", subset="test")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = KerasCNN(random_state=0).fit(train.data, train.target)
    assert clf.image_shape_ == (28, 28)
    assert clf.n_iter_ == 12
    # KerasMLP reaches 0.93 on this split (README); the CNN 0.970 to 0.986
    # over seeds 0-2 (benchmarks/RESULTS.md).
    assert clf.score(test.data, test.target) >= 0.965


def test_same_seed_same_probabilities_other_seed_others(small_digits):
    X_train, X_test, y_train, _ = small_digits
    first = _fit(X_train, y_train, max_iter=2, dropout=0.3, shift=1)
    again = _fit(X_train, y_train, max_iter=2, dropout=0.3, shift=1)
    other = _fit(X_train, y_train, max_iter=2, dropout=0.3, shift=1, random_state=1)
    proba = first.predict_proba(X_test)
    np.testing.assert_array_equal(proba, again.predict_proba(X_test))
    assert not np.allclose(proba, other.predict_proba(X_test))


def test_shifts_train_but_never_predict(small_digits):
    X_train, X_test, y_train, _ = small_digits
    shifted = _fit(X_train, y_train, max_iter=1, shift=2, dropout=0.2)
    proba = shifted.predict_proba(X_test)
    np.testing.assert_array_equal(proba, shifted.predict_proba(X_test))

    # The same weights in a network without shifts or dropout predict the same.
    plain = _fit(X_train, y_train, max_iter=1, shift=0, dropout=0.0)
    for mine, theirs in zip(
        plain.model_.trainable_variables, shifted.model_.trainable_variables
    ):
        mine.assign(theirs)
    np.testing.assert_array_equal(plain.predict_proba(X_test), proba)

    # ...while in training mode the shifting network does shift its input.
    images = X_test[:8].astype(np.float32)
    shift_layer = shifted.model_.get_layer("shift")
    inputs = shifted.model_.get_layer("image")(images / 16.0)
    moved = np.asarray(shift_layer(inputs, training=True))
    assert not np.array_equal(moved, np.asarray(inputs))
    np.testing.assert_array_equal(
        np.asarray(shift_layer(inputs, training=False)), np.asarray(inputs)
    )


def test_image_stacks_and_rows_are_the_same_images(small_digits):
    X_train, X_test, y_train, _ = small_digits
    stack = X_train.reshape(-1, 8, 8)
    clf = _fit(stack, y_train, max_iter=1)
    assert clf.image_shape_ == (8, 8) and clf.n_features_in_ == 64
    np.testing.assert_array_equal(
        clf.predict_proba(X_test.reshape(-1, 8, 8)), clf.predict_proba(X_test)
    )
    with pytest.raises(ValueError, match=r"images of shape \(4, 16\).*\(8, 8\)"):
        clf.predict(X_test.reshape(-1, 4, 16))


def test_image_shape_given_or_inferred(small_digits, rng):
    X_train, _, y_train, _ = small_digits
    assert _fit(X_train, y_train, max_iter=1, image_shape=(4, 16)).image_shape_ == (
        4,
        16,
    )
    # Rows that are not square are read as one row of pixels.
    X = rng.normal(size=(60, 10))
    y = (X[:, 0] > 0).astype(int)
    clf = _fit(X, y, max_iter=1, shift=3)
    assert clf.image_shape_ == (1, 10)
    assert clf.predict(X).shape == (60,)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(filters=(0,)), "filters"),
        (dict(filters=()), "filters"),
        (dict(filters=(8, 2000)), "filters"),
        (dict(kernel_size=0), "kernel_size"),
        (dict(kernel_size=16), "kernel_size"),
        (dict(dense_units=0), "dense_units"),
        (dict(dropout=1.0), "dropout"),
        (dict(shift=-1), "shift"),
        (dict(image_shape=(7, 7)), r"image_shape=\(7, 7\) holds 49 pixels"),
        (dict(image_shape=(8,)), "image_shape must be None or a pair"),
        (dict(image_shape=(0, 64)), "image_shape must be None or a pair"),
    ],
)
def test_bad_parameters_name_themselves(small_digits, params, match):
    X_train, _, y_train, _ = small_digits
    clf = KerasCNN(**{**SMALL, **params})
    with pytest.raises(ValueError, match=match):
        clf.fit(X_train, y_train)
    assert not hasattr(clf, "model_")


def test_image_shape_must_agree_with_a_stack(small_digits):
    X_train, _, y_train, _ = small_digits
    with pytest.raises(ValueError, match="differs from the shape of the images"):
        KerasCNN(image_shape=(4, 16)).fit(X_train.reshape(-1, 8, 8), y_train)


def test_persistence_round_trip(small_digits, tmp_path):
    X_train, X_test, y_train, _ = small_digits
    clf = _fit(X_train.reshape(-1, 8, 8), y_train, max_iter=1, shift=1, dropout=0.2)
    loaded = skmnist.load(skmnist.save(clf, tmp_path / "cnn.skmnist"))
    assert type(loaded) is KerasCNN and loaded.image_shape_ == (8, 8)
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(
        loaded.predict_proba(X_test), clf.predict_proba(X_test)
    )
    # It keeps training, shifts and all.
    loaded.partial_fit(X_train, y_train)
    assert loaded.n_iter_ == 1 and len(loaded.loss_curve_) == 2


def test_no_hidden_layer_and_bigger_kernels(small_digits):
    X_train, X_test, y_train, y_test = small_digits
    clf = _fit(X_train, y_train, max_iter=10, dense_units=None, kernel_size=5)
    assert "hidden_0" not in [layer.name for layer in clf.model_.layers]
    assert clf.model_.get_layer("conv_0").kernel.shape == (5, 5, 1, 8)
    assert clf.score(X_test, y_test) > 0.6  # chance is 0.1


def test_compare_knows_cnn_as_an_opt_in_model():
    from skmnist.comparison import default_estimators
    from skmnist.comparison._compare import DEFAULT_MODEL_NAMES, MODEL_NAMES

    assert "cnn" in MODEL_NAMES and "cnn" not in DEFAULT_MODEL_NAMES
    models = default_estimators(["mlp", "cnn"], max_iter=3, random_state=1)
    assert isinstance(models["cnn"], KerasCNN)
    assert (models["cnn"].max_iter, models["cnn"].random_state) == (3, 1)


def test_convolutions_take_one_step_per_call_and_train_as_the_scan(
    small_digits, monkeypatch
):
    # XLA:CPU runs convolution gradients ~14x slower inside a loop, so on JAX a
    # CNN's steps are called one at a time; the training must be the same.
    from skmnist._engine import _jax_engine
    from skmnist._engine._keras import import_keras

    if import_keras().backend.backend() != "jax":
        pytest.skip("the JAX engine only")
    X_train, X_test, y_train, _ = small_digits
    params = dict(max_iter=2, dropout=0.2, shift=1, steps_per_execution=4)
    stepwise = _fit(X_train, y_train, **params)
    assert _jax_engine._programs(stepwise.model_).steps_per_call == 1

    monkeypatch.setattr(_jax_engine, "_PROGRAMS", {})
    monkeypatch.setattr(_jax_engine, "_has_convolution", lambda model: False)
    scanned = _fit(X_train, y_train, **params)
    assert _jax_engine._programs(scanned.model_).steps_per_call is None
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(
            stepwise.history_[key], scanned.history_[key], rtol=1e-5
        )
    np.testing.assert_allclose(
        stepwise.predict_proba(X_test), scanned.predict_proba(X_test), atol=1e-5
    )


def _keras_on_jax():
    from skmnist._engine._keras import import_keras

    keras = import_keras()
    if keras.backend.backend() != "jax":
        pytest.skip("the JAX engine only")
    return keras


@pytest.mark.parametrize(
    "shape, pool, padding",
    [((7, 5, 3), 2, "same"), ((7, 5, 3), 2, "valid"), ((1, 9, 2), 3, "same")],
)
def test_jax_pooling_twin_gives_keras_outputs(shape, pool, padding):
    # The JAX engine trains a copy of the model whose pooling is a reshape and
    # a max (skmnist._engine._jax_layers): the same maxima, bit for bit.
    from skmnist._engine import _jax_layers

    keras = _keras_on_jax()
    layer = keras.layers.MaxPooling2D(pool, padding=padding)
    twin = _jax_layers.clone_layer(layer)
    assert type(twin).__name__ == "ReshapeMaxPooling2D"
    X = np.random.default_rng(0).normal(size=(4, *shape)).astype(np.float32)
    expected = keras.ops.convert_to_numpy(layer(X))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(twin(X)), expected)


@pytest.mark.parametrize("factor", [0.1, 0.3, 0.45])
def test_jax_translation_twin_gives_keras_images(factor):
    # Same random draws, same whole-pixel moves, same edge fill, bit for bit;
    # every possible shift is drawn; inference leaves the images as they are.
    from skmnist._engine import _jax_layers

    keras = _keras_on_jax()
    params = dict(fill_mode="nearest", interpolation="nearest", seed=3)
    layer = keras.layers.RandomTranslation(factor, factor, **params)
    twin = _jax_layers.clone_layer(layer)
    assert type(twin).__name__ == "WholePixelTranslation"
    size = 10
    # One bright pixel in the middle: where it lands is the shift.
    X = np.zeros((4096, size, size, 2), np.float32)
    X[:, size // 2, size // 2, :] = 1.0
    X += np.random.default_rng(0).normal(scale=1e-3, size=X.shape).astype(np.float32)
    layer.build(X.shape)
    twin.build(X.shape)
    seeds = [v.value for v in layer.non_trainable_variables]
    images = [
        keras.ops.convert_to_numpy(m.stateless_call([], seeds, X, training=True)[0])
        for m in (layer, twin)
    ]
    np.testing.assert_array_equal(images[1], images[0])
    moved = images[1][..., 0]
    assert not np.array_equal(moved, X[..., 0])  # it does shift
    # Whole pixels: every output pixel is some input pixel of its image.
    flat = moved.reshape(len(X), -1)
    sources = X[..., 0].reshape(len(X), -1)
    assert all(np.isin(out, src).all() for out, src in zip(flat, sources))
    found = {tuple(np.argwhere(image == image.max())[0] - size // 2) for image in moved}
    limit = int(round(factor * size))
    assert found == {
        (r, c) for r in range(-limit, limit + 1) for c in range(-limit, limit + 1)
    }
    for model in (layer, twin):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(model(X, training=False)), X
        )


def test_jax_engine_trains_through_the_twins(small_digits, monkeypatch):
    # The fast layers are a training detail: the engine's template holds them,
    # the fitted model (saved, exported to ONNX) keeps Keras' classes, and the
    # training is the one Keras' own layers give.
    from skmnist._engine import _jax_engine, _jax_layers

    _keras_on_jax()
    X_train, X_test, y_train, _ = small_digits
    params = dict(max_iter=3, shift=1, dropout=0.2)
    fast = _fit(X_train, y_train, **params)
    template = _jax_engine._programs(fast.model_)._template
    kinds = {type(layer).__name__ for layer in template.layers}
    assert {"ReshapeMaxPooling2D", "WholePixelTranslation"} <= kinds
    assert not {"MaxPooling2D", "RandomTranslation"} & kinds
    kinds = {type(layer).__name__ for layer in fast.model_.layers}
    assert {"MaxPooling2D", "RandomTranslation"} <= kinds
    assert fast.history_["loss"][-1] < fast.history_["loss"][0]

    monkeypatch.setattr(_jax_engine, "_PROGRAMS", {})
    monkeypatch.setattr(
        _jax_layers, "clone_layer", lambda layer: layer.from_config(layer.get_config())
    )
    keras_layers = _fit(X_train, y_train, **params)
    template = _jax_engine._programs(keras_layers.model_)._template
    assert "ReshapeMaxPooling2D" not in {type(la).__name__ for la in template.layers}
    np.testing.assert_allclose(
        fast.history_["loss"], keras_layers.history_["loss"], rtol=1e-4
    )
    np.testing.assert_allclose(
        fast.predict_proba(X_test), keras_layers.predict_proba(X_test), atol=1e-4
    )
