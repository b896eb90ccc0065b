"""The training loop shared by KerasLogistic and KerasMLP.

Kept apart from the estimator classes so each module has one job: this one
turns validated arrays into a trained Keras model, a history and predictions.
"""

import weakref

import numpy as np
from scipy.special import expit, softmax
from sklearn.model_selection import train_test_split
from sklearn.utils import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight

from ._builders import build_model, compile_model, output_units
from ._guards import (
    _all_finite,
    _callback_classes,
    _Diverged,
    _steps_per_execution,
    _unchanged_on_failure,
)
from ._keras import import_keras

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
        forward = tf.function(lambda x: model_ref()(x, training=False),
                              input_signature=[spec])
        _FORWARD_FUNCTIONS[model] = forward
    return forward


def _repeating_batches(X, y, weights, batch_size, seed):
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
    indices = tf.data.Dataset.range(n_samples).shuffle(
        n_samples, seed=seed, reshuffle_each_iteration=True)
    return (indices.batch(batch_size)
            .map(lambda rows: tuple(tf.gather(t, rows) for t in tensors))
            .repeat()
            .prefetch(tf.data.AUTOTUNE))


def _on_jax():
    # Keras' backend is fixed for the process once Keras is imported.
    return import_keras().backend.backend() == "jax"


class TrainingMixin:
    """Fit and predict for scikeras classifiers whose model outputs logits."""

    def _train(self, X, y, sample_weight, *, validation_data, epochs, reset,
               classes, monitor, require_classes=False):
        model = None if reset else self.model_
        with _unchanged_on_failure(self, model):
            X, y = self._validate_data(X, y, reset=reset)
            check_classification_targets(y)
            if reset:
                self._set_targets(y, classes, require_classes)
            y_encoded = self._encode_targets(y, what="y")
            weights = self._sample_weights(X, y, sample_weight)
            seed = _seed_from(self.random_state)
            X, y_encoded, weights, validation = self._split_validation(
                X, y, y_encoded, weights, validation_data, monitor, seed)
            if reset:
                self._random_state = seed
                self.model_ = self._make_model(X, seed)
                self.history_ = {}
            try:
                self._run_keras_fit(X, y_encoded, weights, validation, epochs,
                                    seed, monitor)
            except _Diverged as diverged:
                raise self._divergence_error(diverged.epoch, diverged.loss) from None
            if not _all_finite(self.model_):
                raise self._divergence_error(self.n_iter_, float("nan"))
        return self

    def _divergence_error(self, epoch, loss):
        return ValueError(
            f"Training diverged at epoch {epoch}: the training loss became {loss} "
            "and the weights are no longer finite. The learning rate is likely "
            f"too high (learning_rate={self.learning_rate!r}) or the L2 penalty "
            f"too large (alpha={self.alpha!r}), or sample or class weights are "
            "too large; lower them. The estimator keeps the state it had before "
            "this call."
        )

    # -- targets ---------------------------------------------------------------

    def _set_targets(self, y, classes, require_classes):
        from scikeras.utils.transformers import ClassifierLabelEncoder

        target_type = type_of_target(y)
        if target_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                f"Unsupported target type {target_type!r}: expected binary or "
                "multiclass labels, or a multilabel indicator matrix."
            )
        if classes is not None and target_type != "multilabel-indicator":
            classes = np.unique(np.asarray(classes))
            unseen = np.setdiff1d(np.unique(y), classes)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()} that are not in "
                    f"classes={classes.tolist()}."
                )
            target_type = "binary" if classes.size == 2 else "multiclass"
        elif require_classes and target_type != "multilabel-indicator":
            raise ValueError("classes must be passed on the first call to "
                             "partial_fit.")
        categories = "auto" if classes is None else [classes]
        encoder = ClassifierLabelEncoder(categories=categories).fit(y)
        n_classes = encoder.n_classes_
        if target_type != "multilabel-indicator" and n_classes < 2:
            raise ValueError(
                "The number of classes has to be greater than one; got "
                f"{n_classes} class."
            )
        self.target_encoder_ = encoder
        self.target_type_ = target_type
        self.classes_ = encoder.classes_
        self.n_classes_ = n_classes

    def _encode_targets(self, y, *, what):
        if self.target_type_ == "multilabel-indicator":
            if y.ndim != 2 or y.shape[1] != self.n_classes_:
                raise ValueError(
                    f"{what} must be an indicator matrix with {self.n_classes_} "
                    f"columns; got shape {y.shape}."
                )
            return np.asarray(y, dtype=np.float32)
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"{what} contains labels {unseen.tolist()} that were not seen in "
                f"the first fit; known classes are {self.classes_.tolist()}."
            )
        return self.target_encoder_.transform(y).astype(np.float32, copy=False)

    # -- weights and validation ------------------------------------------------

    def _sample_weights(self, X, y, sample_weight):
        if sample_weight is None and self.class_weight is None:
            return None
        weights = _check_sample_weight(sample_weight, X, dtype=np.float32,
                                       ensure_non_negative=True)
        if isinstance(self.class_weight, dict):
            bad = {label: weight for label, weight in self.class_weight.items()
                   if not (np.isfinite(weight) and weight >= 0)}
            if bad:
                raise ValueError(
                    "class_weight must map classes to finite, non-negative "
                    f"weights (as sample_weight must be); got {bad}.")
        if self.class_weight is not None:
            weights = weights * compute_sample_weight(self.class_weight, y)
        return weights.astype(np.float32, copy=False)

    def _split_validation(self, X, y, y_encoded, weights, validation_data,
                          monitor, seed):
        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list))
                    and len(validation_data) == 2):
                raise TypeError("validation_data must be a tuple (X_val, y_val); "
                                f"got {type(validation_data).__name__}.")
            X_val, y_val = self._validate_data(*validation_data, reset=False)
            return X, y_encoded, weights, (
                X_val, self._encode_targets(y_val, what="validation_data y"))
        if not (monitor and self.early_stopping):
            return X, y_encoded, weights, None
        single_label = self.target_type_ != "multilabel-indicator"
        train, val = train_test_split(
            np.arange(X.shape[0]), test_size=self.validation_fraction,
            random_state=seed,
            stratify=y if single_label else None)
        train_weights = None if weights is None else weights[train]
        return X[train], y_encoded[train], train_weights, (X[val], y_encoded[val])

    # -- model -----------------------------------------------------------------

    def _make_model(self, X, seed):
        scaling = {}
        if self.input_scaling == "max_abs":
            largest = max(abs(float(X.max())), abs(float(X.min())))
            scaling["input_scale"] = 1.0 / largest if largest > 0 else 1.0
        elif self.input_scaling == "standard":
            mean = X.mean(axis=0, dtype=np.float64)
            variance = X.var(axis=0, dtype=np.float64)
            scaling.update(input_mean=mean.astype(np.float32),
                           input_variance=variance.astype(np.float32))
        n_outputs = output_units(self.target_type_, self.n_classes_)
        # Every initializer and dropout layer gets its own seed derived from
        # ``seed``: no global seed (Python, NumPy, TensorFlow) is set or read,
        # so seeded fits in parallel threads cannot disturb one another.
        batch_size = min(self.batch_size, X.shape[0])
        model = build_model(
            self.n_features_in_, n_outputs, hidden_layer_sizes=self._hidden_layers(),
            l2=self.alpha / (2.0 * batch_size), seed=seed,
            **self._model_kwargs(), **scaling)
        steps = -(-X.shape[0] // batch_size)
        return compile_model(
            model, self.target_type_, solver=self.solver,
            learning_rate=self.learning_rate,
            steps_per_execution=_steps_per_execution(self.steps_per_execution, steps),
            jit_compile=self.jit_compile)

    def _run_keras_fit(self, X, y, weights, validation, epochs, seed, monitor):
        keras = import_keras()
        epoch_logger, finite_loss_guard = _callback_classes()
        # The guard runs first, so no other callback sees a diverged epoch.
        callbacks = [finite_loss_guard(), *(self.callbacks or [])]
        if int(self.verbose) == 1:
            callbacks.append(epoch_logger())
        stopper = None
        if monitor:
            watch_validation = self.early_stopping and validation is not None
            stopper = keras.callbacks.EarlyStopping(
                monitor="val_loss" if watch_validation else "loss",
                min_delta=self.tol, patience=self.n_iter_no_change,
                restore_best_weights=watch_validation)
            callbacks.append(stopper)
        initial_epoch = len(self.history_.get("loss", []))
        batch_size = min(self.batch_size, X.shape[0])
        steps_per_epoch = -(-X.shape[0] // batch_size)
        steps_per_execution = _steps_per_execution(self.steps_per_execution,
                                                   steps_per_epoch)
        if self.model_.steps_per_execution != steps_per_execution:
            # partial_fit or a warm start on data of another size: retrace
            # the training step for a call size that divides this epoch.
            self.model_.steps_per_execution = steps_per_execution
            self.model_.train_function = None
        # Continue a warm start on a fresh but reproducible shuffle order.
        shuffle_seed = None if seed is None else seed + initial_epoch
        # verbose=1 is one line per epoch (our logger); 2+ is Keras' bar.
        keras_verbose = 1 if int(self.verbose) >= 2 else 0
        if _on_jax():
            from . import _jax_engine

            history = _jax_engine.fit(
                self.model_, X, y, weights,
                multiclass=self.target_type_ == "multiclass",
                batch_size=batch_size, epochs=epochs, initial_epoch=initial_epoch,
                seed=shuffle_seed, callbacks=callbacks, validation=validation,
                verbose=keras_verbose)
        else:
            history = self.model_.fit(
                x=_repeating_batches(X, y, weights, batch_size, shuffle_seed),
                steps_per_epoch=steps_per_epoch,
                validation_data=validation,
                validation_batch_size=max(batch_size, 1024),
                epochs=initial_epoch + epochs, initial_epoch=initial_epoch,
                shuffle=False,  # the data set shuffles itself
                callbacks=callbacks, verbose=keras_verbose).history
        for key, values in history.items():
            self.history_.setdefault(key, []).extend(float(v) for v in values)
        self.n_iter_ = len(self.history_["loss"])
        self.loss_curve_ = list(self.history_["loss"])
        if stopper is not None:
            self.best_epoch_ = stopper.best_epoch + 1  # Keras counts from 0
        else:
            self.best_epoch_ = self.n_iter_

    # -- prediction ------------------------------------------------------------

    def _logits(self, X):
        """Forward pass in chunks through a compiled function.

        ``keras.Model.predict`` builds a data pipeline on every call and an eager
        call dispatches op by op: both cost milliseconds for a single image. One
        traced function per model (any batch size) costs a fraction of that.
        """
        if _on_jax():
            from ._jax_engine import predict_logits

            return predict_logits(self.model_, X)
        forward = _compiled_forward(self.model_)
        outputs = []
        for start in range(0, X.shape[0], _PREDICT_CHUNK):
            chunk = np.asarray(X[start:start + _PREDICT_CHUNK], dtype=np.float32)
            outputs.append(forward(chunk).numpy())
        if not outputs:
            return np.zeros((0, self.model_.output_shape[-1]), dtype=np.float32)
        return np.concatenate(outputs)

    def _probabilities(self, logits):
        if self.target_type_ == "multiclass":
            return softmax(logits, axis=1)
        positive = expit(logits)
        if self.target_type_ == "binary":
            return np.column_stack([1.0 - positive[:, 0], positive[:, 0]])
        return positive
