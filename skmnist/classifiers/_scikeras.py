"""The network of KerasMLP as the ``model=`` of scikeras' ``KerasClassifier``.

skmnist's estimators do not use scikeras; this is for scikeras users who want
skmnist's network (its initialisation, seeded dropout, named layers) inside
scikeras' own wrapper, its label encoding, ``fit__``/``model__`` routing and
seeding (``pip install "skmnist[scikeras]"``).
"""

import numpy as np

from .._engine._builders import build_model
from .._engine._keras import import_keras

_TARGET_TYPES = ("binary", "multiclass")


def build_mlp(
    meta,
    hidden_layer_sizes=(128,),
    activation="relu",
    l2=0.0,
    dropout=0.0,
    seed=None,
):
    """Build the network of :class:`~skmnist.KerasMLP`, ending in probabilities.

    The model function scikeras' ``KerasClassifier(model=build_mlp, ...)``
    calls at each fit: it receives ``meta`` from scikeras, and the other
    parameters as ``model__hidden_layer_sizes=(64,)`` and so on. The network
    is skmnist's own (:class:`~skmnist.KerasLogistic`'s with
    ``hidden_layer_sizes=()``) followed by a softmax (a sigmoid for a binary
    target), since scikeras reads ``predict_proba`` from the model's outputs.
    The model is returned uncompiled: give ``KerasClassifier`` its ``loss``
    (``"sparse_categorical_crossentropy"``, or ``"binary_crossentropy"`` for
    a binary target) and ``optimizer``.

    Parameters
    ----------
    meta : dict
        What scikeras knows about the data: ``n_features_in_``,
        ``n_classes_`` and ``target_type_`` (``"binary"`` or
        ``"multiclass"``).
    hidden_layer_sizes : tuple of int, default=(128,)
        Units of each hidden ``Dense`` layer; ``()`` is logistic regression.
    activation : {"relu", "tanh", "sigmoid"}, default="relu"
        Activation of the hidden layers (Keras' names).
    l2 : float, default=0.0
        L2 penalty added to the loss for every kernel (not the biases).
    dropout : float, default=0.0
        Dropout rate after each hidden layer.
    seed : int, default=None
        Seeds the initial weights and the dropout layers. None draws it from
        NumPy's global generator, which scikeras seeds from its
        ``random_state``: the same ``random_state``, the same network.

    Returns
    -------
    keras.Model
        Uncompiled; maps ``(batch, n_features_in_)`` to class probabilities.

    Examples
    --------
    >>> from skmnist.classifiers import build_mlp
    >>> meta = {"n_features_in_": 64, "n_classes_": 10,
    ...         "target_type_": "multiclass"}
    >>> build_mlp(meta, hidden_layer_sizes=(16,), seed=0).output_shape
    (None, 10)
    """
    target_type = meta.get("target_type_")
    if target_type not in _TARGET_TYPES:
        raise ValueError(
            f"build_mlp builds networks for targets of type {_TARGET_TYPES}; "
            f"scikeras' meta['target_type_'] is {target_type!r}."
        )
    if seed is None:  # the global generator: the one scikeras' random_state seeds
        seed = int(np.random.randint(np.iinfo(np.int32).max))  # noqa: NPY002
    binary = target_type == "binary"
    logits = build_model(
        int(meta["n_features_in_"]),
        1 if binary else int(meta["n_classes_"]),
        hidden_layer_sizes=tuple(hidden_layer_sizes),
        activation=activation,
        l2=l2,
        dropout=dropout,
        seed=seed,
    )
    keras = import_keras()
    squash = "sigmoid" if binary else "softmax"
    probabilities = keras.layers.Activation(squash, name="probabilities")
    return keras.Model(logits.inputs, probabilities(logits.outputs[0]))
