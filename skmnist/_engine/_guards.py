"""What keeps a fit honest: exact epochs, a divergence guard, and rollback.

Used by the training loop in :mod:`skmnist._engine._training`: an epoch is one pass
(:func:`_steps_per_execution`), a non-finite loss stops training
(``FiniteLossGuard``), and a fit that fails for any reason leaves the estimator
as it was (:func:`_unchanged_on_failure`).
"""

import contextlib
import copy
import functools
import time

import numpy as np

from ._keras import import_keras


def _steps_per_execution(requested, steps_per_epoch):
    """The largest divisor of ``steps_per_epoch`` that is at most ``requested``.

    Keras runs ``steps_per_execution`` steps per call into TensorFlow and
    rounds every epoch up to a whole number of calls. On a repeating data set
    that is extra optimizer steps (32 per epoch for 100 rows at the default
    32), so an epoch would not be one pass. A divisor of the epoch keeps the
    epoch exact and still amortises the per-call overhead.
    """
    for steps in range(min(requested, steps_per_epoch), 0, -1):
        if steps_per_epoch % steps == 0:
            return steps
    return 1  # pragma: no cover - 1 divides everything


@functools.cache
def _callback_classes():
    """Keras callback classes, defined once (Keras is imported lazily)."""
    keras = import_keras()

    class EpochLogger(keras.callbacks.Callback):
        """One line per epoch, as ``MLPClassifier(verbose=True)`` prints."""

        def on_epoch_begin(self, epoch, logs=None):
            self._started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            # "train loss 0.3166, train accuracy 0.9183, val loss 0.3791, ...":
            # Keras' bare "loss" next to "val_loss" is easy to misread.
            logs = logs or {}
            train = {name: v for name, v in logs.items() if not name.startswith("val_")}
            val = {name[4:]: v for name, v in logs.items() if name.startswith("val_")}
            metrics = ", ".join(
                f"{prefix} {name} {value:.4f}"
                for prefix, group in (("train", train), ("val", val))
                for name, value in sorted(
                    group.items(), key=lambda item: (item[0] != "loss", item[0])
                )
            )
            seconds = time.perf_counter() - self._started
            print(
                f"Epoch {epoch + 1}/{self.params['epochs']} - {metrics} - "
                f"{seconds:.2f}s",
                flush=True,
            )

    class FiniteLossGuard(keras.callbacks.Callback):
        """Stop at the first epoch whose mean training loss is not finite."""

        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not np.isfinite(loss):
                raise _Diverged(epoch + 1, float(loss))

    return EpochLogger, FiniteLossGuard


class _Diverged(Exception):
    """Raised inside Keras' loop; turned into a ValueError by ``_train``."""

    def __init__(self, epoch, loss):
        super().__init__(epoch, loss)
        self.epoch, self.loss = epoch, loss


@contextlib.contextmanager
def _unchanged_on_failure(estimator, model):
    """Leave ``estimator`` exactly as it was if the block raises anything.

    Restores the attribute dictionary (``history_`` deep-copied, since it is
    extended in place) and, when ``model`` is trained in place (warm start,
    ``partial_fit``), its weights, its optimizer's variables (iterations and
    moments) and its ``steps_per_execution``. This covers KeyboardInterrupt
    and errors raised by user callbacks in the middle of an epoch.
    """
    saved = dict(vars(estimator))
    saved_history = copy.deepcopy(saved.get("history_"))
    if model is not None:
        weights = model.get_weights()
        optimizer = model.optimizer
        optimizer_state = [
            (variable, variable.numpy()) for variable in optimizer.variables
        ]
        steps_per_execution = model.steps_per_execution
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(saved)
        if saved_history is not None:
            estimator.history_ = saved_history
        if model is not None:
            model.set_weights(weights)
            known = {id(variable) for variable, _ in optimizer_state}
            for variable, value in optimizer_state:
                variable.assign(value)
            # Variables first created by the failed fit (an optimizer built
            # lazily) go back to their unbuilt meaning: zero moments.
            for variable in optimizer.variables:
                if id(variable) not in known:
                    variable.assign(np.zeros(variable.shape, variable.dtype))
            if model.steps_per_execution != steps_per_execution:
                model.steps_per_execution = steps_per_execution
                model.train_function = None
        raise


def _all_finite(model):
    return all(np.isfinite(weights).all() for weights in model.get_weights())
