"""MLPClassifier's fitted attributes, read from the Keras model.

``coefs_``, ``intercepts_``, ``n_layers_``, ``n_outputs_`` and
``out_activation_`` mean what they mean on scikit-learn's ``MLPClassifier``.
They are properties over ``model_`` rather than copies, so they follow every
``partial_fit`` and a loaded model, and nothing extra is saved.

Every Keras classifier has the output ones (:class:`OutputAttributesMixin`).
The weight ones (:class:`MLPAttributesMixin`) describe a chain of ``Dense``
layers, ``n_layers_ = len(coefs_) + 1``: :class:`~skmnist.KerasLogistic` and
:class:`~skmnist.KerasMLP` have them; :class:`~skmnist.KerasCNN` has not,
since its convolutions are none of those matrices (its ``model_`` holds
every weight).
"""

import numpy as np


class OutputAttributesMixin:
    """``n_outputs_`` and ``out_activation_`` of a fitted ``model_``."""

    def _dense_layers(self):
        model = vars(self).get("model_")
        if model is None:
            # As any fitted attribute before fit: hasattr() is False.
            raise AttributeError(
                f"{type(self).__name__} is not fitted yet: it has no weights."
            )
        return [layer for layer in model.layers if type(layer).__name__ == "Dense"]

    @property
    def n_outputs_(self):
        """Number of outputs: 1 for binary targets, else classes or labels."""
        return int(self._dense_layers()[-1].units)

    @property
    def out_activation_(self):
        """Output function: ``"softmax"`` for multiclass targets, else ``"logistic"``.

        The model outputs logits; ``predict_proba`` applies this function.
        """
        self._dense_layers()  # fitted?
        return "softmax" if self.target_type_ == "multiclass" else "logistic"


class MLPAttributesMixin(OutputAttributesMixin):
    """Properties over the ``Dense`` layers of a fitted ``model_``."""

    @property
    def coefs_(self):
        """Weight matrices: ``coefs_[i]`` maps layer ``i`` to layer ``i + 1``.

        Shapes ``(n_features_in_, units)`` ... ``(units, n_outputs_)``, as in
        ``MLPClassifier``; the first acts on the inputs after ``input_scaling``.
        """
        return [np.array(layer.kernel.numpy()) for layer in self._dense_layers()]

    @property
    def intercepts_(self):
        """Bias vectors: ``intercepts_[i]`` is added in layer ``i + 1``."""
        return [np.array(layer.bias.numpy()) for layer in self._dense_layers()]

    @property
    def n_layers_(self):
        """Number of layers, the input and output layers included."""
        return len(self._dense_layers()) + 1
