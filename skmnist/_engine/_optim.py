"""The optimizer side of a fit, with MLPClassifier's parameter names.

:mod:`skmnist.classifiers._base` asks here for the Keras optimizer (``solver`` with
``learning_rate_init``, ``momentum``, ``nesterovs_momentum``, ``beta_1``,
``beta_2``, ``epsilon``), the batch size (``"auto"``), and the Keras callbacks
that carry ``learning_rate``'s schedule and the stopping rule. The schedules
only set the optimizer's ``learning_rate`` variable between epochs, so they
work unchanged on Keras' TensorFlow ``fit`` and on skmnist's JAX engine, which
passes that variable into its compiled epoch as state.

It also turns the names a Keras or an old skmnist user types (``epochs``,
a float ``learning_rate``, ``fit(validation_split=...)``) into errors that say
what to write instead.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)

from ._keras import import_keras
from ._stopping import stopping_class

SOLVERS = ("adam", "sgd", "rmsprop")

# The parameters shared with MLPClassifier that only shape the optimizer, the
# batches or the schedule; the rest stay in _base's own constraints.
CONSTRAINTS = {
    "solver": [StrOptions(set(SOLVERS))],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "shuffle": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [
        Interval(Integral, 1, None, closed="left"),
        Options(Real, {np.inf}),
    ],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    "validation_split": [Interval(Real, 0, 1, closed="left")],
}

# Keras' names that skmnist spells otherwise (or takes elsewhere), and what to
# write instead: in the constructor (or set_params) ...
_KERAS_PARAMS = {
    "epochs": "use max_iter, the most epochs (scikit-learn's name)",
    "optimizer": "use solver ('adam', 'sgd' or 'rmsprop') and learning_rate_init",
    "lr": "use learning_rate_init, the step size",
    "units": "use hidden_layer_sizes",
}
# ... and in fit, which takes only data (as every scikit-learn estimator).
_KERAS_FIT_ARGS = {
    "epochs": "set max_iter in the constructor, e.g. {cls}(max_iter=50)",
    "validation_split": "pass validation_split to the constructor, e.g. "
    "{cls}(validation_split=0.2)",
    "batch_size": "pass batch_size to the constructor",
    "shuffle": "pass shuffle to the constructor",
    "class_weight": "pass class_weight to the constructor",
    "callbacks": "pass callbacks to the constructor",
    "verbose": "pass verbose to the constructor",
    "initial_epoch": "continue training with warm_start=True or partial_fit",
}


def keras_equivalent(name):
    """What to write instead of Keras' parameter ``name``, or None."""
    return _KERAS_PARAMS.get(name)


def refuse_keras_names(cls_name, kwargs, *, where):
    """Raise a TypeError naming skmnist's equivalent of a Keras-only name.

    ``where`` is ``"init"`` (the constructor or ``set_params``) or ``"fit"``.
    In ``fit`` every keyword beyond the signature is refused, as Python would.
    """
    known = _KERAS_PARAMS if where == "init" else _KERAS_FIT_ARGS
    call = f"{cls_name}()" if where == "init" else f"{cls_name}.fit()"
    for name in kwargs:
        if name in known:
            advice = known[name].format(cls=cls_name)
            raise TypeError(f"{call} has no argument {name!r} (Keras' name): {advice}.")
    if where == "fit" and kwargs:
        raise TypeError(
            f"{call} got an unexpected keyword argument {next(iter(kwargs))!r}; it "
            "takes X, y, sample_weight and validation_data (the training "
            f"options are {cls_name}'s constructor parameters)."
        )


def check_params(estimator):
    """The checks a single parameter's constraint cannot express.

    Run before the constraints for the two values whose generic message would
    mislead (a float ``learning_rate``, ``solver="lbfgs"``); the pairs after.
    """
    name = type(estimator).__name__
    rate = estimator.learning_rate
    if isinstance(rate, Real) and not isinstance(rate, bool):
        raise InvalidParameterError(
            f"The 'learning_rate' parameter of {name} is the schedule, as in "
            "MLPClassifier: one of 'constant', 'invscaling', 'adaptive'. Got "
            f"{rate!r}: the step size is now learning_rate_init (as in "
            f"MLPClassifier), e.g. {name}(learning_rate_init={rate!r})."
        )
    if estimator.solver == "lbfgs":
        raise InvalidParameterError(
            f"The 'solver' parameter of {name} must be one of {list(SOLVERS)}; got "
            "'lbfgs'. Keras trains by mini-batch gradient steps and has no "
            "L-BFGS (so max_fun is never used); scikit-learn's MLPClassifier "
            "offers solver='lbfgs'."
        )


def check_pairs(estimator):
    """Parameters that are valid alone but not together."""
    if estimator.early_stopping and estimator.validation_split:
        raise ValueError(
            f"{type(estimator).__name__}: validation_split="
            f"{estimator.validation_split!r} and early_stopping=True both hold "
            "data out; give one. early_stopping=True holds out "
            "validation_fraction and restores the best epoch; validation_split "
            "only records val_loss and val_accuracy."
        )


def batch_size(estimator, n_samples):
    """Samples per step: ``"auto"`` is ``min(200, n_samples)``, as MLPClassifier."""
    requested = 200 if estimator.batch_size == "auto" else estimator.batch_size
    return max(1, min(int(requested), int(n_samples)))


def make_optimizer(estimator):
    """The Keras optimizer for ``solver``, with MLPClassifier's parameters.

    Keras' SGD and Adam apply the same update rules as scikit-learn's
    ``SGDOptimizer`` and ``AdamOptimizer`` (velocity ``momentum * v - lr * g``,
    Nesterov's look-ahead, Adam's bias-corrected step), so each parameter keeps
    its meaning; RMSprop (not in MLPClassifier) takes only the step size.
    """
    keras = import_keras()
    rate = float(estimator.learning_rate_init)
    if estimator.solver == "sgd":
        return keras.optimizers.SGD(
            learning_rate=rate,
            momentum=float(estimator.momentum),
            nesterov=bool(estimator.nesterovs_momentum),
        )
    if estimator.solver == "adam":
        return keras.optimizers.Adam(
            learning_rate=rate,
            beta_1=float(estimator.beta_1),
            beta_2=float(estimator.beta_2),
            epsilon=float(estimator.epsilon),
        )
    return keras.optimizers.RMSprop(learning_rate=rate)


def schedule_callbacks(estimator, *, n_samples, initial_epoch, rule):
    """Keras callbacks for ``learning_rate``'s schedule and for stopping.

    Returns ``(callbacks, stopper)``: ``stopper`` applies ``rule`` (a
    :class:`~skmnist._engine._stopping.NoImprovementRule`, which the caller
    reads after training) and says whether it ``stopped`` training. As in
    MLPClassifier, the schedules apply to ``solver="sgd"`` only:

    - ``"invscaling"``: before each epoch, ``learning_rate_init / (t + 1) **
      power_t`` with ``t`` the samples seen so far (``t_``, across calls), the
      value scikit-learn's ``SGDOptimizer.iteration_ends`` sets after each
      epoch; through Keras' ``LearningRateScheduler``.
    - ``"adaptive"``: when the stopping rule is exhausted (more than
      ``n_iter_no_change`` epochs without a ``tol`` improvement), divide the
      rate by 5 and go on; stop only once it is at most 1e-6.

    With early stopping (``rule.on_validation``) the weights of the best
    validation score are restored when training ends.
    """
    keras = import_keras()
    callbacks = []
    schedule = estimator.learning_rate if estimator.solver == "sgd" else "constant"
    if schedule == "invscaling":
        rate, power = float(estimator.learning_rate_init), float(estimator.power_t)
        seen = int(getattr(estimator, "t_", 0))

        def invscaling(epoch):
            samples = seen + (epoch - initial_epoch) * n_samples
            return rate / (samples + 1) ** power

        callbacks.append(keras.callbacks.LearningRateScheduler(invscaling))
    stopper = stopping_class()(
        rule, adaptive=schedule == "adaptive", restore_best=rule.on_validation
    )
    callbacks.append(stopper)
    return callbacks, stopper


class KerasNamesMixin:
    """Keras' names refused with advice; the checks across parameters.

    Put before scikit-learn's ``BaseEstimator`` in the bases.
    """

    def __new__(cls, *args, **kwargs):
        # Keras' names get a TypeError naming skmnist's, before __init__
        # would raise a bare "unexpected keyword argument".
        refuse_keras_names(cls.__name__, kwargs, where="init")
        return super().__new__(cls)

    def set_params(self, **params):
        """Set the parameters of this estimator (scikit-learn's ``set_params``).

        Parameters
        ----------
        **params : dict
            Estimator parameters; Keras-only names (``epochs``) raise a
            ``TypeError`` naming skmnist's.

        Returns
        -------
        self : object
            The estimator.
        """
        refuse_keras_names(type(self).__name__, params, where="init")
        return super().set_params(**params)

    def _validate_params(self):
        check_params(self)
        super()._validate_params()
        check_pairs(self)
