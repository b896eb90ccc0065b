"""
=================================
Pipeline and grid search with MLP
=================================

:class:`~skmnist.KerasMLP` is a scikit-learn classifier, so it goes into a
:class:`~sklearn.pipeline.Pipeline` and its hyper-parameters are tuned with
:class:`~sklearn.model_selection.GridSearchCV` like any other. For a
classifier, ``cv=3`` means stratified folds: each fold keeps the share of
every digit.
"""

# %%
# Data
# ----
# A 1,500-image subset of the training set keeps the search under a minute.
import warnings

import pandas as pd
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    classification_report,
)
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline

from skmnist import KerasMLP, PixelScaler, load_mnist

X_train, y_train = load_mnist(
    source="embedded", subset="train", return_X_y=True
)
X_test, y_test = load_mnist(
    source="embedded", subset="test", return_X_y=True
)
X_small, y_small = X_train[:1500], y_train[:1500]

# %%
# The pipeline
# ------------
# :class:`~skmnist.PixelScaler` divides pixels by 255, PCA keeps the main
# directions of variation, and the MLP classifies the projected images.
# After PCA the features are no longer 0-255 pixels, so the MLP's own input
# scaling (meant for raw pixels) is switched off with ``input_scaling=None``.
pipe = Pipeline(
    [
        ("scale", PixelScaler()),
        ("pca", PCA(random_state=0)),
        (
            "mlp",
            KerasMLP(
                max_iter=20,
                learning_rate_init=3e-3,
                input_scaling=None,
                random_state=0,
            ),
        ),
    ]
)
pipe

# %%
# The search
# ----------
# Parameters of a step are addressed as ``<step>__<parameter>``. Every
# candidate is fitted on each of the three folds, then the best one is
# refitted on all 1,500 images.
param_grid = {
    "pca__n_components": [30, 60],
    "mlp__hidden_layer_sizes": [(32,), (128,)],
}
search = GridSearchCV(
    pipe,
    param_grid,
    cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
)
# Each fit stops at max_iter, on purpose: one ConvergenceWarning
# per fit (13 of them) would say only that.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_small, y_small)

results = pd.DataFrame(search.cv_results_)
results[
    [
        "param_pca__n_components",
        "param_mlp__hidden_layer_sizes",
        "mean_test_score",
        "std_test_score",
        "mean_fit_time",
    ]
].sort_values("mean_test_score", ascending=False)

# %%
print("best parameters:", search.best_params_)
print(f"best cross-validated accuracy: {search.best_score_:.3f}")

# %%
# Evaluating on the test set
# --------------------------
# ``search`` behaves like its best pipeline. scikit-learn's metrics and
# displays work on it directly.
y_pred = search.predict(X_test)
print(classification_report(y_test, y_pred, digits=3))
_ = ConfusionMatrixDisplay.from_estimator(
    search, X_test, y_test, colorbar=False
)
