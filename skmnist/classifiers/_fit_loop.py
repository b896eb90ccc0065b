"""One call's training: the network a fresh fit builds, the batches, the epochs.

Functions of the estimator, called by
:meth:`skmnist.classifiers._base.BaseKerasClassifier._fit` once its data are
ready; the Keras side (building, compiling, running epochs) is
:mod:`skmnist._engine`'s.
"""

from .._engine import _optim, _training
from .._engine._builders import compile_model, output_units, set_input_scaling
from .._engine._guards import _callback_classes, _steps_per_execution
from ._fit_data import scaling_constants
from ._validation import check_network_size


def make_model(estimator, X, seed):
    """The compiled network of a fresh fit on ``X``, seeded by ``seed``.

    With ``input_scaling``, its first layer scales the inputs by constants
    computed from ``X``, set as the layer's variables rather than written
    into its config: the folds of a search share one model structure, so
    their programs compile once (see :mod:`skmnist._engine._jax_engine`).
    """
    n_outputs = output_units(estimator.target_type_, estimator.n_classes_)
    check_network_size(estimator, *estimator._network_size(n_outputs))
    # The initial weights and every dropout layer get seeds derived from
    # ``seed``: no global seed (Python, NumPy, TensorFlow) is set or read,
    # so seeded fits in parallel threads cannot disturb one another.
    batch_size, steps_per_execution = batching(estimator, X.shape[0])
    scaling = estimator.input_scaling
    model = estimator._build_network(
        n_outputs,
        l2=estimator.alpha / (2.0 * batch_size),
        seed=seed,
        scale_inputs=scaling is not None,
    )
    if scaling is not None:
        set_input_scaling(model, *scaling_constants(X, scaling))
    return compile_model(
        model,
        estimator.target_type_,
        optimizer=_optim.make_optimizer(estimator),
        steps_per_execution=steps_per_execution,
        jit_compile=estimator.jit_compile,
    )


def batching(estimator, n_samples):
    """``(batch_size, steps_per_execution)`` for ``n_samples`` rows.

    The steps per call divide the epoch, so an epoch stays one pass.
    """
    batch_size = _optim.batch_size(estimator, n_samples)
    steps_per_epoch = -(-n_samples // batch_size)
    return batch_size, _steps_per_execution(
        estimator.steps_per_execution, steps_per_epoch
    )


def train_epochs(
    estimator, X, y, weights, validation, epochs, seed, rule, *, extra_callbacks=()
):
    """Train ``estimator.model_`` for ``epochs`` epochs at most.

    ``rule`` (a :class:`~skmnist._engine._stopping.NoImprovementRule`) decides
    when to stop; the epochs' logs extend ``estimator.history_``. Returns
    ``(epochs run, stopper)``, the stopper saying whether the rule stopped.
    """
    epoch_logger, finite_loss_guard = _callback_classes()
    # The guard runs first, so no other callback sees a diverged epoch.
    callbacks = [finite_loss_guard(), *(estimator.callbacks or []), *extra_callbacks]
    if int(estimator.verbose) == 1:
        callbacks.append(epoch_logger())
    initial_epoch = len(estimator.history_.get("loss", []))
    schedule, stopper = _optim.schedule_callbacks(
        estimator, n_samples=X.shape[0], initial_epoch=initial_epoch, rule=rule
    )
    callbacks[1:1] = schedule  # after the guard, before the user's
    batch_size, steps_per_execution = batching(estimator, X.shape[0])
    history = _training.run_fit(
        estimator.model_,
        X,
        y,
        weights,
        batch_size=batch_size,
        epochs=epochs,
        initial_epoch=initial_epoch,
        steps_per_execution=steps_per_execution,
        # Continue a warm start on a fresh but reproducible shuffle order.
        seed=None if seed is None else seed + initial_epoch,
        shuffle=estimator.shuffle,
        validation=validation,
        callbacks=callbacks,
        # verbose=1 is one line per epoch (our logger); 2+ is Keras' bar.
        verbose=1 if int(estimator.verbose) >= 2 else 0,
    )
    for key, values in history.items():
        estimator.history_.setdefault(key, []).extend(float(v) for v in values)
    return len(history["loss"]), stopper
