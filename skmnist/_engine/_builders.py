"""Pure Keras model builders: no scikit-learn in here.

Every model ends in a linear layer that outputs **logits**; the losses are
computed from logits (numerically stable), and probabilities are produced by the
softmax or sigmoid applied at prediction time. The tutorial this package grew
from fed sigmoid outputs to a ``from_logits=True`` loss, squashing twice.
"""

import numpy as np

from ._keras import import_keras


def output_units(target_type, n_classes):
    """Number of logits the last layer needs for a target type."""
    if target_type == "binary":
        return 1
    return int(n_classes)


def _scaled(keras, inputs, scale_inputs):
    """The inputs through the input-scaling layer, or as they are.

    The layer computes ``(x - center) * factor`` per feature, both constants
    being non-trainable **variables** set after the model is built
    (:func:`set_input_scaling`), not part of its config: every fold of a
    search has its own constants but the same structure, so on JAX they all
    run the programs compiled for the first (see
    :mod:`skmnist._engine._jax_engine`), and the constants are saved with
    the weights. Keras' ``BatchNormalization`` frozen (``trainable=False``
    runs it on its moving statistics) is that layer, built in: it computes
    ``(x - moving_mean) / sqrt(moving_variance + epsilon) * gamma``, so
    ``moving_variance`` stays 1, ``epsilon`` 0 and ``gamma`` holds the
    factor (a factor rather than a divisor, whose square could overflow
    float32). Keras' ``Rescaling`` and ``Normalization`` take their
    constants as config: a new structure for each fold.
    """
    if not scale_inputs:
        return inputs
    layer = keras.layers.BatchNormalization(
        axis=-1,
        epsilon=0.0,
        center=False,
        scale=True,
        name=_SCALING_LAYER,
    )
    layer.trainable = False
    return layer(inputs)


_SCALING_LAYER = "input_scaling"


def scales_inputs(model):
    """Whether ``model`` was built with ``scale_inputs=True``."""
    return any(layer.name == _SCALING_LAYER for layer in model.layers)


def set_input_scaling(model, center, divisor):
    """Make ``model``'s input-scaling layer compute ``(x - center) / divisor``.

    Parameters
    ----------
    model : keras.Model
        Built with ``scale_inputs=True``.
    center : float or array-like of shape (n_features,)
        Subtracted from each feature.
    divisor : float or array-like of shape (n_features,)
        Positive; each centred feature is divided by it.
    """
    layer = model.get_layer(_SCALING_LAYER)
    n_features = layer.moving_mean.shape[0]
    center = np.broadcast_to(np.asarray(center, np.float64), (n_features,))
    divisor = np.broadcast_to(np.asarray(divisor, np.float64), (n_features,))
    layer.moving_mean.assign(center.astype(np.float32))
    layer.moving_variance.assign(np.ones(n_features, np.float32))
    layer.gamma.assign((1.0 / divisor).astype(np.float32))


def build_model(
    n_features,
    n_outputs,
    *,
    hidden_layer_sizes=(),
    activation="relu",
    l2=0.0,
    dropout=0.0,
    scale_inputs=False,
    seed=None,
):
    """Build an MLP over flat features that outputs logits.

    With no hidden layers this is multinomial (or binary) logistic regression:
    one ``Dense`` layer of linear scores.

    Parameters
    ----------
    n_features : int
        Width of each input row (784 for flattened MNIST).
    n_outputs : int
        Number of logits: 1 for binary targets, else classes or labels.
    hidden_layer_sizes : tuple of int, default=()
        Units of each hidden ``Dense`` layer.
    activation : str, default="relu"
        Activation of the hidden layers.
    l2 : float, default=0.0
        L2 penalty added to the loss for every kernel (not the biases).
    dropout : float, default=0.0
        Dropout rate after each hidden layer.
    scale_inputs : bool, default=False
        Put the input-scaling layer first; it is the identity until
        :func:`set_input_scaling` gives it its constants.
    seed : int, optional
        Seeds the initial weights and every dropout layer explicitly. Keras
        would otherwise draw them from Python's global ``random``, which other
        threads (a Dask worker's event loop, say) may advance mid-build.

    Returns
    -------
    keras.Model
        An uncompiled model mapping ``(batch, n_features)`` to
        ``(batch, n_outputs)`` logits.
    """
    keras = import_keras()
    layers = keras.layers
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None

    inputs = keras.Input(shape=(n_features,), dtype="float32", name="pixels")
    x = _scaled(keras, inputs, scale_inputs)

    for i, units in enumerate(hidden_layer_sizes):
        x = layers.Dense(
            units,
            activation=activation,
            kernel_regularizer=regularizer,
            kernel_initializer="zeros",  # drawn below, by NumPy
            name=f"hidden_{i}",
        )(x)
        if dropout > 0:
            x = layers.Dropout(
                dropout,
                name=f"dropout_{i}",
                seed=None if seed is None else seed + 1000 + i,
            )(x)
    logits = layers.Dense(
        n_outputs,
        kernel_regularizer=regularizer,
        kernel_initializer="zeros",
        name="logits",
    )(x)
    model = keras.Model(inputs, logits, name="skmnist_classifier")
    initialize_dense_layers(model, np.random.default_rng(seed), activation)
    return model


def initialize_dense_layers(model, rng, activation="relu"):
    """Draw every ``Dense`` layer's weights as scikit-learn's MLPClassifier does.

    Kernel and bias uniform in +-sqrt(factor / (fan_in + fan_out)), factor 6
    (2 for a logistic activation): Glorot's rule, biases included. NumPy draws
    them: Keras' seeded initializers on JAX compile one random-number program
    per weight shape (seconds of a small first fit, paid again in every search
    worker), and NumPy gives the same start on every Keras backend.
    """
    factor = 2.0 if activation in ("sigmoid", "logistic") else 6.0
    for layer in model.layers:
        if type(layer).__name__ != "Dense":
            continue
        fan_in, fan_out = layer.kernel.shape
        bound = np.sqrt(factor / (fan_in + fan_out))
        layer.kernel.assign(
            rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32)
        )
        layer.bias.assign(rng.uniform(-bound, bound, fan_out).astype(np.float32))


def build_cnn(
    n_features,
    n_outputs,
    *,
    image_shape,
    filters=(32, 64),
    kernel_size=3,
    dense_units=128,
    dropout=0.0,
    shift=0,
    l2=0.0,
    scale_inputs=False,
    seed=None,
):
    """Build a small convolutional network over flat pixel rows; logits out.

    The rows are scaled as :func:`build_model` does, reshaped to
    ``(height, width, 1)`` images inside the model, optionally shifted at
    random while training, then go through one ``Conv2D`` (ReLU, ``"same"``
    padding) and one 2x2 ``MaxPooling2D`` per entry of ``filters``, a
    ``Flatten``, an optional hidden ``Dense`` layer and the ``Dense`` logits.

    Parameters
    ----------
    n_features : int
        Width of each input row; equal to ``height * width``.
    n_outputs : int
        Number of logits: 1 for binary targets, else classes or labels.
    image_shape : tuple of int
        ``(height, width)`` of the images the rows hold.
    filters : tuple of int, default=(32, 64)
        Filters of each convolution block.
    kernel_size : int, default=3
        Side of the square convolution kernels.
    dense_units : int or None, default=128
        Units of the hidden ``Dense`` layer; None for none.
    dropout : float, default=0.0
        Dropout rate after ``Flatten`` and after the hidden ``Dense`` layer.
    shift : int, default=0
        Training-time augmentation: random translations of up to this many
        pixels (``RandomTranslation``, edge pixels repeated), inactive at
        prediction.
    l2 : float, default=0.0
        L2 penalty added to the loss for every kernel (not the biases).
    scale_inputs : bool, default=False
        Put the input-scaling layer first (see :func:`build_model`).
    seed : int, optional
        Seeds the initial weights (drawn by NumPy, as :func:`build_model`
        does), the dropout layers and the shifts explicitly.

    Returns
    -------
    keras.Model
        An uncompiled model mapping ``(batch, n_features)`` to
        ``(batch, n_outputs)`` logits.
    """
    keras = import_keras()
    layers = keras.layers
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    height, width = image_shape

    def seeded(offset):
        return None if seed is None else seed + offset

    inputs = keras.Input(shape=(n_features,), dtype="float32", name="pixels")
    x = _scaled(keras, inputs, scale_inputs)
    x = layers.Reshape((height, width, 1), name="image")(x)
    # A shift cannot exceed the image: rows of one pixel are never shifted
    # across, whatever ``shift`` says.
    factors = (min(shift, height - 1) / height, min(shift, width - 1) / width)
    if max(factors) > 0:
        # Shifts are drawn in pixels; "nearest" repeats the edge (background,
        # for digits) whatever the input scaling made of it.
        x = layers.RandomTranslation(
            height_factor=factors[0],
            width_factor=factors[1],
            fill_mode="nearest",
            interpolation="nearest",
            seed=seeded(2000),
            name="shift",
        )(x)
    for i, n_filters in enumerate(filters):
        x = layers.Conv2D(
            n_filters,
            kernel_size,
            padding="same",
            activation="relu",
            kernel_regularizer=regularizer,
            kernel_initializer="zeros",  # drawn below, by NumPy
            name=f"conv_{i}",
        )(x)
        x = layers.MaxPooling2D(2, padding="same", name=f"pool_{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    hidden = () if dense_units is None else (dense_units,)
    if dropout > 0:
        x = layers.Dropout(dropout, seed=seeded(1000), name="dropout_flat")(x)
    for i, units in enumerate(hidden):
        x = layers.Dense(
            units,
            activation="relu",
            kernel_regularizer=regularizer,
            kernel_initializer="zeros",
            name=f"hidden_{i}",
        )(x)
        if dropout > 0:
            x = layers.Dropout(dropout, seed=seeded(1001 + i), name=f"dropout_{i}")(x)
    logits = layers.Dense(
        n_outputs,
        kernel_regularizer=regularizer,
        kernel_initializer="zeros",
        name="logits",
    )(x)
    model = keras.Model(inputs, logits, name="skmnist_cnn")
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if type(layer).__name__ == "Conv2D":
            # Keras' Glorot rule for kernels (fans count the receptive
            # field), biases at zero, as Conv2D's own initializers do.
            height, width, fan_in, fan_out = layer.kernel.shape
            bound = np.sqrt(6.0 / ((fan_in + fan_out) * height * width))
            layer.kernel.assign(
                rng.uniform(-bound, bound, layer.kernel.shape).astype(np.float32)
            )
    initialize_dense_layers(model, rng)
    return model


def compile_model(
    model,
    target_type,
    *,
    optimizer="adam",
    steps_per_execution=1,
    jit_compile=False,
):
    """Compile ``model`` with a from-logits loss matching ``target_type``.

    The cross-entropy of the softmax (multiclass) or of each sigmoid (binary,
    multilabel; averaged over the labels: the estimators weight each row by
    their number, so that the loss is MLPClassifier's sum). ``optimizer`` is a
    Keras optimizer or its name (see
    :func:`skmnist._engine._optim.make_optimizer` for MLPClassifier's parameters).
    """
    keras = import_keras()
    if target_type == "multiclass":
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    else:
        loss = keras.losses.BinaryCrossentropy(from_logits=True)
        # A logit of 0 is a probability of 0.5: threshold logits at 0, not 0.5.
        accuracy = keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=[accuracy],
        steps_per_execution=steps_per_execution,
        jit_compile=jit_compile,
    )
    return model
