r"""
=========================================================
Multilabel classification: even, five or more, and prime
=========================================================

In multiclass classification every image has exactly one label. In
multilabel classification it has any number of them, each a yes/no question.
Here each digit gets three labels:

* **even** (0, 2, 4, 6, 8),
* **five or more** (5 to 9),
* **prime** (2, 3, 5, 7).

A 7 is odd, at least five and prime: ``[0, 1, 1]``. The target is an
indicator matrix of shape ``(n_samples, 3)``. :class:`~skmnist.KerasMLP`
recognises it (scikit-learn's ``type_of_target`` says
``"multilabel-indicator"``) and gives the network three independent outputs,
each with its own sigmoid and binary cross-entropy, instead of one softmax
over classes that exclude each other. The probabilities of a row therefore
do not sum to one.
"""

# %%
# Building the labels
# -------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import classification_report, hamming_loss
from sklearn.utils.multiclass import type_of_target

from skmnist import KerasMLP, load_mnist

X_train, digits_train = load_mnist(
    source="embedded", subset="train", return_X_y=True
)
X_test, digits_test = load_mnist(
    source="embedded", subset="test", return_X_y=True
)
label_names = ["even", ">= 5", "prime"]


def make_labels(digits):
    """Indicator matrix: one column per yes/no question."""
    return np.column_stack(
        [
            digits % 2 == 0,
            digits >= 5,
            np.isin(digits, [2, 3, 5, 7]),
        ]
    ).astype(int)


Y_train, Y_test = (
    make_labels(digits_train),
    make_labels(digits_test),
)
print(type_of_target(Y_train), Y_train.shape)
print("digit 7 ->", make_labels(np.array([7]))[0])

# %%
# Fitting
# -------
# Nothing changes on the estimator side: ``fit`` takes the matrix.
clf = KerasMLP(
    hidden_layer_sizes=(128,), max_iter=20, random_state=0
)
clf.fit(X_train, Y_train)
proba = clf.predict_proba(X_test)
Y_pred = clf.predict(X_test)
print(
    "probabilities of the first test image:",
    proba[0].round(3),
    "sum:",
    proba[0].sum().round(3),
)
print("predicted labels:", Y_pred[0], " true labels:", Y_test[0])

# %%
# Metrics for several labels
# --------------------------
# ``score`` is scikit-learn's subset accuracy: a row counts only if all three
# labels are right. The Hamming loss is the share of wrong labels, and the
# classification report gives precision and recall per label.
print(f"subset accuracy: {clf.score(X_test, Y_test):.3f}")
print(f"Hamming loss: {hamming_loss(Y_test, Y_pred):.3f}")
# A 1 is odd, below five and not prime: it has no label at all,
# which the per-sample average of the report must be told to
# accept (zero_division).
print(
    classification_report(
        Y_test,
        Y_pred,
        target_names=label_names,
        digits=3,
        zero_division=0,
    )
)

# %%
# Predictions on a few test images
# --------------------------------
# Each bar is one label's own probability; the dashed line is the 0.5
# threshold ``predict`` uses.
fig, axes = plt.subplots(
    2, 6, figsize=(10, 3.8), gridspec_kw={"height_ratios": [3, 2]}
)
for column, index in enumerate(range(6)):
    image_ax, bar_ax = axes[0, column], axes[1, column]
    image_ax.imshow(X_test[index].reshape(28, 28), cmap="binary")
    image_ax.set(
        xticks=[], yticks=[], title=f"digit {digits_test[index]}"
    )
    colors = [
        "C2" if p == t else "C3"
        for p, t in zip(Y_pred[index], Y_test[index])
    ]
    bar_ax.bar(range(3), proba[index], color=colors)
    bar_ax.axhline(0.5, color="0.4", linestyle="--", linewidth=1)
    bar_ax.set(ylim=(0, 1), xticks=range(3))
    bar_ax.set_xticklabels(label_names, rotation=45, fontsize=8)
    if column:
        bar_ax.set_yticklabels([])
fig.suptitle("Label probabilities (green: right, red: wrong)")
fig.tight_layout()
