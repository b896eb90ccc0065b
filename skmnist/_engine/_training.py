"""Running a compiled Keras model: mini-batches in, history and logits out.

Functions only, with no estimator in sight: :mod:`skmnist.classifiers._base`
decides what to train and for how long; this module feeds the data, calls Keras and runs
the forward pass for predictions.
"""

import weakref

import numpy as np
from scipy.sparse import issparse

# Rows per forward pass at prediction time: big enough for fast matrix products,
# small enough that the float32 copy of a chunk stays around 12 MB.
_PREDICT_CHUNK = 4096


def _seed_from(random_state):
    """One integer seed for Keras, NumPy and the split (None stays None)."""
    if random_state is None:
        return None
    if isinstance(random_state, np.random.RandomState):
        # Draw from a copy so the caller's generator is not advanced.
        copy = np.random.RandomState()
        copy.set_state(random_state.get_state())
        return int(copy.randint(np.iinfo(np.int32).max))
    return int(random_state)


# Compiled forward passes, keyed by Keras model so that they never become part of
# the estimator's state (tf.function objects cannot be pickled or deep-copied).
_FORWARD_FUNCTIONS = weakref.WeakKeyDictionary()


def _compiled_forward(model):
    forward = _FORWARD_FUNCTIONS.get(model)
    if forward is None:
        import tensorflow as tf

        spec = tf.TensorSpec(shape=(None, model.input_shape[-1]), dtype=tf.float32)
        # The function must not hold the model itself: a value that refers to
        # its weak key keeps the key alive, and every fitted model with it.
        # The traced graph captures the weights' variables, not the model.
        model_ref = weakref.ref(model)
        forward = tf.function(
            lambda x: model_ref()(x, training=False), input_signature=[spec]
        )
        _FORWARD_FUNCTIONS[model] = forward
    return forward


def _repeating_batches(X, y, weights, batch_size, seed, shuffle=True):
    """Shuffled mini-batches of ``(X, y[, weights])``, epoch after epoch.

    Keras builds a new ``tf.data`` iterator for every epoch of a NumPy input,
    about 30 ms each on 2 CPU cores: that fixed cost dominates small data sets.
    One repeating data set with ``steps_per_epoch`` keeps one iterator per fit.
    Only row indices are shuffled; rows are gathered per batch, so ``X`` keeps
    its dtype (uint8 pixels stay uint8 until the model's first layer).
    """
    import tensorflow as tf

    arrays = (X, y) if weights is None else (X, y, weights)
    tensors = tuple(tf.constant(array) for array in arrays)
    n_samples = X.shape[0]
    indices = tf.data.Dataset.range(n_samples)
    if shuffle:
        indices = indices.shuffle(n_samples, seed=seed, reshuffle_each_iteration=True)
    return (
        indices.batch(batch_size)
        .map(lambda rows: tuple(tf.gather(t, rows) for t in tensors))
        .repeat()
        .prefetch(tf.data.AUTOTUNE)
    )


def _sparse_batches(X, y, weights, batch_size, seed, shuffle=True, repeat=True):
    """As :func:`_repeating_batches` for sparse ``X`` (CSR): each batch's rows
    are densified when it is drawn, so the whole matrix never is.
    """
    import tensorflow as tf

    arrays = (y,) if weights is None else (y, weights)
    n_samples, n_features = X.shape

    def gather(rows):
        return (X[rows].toarray().astype(np.float32), *(a[rows] for a in arrays))

    def dense(rows):
        kinds = [tf.float32, *(tf.as_dtype(a.dtype) for a in arrays)]
        batch = tf.numpy_function(gather, [rows], kinds, stateful=False)
        batch[0].set_shape([None, n_features])
        for tensor, array in zip(batch[1:], arrays):
            tensor.set_shape([None, *array.shape[1:]])
        return tuple(batch)

    indices = tf.data.Dataset.range(n_samples)
    if shuffle:
        indices = indices.shuffle(n_samples, seed=seed, reshuffle_each_iteration=True)
    batches = indices.batch(batch_size).map(dense)
    return (batches.repeat() if repeat else batches).prefetch(tf.data.AUTOTUNE)


def _on_jax():
    from ._keras import import_keras

    # Keras' backend is fixed for the process once Keras is imported.
    return import_keras().backend.backend() == "jax"


def run_fit(
    model,
    X,
    y,
    weights,
    *,
    batch_size,
    epochs,
    initial_epoch,
    steps_per_execution,
    seed,
    validation,
    callbacks,
    verbose,
    shuffle=True,
):
    """Train ``model`` in place for ``epochs`` exact passes; return its history.

    ``X`` may be sparse (CSR or CSC): its batches are densified one at a time.
    ``validation`` is None or ``(X_val, y_val, weights_val)``, the weights
    None for all ones.
    Rows are reshuffled every epoch unless ``shuffle`` is False (then each
    epoch takes them in order, as MLPClassifier's ``shuffle=False``).
    ``steps_per_execution`` must divide the epoch's number of steps (see
    :func:`skmnist._engine._guards._steps_per_execution`), so every epoch is one pass.
    """
    steps_per_epoch = -(-X.shape[0] // batch_size)
    if issparse(X):  # rows are gathered per batch: CSR's are contiguous
        X = X.tocsr()
    if model.steps_per_execution != steps_per_execution:
        # partial_fit or a warm start on data of another size: retrace
        # the training step for a call size that divides this epoch.
        model.steps_per_execution = steps_per_execution
        model.train_function = None
    if _on_jax():
        from . import _jax_engine

        # Class indices against several logits; binary and multilabel targets
        # are 0/1 columns, one per logit.
        multiclass = model.output_shape[-1] > 1 and (y.ndim == 1 or y.shape[1] == 1)
        return _jax_engine.fit(
            model,
            X,
            y,
            weights,
            multiclass=multiclass,
            batch_size=batch_size,
            epochs=epochs,
            initial_epoch=initial_epoch,
            seed=seed,
            shuffle=shuffle,
            callbacks=callbacks,
            validation=validation,
            verbose=verbose,
        )
    batches = _sparse_batches if issparse(X) else _repeating_batches
    if validation is not None:
        X_val, y_val, w_val = validation
        validation = (X_val, y_val) if w_val is None else validation
        if issparse(X_val):
            from ._jax_data import chunk_rows  # NumPy and SciPy only

            size = chunk_rows(X_val, 1024)
            validation = _sparse_batches(
                X_val.tocsr(), y_val, w_val, size, None, False, False
            )
    return model.fit(
        x=batches(X, y, weights, batch_size, seed, shuffle),
        steps_per_epoch=steps_per_epoch,
        validation_data=validation,
        validation_batch_size=max(batch_size, 1024),
        epochs=initial_epoch + epochs,
        initial_epoch=initial_epoch,
        shuffle=False,  # the data set shuffles itself
        callbacks=callbacks,
        verbose=verbose,
    ).history


def logits(model, X):
    """Forward pass in chunks through a compiled TensorFlow function.

    ``keras.Model.predict`` builds a data pipeline on every call and an eager
    call dispatches op by op: both cost milliseconds for a single image. One
    traced function per model (any batch size) costs a fraction of that. On
    JAX, the jitted forward of :mod:`skmnist._engine._jax_engine`.
    """
    if _on_jax():
        from ._jax_engine import predict_logits

        return predict_logits(model, X)
    from ._jax_data import chunk_rows  # NumPy and SciPy only

    forward = _compiled_forward(model)
    outputs = []
    size = chunk_rows(X, _PREDICT_CHUNK)
    for start in range(0, X.shape[0], size):
        chunk = X[start : start + size]
        chunk = chunk.toarray() if issparse(chunk) else chunk
        chunk = np.asarray(chunk, dtype=np.float32)
        outputs.append(forward(chunk).numpy())
    if not outputs:
        return np.zeros((0, model.output_shape[-1]), dtype=np.float32)
    return np.concatenate(outputs)
