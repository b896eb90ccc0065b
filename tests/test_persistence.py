"""skmnist.save / skmnist.load: exact round trips, and tampered files refused.

Tampered files are made the way an attacker would: decode the archive, edit a
part, re-seal it (recomputing the checksum), so each check behind the checksum
is exercised on its own. Crafted weights and size bombs are in
test_hostile_files.py.
"""

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
from skmnist.persistence import ModelVersionWarning, UntrustedModelError, _keras_state

FAST = dict(max_iter=3, batch_size=50, random_state=0)


@pytest.fixture(scope="module")
def data(small_digits):
    X_train, X_test, y_train, _ = small_digits
    return X_train * 15, y_train, X_test * 15  # 0-240: raw-pixel-like


@pytest.fixture(scope="module")
def fitted(data):
    """One small fitted model of each kind, fitted once for the module."""
    from skmnist import KerasCNN, KerasLogistic, KerasMLP
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
        "cnn": (KerasCNN(filters=(4,), dense_units=8, shift=1, **FAST), y),
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged in 3 epochs
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


# -- round trips -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "logistic",
        "mlp_standard",
        "binary_str",
        "multilabel",
        "cnn",
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
    assert loaded.predict(X).dtype == estimator.classes_.dtype


def test_loaded_model_keeps_training(fitted, data, tmp_path):
    X, y, _ = data
    loaded = skmnist.load(skmnist.save(fitted["mlp_standard"], tmp_path / "m"))
    loaded.partial_fit(X[:100], y[:100])
    # As MLPClassifier: n_iter_ is the call's epochs; the curve goes on.
    assert loaded.n_iter_ == 1
    assert len(loaded.loss_curve_) == len(fitted["mlp_standard"].loss_curve_) + 1
    assert np.isfinite(loaded.loss_curve_).all()


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_loaded_model_continues_exactly_where_training_stopped(data, tmp_path, solver):
    # The optimizer's state (Adam's moments, SGD's momentum, the step count)
    # is saved: partial_fit after load takes the very steps the original takes.
    from skmnist import KerasMLP

    X, y, X_test = data
    original = KerasMLP(hidden_layer_sizes=(8,), solver=solver, **FAST).fit(X, y)
    loaded = skmnist.load(skmnist.save(original, tmp_path / "m"))
    original.partial_fit(X, y)
    loaded.partial_fit(X, y)
    np.testing.assert_array_equal(
        loaded.predict_proba(X_test), original.predict_proba(X_test)
    )
    assert int(loaded.model_.optimizer.iterations.numpy()) == int(
        original.model_.optimizer.iterations.numpy()
    )


def test_load_parses_no_keras_model_description(saved, data, monkeypatch):
    # The network is rebuilt by skmnist's builders: nothing of Keras' own
    # loading (configs, deserialisation, the .keras format) is ever called.
    from skmnist._engine._keras import import_keras

    keras = import_keras()

    def explode(*args, **kwargs):
        raise AssertionError("load used Keras' own deserialisation")

    for module, name in [
        (keras.saving, "load_model"),
        (keras.saving, "deserialize_keras_object"),
        (keras.models, "model_from_json"),
        (keras.Model, "from_config"),
    ]:
        monkeypatch.setattr(module, name, explode)
    _, _, X_test = data
    assert skmnist.load(saved).predict(X_test).shape == (len(X_test),)


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
    assert manifest["format_version"] == 2
    assert set(entries) == {"estimator.json", "weights.safetensors"}
    with zipfile.ZipFile(saved) as archive:  # raw floats: stored, not deflated
        info = archive.getinfo("weights.safetensors")
        assert info.compress_type == zipfile.ZIP_STORED


def test_format_1_files_name_the_version_that_wrote_them(saved):
    # A file of skmnist 0.1's format 1: a Keras model.keras beside estimator.json.
    def format_1(manifest, entries):
        manifest["format_version"] = 1
        entries["model.keras"] = entries.pop("weights.safetensors")

    _rewrite(saved, format_1)
    with pytest.raises(
        UntrustedModelError,
        match=r"written by skmnist 0\.1\.0 in save format 1 .*reads format 2\. "
        r"Fit the model again and save it with this version",
    ):
        skmnist.load(saved)


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


def test_save_refuses_what_load_would_refuse(data, tmp_path):
    X, y, _ = data
    classifier = LogisticRegression(max_iter=50).fit(X[:50], y[:50])
    hostile = make_pipeline(FunctionTransformer(os.system), classifier)
    with pytest.raises(TypeError, match="system"):
        skmnist.save(hostile, tmp_path / "m")
    with pytest.raises(TypeError, match="MinMaxScaler has no predict method"):
        skmnist.save(MinMaxScaler().fit(X), tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_cannot_predict_is_refused_by_load_and_predict(
    fitted, data, tmp_path, capsys
):
    # Issue 29: a resealed pipeline whose last step is a transformer loaded,
    # then failed in predict with an AttributeError.
    import skops.io

    from skmnist.cli import main

    X, _, _ = data
    path = skmnist.save(fitted["sklearn_only"], tmp_path / "transformer.skmnist")
    transformer = make_pipeline(MinMaxScaler().fit(X))
    _rewrite(
        path, lambda m, e: e.update({"sklearn.skops": skops.io.dumps(transformer)})
    )
    with pytest.raises(UntrustedModelError, match="Pipeline cannot predict"):
        skmnist.load(path)
    unfitted = skmnist.save(fitted["baseline"], tmp_path / "unfitted.skmnist")
    _rewrite(
        unfitted,
        lambda m, e: e.update({"sklearn.skops": skops.io.dumps(LogisticRegression())}),
    )
    with pytest.raises(UntrustedModelError, match="not fitted"):
        skmnist.load(unfitted)
    for model in (path, unfitted):
        status = main(["predict", "--model", str(model), "--source", "embedded"])
        err = capsys.readouterr().err.strip().splitlines()
        assert status == 2 and len(err) == 1, err
        assert err[0].startswith("skmnist predict: error: cannot load --model")


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
        # JSON true is Python's True == 1: once reported as "save format 1".
        (lambda m, e: m.update(format_version=True), "Unsupported format_version"),
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
        (lambda d: d["attributes"].update(n_features_in_=63), "does not fit"),
        (lambda d: d["attributes"].update(n_features_in_=2**40), "wrong type"),
        (lambda d: d["attributes"].update(loss_="low"), r"\['loss_'\]"),
        (
            lambda d: d["attributes"].update(validation_scores_={"__tuple__": []}),
            "validation_scores_",
        ),
        (
            lambda d: d["attributes"].update(image_shape_={"__tuple__": [8, 8]}),
            "missing",
        ),
        (lambda d: d.pop("network"), "exactly 'class', 'params'"),
        (lambda d: d["network"].update(l2=-1.0), "'network' must hold"),
        (lambda d: d["network"].update(l2=None), "'network' must hold"),
        (lambda d: d["network"].update(l2=float("nan")), "must hold"),
        (lambda d: d["network"].update(dropout=0.5), "'network' must hold"),
        (lambda d: d["network"].update(scale_inputs=1), "'network' must hold"),
        (lambda d: d["network"].update(scale_inputs=False), "does not fit"),
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
        (lambda d: d["params"]["__dict__"].append(["solver", "exec"]), "solver"),
        (lambda d: d["params"]["__dict__"].append(["callbacks", ["x"]]), "callbacks"),
        (lambda d: d["params"]["__dict__"].append(["alpha", -1.0]), "alpha"),
    ],
)
def test_unexpected_attributes_or_parameters_are_refused(saved, edit, message):
    _edit_json(saved, "estimator.json", edit)
    with pytest.raises(UntrustedModelError, match=message):
        skmnist.load(saved)


def test_the_fitted_attributes_of_mlpclassifier_parity_load(saved):
    # loss_, best_loss_, validation_scores_ and best_validation_score_ (as in
    # MLPClassifier) are optional attributes: files with them load.
    values = dict(loss_=0.25, best_loss_=None, validation_scores_=[0.5, 0.75]) | dict(
        best_validation_score_=0.75
    )
    _edit_json(saved, "estimator.json", lambda d: d["attributes"].update(values))
    loaded = skmnist.load(saved)
    assert {name: getattr(loaded, name) for name in values} == values


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
        for name in ("estimator.json", "weights.safetensors"):
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
    # 4096) has 16.8 million weights); the limit is lowered instead, for both
    # sides: what save refuses is exactly what load would.
    X_train, _, y_train, _ = digits_split
    pipeline = make_pipeline(
        skmnist.PixelScaler(), skmnist.KerasLogistic(max_iter=1, random_state=0)
    ).fit(X_train, y_train)
    for model in (fitted_mlp, pipeline):
        saved = skmnist.save(model, tmp_path / "under-the-limit.skmnist")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(_keras_state, "MAX_WEIGHTS", 100)
            with pytest.raises(UntrustedModelError, match="over the limit of 100\\."):
                skmnist.load(saved)
            path = tmp_path / "over-the-limit.skmnist"
            with pytest.raises(ValueError, match="too large for skmnist.load") as info:
                skmnist.save(model, path)
            assert "over the limit of 100." in str(info.value)
            assert not path.exists() and not list(tmp_path.glob(".*"))


def test_the_weight_count_is_the_built_networks(fitted):
    # load bounds the network from the parameters before building it; the
    # count must be the builders' own, or save and load would disagree.
    for name in ("logistic", "mlp_standard", "cnn", "binary_str"):
        estimator = fitted[name]
        built = sum(int(np.prod(w.shape)) for w in estimator.model_.trainable_weights)
        assert _keras_state._check_size(estimator) == built, name
