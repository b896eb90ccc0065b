"""The one place that papers over scikeras / scikit-learn / Keras drift.

scikeras 0.13.0 (its last release) was written for scikit-learn < 1.6. Under
today's scikit-learn it gets four things wrong, each fixed here and nowhere else:

* **tags**: it declares tags with ``_more_tags``, which scikit-learn >= 1.6 ignores,
  and ``BaseEstimator`` precedes ``ClassifierMixin`` in its bases, so
  ``is_classifier()`` is False and cross-validation is not stratified;
* **parameters**: it lists parameters from ``self.__dict__`` and accepts any routed
  ``fit__*`` keyword, which breaks ``clone`` for subclasses with an explicit
  ``__init__``; we restore scikit-learn's signature-based listing;
* **input validation**: it keeps its own ``_validate_data``, with messages
  scikit-learn's checks do not recognise; we route it through scikit-learn's
  ``validate_data``;
* **repr**: its multi-line ``__repr__`` hides scikit-learn's compact one.

It also silences TensorFlow's start-up log noise before TensorFlow is imported.
"""

import contextlib
import os
import sys

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import ClassifierTags
from sklearn.utils.validation import check_array, column_or_1d, validate_data

from ._backend import check_backend, choose_backend

# TensorFlow reads this once, at import. Level 3 hides its native INFO, WARNING and
# ERROR lines (real failures still raise Python exceptions); users may override it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def import_keras():
    """Import Keras quietly, on the backend :mod:`skmnist._backend` chooses.

    TensorFlow 2.21 logs through absl before ``TF_CPP_MIN_LOG_LEVEL`` applies
    ("oneDNN custom operations are on", "Could not find cuda drivers", ...), so
    the native stderr is muted while the backend loads and picks its devices.
    Set ``SKMNIST_TF_LOGS=1`` to see those messages. The backend's thread pools
    are sized first (see :mod:`skmnist.parallel`), before its runtime starts.
    """
    if "keras" in sys.modules:
        keras = sys.modules["keras"]
        check_backend(keras.backend.backend())
        return keras
    backend = check_backend(choose_backend())
    with _muted_native_stderr():
        if backend == "jax":
            from ._threads import configure_xla_threads

            configure_xla_threads()  # read when JAX starts its CPU client
            import keras
        else:
            keras = _import_tensorflow_keras()
    try:  # absl's Python logger repeats warnings Keras already gives
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # pragma: no cover - absl ships with tensorflow
        pass
    return keras


def _import_tensorflow_keras():
    import keras
    import tensorflow as tf

    from ._threads import configure_tensorflow_threads

    configure_tensorflow_threads(tf)  # only possible before the first TF op
    tf.config.list_logical_devices()  # device set-up logs happen here
    # Every estimator traces its own functions by design (one model per
    # fit), which trips TensorFlow's "excessive retracing" warning.
    tf.get_logger().setLevel("ERROR")
    return keras


@contextlib.contextmanager
def _muted_native_stderr():
    if os.environ.get("SKMNIST_TF_LOGS"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def scikeras_classifier_base():
    """Return scikeras' ``KerasClassifier`` (imports Keras, so called lazily).

    scikeras imports TensorFlow, if installed, only for its seeding helper,
    which skmnist does not use. On the JAX backend that import would cost
    seconds and hundreds of MB in every process (and every search worker), so
    it is made to fail, and scikeras falls back to its no-TensorFlow branch.
    """
    import_keras()
    with without_tensorflow():
        from scikeras.wrappers import KerasClassifier

    return KerasClassifier


@contextlib.contextmanager
def without_tensorflow():
    """On the JAX backend, keep TensorFlow unimported for the block.

    scikeras (for its seeding helper) and Keras' config serialisation (to ask
    whether a value is a ``tf.TensorShape``) import TensorFlow if installed,
    though neither needs it on JAX: seconds and hundreds of MB in every
    process and search worker. In the block, ``import tensorflow`` fails and
    they take their no-TensorFlow branch; afterwards TensorFlow is importable
    again and Keras will look for it again.
    """
    keras = sys.modules.get("keras")
    if (keras is None or keras.backend.backend() != "jax"
            or sys.modules.get("tensorflow") is not None):
        yield
        return
    try:  # Keras' lazy handle on TensorFlow caches "not available"
        from keras.src.utils.module_utils import tensorflow as lazy_tf
    except ImportError:  # pragma: no cover - Keras moved it
        lazy_tf = None
    sys.modules["tensorflow"] = None  # "import tensorflow" raises ImportError
    try:
        yield
    finally:
        del sys.modules["tensorflow"]
        if lazy_tf is not None and getattr(lazy_tf, "module", None) is None:
            lazy_tf._available = None


@contextlib.contextmanager
def seeded_tensorflow(seed):
    """scikeras' ``tensorflow_random_state``, without its leak.

    scikeras sets ``TF_DETERMINISTIC_OPS=1`` *before* asking TensorFlow whether
    op determinism was already on; TensorFlow reads that variable, answers yes,
    and determinism is never switched off again. Every later unseeded random op
    in the process then fails ("Random ops require a seed..."). Read the flag
    first, and switch it off again on the way out.
    """
    from scikeras.utils.random_state import tensorflow_random_state
    from tensorflow.python.framework import config

    was_enabled = config.is_op_determinism_enabled()
    try:
        with tensorflow_random_state(seed):
            yield
    finally:
        if not was_enabled:
            config.disable_op_determinism()


@contextlib.contextmanager
def restore_state_on_error(estimator):
    """Undo every attribute change made to ``estimator`` if the block raises.

    A failed ``fit``/``partial_fit`` must leave a fitted estimator as it was.
    Validation runs before any Keras weight is touched, so restoring the
    attribute dictionary is enough.
    """
    saved = dict(vars(estimator))
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(saved)
        raise


def flatten_images(X):
    """Turn an ``(n, h, w)`` image stack into ``(n, h * w)`` without copying."""
    if getattr(X, "ndim", 2) == 3:
        return X.reshape(X.shape[0], -1)
    return X


class ScikerasCompatMixin:
    """Put first in the bases of a scikeras ``KerasClassifier`` subclass."""

    def __sklearn_tags__(self):
        # BaseEstimator comes before ClassifierMixin in scikeras' MRO, so the
        # mixin's tags never apply: set what it would have set.
        tags = BaseEstimator.__sklearn_tags__(self)
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags(multi_label=True)
        tags.target_tags.required = True
        tags.input_tags.three_d_array = True
        tags.input_tags.sparse = False
        return tags

    # scikeras returns every public instance attribute; scikit-learn reads the
    # signature of __init__, which is what clone() and set_params() rely on.
    _get_param_names = classmethod(BaseEstimator._get_param_names.__func__)
    set_params = BaseEstimator.set_params
    __repr__ = BaseEstimator.__repr__
    score = ClassifierMixin.score

    def _more_tags(self):  # pragma: no cover - only old scikit-learn reads it
        return {}

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        """scikeras' hook, answered with scikit-learn's ``validate_data``.

        Accepts 2-D ``(n, n_features)`` and 3-D ``(n, h, w)`` images (flattened as
        a view); keeps integer and float32 pixels as they are (no float64 copy).
        """
        if X is None:
            y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
            return None, y
        X = _flatten_image_stack(X)
        _refuse_non_pixels(X)
        check_params = dict(dtype=_ACCEPTED_DTYPES, allow_nd=True,
                            ensure_all_finite=True)
        if y is None:
            X = validate_data(self, X, reset=reset, **check_params)
        else:
            X, y = validate_data(self, X, y, reset=reset, multi_output=True,
                                 y_numeric=y_numeric, **check_params)
            if y.ndim == 2 and y.shape[1] == 1:
                # A column vector is one label per row, not a one-label
                # multilabel problem: warn and ravel, as scikit-learn does.
                y = column_or_1d(y, warn=True)
        if X.dtype == np.bool_:
            X = X.view(np.uint8)
        elif X.dtype == np.float64 and X.size and max(X.max(), -X.min()) > _F32_MAX:
            # The model computes in float32, where these become inf and every
            # probability NaN: refuse them instead of predicting NaN.
            raise ValueError(
                "X has values beyond the float32 range the model computes in "
                f"(|x| <= {_F32_MAX:.3g}); got {max(X.max(), -X.min()):.3g}.")
        return X, y


_F32_MAX = float(np.finfo(np.float32).max)


def _refuse_non_pixels(X):
    """Refuse 4-D and date/time input before ``validate_data`` misreads it."""
    if getattr(X, "ndim", 2) > 2:  # 3-D stacks were flattened already
        raise ValueError(
            "Expected X as a 2-D array (n_samples, n_features) or a 3-D image "
            f"stack (n_samples, height, width); got shape {X.shape}.")
    if getattr(getattr(X, "dtype", None), "kind", "") in ("m", "M"):
        raise TypeError(f"X has dtype {X.dtype}; expected numbers (bool, integer "
                        "or float pixels).")


# Integer pixels stay integers and float32 stays float32: the model casts each
# batch, so a 60,000 x 784 uint8 MNIST never becomes a 376 MB float64 copy.
_ACCEPTED_DTYPES = ["float32", "float64", "uint8", "uint16", "int8", "int16",
                    "int32", "int64", "bool"]


def _flatten_image_stack(X):
    if issparse(X) or hasattr(X, "iloc"):
        return X
    if not hasattr(X, "ndim"):
        X = np.asarray(X)
    return flatten_images(X)
