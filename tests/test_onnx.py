"""ONNX export: onnxruntime must give predict's labels and predict_proba's numbers."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.pipeline import make_pipeline

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")

from skmnist import (  # noqa: E402 (after the skips)
    KerasCNN,
    KerasLogistic,
    KerasMLP,
    PixelScaler,
    make_baseline,
    to_onnx,
)
from skmnist.exceptions import MissingExtraError  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"  # few epochs, on purpose
)
TOLERANCE = 1e-4  # on probabilities; labels must be equal
NAMES = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven"])
NAMES = np.array([*NAMES, "eight", "nine"])


@pytest.fixture(scope="module")
def digits():
    """8 x 8 digits as 0-240 pixels (uint8's range), float64 as users pass them."""
    X, y = load_digits(return_X_y=True)
    return X * 15, y


TARGETS = {
    "multiclass-int": lambda y: y,
    "multiclass-str": lambda y: NAMES[y],
    "binary-int": lambda y: (y >= 5).astype(np.int32) * 7 - 3,  # classes -3 and 4
    "binary-str": lambda y: np.where(y >= 5, "big", "small"),
}

MODELS = {
    "logistic": lambda: KerasLogistic(max_iter=5, random_state=0),
    "mlp": lambda: KerasMLP(hidden_layer_sizes=(16,), max_iter=5, random_state=0),
    # Every activation KerasMLP offers that differs from ReLU in ONNX terms,
    # with the other input scalings.
    "mlp-gelu-standard": lambda: KerasMLP(
        hidden_layer_sizes=(16, 8),
        activation="gelu",
        input_scaling="standard",
        dropout=0.2,
        max_iter=5,
        random_state=0,
    ),
    "mlp-selu-unscaled": lambda: KerasMLP(
        hidden_layer_sizes=(8,), activation="selu", input_scaling=None, max_iter=3
    ),
    "mlp-elu": lambda: KerasMLP(hidden_layer_sizes=(8,), activation="elu", max_iter=3),
    "mlp-tanh": lambda: KerasMLP(
        hidden_layer_sizes=(8,), activation="tanh", max_iter=3
    ),
    "mlp-logistic-identity": lambda: KerasMLP(
        hidden_layer_sizes=(8, 8), activation="logistic", max_iter=3
    ),
    "cnn": lambda: KerasCNN(
        filters=(4,), dense_units=8, shift=1, max_iter=2, random_state=0
    ),
    "baseline": make_baseline,
    "pixelscaler-mlp": lambda: make_pipeline(
        PixelScaler(), KerasMLP(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    ),
    "pixelscaler-logistic": lambda: make_pipeline(
        PixelScaler(), KerasLogistic(max_iter=5, random_state=0)
    ),
}

# The four targets for the four main models; one each for the variants.
CASES = [
    (model, target)
    for model in ("logistic", "mlp", "baseline", "pixelscaler-mlp")
    for target in TARGETS
] + [
    ("mlp-gelu-standard", "binary-str"),
    ("mlp-selu-unscaled", "multiclass-int"),
    ("mlp-elu", "binary-int"),
    ("mlp-tanh", "multiclass-str"),
    ("mlp-logistic-identity", "multiclass-int"),
    ("pixelscaler-logistic", "binary-int"),
    ("cnn", "multiclass-int"),
    ("cnn", "binary-str"),
]


def run_onnx(model_proto, X):
    session = ort.InferenceSession(
        model_proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {"input": np.asarray(X, dtype=np.float32)})


def assert_same_predictions(estimator, model_proto, X):
    label, proba = run_onnx(model_proto, X)
    expected = estimator.predict(X)
    assert label.shape == expected.shape
    assert label.tolist() == expected.tolist()  # exact, int or str
    assert proba.dtype == np.float32
    np.testing.assert_allclose(
        proba, estimator.predict_proba(X), rtol=0, atol=TOLERANCE
    )


@pytest.mark.parametrize("model, target", CASES)
def test_onnxruntime_reproduces_predict_and_predict_proba(digits, model, target):
    X, y = digits
    estimator = MODELS[model]().fit(X, TARGETS[target](y))
    model_proto = to_onnx(estimator)
    onnx.checker.check_model(model_proto, full_check=True)
    assert [i.name for i in model_proto.graph.input] == ["input"]
    assert [o.name for o in model_proto.graph.output] == ["label", "probabilities"]
    assert_same_predictions(estimator, model_proto, X)
    # uint8 pixels cast to float32 (the documented contract) give the same.
    pixels = X.astype(np.uint8)
    assert_same_predictions(estimator, model_proto, pixels.astype(np.float32))


def _cnn(keras, n_classes):
    """A network of KerasCNN's shape: flat rows in, logits out."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((64,)),
            layers.Rescaling(1 / 240),
            layers.Reshape((8, 8, 1)),
            layers.RandomTranslation(0.1, 0.1, seed=0),
            layers.Conv2D(6, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(3, strides=2, padding="same"),  # 8 -> 4
            layers.Conv2D(8, 2, activation="relu"),  # valid: 4 -> 3
            layers.MaxPooling2D(2, padding="same"),  # odd: 3 -> 2
            layers.Flatten(),
            layers.Dropout(0.25),
            layers.Dense(16, activation="relu"),
            layers.Dense(n_classes),
        ]
    )


def _random_weights(network, X, seed=0):
    """Seeded He-scaled kernels, centred logits.

    The conversion must not depend on the values; training the network first
    (Keras' own fit) would cost a minute of JAX compilation on a loaded
    2-core machine and prove nothing more. The last bias centres each logit
    on ``X`` so that the predicted class varies from image to image.
    """
    rng = np.random.default_rng(seed)
    for layer in network.layers:
        weights = [
            rng.normal(0, np.sqrt(2 / np.prod(w.shape[:-1])), w.shape)
            if w.ndim > 1
            else rng.normal(0, 0.05, w.shape)
            for w in layer.get_weights()
        ]
        layer.set_weights([w.astype(np.float32) for w in weights])
    logits = np.asarray(network(X.astype(np.float32), training=False))
    kernel, bias = network.layers[-1].get_weights()
    network.layers[-1].set_weights([kernel, bias - logits.mean(axis=0)])
    return network


@pytest.mark.parametrize("target", ["multiclass-int", "binary-str"])
def test_convolutional_networks(digits, target):
    """Conv2D, pooling, Reshape, Flatten in a fitted estimator, as KerasCNN's."""
    from skmnist._engine._builders import compile_model
    from skmnist._engine._keras import import_keras

    X, y = digits
    estimator = KerasLogistic(max_iter=1).fit(X[:50], TARGETS[target](y)[:50])
    n_classes = len(estimator.classes_)
    network = _cnn(import_keras(), 1 if n_classes == 2 else n_classes)
    # What KerasCNN will hold: this network, compiled by skmnist.
    estimator.model_ = compile_model(
        _random_weights(network, X), estimator.target_type_
    )
    assert_same_predictions(estimator, to_onnx(estimator), X)
    assert len(np.unique(estimator.predict(X))) > 1  # not a constant


@pytest.mark.parametrize("model", ["mlp-gelu-standard", "cnn", "pixelscaler-mlp"])
def test_a_loaded_model_exports_as_the_fitted_one(digits, tmp_path, model):
    # skmnist.load rebuilds the network with skmnist's builders: the ONNX
    # graph of the loaded model computes what the fitted model computes.
    from skmnist import load, save

    X, y = digits
    estimator = MODELS[model]().fit(X, y)
    loaded = load(save(estimator, tmp_path / "model.skmnist"))
    assert_same_predictions(estimator, to_onnx(loaded), X)


# -- refusals ----------------------------------------------------------------------


def test_refuses_unsupported_estimators(digits):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.preprocessing import StandardScaler

    X, y = digits
    with pytest.raises(TypeError, match="got RandomForestClassifier"):
        to_onnx(RandomForestClassifier(n_estimators=2).fit(X, y))
    with pytest.raises(TypeError, match="PixelScaler; got StandardScaler"):
        to_onnx(make_pipeline(StandardScaler(), KerasLogistic()))
    with pytest.raises(TypeError, match="got str"):
        to_onnx("model.skmnist")


def test_refuses_unfitted_estimators():
    from sklearn.exceptions import NotFittedError

    for estimator in (KerasMLP(), make_baseline()):
        with pytest.raises(NotFittedError, match="not fitted"):
            to_onnx(estimator)


def test_refuses_multilabel_and_float_classes(digits):
    X, y = digits
    multilabel = np.column_stack([y >= 5, y % 2 == 0]).astype(int)
    estimator = KerasLogistic(max_iter=1).fit(X[:100], multilabel[:100])
    with pytest.raises(ValueError, match="multilabel-indicator targets"):
        to_onnx(estimator)
    estimator = KerasLogistic(max_iter=1).fit(X[:100], y[:100].astype(float))
    with pytest.raises(ValueError, match="integers or strings.*float64"):
        to_onnx(estimator)


@pytest.mark.parametrize(
    "layer, words",
    [
        ("softplus", ["'softplus'", "supported are elu, gelu"]),
        ("layer-norm", ["'norm' (LayerNormalization)", "not supported"]),
        # Layers skmnist never builds have no converter (load never builds them).
        ("batch-norm", ["'norm' (BatchNormalization)", "supported are Conv2D"]),
        ("branch", ["branches"]),
    ],
)
def test_refuses_unsupported_layers_by_name(digits, layer, words):
    from skmnist._engine._keras import import_keras

    keras = import_keras()
    X, y = digits
    estimator = KerasLogistic(max_iter=1).fit(X[:50], y[:50])
    inputs = keras.Input((64,))
    if layer == "softplus":
        outputs = keras.layers.Dense(10, activation="softplus")(inputs)
    elif layer in ("layer-norm", "batch-norm"):
        norm = {"layer-norm": "LayerNormalization", "batch-norm": "BatchNormalization"}
        x = getattr(keras.layers, norm[layer])(name="norm")(inputs)
        outputs = keras.layers.Dense(10)(x)
    else:
        hidden = keras.layers.Dense(10)(inputs)
        outputs = keras.layers.Add()([hidden, keras.layers.Dense(10)(inputs)])
    estimator.model_ = keras.Model(inputs, outputs)
    with pytest.raises(ValueError) as error:
        to_onnx(estimator)
    for word in words:
        assert word in str(error.value)


def test_refuses_bad_opset(fitted_logistic):
    for opset in (12, 99, "17", 17.0, True):
        with pytest.raises(ValueError, match="opset must be an int from 13"):
            to_onnx(fitted_logistic, opset=opset)


def test_opset_is_at_most_the_pinned_one(fitted_logistic):
    from skmnist.export import OPSET

    versions = {o.domain: o.version for o in to_onnx(fitted_logistic).opset_import}
    assert versions[""] <= OPSET
    older = to_onnx(fitted_logistic, opset=13)
    assert {o.domain: o.version for o in older.opset_import}[""] == 13


def test_missing_extra_names_the_pip_command(fitted_logistic, monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=r'pip install "skmnist\[onnx\]"'):
        to_onnx(fitted_logistic)


# -- command line --------------------------------------------------------------------


def _skmnist(*args):
    return subprocess.run(
        [sys.executable, "-m", "skmnist", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_round_trip(digits, tmp_path):
    from skmnist import save

    X, y = digits
    estimator = KerasMLP(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    estimator.fit(X, NAMES[y])
    save(estimator, tmp_path / "mlp.skmnist")
    (tmp_path / "mlp.onnx").write_text("an older file, replaced")
    done = _skmnist("export-onnx", tmp_path / "mlp.skmnist", tmp_path / "mlp.onnx")
    assert done.returncode == 0, done.stderr
    assert "KerasMLP" in done.stdout and "(n, 64)" in done.stdout
    assert_same_predictions(estimator, onnx.load(tmp_path / "mlp.onnx"), X)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlp.onnx", "mlp.skmnist"]


def test_cli_errors_exit_2_with_one_line(tmp_path, capsys):
    from skmnist import save
    from skmnist.cli import main

    X, y = load_digits(return_X_y=True)
    # Fitted on float classes, which ONNX labels (int64 or string) cannot be.
    model = tmp_path / "float-classes.skmnist"
    save(KerasLogistic(max_iter=1).fit(X[:100], y[:100].astype(float)), model)
    (tmp_path / "notes.txt").write_text("not a model")
    cases = [
        ([tmp_path / "missing.skmnist", tmp_path / "x.onnx"], "no such file"),
        ([model, model], "is MODEL itself"),
        ([model, tmp_path], "is a folder"),
        ([model, tmp_path / "no" / "x.onnx"], "does not exist"),
        ([tmp_path / "notes.txt", tmp_path / "x.onnx"], "cannot load MODEL"),
        ([model, tmp_path / "x.onnx"], "integers or strings"),
        ([model, tmp_path / "x.onnx", "--opset", "3"], "opset must be"),
    ]
    for argv, words in cases:
        status = main(["export-onnx", *map(str, argv)])
        err = capsys.readouterr().err
        assert status == 2, (argv, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("skmnist export-onnx: error:")
        assert words in lines[0], lines[0]
    assert not (tmp_path / "x.onnx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "float-classes.skmnist",
        "notes.txt",
    ]
