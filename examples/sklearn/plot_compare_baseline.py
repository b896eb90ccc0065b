"""
============================================
Comparing the Keras models with the classics
============================================

:func:`~skmnist.compare` fits several classifiers on the same training
images, scores them on the same test images and times them. By default it
compares four models:

* ``baseline``: :func:`~skmnist.make_baseline`, pixels scaled to [0, 1] and
  scikit-learn's :class:`~sklearn.linear_model.LogisticRegression` (lbfgs);
* ``logistic``: :class:`~skmnist.KerasLogistic`, the same model trained by
  Keras;
* ``mlp``: :class:`~skmnist.KerasMLP` with one hidden layer of 128 ReLU units;
* ``sklearn-mlp``: scikit-learn's own
  :class:`~sklearn.neural_network.MLPClassifier` of the same shape, the
  outside reference.

This is what ``skmnist compare`` (and ``make compare``) runs.
"""

# %%
# Running the comparison
# ----------------------
# :func:`~skmnist.comparison.default_estimators` builds the four models; the
# three networks get the same budget of epochs (20 here, to keep the example
# short).
import pandas as pd

from skmnist import compare, load_mnist
from skmnist.comparison import default_estimators

X_train, y_train = load_mnist(
    source="embedded", subset="train", return_X_y=True
)
X_test, y_test = load_mnist(
    source="embedded", subset="test", return_X_y=True
)

result = compare(
    default_estimators(max_iter=20),
    X_train,
    y_train,
    X_test,
    y_test,
    on_model_start=lambda name, index, n: print(f"fitting {name}"),
)

# %%
# The result
# ----------
# One row per model: accuracy, log loss and macro F1 on the test images
# (computed by :mod:`sklearn.metrics`), fit and predict times in seconds, and
# the number of trained parameters.
rows = pd.DataFrame(result.rows).set_index("model")
rows[
    [
        "accuracy",
        "log_loss",
        "f1_macro",
        "fit_seconds",
        "predict_seconds",
        "n_parameters",
    ]
].round(3)

# %%
# Each row also says what was fitted: the estimator with its non-default
# parameters, the epochs or solver iterations its fit ran (and the limit), and
# the convergence warnings it raised.
rows[["estimator", "n_iter", "max_iter", "iter_unit", "warnings"]]

# %%
# The best model has the highest accuracy, ties going to the lower log loss;
# the report's figures and the command line name the same one.
print("best:", result.best["model"])

# %%
# The two logistic regressions are the same model trained two ways and land
# close together; the hidden layer of the MLPs buys a few points of accuracy
# for about thirteen times as many parameters. Times on a small data set
# are dominated by fixed costs, so compare them on full MNIST
# (``skmnist compare --source keras``) before drawing conclusions; the
# :ref:`benchmarks` do that side by side.
#
# The same table as Markdown, as written to ``report.md``:
print(result.to_markdown())

# %%
# And as bar charts: the error rate (1 - accuracy), where a few points of
# accuracy show as a visible share of the mistakes, beside the fit time; the
# best model's bars are green.
_ = result.plot(title="Models compared on the embedded MNIST")
