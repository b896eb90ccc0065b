"""Transformers for pixel data."""

import numpy as np
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils.validation import validate_data

from ._utils._arrays import flatten_images
from .classifiers._callbacks import CallbackSupport, FitTask

__all__ = ["PixelScaler"]

_MAX_PIXEL = 255.0


class PixelScaler(
    CallbackSupport, OneToOneFeatureMixin, TransformerMixin, BaseEstimator
):
    """Scale 0-255 pixel values to float32 in 0-1 by dividing by 255.

    Stateless: the scale is fixed, so ``fit`` only validates its input and
    records ``n_features_in_``. Images of shape ``(n_samples, height, width)``
    are flattened to ``(n_samples, height * width)``; the output is always
    2-D. Values outside 0-255 raise a ValueError, in ``fit`` and in
    ``transform``: they are not pixels, and dividing them by 255 would hide
    the mistake (e.g. data already scaled or standardised).

    Use it where a pipeline should scale explicitly; ``KerasLogistic`` and
    ``KerasMLP`` accept raw 0-255 pixels and scale them inside the model.

    Attributes
    ----------
    n_features_in_ : int
        Number of features (pixels per image) seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during :meth:`fit`, when ``X`` has string
        column names.

    See Also
    --------
    sklearn.preprocessing.MinMaxScaler : Scales by the range seen in ``fit``.
    sklearn.preprocessing.MaxAbsScaler : Scales by the maximum seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmnist.preprocessing import PixelScaler
    >>> images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)  # (1, 2, 2)
    >>> PixelScaler().fit_transform(images)
    array([[0. , 1. , 0.2, 0.4]], dtype=float32)
    >>> PixelScaler().fit_transform([[-1.0, 3.0]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Negative values in data passed to PixelScaler: ... minimum of -1.0.
    """

    _parameter_constraints: dict = {}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate ``X`` and record its number of features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            Pixel values in 0-255.
        y : None
            Ignored.

        Returns
        -------
        self : PixelScaler
            The fitted transformer.
        """
        # A task without subtasks, so that scikit-learn's callbacks (e.g. a
        # Pipeline's ProgressBar) pass through it as through StandardScaler.
        task = FitTask(self, 0)
        task.begin(self._validate(X, reset=True), y)
        task.end()
        return self

    def transform(self, X):
        """Divide the pixels by 255.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, h, w)
            Pixel values in 0-255.

        Returns
        -------
        X_scaled : ndarray of shape (n_samples, n_features), dtype float32
            Values in 0-1.
        """
        X = self._validate(X, reset=False)
        # Dividing in float32 keeps exact 0 and 1 and halves memory vs float64.
        return np.divide(X, np.float32(_MAX_PIXEL), dtype=np.float32)

    def _validate(self, X, *, reset):
        if isinstance(X, (list, tuple)):
            X = np.asarray(X)
        X = flatten_images(X)  # an (n, h, w) stack becomes rows
        X = validate_data(
            self, X, reset=reset, dtype=[np.float32, np.float64, np.uint8]
        )
        if X.size:
            low, high = X.min(), X.max()
            if low < 0:  # sklearn's checks look for this phrase
                raise ValueError(
                    "Negative values in data passed to PixelScaler: pixels must "
                    f"be within 0-255; got a minimum of {low}."
                )
            if high > _MAX_PIXEL:
                raise ValueError(
                    "Values above 255 in data passed to PixelScaler: pixels must "
                    f"be within 0-255; got a maximum of {high}."
                )
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False  # stateless: transform works unfitted
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
