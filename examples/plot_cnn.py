"""
===================================================
From logistic regression to a convolutional network
===================================================

The tutorial's three steps on the same images: :class:`~skmnist.KerasLogistic`
(one linear layer), :class:`~skmnist.KerasMLP` (one hidden layer) and
:class:`~skmnist.KerasCNN`, which reads the 784 pixels as a 28x28 image:
convolutions share their weights across the image and pooling forgives small
shifts, which is what handwritten digits need. During training the CNN also
sees each image shifted by up to 2 pixels (``shift="auto"``); predictions
never are.

All three take the same flat rows and fit in the same pipelines; the CNN
costs the most per epoch. The logistic regression and the MLP train at most
30 epochs (``skmnist compare``'s budget), the CNN its default 12: 60 to 90 s
on two CPU cores.
"""

# %%
# Data: the 5,000 MNIST images that ship with skmnist
# ----------------------------------------------------
from skmnist import (
    KerasCNN,
    KerasLogistic,
    KerasMLP,
    compare,
    load_mnist,
)
from skmnist.plotting import ComparisonDisplay

X_train, y_train = load_mnist(
    source="embedded", subset="train", return_X_y=True
)
X_test, y_test = load_mnist(
    source="embedded", subset="test", return_X_y=True
)
print(X_train.shape, X_test.shape)

# %%
# Fit the three, side by side
# ---------------------------
# :func:`~skmnist.compare` fits each model on the same training images and
# scores it on the same test images.
models = {
    "logistic": KerasLogistic(max_iter=30, random_state=0),
    "mlp": KerasMLP(max_iter=30, random_state=0),
    "cnn": KerasCNN(random_state=0),
}
result = compare(models, X_train, y_train, X_test, y_test)
for row in result.rows:
    print(
        f"{row['model']:>8}: accuracy {row['accuracy']:.3f}, "
        f"fit {row['fit_seconds']:.1f} s, "
        f"{row['n_parameters']:,} weights"
    )

# %%
# The CNN makes the fewest errors, in the fewest epochs, for the highest cost
# per epoch (its convolutions touch every pixel 32 then 64 times).
ComparisonDisplay.from_result(
    result, title="Embedded MNIST, 4,000 training images"
)

# %%
# What the CNN is made of
# -----------------------
# The rows become images inside the Keras model (a ``Reshape`` layer), so the
# estimator takes the same input as the others. ``image_shape_`` says how the
# rows were read; ``RandomTranslation`` is the training-time shift.
cnn = result.estimators["cnn"]
print(cnn.image_shape_)
print([type(layer).__name__ for layer in cnn.model_.layers])
