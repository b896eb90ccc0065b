"""Keras classifiers as scikit-learn estimators: KerasLogistic, KerasMLP, KerasCNN.

One base class (:class:`~skmnist.classifiers._base.BaseKerasClassifier`) holds
the parameters, ``fit`` / ``partial_fit`` and prediction; each estimator only
says which network it trains. The networks themselves are built and trained by
:mod:`skmnist._engine`; :func:`build_mlp` hands the MLP's network to
scikeras' ``KerasClassifier``.
"""

from ._cnn import KerasCNN
from ._logistic import KerasLogistic
from ._mlp import KerasMLP
from ._scikeras import build_mlp

__all__ = ["KerasCNN", "KerasLogistic", "KerasMLP", "build_mlp"]
