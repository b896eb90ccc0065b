"""The one place that papers over scikeras / scikit-learn drift.

scikeras 0.13.0 (its last release) was written for scikit-learn < 1.6. Under
today's scikit-learn it gets four things wrong, each fixed here and nowhere else
(:class:`ScikerasCompatMixin`):

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

Also here: :func:`scikeras_classifier_base` (scikeras' class, imported lazily)
and the input checks scikeras' validation lacks. Importing Keras quietly is
:mod:`skmnist._keras`'s job; image stacks become rows in
:func:`skmnist._images.flatten_images`.
"""

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import ClassifierTags
from sklearn.utils.validation import check_array, column_or_1d, validate_data

from ._images import flatten_images
from ._keras import import_keras, without_tensorflow


def scikeras_classifier_base():
    """Return scikeras' ``KerasClassifier`` (imports Keras, so called lazily)."""
    import_keras()
    # On JAX, scikeras is imported with TensorFlow kept out: it only wants it
    # for a seeding helper skmnist does not use.
    with without_tensorflow():
        from scikeras.wrappers import KerasClassifier

    return KerasClassifier


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
        if not reset:
            _refuse_a_single_image(self, X)
        X = _flatten_image_stack(X)
        _refuse_non_pixels(X)
        check_params = dict(
            dtype=_ACCEPTED_DTYPES, allow_nd=True, ensure_all_finite=True
        )
        if y is None:
            X = validate_data(self, X, reset=reset, **check_params)
        else:
            X, y = validate_data(
                self,
                X,
                y,
                reset=reset,
                multi_output=True,
                y_numeric=y_numeric,
                **check_params,
            )
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
                f"(|x| <= {_F32_MAX:.3g}); got {max(X.max(), -X.min()):.3g}."
            )
        return X, y


_F32_MAX = float(np.finfo(np.float32).max)


def _refuse_a_single_image(estimator, X):
    """A lone ``(28, 28)`` image reads as 28 rows of 28 features: say so."""
    shape = getattr(X, "shape", None)
    n_features = getattr(estimator, "n_features_in_", None)
    if (
        shape is not None
        and len(shape) == 2
        and n_features is not None
        and shape[1] != n_features
        and shape[0] * shape[1] == n_features
    ):
        raise ValueError(
            f"X has {shape[1]} features, but {type(estimator).__name__} is "
            f"expecting {n_features} features as input. X of shape {shape} looks "
            "like one image: pass a stack of one, images[:1] or "
            f"X.reshape(1, {shape[0]}, {shape[1]})."
        )


def _refuse_non_pixels(X):
    """Refuse 4-D and date/time input before ``validate_data`` misreads it."""
    if getattr(X, "ndim", 2) > 2:  # 3-D stacks were flattened already
        raise ValueError(
            "Expected X as a 2-D array (n_samples, n_features) or a 3-D image "
            f"stack (n_samples, height, width); got shape {X.shape}."
        )
    if getattr(getattr(X, "dtype", None), "kind", "") in ("m", "M"):
        raise TypeError(
            f"X has dtype {X.dtype}; expected numbers (bool, integer or float pixels)."
        )


# Integer pixels stay integers and float32 stays float32: the model casts each
# batch, so a 60,000 x 784 uint8 MNIST never becomes a 376 MB float64 copy.
_ACCEPTED_DTYPES = [
    "float32",
    "float64",
    "uint8",
    "uint16",
    "int8",
    "int16",
    "int32",
    "int64",
    "bool",
]


def _flatten_image_stack(X):
    if issparse(X) or hasattr(X, "iloc"):
        return X
    if not hasattr(X, "ndim"):
        X = np.asarray(X)
    return flatten_images(X)
