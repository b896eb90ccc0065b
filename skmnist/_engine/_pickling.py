"""Pickling a fitted estimator without importing TensorFlow on JAX."""

import pickle

from ._keras import import_keras, without_tensorflow


class KerasModelPickling:
    """Pickles ``model_`` (a Keras model) inside :func:`without_tensorflow`.

    Keras pickles a model through its config serialisation, which imports
    TensorFlow when it is installed (about 5 s and 460 MB in a JAX process,
    and its start-up lines on stderr): every ``pickle.dumps`` of a fitted
    estimator, as joblib does, paid that. So the model is pickled to bytes
    here, in the block, and unpickled from them the same way.
    """

    def __getstate__(self):
        state = super().__getstate__()
        if state.get("model_") is not None:
            state = dict(state)
            with without_tensorflow():
                state["_model_pickle"] = pickle.dumps(state.pop("model_"), protocol=5)
        return state

    def __setstate__(self, state):
        if "_model_pickle" in state:
            state = dict(state)
            import_keras()  # the backend skmnist chooses, before Keras loads it
            with without_tensorflow():
                state["model_"] = pickle.loads(state.pop("_model_pickle"))
        super().__setstate__(state)
