"""
=====================================================
From logistic regression to a neural network on MNIST
=====================================================

The tutorial in one page: load handwritten digits, fit a multinomial logistic
regression (:class:`~skmnist.KerasLogistic`), watch its training and
validation losses, add one hidden layer of 128 ReLU units
(:class:`~skmnist.KerasMLP`), see it overfit, and look at what both models
predict, probabilities included.

Everything runs on the 5,000 MNIST images that ship with the package
(4,000 for training, 1,000 for testing), so no download is needed.
"""

# %%
# Load the data
# -------------
# :func:`~skmnist.load_mnist` returns the images flattened to 784 pixels, as
# scikit-learn expects, with values from 0 to 255. The Keras estimators
# scale them inside the model, so there is no preprocessing step to forget.
import matplotlib.pyplot as plt
import numpy as np

from skmnist import load_mnist

X_train, y_train = load_mnist(
    source="embedded", subset="train", return_X_y=True
)
X_test, y_test = load_mnist(
    source="embedded", subset="test", return_X_y=True
)
print(X_train.shape, X_test.shape, X_train.dtype, X_train.max())

fig, axes = plt.subplots(2, 8, figsize=(8, 2.4))
for ax, image, label in zip(axes.ravel(), X_train, y_train):
    ax.imshow(image.reshape(28, 28), cmap="binary")
    ax.set(xticks=[], yticks=[], title=str(label))
fig.tight_layout()

# %%
# Multinomial logistic regression
# -------------------------------
# :class:`~skmnist.KerasLogistic` is one ``Dense`` layer: ten linear scores
# (logits) per image, one per digit, turned into probabilities by the
# softmax. It is trained on the cross-entropy computed from the logits.
#
# Passing ``validation_data`` scores the test set after every epoch, which is
# what the loss curves below need. (In real work, validate on data held out
# from the training set, e.g. with ``early_stopping=True``, and keep the
# test set for the very end; here the test set doubles as validation set to
# keep the example short.)
from skmnist import KerasLogistic

logistic = KerasLogistic(max_iter=30, random_state=0)
logistic.fit(X_train, y_train, validation_data=(X_test, y_test))
accuracy = logistic.score(X_test, y_test)
print(f"logistic regression: test accuracy {accuracy:.3f}")

# %%
# ``history_`` holds one value per epoch, as Keras' ``History`` does.
# :class:`~skmnist.plotting.LossCurveDisplay` draws it.
from skmnist.plotting import LossCurveDisplay

LossCurveDisplay.from_estimator(logistic, metric="both")
for key in ("loss", "val_loss"):
    print(f"{key} at epochs 10, 20, 30:", end="")
    print(
        "".join(
            f" {logistic.history_[key][i]:.3f}" for i in (9, 19, 29)
        )
    )

# %%
# Both losses fall. The validation loss levels off near 0.34 while the
# training loss keeps sinking slowly, and neither turns up: a linear model,
# with 7,850 weights, has too few parameters to memorise 4,000 images, so
# it overfits little (training accuracy a few points above the test
# accuracy).
#
# Adding a hidden layer
# ---------------------
# :class:`~skmnist.KerasMLP` puts ``Dense(128, activation="relu")`` between
# the pixels and the logits. Everything else (loss, optimizer, probabilities)
# stays the same. We train it too long on purpose, with a learning rate three
# times the default so that what happens shows within 30 epochs.
from skmnist import KerasMLP

mlp = KerasMLP(
    hidden_layer_sizes=(128,),
    learning_rate_init=3e-3,
    max_iter=30,
    random_state=0,
)
mlp.fit(X_train, y_train, validation_data=(X_test, y_test))
print(f"MLP: test accuracy {mlp.score(X_test, y_test):.3f}")

display = LossCurveDisplay.from_estimator(mlp, metric="both")

# %%
# This is overfitting. The training loss keeps falling towards zero while
# the validation loss reaches its lowest point and then creeps back up: the
# network starts memorising the training images instead of learning what
# makes a digit. Accuracy hides it for a while (the predicted class rarely
# changes), but the model grows over-confident on the images it gets wrong.
# The epoch with the lowest validation loss:
val_loss = np.asarray(mlp.history_["val_loss"])
best = int(val_loss.argmin())
print(
    f"lowest validation loss {val_loss[best]:.3f}, epoch {best + 1}"
)
print(f"validation loss at the end: {val_loss[-1]:.3f}")

# %%
# :ref:`sphx_glr_auto_examples_tutorial_plot_overfitting_early_stopping.py`
# shows how ``early_stopping=True`` stops near that epoch and keeps its
# weights.
#
# Looking at predictions
# ----------------------
# ``predict_proba`` applies the softmax to the logits, so each row sums to
# one. :class:`~skmnist.plotting.DigitPredictionDisplay` shows one image next
# to its ten probabilities: the predicted class in red, the true class in blue
# (a single blue bar when they agree).
from skmnist.plotting import (
    DigitPredictionDisplay,
    PredictionGridDisplay,
)

proba = mlp.predict_proba(X_test[:1])
print(proba.round(3), proba.sum())
DigitPredictionDisplay.from_estimator(mlp, X_test, y_test, index=0)

# %%
# The images the network gets wrong are more instructive. Many of them are
# ambiguous even to a human; the bars show whether the model hesitated.
# Under each image: the predicted digit, its probability and, in brackets,
# the true digit.
PredictionGridDisplay.from_estimator(
    mlp, X_test, y_test, n_rows=3, n_cols=2, misclassified_only=True
)

# %%
# Summary
# -------
# The hidden layer buys a few points of accuracy on the same data, at the
# price of overfitting when trained for too long.
for name, model in [
    ("logistic regression", logistic),
    ("MLP (128 ReLU)", mlp),
]:
    print(f"{name:>20}: {model.score(X_test, y_test):.3f}")
