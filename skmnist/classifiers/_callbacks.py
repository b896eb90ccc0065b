"""scikit-learn's own callbacks (``sklearn.callback``) on skmnist's estimators.

scikit-learn 1.9 added a callback protocol: an estimator's ``fit`` is a task,
its iterations are subtasks, and callbacks set with ``set_callbacks`` (such as
``ProgressBar`` and ``ScoringMonitor``) hear when each task begins and ends,
through ``Pipeline`` and ``GridSearchCV`` too. For a Keras classifier the
subtasks are the epochs: :class:`FitTask` opens the fit task, and a Keras
callback (:func:`_epoch_tasks_class`) turns each epoch into a subtask at the
same point where skmnist's own per-epoch hooks run, on JAX and on TensorFlow.
A sklearn callback that raises therefore fails the fit like a Keras callback
does (the estimator is left as it was), and one that asks to stop ends the
training after that epoch.

With scikit-learn older than 1.9 there is no protocol: :class:`FitTask` does
nothing and ``set_callbacks`` raises an ImportError that says what is needed.
"""

import functools

try:
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # scikit-learn < 1.9
    CallbackSupportMixin = None

SUPPORTED = CallbackSupportMixin is not None

if SUPPORTED:

    class CallbackSupport(CallbackSupportMixin):
        """``set_callbacks``, from scikit-learn's ``CallbackSupportMixin``."""

else:

    class CallbackSupport:
        """``set_callbacks`` that says scikit-learn >= 1.9 is needed."""

        def set_callbacks(self, *callbacks):
            """Refuse: scikit-learn's callbacks need scikit-learn >= 1.9.

            Parameters
            ----------
            *callbacks : callback instances
                The callbacks scikit-learn >= 1.9 would set.

            Raises
            ------
            ImportError
                Always: this scikit-learn has no ``sklearn.callback``.
            """
            import sklearn

            raise ImportError(
                f"{type(self).__name__}.set_callbacks needs scikit-learn >= 1.9 "
                f"(sklearn.callback); this is scikit-learn {sklearn.__version__}. "
                "Upgrade scikit-learn, or use the Keras `callbacks` parameter."
            )

    def with_callbacks(method):
        """No callbacks to tear down: ``method`` unchanged."""
        return method


class FitTask:
    """One call of ``fit`` / ``partial_fit`` as a scikit-learn callback task.

    Create it before the estimator's rollback snapshot (it sets up the
    callbacks and records the task on the estimator, which scikit-learn's
    ``_fit_context`` / ``with_callbacks`` tear down after the call), then call
    :meth:`begin` once the data are validated, give :meth:`keras_callbacks`
    to the training loop, and call :meth:`end` once training is over.

    Parameters
    ----------
    estimator : estimator with :class:`CallbackSupport`
        The estimator being fitted.
    n_epochs : int
        The most epochs this call trains (``max_iter``, or 1 for
        ``partial_fit``): the fit task's ``max_subtasks``; 0 for a fit
        without epochs (:class:`~skmnist.PixelScaler`).
    """

    def __init__(self, estimator, n_epochs):
        self._estimator = estimator
        self._context = None
        self._hook_kwargs = {}
        self._first_epoch = None
        if SUPPORTED:
            self._context = estimator._init_callback_context(max_subtasks=n_epochs)

    def begin(self, X, y, sample_weight=None):
        """The fit task begins on the validated ``X`` and labels ``y``.

        Callbacks are given the data passed to ``fit`` (rows held out for
        early stopping included), so a ``ScoringMonitor`` scores what
        ``estimator.score(X, y)`` would.
        """
        if self._context is None:
            return
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self._hook_kwargs = {"X": X, "y": y, "metadata": metadata}
        self._context.call_on_fit_task_begin(
            estimator=self._estimator, **self._hook_kwargs
        )

    def keras_callbacks(self):
        """The Keras callback making each epoch a subtask (none if not needed)."""
        if self._context is None or not getattr(self._estimator, "_skl_callbacks", []):
            return []
        return [_epoch_tasks_class()(self)]

    def end(self):
        """The fit task ends: the estimator is fitted (and scored as such)."""
        if self._context is None:
            return
        self._context.call_on_fit_task_end(
            estimator=self._estimator,
            **self._hook_kwargs,
            reconstruction_attributes={},
        )

    def _epoch_begin(self, epoch):
        # Keras counts epochs over the whole history (a warm start continues
        # it); n_iter_ counts this call's, as MLPClassifier's.
        if self._first_epoch is None:
            self._first_epoch = epoch
        self._epoch_context = self._context.subcontext(task_name="epoch")
        self._epoch_context.call_on_fit_task_begin(
            estimator=self._estimator,
            **self._hook_kwargs,
            reconstruction_attributes=self._state_after(epoch - self._first_epoch),
        )

    def _epoch_end(self, epoch):
        """Whether a callback asks to stop after this epoch."""
        return self._epoch_context.call_on_fit_task_end(
            estimator=self._estimator,
            **self._hook_kwargs,
            reconstruction_attributes=self._state_after(epoch - self._first_epoch + 1),
        )

    def _state_after(self, n_epochs):
        # The hooks' ``fitted_estimator`` is a shallow copy of the estimator
        # with these attributes: it shares the Keras model being trained, so
        # it predicts with the weights of this epoch while the hook runs (a
        # copy of the network per epoch would cost more than the epoch). The
        # lambda defers even the dict to the hooks that ask for it.
        return lambda: {"n_iter_": n_epochs}


@functools.cache
def _epoch_tasks_class():
    """The Keras callback class of :meth:`FitTask.keras_callbacks`."""
    from .._engine._keras import import_keras  # Keras only once a network trains

    keras = import_keras()

    class EpochTasks(keras.callbacks.Callback):
        """Each Keras epoch as a subtask of a :class:`FitTask`."""

        def __init__(self, fit_task):
            super().__init__()
            self._fit_task = fit_task

        def on_epoch_begin(self, epoch, logs=None):
            self._fit_task._epoch_begin(epoch)

        def on_epoch_end(self, epoch, logs=None):
            if self._fit_task._epoch_end(epoch):
                self.model.stop_training = True

    return EpochTasks
