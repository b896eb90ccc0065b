"""KerasLogistic and KerasMLP: Keras classifiers as scikit-learn estimators.

Both subclass scikeras' ``KerasClassifier`` (so they are scikeras estimators too)
and take scikit-learn's ``MLPClassifier`` parameter names. What scikeras gets
wrong under today's scikit-learn is mended in :mod:`skmnist._compat`; the
training loop (validation split, early stopping, history) is in
:mod:`skmnist._training`.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._compat import ScikerasCompatMixin, scikeras_classifier_base
from ._training import TrainingMixin

KerasClassifier = scikeras_classifier_base()

_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh",
                "relu": "relu", "gelu": "gelu", "elu": "elu", "selu": "selu"}


class _BaseKerasClassifier(ScikerasCompatMixin, TrainingMixin, KerasClassifier):
    """Shared machinery; use :class:`KerasLogistic` or :class:`KerasMLP`."""

    _parameter_constraints: dict = {
        "solver": [StrOptions({"adam", "sgd", "rmsprop"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "input_scaling": [StrOptions({"max_abs", "standard"}), None],
        "steps_per_execution": [Interval(Integral, 1, None, closed="left")],
        "jit_compile": ["boolean"],
        "callbacks": [list, None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def _hidden_layers(self):
        return ()

    def _model_kwargs(self):
        return {}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, validation_data=None):
        """Fit the model to ``(X, y)`` for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            Training data. Raw 0-255 pixels are fine: see ``input_scaling``.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a binary indicator matrix for multilabel targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the loss.
        validation_data : tuple (X_val, y_val), default=None
            Held-out data scored after every epoch. Overrides the
            ``validation_fraction`` split when ``early_stopping=True``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        reset = not (self.warm_start and hasattr(self, "model_"))
        return self._train(X, y, sample_weight, validation_data=validation_data,
                           epochs=self.max_iter, reset=reset, classes=None,
                           monitor=True)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on ``(X, y)``, continuing from the current weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever be seen. Required on the first call
            (unless ``y`` is a multilabel indicator matrix), ignored after.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample.

        Returns
        -------
        self : object
            The updated estimator.
        """
        first_call = not hasattr(self, "model_")
        if first_call:
            self._validate_params()
        return self._train(X, y, sample_weight, validation_data=None, epochs=1,
                           reset=first_call, classes=classes, monitor=False,
                           require_classes=first_call)

    def decision_function(self, X):
        """Logits: the linear scores before the softmax or sigmoid.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            Samples to score.

        Returns
        -------
        ndarray of shape (n_samples,) for binary targets, else (n_samples, n_outputs)
            Scores; for binary targets, positive means ``classes_[1]``.
        """
        check_is_fitted(self)
        X, _ = self._validate_data(X, reset=False)
        logits = self._logits(X)
        return logits[:, 0] if self.target_type_ == "binary" else logits

    def predict_proba(self, X):
        """Class probabilities: softmax of the logits, or sigmoid per label.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            Samples to score.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``; each row sums to one
            except for multilabel targets, where each column is one label.
        """
        check_is_fitted(self)
        X, _ = self._validate_data(X, reset=False)
        return self._probabilities(self._logits(X))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            Samples to score.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predict class labels (or a label indicator matrix for multilabel).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
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


class KerasLogistic(_BaseKerasClassifier):
    """Multinomial logistic regression in Keras, as a scikit-learn classifier.

    One ``Dense`` layer of linear scores (logits) over the flattened pixels,
    trained on the cross-entropy computed from the logits; :meth:`predict_proba`
    applies the softmax (multiclass) or sigmoid (binary, multilabel).

    Parameters
    ----------
    alpha : float, default=1e-4
        L2 penalty on the weights, scaled as in scikit-learn's ``MLPClassifier``
        (``alpha / (2 batch_size) * ||W||^2`` added to each batch's mean loss).
        With full-batch training (``batch_size >= n_samples``), ``alpha = 1 / C``
        matches ``LogisticRegression(C=C)``.
    solver : {"adam", "sgd", "rmsprop"}, default="adam"
        Keras optimizer.
    learning_rate : float, default=3e-3
        Step size of the optimizer.
    batch_size : int, default=200
        Samples per gradient step (capped at the number of samples). Larger
        batches cost less per sample on CPUs; 32 is several times slower.
    max_iter : int, default=100
        Maximum number of epochs (passes over the training data); each epoch
        is exactly ``ceil(n_samples / batch_size)`` optimizer steps.
    tol : float, default=1e-4
        Minimum decrease of the monitored loss that counts as an improvement.
    n_iter_no_change : int, default=10
        Stop after this many epochs without improvement: of the validation loss
        when ``early_stopping=True``, else of the training loss.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified, seeded),
        stop when its loss stops improving and restore the best weights.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``sample_weight``; they must be
        finite and non-negative.
    input_scaling : {"max_abs", "standard"} or None, default="max_abs"
        ``"max_abs"`` divides inputs by the largest absolute value seen in
        ``fit`` (255 for raw pixels), so raw and pre-scaled pixels train alike;
        ``"standard"`` standardises each feature; ``None`` feeds inputs as is.
        The scaling is a layer of the model, so no scaled copy of ``X`` is made.
    steps_per_execution : int, default=32
        Training steps Keras runs per call into TensorFlow; amortises per-step
        overhead, which dominates small models on CPUs.
    jit_compile : bool, default=False
        Compile the training step with XLA.
    callbacks : list of keras.callbacks.Callback, default=None
        Extra Keras callbacks for ``fit`` (e.g. progress displays).
    warm_start : bool, default=False
        Continue from the previous weights when ``fit`` is called again.
    random_state : int, RandomState instance or None, default=None
        Seed for weight initialisation, shuffling and the validation split.
        The same seed gives the same ``predict_proba`` on CPU, also when
        seeded fits run in parallel threads: no global seed is set or read.
    verbose : int, default=0
        0 is silent, 1 prints one line per epoch, 2 shows a progress bar.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features (pixels) per sample seen in ``fit``.
    model_ : keras.Model
        The trained Keras model; it outputs logits.
    history_ : dict of str to list of float
        Per-epoch ``loss``, ``accuracy`` and, with validation data,
        ``val_loss`` and ``val_accuracy``.
    loss_curve_ : list of float
        Training loss per epoch, as in ``MLPClassifier``.
    n_iter_ : int
        Epochs run in total.
    best_epoch_ : int
        1-based epoch with the best monitored loss (the weights kept when
        ``early_stopping=True``).

    See Also
    --------
    KerasMLP : The same with hidden layers.
    sklearn.linear_model.LogisticRegression : The classic solver.

    Notes
    -----
    A ``fit`` or ``partial_fit`` that fails for any reason (bad input, an
    exception or ``KeyboardInterrupt`` raised from a callback, a loss that
    becomes non-finite) leaves the estimator exactly as it was: weights,
    optimizer state, ``history_`` and ``n_iter_``. Training that diverges raises
    a ``ValueError`` naming the likely cause.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skmnist import KerasLogistic
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = KerasLogistic(max_iter=20, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 10)
    >>> round(clf.score(X, y), 1) >= 0.9
    True
    """

    def __init__(self, *, alpha=1e-4, solver="adam", learning_rate=3e-3,
                 batch_size=200, max_iter=100, tol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1, class_weight=None,
                 input_scaling="max_abs", steps_per_execution=32, jit_compile=False,
                 callbacks=None, warm_start=False, random_state=None, verbose=0):
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.input_scaling = input_scaling
        self.steps_per_execution = steps_per_execution
        self.jit_compile = jit_compile
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose


class KerasMLP(_BaseKerasClassifier):
    """Multi-layer perceptron in Keras, as a scikit-learn classifier.

    The tutorial's second model: ``Dense`` hidden layers, then a linear layer of
    logits. Parameters follow scikit-learn's ``MLPClassifier``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(128,)
        Units of each hidden layer.
    activation : {"relu", "tanh", "logistic", "identity", "gelu", "elu", "selu"}, \
default="relu"
        Activation of the hidden layers.
    dropout : float, default=0.0
        Dropout rate after each hidden layer, in [0, 1).
    alpha : float, default=1e-4
        L2 penalty, scaled as in ``MLPClassifier``.
    solver : {"adam", "sgd", "rmsprop"}, default="adam"
        Keras optimizer.
    learning_rate : float, default=1e-3
        Step size of the optimizer.
    batch_size : int, default=200
        Samples per gradient step (capped at the number of samples).
    max_iter : int, default=100
        Maximum number of epochs (passes over the training data); each epoch
        is exactly ``ceil(n_samples / batch_size)`` optimizer steps.
    tol : float, default=1e-4
        Minimum decrease of the monitored loss that counts as an improvement.
    n_iter_no_change : int, default=10
        Stop after this many epochs without improvement: of the validation loss
        when ``early_stopping=True``, else of the training loss.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified, seeded),
        stop when its loss stops improving and restore the best weights.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``sample_weight``; they must be
        finite and non-negative.
    input_scaling : {"max_abs", "standard"} or None, default="max_abs"
        ``"max_abs"`` divides inputs by the largest absolute value seen in
        ``fit`` (255 for raw pixels); ``"standard"`` standardises each
        feature; ``None`` feeds inputs as is. The scaling is a layer of the
        model, so no scaled copy of ``X`` is made.
    steps_per_execution : int, default=32
        Most training steps Keras runs per call into TensorFlow; amortises
        per-step overhead on CPUs. Lowered per fit to the largest divisor of
        the steps per epoch, so an epoch stays one pass.
    jit_compile : bool, default=False
        Compile the training step with XLA.
    callbacks : list of keras.callbacks.Callback, default=None
        Extra Keras callbacks for ``fit`` (e.g. progress displays). If one
        raises, the estimator is left as it was before the call.
    warm_start : bool, default=False
        Continue from the previous weights when ``fit`` is called again.
    random_state : int, RandomState instance or None, default=None
        Seed for weight initialisation, dropout, shuffling and the validation
        split. The same seed gives the same ``predict_proba`` on CPU, also
        when seeded fits run in parallel threads.
    verbose : int, default=0
        0 is silent, 1 prints one line per epoch, 2 shows a progress bar.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_classes_ : int
        Number of classes (or labels, for multilabel targets).
    n_features_in_ : int
        Number of features (pixels) per sample seen in ``fit``.
    model_ : keras.Model
        The trained Keras model; it outputs logits.
    history_ : dict of str to list of float
        Per-epoch ``loss``, ``accuracy`` and, with validation data,
        ``val_loss`` and ``val_accuracy``.
    loss_curve_ : list of float
        Training loss per epoch, as in ``MLPClassifier``.
    n_iter_ : int
        Epochs run in total.
    best_epoch_ : int
        1-based epoch with the best monitored loss (the weights kept when
        ``early_stopping=True``).

    See Also
    --------
    KerasLogistic : No hidden layer.
    sklearn.neural_network.MLPClassifier : Scikit-learn's own MLP.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skmnist import KerasMLP
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = KerasMLP(hidden_layer_sizes=(32,), max_iter=10, random_state=0)
    >>> clf.fit(X, y).n_iter_
    10
    """

    _parameter_constraints: dict = {
        **_BaseKerasClassifier._parameter_constraints,
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None,
                                                      closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, *, hidden_layer_sizes=(128,), activation="relu",
                 dropout=0.0, alpha=1e-4, solver="adam", learning_rate=1e-3,
                 batch_size=200, max_iter=100, tol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1, class_weight=None,
                 input_scaling="max_abs", steps_per_execution=32, jit_compile=False,
                 callbacks=None, warm_start=False, random_state=None, verbose=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.alpha = alpha
        self.solver = solver
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.input_scaling = input_scaling
        self.steps_per_execution = steps_per_execution
        self.jit_compile = jit_compile
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    def _hidden_layers(self):
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not all(isinstance(s, Integral) and s > 0 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be positive integers; got "
                f"{self.hidden_layer_sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _model_kwargs(self):
        return {"activation": _ACTIVATIONS[self.activation],
                "dropout": float(self.dropout)}
