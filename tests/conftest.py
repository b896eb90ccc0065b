import os

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

matplotlib.use("Agg")  # headless: tests draw, never show
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="session")
def digits_split():
    """sklearn digits, stratified 75/25, random_state=0 (the issue's protocol)."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


@pytest.fixture(scope="session")
def small_digits(digits_split):
    """A quick subset for tests that fit many times."""
    X_train, X_test, y_train, y_test = digits_split
    return X_train[:600], X_test[:200], y_train[:600], y_test[:200]


@pytest.fixture(scope="session")
def fitted_logistic(digits_split):
    from skmnist import KerasLogistic

    X_train, _, y_train, _ = digits_split
    return KerasLogistic(random_state=0).fit(X_train, y_train)


@pytest.fixture(scope="session")
def fitted_mlp(digits_split):
    from skmnist import KerasMLP

    X_train, _, y_train, _ = digits_split
    return KerasMLP(random_state=0).fit(X_train, y_train)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
