"""skmnist.save / skmnist.load: exact round trips, and tampered files refused.

Tampered files are made the way an attacker would: decode the archive, edit a
part, re-seal it (recomputing the checksum), so each check behind the checksum
is exercised on its own. "No code runs" is checked with marker files that the
hostile code would write.
"""

import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
import zipfile

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler

import skmnist
from skmnist import persistence
from skmnist.persistence import ModelVersionWarning, UntrustedModelError, _keras_checks

FAST = dict(max_iter=3, batch_size=50, random_state=0)


@pytest.fixture(scope="module")
def data(small_digits):
    X_train, X_test, y_train, _ = small_digits
    return X_train * 15, y_train, X_test * 15  # 0-240: raw-pixel-like


@pytest.fixture(scope="module")
def fitted(data):
    """One small fitted model of each kind, fitted once for the module."""
    from skmnist import KerasLogistic, KerasMLP
    from skmnist.preprocessing import PixelScaler

    X, y, _ = data
    labels = np.where(y > 4, "big", "small")
    indicator = np.column_stack([y > 4, y % 2 == 0]).astype(int)
    models = {
        "logistic": (KerasLogistic(**FAST), y),
        "mlp_standard": (
            KerasMLP(
                hidden_layer_sizes=(8,), dropout=0.2, input_scaling="standard", **FAST
            ),
            y,
        ),
        "binary_str": (
            KerasLogistic(class_weight={"big": 1.0, "small": 2.0}, **FAST),
            labels,
        ),
        "multilabel": (KerasLogistic(**FAST), indicator),
        "pipeline": (
            make_pipeline(
                PixelScaler(), MinMaxScaler(), KerasMLP(hidden_layer_sizes=(8,), **FAST)
            ),
            y,
        ),
        "baseline": (skmnist.make_baseline(), y),
        "sklearn_only": (
            make_pipeline(MinMaxScaler(), LogisticRegression(max_iter=300)),
            y,
        ),
    }
    return {name: est.fit(X, target) for name, (est, target) in models.items()}


@pytest.fixture
def saved(fitted, tmp_path):
    return skmnist.save(fitted["logistic"], tmp_path / "model.skmnist")


def _rewrite(path, edit):
    """Decode ``path``, let ``edit(manifest, entries)`` change it, re-seal it."""
    manifest, entries = persistence._files._read_archive(path.read_bytes())
    edit(manifest, entries)
    path.write_bytes(persistence._files._archive_bytes(manifest, entries))
    return path


def _edit_json(path, entry, edit):
    def change(manifest, entries):
        document = json.loads(entries[entry])
        edit(document)
        entries[entry] = json.dumps(document).encode()

    return _rewrite(path, change)


def _edit_keras_config(path, edit, entry="model.keras"):
    def change(manifest, entries):
        inner = zipfile.ZipFile(io.BytesIO(entries[entry]))
        files = {name: inner.read(name) for name in inner.namelist()}
        config = json.loads(files["config.json"])
        edit(config)
        files["config.json"] = json.dumps(config).encode()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as out:
            for name, data in files.items():
                out.writestr(name, data)
        entries[entry] = buffer.getvalue()

    return _rewrite(path, change)


# -- round trips -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "logistic",
        "mlp_standard",
        "binary_str",
        "multilabel",
        "pipeline",
        "baseline",
        "sklearn_only",
    ],
)
def test_round_trip_gives_identical_probabilities(fitted, data, tmp_path, name):
    estimator = fitted[name]
    _, _, X_test = data
    loaded = skmnist.load(skmnist.save(estimator, tmp_path / f"{name}.skmnist"))
    assert type(loaded) is type(estimator)
    assert repr(loaded) == repr(estimator)
    np.testing.assert_array_equal(
        loaded.predict_proba(X_test), estimator.predict_proba(X_test)
    )
    np.testing.assert_array_equal(loaded.predict(X_test), estimator.predict(X_test))


def test_round_trip_keeps_fitted_attributes(fitted, data, tmp_path):
    estimator = fitted["binary_str"]
    _, _, X = data
    loaded = skmnist.load(skmnist.save(estimator, tmp_path / "m"))
    for name in (
        "classes_",
        "n_classes_",
        "target_type_",
        "n_features_in_",
        "history_",
        "loss_curve_",
        "n_iter_",
        "best_epoch_",
    ):
        np.testing.assert_equal(getattr(loaded, name), getattr(estimator, name))
    assert loaded.classes_.dtype == estimator.classes_.dtype
    assert loaded.get_params() == estimator.get_params()
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))


def test_loaded_model_keeps_training(fitted, data, tmp_path):
    X, y, _ = data
    loaded = skmnist.load(skmnist.save(fitted["mlp_standard"], tmp_path / "m"))
    loaded.partial_fit(X[:100], y[:100])
    assert loaded.n_iter_ == fitted["mlp_standard"].n_iter_ + 1
    assert np.isfinite(loaded.loss_curve_).all()


def test_baseline_load_does_not_import_tensorflow(fitted, tmp_path):
    path = skmnist.save(fitted["baseline"], tmp_path / "baseline.skmnist")
    code = textwrap.dedent(f"""
        import sys, skmnist
        model = skmnist.load({str(path)!r})
        assert type(model).__name__ == "Pipeline"
        assert "tensorflow" not in sys.modules, "load imported TensorFlow"
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.parametrize("name", ["logistic", "pipeline"])
def test_pickle_and_joblib_still_work(fitted, data, tmp_path, name):
    estimator = fitted[name]
    _, _, X_test = data
    expected = estimator.predict_proba(X_test)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(estimator)).predict_proba(X_test), expected
    )
    joblib.dump(estimator, tmp_path / "model.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "model.joblib").predict_proba(X_test), expected
    )


def test_manifest_records_library_versions(saved):
    manifest, entries = persistence._files._read_archive(saved.read_bytes())
    assert set(manifest["versions"]) == {
        "skmnist",
        "keras",
        "tensorflow",
        "scikit-learn",
        "skops",
        "numpy",
    }
    assert manifest["versions"]["skmnist"] == skmnist.__version__
    assert set(entries) == {"estimator.json", "model.keras"}


@pytest.mark.parametrize("library", ["skmnist", "keras"])
def test_other_version_warns_with_both_versions(saved, library):
    def older(manifest, entries):
        manifest["versions"][library] = "0.0.1"

    _rewrite(saved, older)
    running = persistence._files._library_versions()[library]
    with pytest.warns(
        ModelVersionWarning,
        match=rf"{library} 0\.0\.1.*"
        rf"{library} {running}",
    ):
        skmnist.load(saved)


# -- what save refuses -----------------------------------------------------------


def test_save_refuses_unfitted_and_leaves_no_file(tmp_path):
    from sklearn.exceptions import NotFittedError

    from skmnist import KerasLogistic

    with pytest.raises(NotFittedError):
        skmnist.save(KerasLogistic(), tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_keras_nested_below_a_pipeline(fitted, tmp_path):
    nested = Pipeline([("inner", make_pipeline(fitted["logistic"]))])
    with pytest.raises(TypeError, match="steps of a top-level Pipeline"):
        skmnist.save(nested, tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_what_load_would_refuse(tmp_path):
    hostile = FunctionTransformer(os.system)
    with pytest.raises(TypeError, match="system"):
        skmnist.save(hostile, tmp_path / "m")


def test_save_drops_callbacks_with_a_warning(data, tmp_path):
    from skmnist import KerasLogistic
    from skmnist._engine._keras import import_keras

    X, y, _ = data
    callback = import_keras().callbacks.History()
    clf = KerasLogistic(callbacks=[callback], **FAST).fit(X, y)
    with pytest.warns(UserWarning, match="callbacks are not saved"):
        path = skmnist.save(clf, tmp_path / "m")
    assert skmnist.load(path).callbacks is None


# -- tampered files: damage ------------------------------------------------------


@pytest.mark.parametrize("where", [0, 10, 100, 0.25, 0.5, 0.75, -120, -70, -1])
def test_flipped_byte_is_refused(saved, where):
    data = bytearray(saved.read_bytes())
    index = int(where * len(data)) if isinstance(where, float) else where
    data[index] ^= 0x01
    saved.write_bytes(bytes(data))
    with pytest.raises(UntrustedModelError, match="checksum|Checksum"):
        skmnist.load(saved)


@pytest.mark.parametrize("keep", [0, 1, 30, 0.5, -1, -65])
def test_truncated_archive_is_refused(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(
        data[: int(keep * len(data)) if isinstance(keep, float) else keep]
    )
    with pytest.raises(UntrustedModelError, match="checksum|Checksum"):
        skmnist.load(saved)


def test_foreign_zip_is_refused(tmp_path):
    path = tmp_path / "model.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", "{}")
    with pytest.raises(UntrustedModelError, match="Not a file written by"):
        skmnist.load(path)


# -- tampered files: the manifest and the JSON state -------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m, e: m.update(format_version=99), "Unsupported format_version"),
        (lambda m, e: m.update(kind="pickle"), "invalid kind"),
        (lambda m, e: m.update(format="other"), "does not describe"),
        (
            lambda m, e: e.update({"payload.pkl": b"\x80\x04"}),
            "Unexpected archive entries",
        ),
        (lambda m, e: e.pop("estimator.json"), "Unexpected archive entries"),
        (lambda m, e: e.update({"estimator.json": b"{not json"}), "not valid JSON"),
    ],
)
def test_altered_manifest_or_layout_is_refused(saved, change, message):
    _rewrite(saved, change)
    with pytest.raises(UntrustedModelError, match=message):
        skmnist.load(saved)


@pytest.mark.parametrize(
    "class_name",
    ["LogisticRegression", "os.system", "_BaseKerasClassifier", "Pipeline"],
)
def test_estimator_class_outside_allow_list_is_refused(saved, class_name):
    _edit_json(saved, "estimator.json", lambda d: d.update({"class": class_name}))
    with pytest.raises(UntrustedModelError, match="only .*KerasLogistic"):
        skmnist.load(saved)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["attributes"].update(predict={"__tuple__": []}), "allow-list"),
        (lambda d: d["attributes"].update(__class__="Pipeline"), "allow-list"),
        (lambda d: d["attributes"].update(model_="x"), "allow-list"),
        (lambda d: d["attributes"].update(target_encoder_="x"), "allow-list"),
        (lambda d: d["attributes"].pop("classes_"), "missing"),
        (lambda d: d["attributes"].update(n_features_in_="64"), "wrong type"),
        (lambda d: d["attributes"].update(n_iter_=-1), "wrong type"),
        (lambda d: d["attributes"].update(target_type_="continuous"), "wrong type"),
        (lambda d: d["attributes"].update(n_features_in_=63), "features"),
        (lambda d: d["attributes"].update(n_classes_=3), "wrong type or size"),
        (
            lambda d: d["attributes"].update(
                classes_={"__ndarray__": [1, 2], "dtype": "V8"}
            ),
            "invalid saved array",
        ),
        (
            lambda d: d["attributes"].update(
                classes_={"__ndarray__": [{"a": 1}], "dtype": "object"}
            ),
            "invalid saved",
        ),
        (
            lambda d: d["attributes"].update(
                history_={"__reduce__": ["os.system", ["echo"]]}
            ),
            "unexpected JSON object",
        ),
        (lambda d: d["params"]["__dict__"].append(["__init__", "x"]), "parameters"),
        (lambda d: d["params"]["__dict__"].append(["solver", "exec"]), "parameters"),
        (lambda d: d["params"]["__dict__"].append(["callbacks", ["x"]]), "callbacks"),
    ],
)
def test_unexpected_attributes_or_parameters_are_refused(saved, edit, message):
    _edit_json(saved, "estimator.json", edit)
    with pytest.raises(UntrustedModelError, match=message):
        skmnist.load(saved)


def test_file_saved_when_learning_rate_was_the_step_size_loads(fitted, data, tmp_path):
    # Files written before the rename store the step size as a float
    # learning_rate and none of MLPClassifier's optimizer parameters.
    new_names = {"learning_rate_init", "power_t", "shuffle", "momentum"}
    new_names |= {"nesterovs_momentum", "beta_1", "beta_2", "epsilon", "max_fun"}
    new_names |= {"validation_split"}

    def old_layout(document):
        params = [
            [name, 0.003 if name == "learning_rate" else value]
            for name, value in document["params"]["__dict__"]
            if name not in new_names
        ]
        document["params"]["__dict__"] = params
        document["attributes"].pop("t_")

    path = skmnist.save(fitted["logistic"], tmp_path / "old.skmnist")
    _edit_json(path, "estimator.json", old_layout)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = skmnist.load(path)
    assert loaded.learning_rate == "constant"
    assert loaded.learning_rate_init == 0.003
    assert (loaded.momentum, loaded.nesterovs_momentum, loaded.epsilon) == (
        0.0,
        False,
        1e-7,
    )
    X, y, X_test = data
    np.testing.assert_array_equal(
        loaded.predict_proba(X_test), fitted["logistic"].predict_proba(X_test)
    )
    loaded.partial_fit(X, y)  # and it trains on
    assert loaded.t_ == X.shape[0]


def test_mlpclassifier_parameters_survive_the_round_trip(data, tmp_path):
    from skmnist import KerasMLP

    X, y, _ = data
    params = dict(
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=0.05,
        power_t=0.3,
        momentum=0.7,
        batch_size="auto",
        validation_split=0.2,
    )
    clf = KerasMLP(hidden_layer_sizes=(8,), **{**FAST, **params}).fit(X, y)
    loaded = skmnist.load(skmnist.save(clf, tmp_path / "m.skmnist"))
    assert {name: loaded.get_params()[name] for name in params} == params
    assert loaded.t_ == clf.t_
    assert loaded.history_["learning_rate"] == clf.history_["learning_rate"]


# -- tampered files: the Keras model -----------------------------------------------


def _hostile_lambda_model(marker):
    """A real Keras model with a Lambda layer whose code would write ``marker``."""
    from skmnist._engine._keras import import_keras

    keras = import_keras()
    inputs = keras.Input((64,), name="pixels")
    logits = keras.layers.Dense(10, name="logits")(inputs)
    hostile = keras.layers.Lambda(
        lambda x, path=str(marker): (open(path, "w").close(), x)[1]
    )(logits)
    return keras.Model(inputs, hostile)


@pytest.mark.parametrize(
    "check_config", [True, False], ids=["allow-list", "keras-safe-mode-alone"]
)
def test_lambda_layer_is_refused_and_never_runs(
    saved, tmp_path, monkeypatch, check_config
):
    marker = tmp_path / "lambda-ran"
    _hostile_lambda_model(marker).save(tmp_path / "hostile.keras")
    marker.unlink()  # building the model traced the lambda; loading must not
    _rewrite(
        saved,
        lambda m, e: e.update(
            {"model.keras": (tmp_path / "hostile.keras").read_bytes()}
        ),
    )
    if not check_config:  # prove Keras' own safe_mode refuses it too
        monkeypatch.setattr(_keras_checks, "_check_keras_config", lambda c: None)
        # ...and the layer-chain sizes, which refuse unknown layers as well.
        monkeypatch.setattr(_keras_checks, "_check_keras_sizes", lambda c, w: None)
    with pytest.raises(UntrustedModelError, match="Lambda"):
        skmnist.load(saved)
    assert not marker.exists()


@pytest.mark.parametrize(
    "check_config", [True, False], ids=["allow-list", "keras-safe-mode-alone"]
)
def test_unknown_keras_class_is_refused(saved, monkeypatch, check_config):
    def rename(config):
        config["config"]["layers"][-1]["class_name"] = "EvilLayer"

    _edit_keras_config(saved, rename)
    if not check_config:
        monkeypatch.setattr(_keras_checks, "_check_keras_config", lambda c: None)
        # ...and the layer-chain sizes, which refuse unknown layers as well.
        monkeypatch.setattr(_keras_checks, "_check_keras_sizes", lambda c, w: None)
    with pytest.raises(UntrustedModelError, match="EvilLayer"):
        skmnist.load(saved)


@pytest.fixture
def hostile_module(tmp_path, monkeypatch):
    """An importable module whose import (or use) writes a marker file."""
    marker = tmp_path / "imported"
    (tmp_path / "skmnist_hostile.py").write_text(
        textwrap.dedent(f"""
        import pathlib
        pathlib.Path({str(marker)!r}).write_text("imported")

        class Dense:
            pass
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield marker
    sys.modules.pop("skmnist_hostile", None)


@pytest.mark.parametrize(
    "check_config", [True, False], ids=["allow-list", "keras-safe-mode-alone"]
)
def test_keras_config_naming_a_foreign_module_is_never_imported(
    saved, hostile_module, monkeypatch, check_config
):
    def point_elsewhere(config):
        config["config"]["layers"][-1]["module"] = "skmnist_hostile"

    _edit_keras_config(saved, point_elsewhere)
    if not check_config:
        monkeypatch.setattr(_keras_checks, "_check_keras_config", lambda c: None)
        # ...and the layer-chain sizes, which refuse unknown layers as well.
        monkeypatch.setattr(_keras_checks, "_check_keras_sizes", lambda c, w: None)
    with pytest.raises(UntrustedModelError):
        skmnist.load(saved)
    assert not hostile_module.exists()
    assert "skmnist_hostile" not in sys.modules


def test_keras_archive_with_extra_files_is_refused(saved):
    def add_file(manifest, entries):
        buffer = io.BytesIO(entries["model.keras"])
        with zipfile.ZipFile(buffer, "a") as inner:
            inner.writestr("assets/payload.py", "import os")
        entries["model.keras"] = buffer.getvalue()

    _rewrite(saved, add_file)
    with pytest.raises(UntrustedModelError, match="payload.py"):
        skmnist.load(saved)


# -- tampered files: the scikit-learn part --------------------------------------------


def test_os_system_in_the_sklearn_part_is_refused(fitted, tmp_path):
    import skops.io

    path = skmnist.save(fitted["baseline"], tmp_path / "baseline.skmnist")
    hostile = make_pipeline(FunctionTransformer(os.system))
    _rewrite(path, lambda m, e: e.update({"sklearn.skops": skops.io.dumps(hostile)}))
    with pytest.raises(UntrustedModelError, match=r"untrusted types.*system"):
        skmnist.load(path)


def test_custom_class_in_the_sklearn_part_is_refused_and_never_imported(
    fitted, tmp_path, hostile_module
):
    import skmnist_hostile
    import skops.io

    data = skops.io.dumps(skmnist_hostile.Dense())
    sys.modules.pop("skmnist_hostile")
    hostile_module.unlink()  # the import above wrote it; loading must not
    path = skmnist.save(fitted["baseline"], tmp_path / "baseline.skmnist")
    _rewrite(path, lambda m, e: e.update({"sklearn.skops": data}))
    with pytest.raises(UntrustedModelError, match="skmnist_hostile.Dense"):
        skmnist.load(path)
    assert not hostile_module.exists()
    assert "skmnist_hostile" not in sys.modules


def test_pipeline_placeholder_swapped_for_a_real_step_is_refused(fitted, tmp_path):
    import skops.io

    path = skmnist.save(fitted["pipeline"], tmp_path / "pipe.skmnist")
    swapped = make_pipeline(MinMaxScaler(), MinMaxScaler(), MinMaxScaler())
    _rewrite(path, lambda m, e: e.update({"sklearn.skops": skops.io.dumps(swapped)}))
    with pytest.raises(UntrustedModelError, match="placeholder"):
        skmnist.load(path)


@pytest.mark.parametrize("keras_steps", [[7], [0]])
def test_pipeline_keras_step_pointing_elsewhere_is_refused(
    fitted, tmp_path, keras_steps
):
    path = skmnist.save(fitted["pipeline"], tmp_path / "pipe.skmnist")

    def move(manifest, entries):
        (old,) = manifest["keras_steps"]
        manifest["keras_steps"] = keras_steps
        for name in ("estimator.json", "model.keras"):
            entries[f"steps/{keras_steps[0]}/{name}"] = entries.pop(
                f"steps/{old}/{name}"
            )

    _rewrite(path, move)
    with pytest.raises(UntrustedModelError, match="placeholder"):
        skmnist.load(path)


def test_saved_file_has_the_usual_permissions(saved):
    umask = os.umask(0)
    os.umask(umask)
    assert saved.stat().st_mode & 0o777 == 0o666 & ~umask


def test_feature_names_survive_the_round_trip(tmp_path):
    from sklearn.datasets import load_digits

    from skmnist import KerasLogistic

    X, y = load_digits(return_X_y=True, as_frame=True)
    clf = KerasLogistic(**FAST).fit(X[:200], y[:200])
    loaded = skmnist.load(skmnist.save(clf, tmp_path / "m"))
    np.testing.assert_array_equal(loaded.feature_names_in_, clf.feature_names_in_)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    renamed = X.set_axis([f"c{i}" for i in range(64)], axis=1)
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(renamed[:2])  # the names are checked as before saving


def test_a_model_load_would_refuse_is_not_written(fitted_mlp, digits_split, tmp_path):
    # A real over-limit network is hundreds of MB (hidden_layer_sizes=(4096,
    # 4096) saves 224 MB that load refuses); the limit is lowered instead, for
    # both sides: what save refuses is exactly what load would.
    X_train, _, y_train, _ = digits_split
    pipeline = make_pipeline(
        skmnist.PixelScaler(), skmnist.KerasLogistic(max_iter=1, random_state=0)
    ).fit(X_train, y_train)
    for model in (fitted_mlp, pipeline):
        saved = skmnist.save(model, tmp_path / "under-the-limit.skmnist")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_keras_checks, "MAX_WEIGHTS", 100)
            with pytest.raises(UntrustedModelError, match="over the limit of 100\\."):
                skmnist.load(saved)
            path = tmp_path / "over-the-limit.skmnist"
            with pytest.raises(ValueError, match="too large for skmnist.load") as info:
                skmnist.save(model, path)
            assert "over the limit of 100." in str(info.value)
            assert not path.exists() and not list(tmp_path.glob(".*"))
