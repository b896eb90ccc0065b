"""Training and prediction on Keras 3's JAX backend, many steps per XLA call.

Keras' own ``fit`` on JAX calls one jitted step per batch from Python, and
spends as long in that loop (callbacks, logs, a NumPy slice and a device copy
per batch) as in the step itself for a small MLP. Here ``steps_per_execution``
steps (a divisor of the epoch) are one ``jax.lax.scan`` over fixed-shape
batches: the data go to the device once per fit (integer pixels stay integers
until the model's first layer), each call sends only shuffled row indices, and
the last, short batch of an epoch is padded with zero-weight rows so every call
reuses one compiled program. Sparse ``X`` stays on the host: each call gets its
own rows, densified (:mod:`skmnist._engine._jax_data`).

Models with convolutions are the exception: XLA's CPU backend runs a
convolution's gradient about 14 times slower inside a loop than outside one
(jax-ml/jax#12868; 2.0 s against 0.15 to 0.2 s for one KerasCNN step here), so
programs take one step, unrolled, and Python calls them once per batch, as
Keras' own ``fit`` does. A step of a CNN is long enough that the call costs
nothing measurable.

The model's own pieces are used throughout (``stateless_call`` with its
regularisation losses, the compiled loss, ``optimizer.stateless_apply``), so a
step is the step Keras' ``fit`` takes; callbacks see a batch end after every
call, with the model's variables up to date, as Keras does with
``steps_per_execution``. Compiled programs are cached per model structure (a
bounded cache of structural copies; the input scaling's constants are
variables, not structure), so the fits of a search compile once; no cache
holds a user's model, its weights or its data.
"""

import threading

import numpy as np

from . import _jax_layers


class _Programs:
    """The compiled programs of one model structure (``_programs`` builds it)."""

    def __init__(self, model):
        import jax

        from ._keras import import_keras, without_tensorflow

        keras = import_keras()
        # A structural copy: the programs never see the user's model, only the
        # variable values passed to them, so a cached entry keeps no fitted
        # model (nor its data) alive.
        with without_tensorflow():
            # Pooling and shifts as other XLA operations, same results
            # (._jax_layers): the user's model keeps Keras' classes.
            template = keras.models.clone_model(
                model, clone_function=_jax_layers.clone_layer
            )
            optimizer = type(model.optimizer).from_config(model.optimizer.get_config())
            optimizer.build(template.trainable_variables)
            loss = keras.losses.deserialize(keras.losses.serialize(model.loss))
        self._template, self._optimizer, self._loss = template, optimizer, loss
        self.forward = jax.jit(_make_forward(template))
        # One step per call, straight-line code: see the module's docstring.
        # The slow loops are XLA:CPU's; other platforms keep the scan.
        on_cpu = jax.default_backend() == "cpu"
        self.steps_per_call = 1 if on_cpu and _has_convolution(template) else None
        self._compiled = {}
        self._lock = threading.Lock()

    def epoch(self, multiclass):
        return self._get(
            "epoch",
            multiclass,
            _make_epoch,
            self._optimizer,
            unroll=self.steps_per_call is not None,
        )

    def validate(self, multiclass):
        return self._get("validate", multiclass, _make_validate)

    def _get(self, kind, multiclass, make, *args, **options):
        import jax

        # Two threads of a search start a candidate's folds together: one
        # jitted function between them, so its programs compile once.
        with self._lock:
            if (kind, multiclass) not in self._compiled:
                self._compiled[kind, multiclass] = jax.jit(
                    make(self._template, *args, self._loss, multiclass, **options)
                )
            return self._compiled[kind, multiclass]


def _has_convolution(model):
    from ._keras import import_keras

    keras = import_keras()
    convolutions = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
    return any(isinstance(layer, convolutions) for layer in model._flatten_layers())


_PROGRAMS = {}
_PROGRAMS_LOCK = threading.Lock()
# Model structures whose compiled programs are kept (the oldest goes first):
# enough for a grid search over a few architectures, bounded so that no
# process grows with the number of fits.
_MAX_PROGRAMS = 8


def _structure_key(model):
    """What the compiled programs depend on: the config without seeds."""
    import json

    from ._keras import without_tensorflow

    def without_seeds(node):
        if isinstance(node, dict):
            return {k: without_seeds(v) for k, v in node.items() if k != "seed"}
        if isinstance(node, (list, tuple)):
            return [without_seeds(v) for v in node]
        return node

    optimizer = dict(model.optimizer.get_config())
    # The learning rate is a variable, passed as state; the name is numbered.
    optimizer.pop("learning_rate", None)
    optimizer.pop("name", None)
    with without_tensorflow():
        parts = [
            without_seeds(model.get_config()),
            type(model.optimizer).__name__,
            optimizer,
            type(model.loss).__name__,
            model.loss.get_config(),
        ]
    return json.dumps(parts, sort_keys=True, default=repr)


def _programs(model):
    """The compiled programs for ``model``'s structure, from a bounded cache.

    The model keeps a reference to its entry (the key costs milliseconds to
    compute, too long for a one-image predict); the entry does not refer back.
    """
    programs = getattr(model, "_skmnist_programs", None)
    if programs is not None:
        return programs

    key = _structure_key(model)
    with _PROGRAMS_LOCK:
        programs = _PROGRAMS.pop(key, None)
        if programs is None:
            programs = _Programs(model)
        _PROGRAMS[key] = programs  # now the most recent
        while len(_PROGRAMS) > _MAX_PROGRAMS:
            del _PROGRAMS[next(iter(_PROGRAMS))]
    model._skmnist_programs = programs
    return programs


def _make_forward(template):
    import jax.numpy as jnp

    def logits(trainable, non_trainable, x):
        out, _ = template.stateless_call(
            trainable, non_trainable, x.astype(jnp.float32), training=False
        )
        return out

    return logits


def predict_logits(model, X):
    """Logits of ``X`` (any numeric dtype, dense or sparse) as float32."""
    from ._jax_data import predict_chunks

    forward = _programs(model).forward
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    outputs = [
        np.asarray(forward(trainable, non_trainable, chunk))[:n_rows]
        for chunk, n_rows in predict_chunks(X)
    ]
    if not outputs:
        return np.zeros((0, model.output_shape[-1]), dtype=np.float32)
    return np.concatenate(outputs)


def _accuracy(logits, y, multiclass):
    import jax.numpy as jnp

    if multiclass:
        labels = y.reshape(logits.shape[0]).astype(jnp.int32)
        return (jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32)
    # A logit of 0 is a probability of 0.5, as BinaryAccuracy(threshold=0).
    y = y.reshape(logits.shape)
    return jnp.mean((logits > 0) == (y > 0.5), axis=-1).astype(jnp.float32)


def _make_epoch(model, optimizer, loss_object, multiclass, unroll=False):
    """``(state, data, plan) -> (state, (loss sum, correct sum))``.

    Runs the steps of ``plan`` (an epoch, or ``steps_per_execution`` steps of
    it) as one ``lax.scan``; ``unroll=True`` writes them out without a loop.
    """
    import jax
    import jax.numpy as jnp

    def step(carry, batch, X, y):
        trainable, non_trainable, optimizer_state = carry
        rows, loss_weights, metric_weights, n_real = batch
        xb = X[rows].astype(jnp.float32)
        yb = y[rows]

        def total_loss(trainable, non_trainable):
            out, non_trainable, penalties = model.stateless_call(
                trainable, non_trainable, xb, training=True, return_losses=True
            )
            loss = loss_object(yb, out, sample_weight=loss_weights)
            if penalties:
                loss = loss + sum(penalties)
            return loss, (out, non_trainable)

        (loss, (out, non_trainable)), grads = jax.value_and_grad(
            total_loss, has_aux=True
        )(trainable, non_trainable)
        trainable, optimizer_state = optimizer.stateless_apply(
            optimizer_state, grads, trainable
        )
        correct = jnp.sum(_accuracy(out, yb, multiclass) * metric_weights)
        return (trainable, non_trainable, optimizer_state), (loss * n_real, correct)

    def epoch(state, data, plan):
        if unroll:
            # Written out at trace time: even a scan unrolled by JAX ran a
            # CNN's step at the in-loop speed here.
            losses = correct = 0.0
            for i in range(plan[0].shape[0]):
                state, (loss, right) = step(state, [p[i] for p in plan], *data)
                losses, correct = losses + loss, correct + right
            return state, (losses, correct)
        state, (losses, correct) = jax.lax.scan(
            lambda carry, batch: step(carry, batch, *data), state, plan
        )
        return state, (jnp.sum(losses), jnp.sum(correct))

    return epoch


def _read_state(model):
    return (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
        [v.value for v in model.optimizer.variables],
    )


def _write_state(model, state):
    trainable, non_trainable, optimizer_state = state
    for variables, values in (
        (model.trainable_variables, trainable),
        (model.non_trainable_variables, non_trainable),
        (model.optimizer.variables, optimizer_state),
    ):
        for variable, value in zip(variables, values):
            variable.assign(value)


def _make_validate(model, loss_object, multiclass):
    """``(trainable, non_trainable, X, y, weights, n_real) -> (loss, correct rows)``.

    One pass over a chunk of the validation set, padded (rows past ``n_real``
    get weight 0); the loss, weighted, includes the regularisation, as Keras'
    ``val_loss``; the count of correct rows is unweighted.
    """
    import jax.numpy as jnp

    def validate(trainable, non_trainable, X, y, weights, n_real):
        out, _, penalties = model.stateless_call(
            trainable,
            non_trainable,
            X.astype(jnp.float32),
            training=False,
            return_losses=True,
        )
        mask = (jnp.arange(X.shape[0]) < n_real).astype(jnp.float32)
        loss = loss_object(y, out, sample_weight=weights * (X.shape[0] / n_real))
        if penalties:
            loss = loss + sum(penalties)
        return loss, jnp.sum(_accuracy(out, y, multiclass) * mask)

    return validate


def fit(
    model,
    X,
    y,
    weights,
    *,
    multiclass,
    batch_size,
    epochs,
    initial_epoch,
    seed,
    callbacks,
    validation,
    verbose,
    shuffle=True,
):
    """Train ``model`` (compiled) for ``epochs`` epochs; return the history.

    ``X`` is a NumPy array or a CSR matrix (see :mod:`._jax_data`).
    ``weights`` may be None (all ones). ``seed`` (None: fresh entropy) seeds
    the shuffling through a local NumPy generator, so no global state is
    touched. As in Keras, callbacks see a batch end every
    ``model.steps_per_execution`` steps (one compiled call), with the model's
    variables up to date.
    """
    from . import _jax_data
    from ._guards import _steps_per_execution
    from ._keras import import_keras

    keras = import_keras()
    n_samples = X.shape[0]
    batch_size = min(batch_size, n_samples)
    if weights is None:
        weights = np.ones(n_samples, dtype=np.float32)
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    programs = _programs(model)
    run_steps = programs.epoch(multiclass)
    if validation is not None:
        validation = _jax_data.validation_chunks(validation)
    data = _jax_data.device_data(X, y)  # None: sparse rows go a call at a time
    rng = np.random.default_rng(seed)
    n_steps = -(-n_samples // batch_size)
    # Calls of equal length (a divisor of the epoch): one compiled program.
    per_call = _steps_per_execution(int(model.steps_per_execution), n_steps)
    # Steps per compiled call: all of a callback's batch, or one (convolutions),
    # or as many as fit SPARSE_PIECE_BYTES once densified.
    step_length = programs.steps_per_call or per_call
    if data is None:
        step_length = _jax_data.sparse_steps(
            step_length, batch_size, X.shape[1], X.dtype.itemsize
        )
    callback_list = keras.callbacks.CallbackList(
        callbacks,
        add_history=True,
        add_progbar=verbose != 0,
        verbose=verbose,
        epochs=initial_epoch + epochs,
        steps=n_steps,
        model=model,
    )
    model.stop_training = False
    callback_list.on_train_begin()
    logs = {}
    for epoch in range(initial_epoch, initial_epoch + epochs):
        callback_list.on_epoch_begin(epoch)
        plan = _jax_data.epoch_plan(rng, weights, batch_size, shuffle)
        loss_sum = correct_sum = 0.0
        for first in range(0, n_steps, per_call):
            callback_list.on_train_batch_begin(first)
            steps = slice(first, first + per_call)
            state = _read_state(model)
            call_loss = call_correct = 0.0
            for start in range(steps.start, steps.stop, step_length):
                piece = tuple(p[start : start + step_length] for p in plan)
                piece_data = data
                if data is None:
                    piece_data, piece = _jax_data.sparse_piece(X, y, piece)
                state, (loss, correct) = run_steps(state, piece_data, piece)
                # Summed on the device: no wait for each step to finish.
                call_loss, call_correct = call_loss + loss, call_correct + correct
            _write_state(model, state)
            loss_sum += float(call_loss)
            correct_sum += float(call_correct)
            seen = float(np.sum(plan[2][: steps.stop]))  # weight, as Keras' mean
            logs = {
                "loss": loss_sum / float(np.sum(plan[3][: steps.stop])),
                "accuracy": correct_sum / seen if seen > 0 else 0.0,
            }
            callback_list.on_train_batch_end(steps.stop - 1, logs)
            if model.stop_training:
                break
        if validation is not None:
            val_loss, val_accuracy = _jax_data.score_validation(
                programs.validate(multiclass), state[0], state[1], validation
            )
            logs.update(val_loss=val_loss, val_accuracy=val_accuracy)
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    history = next(
        c for c in callback_list.callbacks if isinstance(c, keras.callbacks.History)
    )
    return history.history
