"""
=======================================
Early stopping, partial_fit, warm_start
=======================================

Three ways to control how long a Keras estimator trains:

* ``early_stopping=True`` holds out part of the training data, stops when its
  loss stops improving and restores the best weights;
* ``partial_fit`` trains one epoch per call, for data that arrives in chunks
  or a loop you write yourself;
* ``warm_start=True`` makes ``fit`` continue from the current weights.

Every fit records ``history_`` (per-epoch losses and accuracies),
``n_iter_`` (epochs run) and ``best_epoch_`` (1-based).
"""

# %%
# Data
# ----
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import log_loss

from skmnist import KerasMLP, load_mnist
from skmnist.plotting import LossCurveDisplay

X_train, y_train = load_mnist(
    source="embedded", subset="train", return_X_y=True
)
X_test, y_test = load_mnist(
    source="embedded", subset="test", return_X_y=True
)

# %%
# Training too long
# -----------------
# A fixed number of epochs, with the test set scored after each one through
# ``validation_data``. A larger learning rate makes the network overfit
# sooner, which keeps the example short.
params = dict(
    hidden_layer_sizes=(128,),
    learning_rate_init=3e-3,
    random_state=0,
)
long_run = KerasMLP(max_iter=30, **params)
long_run.fit(X_train, y_train, validation_data=(X_test, y_test))
LossCurveDisplay.from_estimator(long_run, name="30 epochs")
final_loss = log_loss(y_test, long_run.predict_proba(X_test))
print(f"epochs run: {long_run.n_iter_}")
print(f"test log-loss at the end: {final_loss:.3f}")

# %%
# The training loss falls all the way; the validation loss turns up after a
# few epochs. Without validation data there is nothing to stop on: the
# estimator monitors the training loss (like scikit-learn's ``MLPClassifier``)
# and ``best_epoch_`` is simply the epoch with the lowest training loss.
print("best_epoch_ without validation:", long_run.best_epoch_)

# %%
# Early stopping
# --------------
# With ``early_stopping=True`` the estimator sets aside
# ``validation_fraction`` of the training data (a stratified, seeded split),
# scores it after every epoch and stops once the validation loss has not
# improved by at least ``tol`` for ``n_iter_no_change`` epochs. It then
# restores the weights of the best epoch, so the model you get is the one at
# the bottom of the validation curve, not the last one.
stopped = KerasMLP(
    max_iter=100,
    early_stopping=True,
    validation_fraction=0.1,
    n_iter_no_change=5,
    tol=1e-4,
    **params,
)
stopped.fit(X_train, y_train)
print(f"stopped after {stopped.n_iter_} of 100 epochs")
print(f"best epoch: {stopped.best_epoch_}")
LossCurveDisplay.from_estimator(stopped, name="early stopping")

# %%
# The dashed line marks ``best_epoch_``; the epochs after it are the
# ``n_iter_no_change`` epochs the estimator waited before giving up. On the
# untouched test set, the restored weights give a lower log-loss (less
# over-confident probabilities) than the over-trained ones, at about the same
# accuracy, although they were trained on 10% less data and for fewer epochs:
for name, model in [
    ("30 epochs", long_run),
    ("early stopping", stopped),
]:
    proba = model.predict_proba(X_test)
    print(
        f"{name:>15}: test log-loss {log_loss(y_test, proba):.3f}, "
        f"accuracy {model.score(X_test, y_test):.3f}"
    )

# %%
# ``validation_data`` can replace the internal split when you already have a
# validation set: ``fit(X, y, validation_data=(X_val, y_val))`` monitors it
# instead and, with ``early_stopping=True``, stops on it.
#
# partial_fit: your own training loop
# -----------------------------------
# Each call to ``partial_fit`` runs one epoch over the data it is given and
# keeps the weights between calls. The first call must list every class,
# since a chunk of data may not contain them all. Here the training set
# arrives in four chunks of 1,000 images, and the test accuracy is recorded
# after each pass over all of them.
online = KerasMLP(**params)
chunks = np.array_split(np.arange(len(X_train)), 4)
accuracies = []
for _ in range(6):
    for chunk in chunks:
        online.partial_fit(
            X_train[chunk], y_train[chunk], classes=np.arange(10)
        )
    accuracies.append(online.score(X_test, y_test))

fig, ax = plt.subplots(figsize=(5.5, 3.5))
ax.plot(np.arange(1, 7), accuracies, marker="o")
ax.set(
    xlabel="passes over the training data",
    ylabel="test accuracy",
    title="partial_fit, one chunk at a time",
)
ax.grid(True, alpha=0.3)
fig.tight_layout()
print("partial_fit calls:", online.n_iter_)

# %%
# warm_start: more epochs without starting over
# ---------------------------------------------
# With ``warm_start=True`` a second call to ``fit`` continues from the
# current weights instead of re-initialising them, and ``history_`` grows.
warm = KerasMLP(max_iter=5, warm_start=True, **params)
warm.fit(X_train, y_train)
first = warm.score(X_test, y_test)
warm.fit(X_train, y_train)
print(f"test accuracy after 5 epochs: {first:.3f}")
print(f"after 5 more: {warm.score(X_test, y_test):.3f}")
print(f"epochs in history_: {len(warm.history_['loss'])}")
