"""Keras classifiers as first-class scikit-learn estimators, taught on MNIST.

Importing :mod:`skmnist` is cheap: Keras and its backend are imported only
when a Keras estimator is first used, so ``import skmnist`` works in a second.
It does choose Keras' backend (JAX when installed and nobody chose another,
see :mod:`skmnist._engine._keras`), so that ``import skmnist, keras`` gives
the backend skmnist trains fastest on.
"""

import importlib

from ._engine._keras import choose_backend_at_import as _choose_backend
from ._version import __version__ as __version__

# Keras reads its backend once, when first imported: choose it now (cheap, no
# Keras import), so that ``import skmnist, keras`` trains on JAX when installed,
# or warn if Keras, imported first, took TensorFlow while JAX is installed.
_choose_backend()

# Public name -> submodule that defines it. Resolved on first attribute access
# (PEP 562) so that importing the package never imports TensorFlow.
_LAZY = {
    "KerasLogistic": "classifiers",
    "KerasMLP": "classifiers",
    "KerasCNN": "classifiers",
    "make_baseline": "baseline",
    "PixelScaler": "preprocessing",
    "load_mnist": "datasets",
    "download_mnist": "datasets",
    "compare": "comparison",
    "ComparisonResult": "comparison",
    "LossCurveDisplay": "plotting",
    "DigitPredictionDisplay": "plotting",
    "PredictionGridDisplay": "plotting",
    "ComparisonDisplay": "plotting",
    "save": "persistence",
    "load": "persistence",
    "UntrustedModelError": "exceptions",
    "to_onnx": "export",
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
