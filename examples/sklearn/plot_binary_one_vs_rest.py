r"""
=================================================
Binary classification: one digit against the rest
=================================================

Is this image a 5 or not? With two classes, :class:`~skmnist.KerasLogistic`
has one output: a single logit :math:`z`, turned into the probability of the
positive class by the sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`, and
trained on the binary cross-entropy computed from :math:`z`.

Only one image in ten is a 5, so accuracy alone says little: a model that
always answers "not a 5" is already 90% right. This example looks at
precision, recall, ROC and precision-recall curves, class weights and
calibration instead.
"""

# %%
# Data
# ----
import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit
from sklearn.calibration import (
    CalibratedClassifierCV,
    CalibrationDisplay,
)
from sklearn.dummy import DummyClassifier
from sklearn.metrics import (
    PrecisionRecallDisplay,
    RocCurveDisplay,
    classification_report,
)

from skmnist import KerasLogistic, load_mnist

X_train, digits_train = load_mnist(
    source="embedded", subset="train", return_X_y=True
)
X_test, digits_test = load_mnist(
    source="embedded", subset="test", return_X_y=True
)
y_train, y_test = digits_train == 5, digits_test == 5
print(f"share of fives: {y_train.mean():.2f}")

# %%
# The trivial baseline
# --------------------
print(
    "always 'not a 5':",
    DummyClassifier().fit(X_train, y_train).score(X_test, y_test),
)

# %%
# Logistic regression
# -------------------
# Boolean labels give ``classes_ == [False, True]``. ``decision_function``
# returns the logit of the positive class, and ``predict_proba`` its sigmoid
# in the second column.
clf = KerasLogistic(max_iter=30, random_state=0).fit(
    X_train, y_train
)
logits = clf.decision_function(X_test)
proba = clf.predict_proba(X_test)
print("classes_:", clf.classes_)
print(
    "sigmoid(logit) == predict_proba[:, 1]:",
    np.allclose(expit(logits), proba[:, 1], atol=1e-5),
)
print(
    classification_report(
        y_test,
        clf.predict(X_test),
        target_names=["not 5", "5"],
        digits=3,
    )
)

# %%
# Class weights
# -------------
# ``class_weight="balanced"`` weighs each class by the inverse of its
# frequency, so missing a 5 costs as much as nine false alarms. Recall of the
# 5s goes up, precision goes down: the decision threshold moved.
balanced = KerasLogistic(
    max_iter=30, class_weight="balanced", random_state=0
)
balanced.fit(X_train, y_train)
print(
    classification_report(
        y_test,
        balanced.predict(X_test),
        target_names=["not 5", "5"],
        digits=3,
    )
)

# %%
# Threshold-free curves
# ---------------------
# ROC and precision-recall curves sweep every threshold over the logits, so
# they show that both models rank the images almost the same way; the class
# weights mostly shift the threshold.
fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(10, 4))
for name, model in [("unweighted", clf), ("balanced", balanced)]:
    RocCurveDisplay.from_estimator(
        model, X_test, y_test, name=name, ax=ax_roc
    )
    PrecisionRecallDisplay.from_estimator(
        model, X_test, y_test, name=name, ax=ax_pr
    )
ax_roc.set_title("ROC")
ax_pr.set_title("Precision-recall")
fig.tight_layout()

# %%
# Calibration
# -----------
# Class weights distort the probabilities: the balanced model claims "5" far
# more often than fives occur. :class:`~sklearn.calibration.CalibratedClassifierCV`
# refits it on folds and learns a mapping from its scores back to
# frequencies.
calibrated = CalibratedClassifierCV(
    balanced, method="sigmoid", cv=3
)
calibrated.fit(X_train, y_train)

fig, ax = plt.subplots(figsize=(5.5, 5))
for name, model in [
    ("unweighted", clf),
    ("balanced", balanced),
    ("balanced + calibrated", calibrated),
]:
    CalibrationDisplay.from_estimator(
        model, X_test, y_test, n_bins=8, name=name, ax=ax
    )
ax.set_title("Reliability diagram")
