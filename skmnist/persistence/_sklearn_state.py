"""The scikit-learn half of a saved model: skops, checked before it reads.

Private helper of :mod:`skmnist.persistence`. Scikit-learn estimators and
pipelines are written by :func:`skops.io.dumps`; a ``Pipeline`` with Keras
classifiers among its steps is written as a shell whose Keras steps are
``"passthrough"`` placeholders, each classifier saved beside it by
:mod:`skmnist.persistence._keras_state`. Loading checks every entry of the
skops archive within the limits of :mod:`skmnist._utils._safe_zip` before
skops reads (or is even imported), and skops loads only trusted types.
"""

import copy
import io
import warnings

from sklearn.pipeline import Pipeline

from .._utils import _safe_zip
from ..exceptions import UntrustedModelError
from ._keras_state import _is_keras_classifier, _pack_keras

# skops trusts scikit-learn, NumPy and SciPy types itself, but not the private
# classes of a fitted MLPClassifier's optimizer state: plain holders of NumPy
# arrays and floats, rebuilt without running code, needed for partial_fit.
SKOPS_TRUSTED = [
    "skmnist.preprocessing.PixelScaler",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
]


def _pack(estimator):
    estimator = _without_sk_callbacks(estimator)
    if _is_keras_classifier(estimator):
        return {"kind": "keras"}, _pack_keras(estimator, "")
    steps = getattr(estimator, "steps", [])
    keras_steps = [i for i, (_, s) in enumerate(steps) if _is_keras_classifier(s)]
    if type(estimator) is not Pipeline or not keras_steps:
        return {"kind": "sklearn"}, {"sklearn.skops": _skops_dumps(estimator)}
    # The Keras steps are saved beside the skops part, which holds placeholders.
    shell = copy.copy(estimator)  # the steps list is replaced, not mutated
    steps = [(name, _without_sk_callbacks(step)) for name, step in steps]
    shell.steps = [
        (name, "passthrough" if i in keras_steps else step)
        for i, (name, step) in enumerate(steps)
    ]
    entries = {"sklearn.skops": _skops_dumps(shell)}
    for i in keras_steps:
        entries.update(_pack_keras(steps[i][1], f"steps/{i}/"))
    return {"kind": "pipeline", "keras_steps": keras_steps}, entries


def _without_sk_callbacks(estimator):
    """``estimator``, or a shallow copy of it without scikit-learn callbacks.

    Callbacks set with ``set_callbacks`` (scikit-learn >= 1.9) are live
    objects (progress displays, score logs), not part of a model: like Keras
    ``callbacks``, they are left out, with a warning.
    """
    if not getattr(estimator, "_skl_callbacks", None):
        return estimator
    warnings.warn(
        f"scikit-learn callbacks set on {type(estimator).__name__} with "
        "set_callbacks are not saved; the loaded estimator has none.",
        UserWarning,
        stacklevel=4,
    )
    shell = copy.copy(estimator)
    del vars(shell)["_skl_callbacks"]
    return shell


def _skops_dumps(estimator):
    import skops.io

    try:
        data = skops.io.dumps(estimator)
        untrusted = set(skops.io.get_untrusted_types(data=data)) - set(SKOPS_TRUSTED)
    except Exception as exc:
        untrusted = [f"{type(exc).__name__}: {exc}"]
    if untrusted:
        raise TypeError(
            f"Cannot save {type(estimator).__name__}: skmnist.load would refuse "
            f"{sorted(untrusted)}. Keras classifiers are saved on their own or as "
            "steps of a top-level Pipeline."
        )
    return data


def _check_skops_entries(data, where, budget):
    """Check a skops zip (and the sparse-matrix .npz inside it) within limits."""
    for name, content in _safe_zip.read_zip(
        data, where, UntrustedModelError, budget=budget
    ).items():
        if name.endswith(".json"):
            _safe_zip.parse_json(content, f"{where}/{name}", UntrustedModelError)
        elif name.endswith(".npy"):
            _safe_zip.npy_header(
                io.BytesIO(content),
                len(content),
                f"{where}/{name}",
                UntrustedModelError,
                max_bytes=_safe_zip.MAX_ENTRY_BYTES,
            )
        elif name.endswith(".npz"):  # scipy.sparse.save_npz, itself a zip
            _check_skops_entries(content, f"{where}/{name}", budget)


def _skops_loads(data, budget):
    # skops reads a zip of schema.json and .npy arrays: check every entry within
    # the limits first, so that skops never inflates or allocates past them
    # (and is not even imported for such a crafted file).
    _check_skops_entries(data, "sklearn.skops", budget)
    import skops.io

    try:
        untrusted = set(skops.io.get_untrusted_types(data=data)) - set(SKOPS_TRUSTED)
        if not untrusted:
            return skops.io.loads(data, trusted=SKOPS_TRUSTED)
    except Exception as exc:  # skops raises many types on a malformed schema
        raise UntrustedModelError(
            f"The scikit-learn part could not be loaded safely: {exc}"
        ) from exc
    raise UntrustedModelError(
        f"The scikit-learn part holds untrusted types {sorted(untrusted)}; "
        f"only scikit-learn's own and {SKOPS_TRUSTED} are loaded."
    )
