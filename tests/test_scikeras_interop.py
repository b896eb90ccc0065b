"""skmnist's network as the model= of scikeras' KerasClassifier (skmnist[scikeras])."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skmnist.classifiers import build_mlp

scikeras_wrappers = pytest.importorskip("scikeras.wrappers")


def _classifier(**params):
    defaults = dict(
        model=build_mlp,
        model__hidden_layer_sizes=(32,),
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=0.01,
        epochs=20,
        batch_size=32,
        random_state=0,
        verbose=0,
    )
    return scikeras_wrappers.KerasClassifier(**{**defaults, **params})


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300], X[300:600], y[300:600]


def test_scikeras_fits_and_predicts_with_skmnist_network(digits):
    X, y, X_test, y_test = digits
    model = make_pipeline(MinMaxScaler(), _classifier()).fit(X, y)
    proba = model.predict_proba(X_test)
    assert model.predict(X_test).shape == y_test.shape
    assert proba.shape == (len(X_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert model.score(X_test, y_test) > 0.8
    network = model[-1].model_
    assert [layer.name for layer in network.layers][-2:] == ["logits", "probabilities"]


def test_scikeras_random_state_seeds_the_network(digits):
    X, y, X_test, _ = digits
    first, second = (_classifier(epochs=1).fit(X / 16, y) for _ in range(2))
    np.testing.assert_allclose(
        first.predict_proba(X_test / 16), second.predict_proba(X_test / 16), rtol=1e-5
    )


def test_binary_target_gets_one_sigmoid_output(digits):
    X, y, X_test, _ = digits
    classifier = _classifier(loss="binary_crossentropy", epochs=2)
    classifier.fit(X / 16, y % 2)
    assert classifier.model_.output_shape == (None, 1)
    assert classifier.predict_proba(X_test / 16).shape == (len(X_test), 2)


def test_other_target_types_are_refused():
    with pytest.raises(ValueError, match="target_type_.*'multilabel-indicator'"):
        build_mlp({"target_type_": "multilabel-indicator"})
