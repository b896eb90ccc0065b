"""
===========================================
The Keras tutorial, one parameter at a time
===========================================

TensorFlow's beginner tutorial builds ``Flatten -> Dense(128, relu)
-> Dense(10)``, compiles it with Adam and a from-logits
cross-entropy, trains it for 50 epochs with
``validation_split=0.2``, plots ``loss`` against ``val_loss`` to
show overfitting, and draws one image beside its predicted
probabilities. In Keras::

    model = keras.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10),
    ])
    loss = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True)
    model.compile(optimizer="adam", loss=loss,
                  metrics=["accuracy"])
    history = model.fit(x_train / 255, y_train, epochs=50,
                        validation_split=0.2)
    plt.plot(history.history["loss"])
    plt.plot(history.history["val_loss"])

Here is the same in skmnist, where the model is a scikit-learn
estimator. It runs on the 5,000 images shipped with the package
(4,000 for training). See :ref:`coming_from` for the table of names.
"""

# %%
# Train: every Keras ``fit`` argument is a constructor parameter
# --------------------------------------------------------------
# ``epochs=50`` is ``max_iter=50``, ``validation_split=0.2`` is the same name
# (the share is stratified by class and seeded by ``random_state``), and
# ``batch_size=32`` is the batch the tutorial gets from Keras without asking
# (skmnist's default, ``"auto"``, is scikit-learn's ``min(200, n_samples)``).
# Adam, the from-logits loss, the accuracy metric and the ``/ 255`` scaling
# are the defaults. ``max_iter`` is an upper bound, as in scikit-learn:
# training also stops once the *training* loss has stalled for
# ``n_iter_no_change`` epochs. Here all 50 epochs run, and a
# ``ConvergenceWarning`` says (as ``MLPClassifier`` would) that the training
# loss was still falling.
import numpy as np

from skmnist import KerasMLP, load_mnist

X_train, y_train = load_mnist(
    source="embedded", subset="train", return_X_y=True
)
X_test, y_test = load_mnist(
    source="embedded", subset="test", return_X_y=True
)

clf = KerasMLP(
    max_iter=50, batch_size=32, validation_split=0.2, random_state=0
)
clf.fit(X_train, y_train)
print(f"epochs run: {clf.n_iter_}")
print(f"history_ keys: {sorted(clf.history_)}")
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# The loss curves
# ---------------
# ``history_`` is Keras' ``history.history``. The training loss falls
# towards zero and the training accuracy reaches 100 %: the network
# memorises its 3,200 training images. The validation loss stops
# improving after about 25 epochs and then creeps up, by about a tenth
# by epoch 50 (the numbers below): overfitting, which
# ``validation_split`` only records (``early_stopping=True`` would stop
# there and restore the best weights). On these few images the rise is
# small beside the fall of the training loss; with skmnist's default
# batch of 200 images (16 steps per epoch instead of 100) it does not
# show within 50 epochs (measured: lowest 0.193 at epoch 38, 0.195 at
# epoch 50, a flat curve).
from skmnist.plotting import LossCurveDisplay

LossCurveDisplay.from_estimator(clf, metric="both")
val_loss = np.asarray(clf.history_["val_loss"])
best = int(val_loss.argmin())
print(
    f"lowest validation loss {val_loss[best]:.3f}, epoch {best + 1}"
)
print(f"validation loss at the end: {val_loss[-1]:.3f}")

# %%
# One image and its probabilities
# -------------------------------
# ``predict_proba`` is the tutorial's softmax over the logits (which
# ``decision_function`` returns); the display draws the tutorial's
# ``plot_image`` and ``plot_value_array`` side by side.
from skmnist.plotting import DigitPredictionDisplay

DigitPredictionDisplay.from_estimator(clf, X_test, y_test, index=0)
