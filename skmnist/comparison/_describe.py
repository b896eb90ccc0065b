"""What a fitted model is, in words and numbers: the report's estimator legend."""

import inspect

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

# Solvers whose iterations are passes over the training data.
_EPOCH_SOLVERS = {"adam", "sgd"}


def describe_estimator(estimator):
    """One line naming the class and the parameters that differ from the defaults.

    Like scikit-learn's ``print_changed_only`` repr, but on one line and
    without a pipeline's step names: ``Pipeline(PixelScaler(), SVC(C=10))``.
    """
    if isinstance(estimator, Pipeline):
        steps = [
            _describe_value(step)
            for _, step in estimator.steps
            if step is not None and step != "passthrough"
        ]
        return f"Pipeline({', '.join(steps)})"
    try:
        defaults = inspect.signature(type(estimator).__init__).parameters
    except (TypeError, ValueError):
        defaults = {}
    changed = []
    for name, value in estimator.get_params(deep=False).items():
        parameter = defaults.get(name)
        if parameter is not None and _same(value, parameter.default):
            continue
        changed.append(f"{name}={_describe_value(value)}")
    return f"{type(estimator).__name__}({', '.join(changed)})"


def _same(value, default):
    if value is default:
        return True
    if isinstance(value, BaseEstimator) or isinstance(default, BaseEstimator):
        return False
    try:
        return bool(value == default) and type(value) is type(default)
    except (TypeError, ValueError):  # arrays compare element-wise
        return repr(value) == repr(default)


def _describe_value(value):
    if hasattr(value, "get_params") and not isinstance(value, type):
        return describe_estimator(value)
    if isinstance(value, (list, tuple)):
        items = ", ".join(_describe_value(item) for item in value)
        if isinstance(value, list):
            return f"[{items}]"
        return f"({items},)" if len(value) == 1 else f"({items})"
    text = repr(value)
    # Objects without a useful repr (Keras callbacks, functions): the class name.
    return type(value).__name__ if text.startswith("<") else text


def count_parameters(estimator):
    """Number of trained weights: a Keras model's trainable ones, or sklearn's arrays.

    Sums ``coef_``, ``intercept_``, ``coefs_`` and ``intercepts_`` over the
    steps of a pipeline; 0 for an estimator with none of these. The constants
    of a Keras model's input scaling are not counted, as a pipeline's scaler
    is not.
    """
    if isinstance(estimator, Pipeline):
        return sum(count_parameters(step) for _, step in estimator.steps)
    model = getattr(estimator, "model_", None)
    if hasattr(model, "trainable_weights"):
        return int(sum(np.prod(w.shape) for w in model.trainable_weights))
    total = 0
    for attr in ("coef_", "intercept_", "coefs_", "intercepts_"):
        value = getattr(estimator, attr, None)
        if value is None:
            continue
        arrays = value if isinstance(value, list) else [value]
        total += sum(int(np.size(a)) for a in arrays)
    return total


def iterations_run(estimator):
    """``(n_iter, max_iter, unit)`` of a fitted model, or ``(None, None, None)``.

    ``n_iter`` is what the fit ran (``n_iter_``; the largest over classes for a
    one-vs-rest model), ``unit`` is ``"epochs"`` for networks trained by
    passes over the data and ``"<solver> iterations"`` otherwise.
    """
    if isinstance(estimator, Pipeline):
        estimator = estimator[-1]
    n_iter = getattr(estimator, "n_iter_", None)
    if n_iter is None:
        return None, None, None
    n_iter = int(np.max(n_iter))
    max_iter = getattr(estimator, "max_iter", None)
    solver = getattr(estimator, "solver", None)
    if hasattr(estimator, "history_") or solver in _EPOCH_SOLVERS:
        unit = "epochs"
    else:
        unit = f"{solver} iterations" if isinstance(solver, str) else "iterations"
    return n_iter, (None if max_iter is None else int(max_iter)), unit
