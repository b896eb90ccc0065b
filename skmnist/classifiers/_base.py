"""The one base class of skmnist's Keras classifiers.

:class:`BaseKerasClassifier` holds everything :class:`~skmnist.KerasLogistic`
and :class:`~skmnist.KerasMLP` share, as scikit-learn's
``BaseMultilayerPerceptron`` does for its MLPs: the parameters (stored once,
by :meth:`__init__`), their constraints, ``fit`` and ``partial_fit`` through
one :meth:`_fit` (``incremental`` tells them apart), and prediction. A
subclass only adds its own parameters and says which hidden layers its
network has (:meth:`_hidden_layers`, :meth:`_model_kwargs`).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import ClassifierTags
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._engine import _optim, _training
from .._engine._builders import build_model
from .._engine._guards import _all_finite, _Diverged, _unchanged_on_failure
from .._engine._pickling import KerasModelPickling
from . import _fit_data, _fit_loop, _stopping
from ._callbacks import CallbackSupport, FitTask, with_callbacks
from ._mlp_attributes import OutputAttributesMixin
from ._targets import (
    check_same_classes,
    encode_targets,
    fit_target_encoder,
    log_probabilities,
    probabilities,
)
from ._validation import check_data


class BaseKerasClassifier(
    KerasModelPickling,
    OutputAttributesMixin,
    _optim.KerasNamesMixin,
    CallbackSupport,
    ClassifierMixin,
    BaseEstimator,
):
    """Shared machinery; use :class:`~skmnist.KerasLogistic` or
    :class:`~skmnist.KerasMLP`.

    The parameters are documented on those classes.
    """

    _parameter_constraints: dict = {
        **_optim.CONSTRAINTS,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "input_scaling": [StrOptions({"auto", "max_abs", "standard"}), None],
        "steps_per_execution": [Interval(Integral, 1, None, closed="left")],
        "jit_compile": ["boolean"],
        "callbacks": [list, None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        alpha,
        solver,
        learning_rate,
        learning_rate_init,
        power_t,
        batch_size,
        shuffle,
        momentum,
        nesterovs_momentum,
        beta_1,
        beta_2,
        epsilon,
        max_fun,
        max_iter,
        tol,
        n_iter_no_change,
        early_stopping,
        validation_fraction,
        validation_split,
        class_weight,
        input_scaling,
        steps_per_execution,
        jit_compile,
        callbacks,
        warm_start,
        random_state,
        verbose,
    ):
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.max_fun = max_fun
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.validation_split = validation_split
        self.class_weight = class_weight
        self.input_scaling = input_scaling
        self.steps_per_execution = steps_per_execution
        self.jit_compile = jit_compile
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags = ClassifierTags(multi_label=True)
        tags.input_tags.three_d_array = True
        tags.input_tags.sparse = True  # trained a batch of rows at a time
        return tags

    def _check_data(self, X=None, y=None, *, reset=False):
        """Validated ``(X, y)``; a subclass adds checks of its own input."""
        return check_data(self, X, y, reset=reset)

    def _hidden_layers(self):
        """Units of the hidden layers (none: logistic regression)."""
        return ()

    def _model_kwargs(self):
        """Extra keyword arguments of :func:`skmnist._engine._builders.build_model`."""
        return {}

    def _network_size(self, n_outputs):
        """``(weights, what decides them)`` of the network, counted before building."""
        hidden = self._hidden_layers()
        widths = [self.n_features_in_, *hidden, n_outputs]
        n_weights = sum((a + 1) * b for a, b in zip(widths, widths[1:]))
        layers = f"hidden_layer_sizes={self.hidden_layer_sizes!r} on " if hidden else ""
        return n_weights, f"{layers}{self.n_features_in_} features, {n_outputs} outputs"

    def _build_network(self, n_outputs, **kwargs):
        """The uncompiled Keras model; ``kwargs`` hold the seed, L2 and scaling."""
        return build_model(
            self.n_features_in_,
            n_outputs,
            hidden_layer_sizes=self._hidden_layers(),
            **self._model_kwargs(),
            **kwargs,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, validation_data=None, **kwargs):
        """Fit the model to ``(X, y)`` for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) \
or (n_samples, h, w)
            Training data. Raw 0-255 pixels are fine: see ``input_scaling``.
            A sparse matrix (CSR or CSC, as ``MLPClassifier`` takes) is
            trained on a batch of rows at a time, never densified whole.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a binary indicator matrix for multilabel targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the loss.
        validation_data : tuple (X_val, y_val), default=None
            Held-out data scored after every epoch. Overrides the
            ``validation_split`` share, or the ``validation_fraction`` one
            when ``early_stopping=True``.
        **kwargs : dict
            Not accepted: Keras' ``fit`` arguments (``epochs``,
            ``validation_split``, ``batch_size``, ...) are constructor
            parameters here, and a ``TypeError`` names each one's.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        _optim.refuse_keras_names(type(self).__name__, kwargs, where="fit")
        return self._fit(
            X, y, sample_weight, validation_data=validation_data, incremental=False
        )

    @with_callbacks
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on ``(X, y)``, continuing from the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) \
or (n_samples, h, w)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever be seen. Required on the first call
            (unless ``y`` is a multilabel indicator matrix); on a later call
            it must be the same, or a ``ValueError`` says so, as in
            ``MLPClassifier``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if not hasattr(self, "model_"):
            self._validate_params()
        return self._fit(X, y, sample_weight, classes=classes, incremental=True)

    def decision_function(self, X):
        """Logits: the linear scores before the softmax or sigmoid.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) \
or (n_samples, h, w)
            Samples to score.

        Returns
        -------
        ndarray of shape (n_samples,) for binary targets, else (n_samples, n_outputs)
            Scores; for binary targets, positive means ``classes_[1]``.
        """
        check_is_fitted(self)
        X, _ = self._check_data(X, reset=False)
        logits = _training.logits(self.model_, X)
        return logits[:, 0] if self.target_type_ == "binary" else logits

    def predict_proba(self, X):
        """Class probabilities: softmax of the logits, or sigmoid per label.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) \
or (n_samples, h, w)
            Samples to score.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; each row sums to one
            except for multilabel targets, where each column is one label.
        """
        check_is_fitted(self)
        X, _ = self._check_data(X, reset=False)
        return probabilities(_training.logits(self.model_, X), self.target_type_)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed from the logits.

        ``log_softmax`` of the logits (multiclass), else the log-sigmoid of
        each: finite where a probability rounds to 0.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) \
or (n_samples, h, w)
            Samples to score.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        check_is_fitted(self)
        X, _ = self._check_data(X, reset=False)
        logits = _training.logits(self.model_, X)
        return log_probabilities(logits, self.target_type_)

    def predict(self, X):
        """Predict class labels (or a label indicator matrix for multilabel).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) \
or (n_samples, h, w)
            Samples to classify.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted labels, of the same type as the training labels.
        """
        proba = self.predict_proba(X)
        if self.target_type_ == "multilabel-indicator":
            return (proba > 0.5).astype(int)
        return self.classes_[np.argmax(proba, axis=1)]

    # -- training ----------------------------------------------------------------

    def _fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        validation_data=None,
        classes=None,
        incremental=False,
    ):
        """Fit (``max_iter`` epochs) or, ``incremental``, train one more epoch.

        A new network is built unless ``incremental`` or ``warm_start`` finds
        one. Whatever happens inside, an exception (Ctrl-C too) leaves the
        estimator exactly as it was before the call.
        """
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        first_call = not hasattr(self, "model_")
        reset = first_call or not (incremental or self.warm_start)
        epochs = 1 if incremental else self.max_iter
        # Before the rollback snapshot: a failed fit keeps the callback task,
        # for scikit-learn to tear down.
        sk_task = FitTask(self, epochs)
        with _unchanged_on_failure(self, None if reset else self.model_):
            X, y = self._check_data(X, y, reset=reset)
            check_classification_targets(y)
            sk_task.begin(X, y, sample_weight)
            if reset:
                self.classes_, self.target_type_ = fit_target_encoder(
                    y,
                    classes if incremental else None,
                    require_classes=incremental and first_call,
                )
                self.n_classes_ = len(self.classes_)
            else:
                check_same_classes(self, y, classes, incremental=incremental)
            y_encoded = encode_targets(self, y, what="y")
            weights = _fit_data.sample_weights(self, X, y, sample_weight)
            seed = _training._seed_from(self.random_state)
            X, y_encoded, weights, validation = _fit_data.split_validation(
                self, X, y, y_encoded, weights, validation_data, not incremental, seed
            )
            if reset:
                self._random_state = seed
                self.model_ = _fit_loop.make_model(self, X, seed)
                self.history_ = {}
                self.t_ = 0
            rule = _stopping.stopping_rule(
                self,
                reset=reset,
                on_validation=self.early_stopping and validation is not None,
            )
            try:
                epochs_run, stopper = _fit_loop.train_epochs(
                    self,
                    X,
                    y_encoded,
                    weights,
                    validation,
                    epochs,
                    seed,
                    rule,
                    extra_callbacks=sk_task.keras_callbacks(),
                )
            except _Diverged as diverged:
                raise self._divergence_error(diverged.epoch, diverged.loss) from None
            if not _all_finite(self.model_):
                raise self._divergence_error(len(self.history_["loss"]), float("nan"))
            _stopping.record(self, rule, epochs_run)
            if not incremental:
                _stopping.warn_if_not_converged(self, stopper, epochs, epochs_run)
            # Samples seen, as MLPClassifier's t_ (invscaling counts them).
            self.t_ = getattr(self, "t_", 0) + X.shape[0] * epochs_run
            sk_task.end()
        return self

    def _divergence_error(self, epoch, loss):
        return ValueError(
            f"Training diverged at epoch {epoch}: the training loss became {loss} "
            "and the weights are no longer finite. The learning rate is likely "
            f"too high (learning_rate_init={self.learning_rate_init!r}) or the L2 "
            f"penalty too large (alpha={self.alpha!r}), or sample or class "
            "weights are too large; lower them. The estimator keeps the state it "
            "had before this call."
        )
