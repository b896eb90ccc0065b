"""Keras' JAX and TensorFlow backends: choice, moves between them, the JAX engine.

The other estimator tests run on whichever backend this process uses (CI runs
them on both); these check what only shows across processes or backends.
"""

import gc
import json
import os
import subprocess
import sys
import textwrap
import weakref

import numpy as np
import pytest

BACKENDS = ["jax", "tensorflow"]


def _installed(backend):
    import importlib.util

    return importlib.util.find_spec(backend) is not None


needs_both = pytest.mark.skipif(
    not all(_installed(b) for b in BACKENDS),
    reason="needs both jax and tensorflow installed",
)


def _run(code, *, backend=None, env_extra=None, check=True):
    env = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    if backend is not None:
        env["KERAS_BACKEND"] = backend
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=check,
    )


def _backend_of(process):
    return json.loads(process.stdout.strip().splitlines()[-1])


# -- choice ------------------------------------------------------------------------


_REPORT_BACKEND = """
    import json, sys, warnings
    warnings.simplefilter("always")
    with warnings.catch_warnings(record=True) as caught:
        {imports}
    print(json.dumps([
        keras.backend.backend(),
        "tensorflow" in sys.modules,
        [str(w.message) for w in caught if "KERAS_BACKEND" in str(w.message)],
    ]))
"""


def _chosen(imports, tmp_path, keras_json=None, backend=None):
    """``[backend, TensorFlow imported?, backend warnings]`` in a fresh process."""
    home = tmp_path / "keras_home"
    home.mkdir(exist_ok=True)
    if keras_json is not None:
        (home / "keras.json").write_text(json.dumps({"backend": keras_json}))
    process = _run(
        _REPORT_BACKEND.format(imports=imports),
        backend=backend,
        env_extra={"KERAS_HOME": str(home)},
    )
    return _backend_of(process)


@needs_both
def test_importing_skmnist_chooses_jax_before_keras_is_imported(tmp_path):
    # Nobody chose (no KERAS_BACKEND, no keras.json): JAX, and TensorFlow is
    # not even imported. Keras' own default, keras.json "tensorflow", is no
    # choice either.
    assert _chosen("import skmnist, keras", tmp_path) == ["jax", False, []]
    assert _chosen("import skmnist, keras", tmp_path, keras_json="tensorflow") == [
        "jax",
        False,
        [],
    ]
    assert _chosen("import skmnist.classifiers, keras", tmp_path)[0] == "jax"


@needs_both
@pytest.mark.slow
def test_keras_first_on_its_default_backend_warns_once_how_to_get_jax(tmp_path):
    backend, _, warned = _chosen("import keras, skmnist, skmnist.classifiers", tmp_path)
    assert backend == "tensorflow"  # too late to change: Keras is imported
    assert len(warned) == 1
    assert "KERAS_BACKEND=jax" in warned[0]
    assert "import skmnist before" in warned[0].lower()


@needs_both
@pytest.mark.slow
@pytest.mark.parametrize(
    "imports, keras_json, backend, expected",
    [
        ("import keras, skmnist", None, "tensorflow", "tensorflow"),
        ("import skmnist, keras", None, "tensorflow", "tensorflow"),
        ("import keras, skmnist", "jax", None, "jax"),
        ("import skmnist, keras", "jax", None, "jax"),
    ],
)
def test_an_explicit_backend_choice_is_respected_silently(
    tmp_path, imports, keras_json, backend, expected
):
    chosen = _chosen(imports, tmp_path, keras_json=keras_json, backend=backend)
    assert chosen[0] == expected and chosen[2] == []


@needs_both
@pytest.mark.slow
def test_keras_imported_first_keeps_its_backend(tmp_path):
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "tensorflow"}))
    code = """
        import json, os
        os.environ["KERAS_BACKEND"] = "tensorflow"
        import keras
        del os.environ["KERAS_BACKEND"]
        from skmnist import KerasLogistic
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        KerasLogistic(max_iter=1).fit(X, y)
        print(json.dumps(keras.backend.backend()))
    """
    assert _backend_of(_run(code, env_extra={"KERAS_HOME": str(tmp_path)})) == (
        "tensorflow"
    )


def test_unsupported_backend_is_refused_with_a_way_out():
    # Refused at the first fit (importing skmnist imports no Keras).
    code = "import skmnist; skmnist.KerasMLP(max_iter=1).fit([[0.0], [1.0]], [0, 1])"
    process = _run(code, backend="torch", check=False)
    assert process.returncode != 0
    assert "KERAS_BACKEND=jax" in process.stderr
    assert "'torch'" in process.stderr


# TensorFlow is an extra: pretend it is not installed (a finder that refuses it).
_WITHOUT_TENSORFLOW = """
    import sys

    class NoTensorFlow:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] == "tensorflow":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, NoTensorFlow())
    from skmnist.exceptions import MissingExtraError
    try:
        {call}
    except MissingExtraError as error:
        print("MissingExtraError:", error)
"""


@pytest.mark.parametrize(
    "call",
    [
        "import skmnist; skmnist.KerasMLP(max_iter=1).fit([[0.0], [1.0]], [0, 1])",
        "from skmnist.parallel import set_tensorflow_threads as f; f(1)",
    ],
)
def test_tensorflow_backend_without_tensorflow_names_the_extra(call):
    process = _run(_WITHOUT_TENSORFLOW.replace("{call}", call), backend="tensorflow")
    assert "MissingExtraError: Keras is set to its TensorFlow backend" in (
        process.stdout
    )
    assert 'pip install "skmnist[tensorflow]"' in process.stdout


@needs_both
def test_pickling_a_fitted_estimator_on_jax_leaves_tensorflow_unimported(tmp_path):
    # Keras pickles a model through its config serialisation, which imported
    # TensorFlow (5 s, 460 MB) in every process that pickled a fitted model.
    code = """
        import json, pickle, sys
        import numpy as np
        from sklearn.datasets import load_digits
        from skmnist import KerasMLP

        X, y = load_digits(return_X_y=True)
        model = KerasMLP(max_iter=1, random_state=0).fit(X[:100], y[:100])
        copy = pickle.loads(pickle.dumps(model))
        same = np.allclose(copy.predict_proba(X), model.predict_proba(X))
        print(json.dumps([same, "tensorflow" in sys.modules]))
    """
    env = {"KERAS_HOME": str(tmp_path), "PYTHONWARNINGS": "ignore"}
    assert _backend_of(_run(code, backend="jax", env_extra=env)) == [True, False]


# -- models move between backends --------------------------------------------------


@needs_both
@pytest.mark.slow
@pytest.mark.parametrize(
    "source, target", [("tensorflow", "jax"), ("jax", "tensorflow")]
)
def test_saved_model_loads_and_keeps_training_under_the_other_backend(
    tmp_path, source, target
):
    path, proba = tmp_path / "model.skmnist", tmp_path / "proba.npy"
    _run(
        f"""
        import numpy as np, skmnist
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        clf = skmnist.KerasMLP(hidden_layer_sizes=(16,), max_iter=3,
                               learning_rate_init=1e-2, random_state=0).fit(X, y)
        skmnist.save(clf, {str(path)!r})
        np.save({str(proba)!r}, clf.predict_proba(X))
    """,
        backend=source,
    )
    loaded = _run(
        f"""
        import json, numpy as np, skmnist, keras
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        clf = skmnist.load({str(path)!r})
        before = np.abs(clf.predict_proba(X) - np.load({str(proba)!r})).max()
        steps = int(np.asarray(clf.model_.optimizer.iterations.value))
        clf.partial_fit(X, y)
        after = int(np.asarray(clf.model_.optimizer.iterations.value))
        print(json.dumps([keras.backend.backend(), float(before), steps, after,
                          clf.n_iter_, clf.score(X, y)]))
    """,
        backend=target,
    )
    backend, difference, steps, after, n_iter, score = _backend_of(loaded)
    assert backend == target
    assert difference < 1e-5  # same model, another backend's kernels
    assert steps == 3 * 9  # the optimizer state came along (1,797 rows / 200)
    assert after == steps + 9
    assert n_iter == 1 and score > 0.5  # n_iter_: the partial_fit's epoch


@needs_both
def test_seeded_initial_weights_are_the_same_on_both_backends(tmp_path):
    code = """
        import numpy as np
        from skmnist._engine._builders import build_model
        model = build_model(64, 10, hidden_layer_sizes=(16,), seed=3)
        np.savez({path!r}, *[np.asarray(w) for w in model.get_weights()])
    """
    weights = {}
    for backend in BACKENDS:
        path = str(tmp_path / f"{backend}.npz")
        _run(code.format(path=path), backend=backend)
        weights[backend] = list(np.load(path).values())
    jax_weights, tf_weights = weights["jax"], weights["tensorflow"]
    assert [w.shape for w in jax_weights] == [(64, 16), (16,), (16, 10), (10,)]
    for on_jax, on_tf in zip(jax_weights, tf_weights):
        np.testing.assert_array_equal(on_jax, on_tf)
    # MLPClassifier's rule: uniform in +-sqrt(6 / (fan_in + fan_out)), biases too.
    for kernel, bias in (jax_weights[:2], jax_weights[2:]):
        bound = np.sqrt(6 / sum(kernel.shape))
        for w in (kernel, bias):
            assert np.abs(w).max() <= bound
            assert np.abs(w).max() > 0.8 * bound  # spread over the whole range


# -- the JAX engine ----------------------------------------------------------------


@pytest.fixture
def on_jax():
    from skmnist._engine._keras import import_keras

    keras = import_keras()
    if keras.backend.backend() != "jax":
        pytest.skip("the JAX engine runs on Keras' JAX backend only")
    return keras


def test_padded_last_batch_trains_as_keras_short_batch(on_jax):
    """250 rows at batch 200: the padded second batch equals Keras' 50-row one."""
    from skmnist._engine import _jax_engine
    from skmnist._engine._builders import build_model, compile_model, set_input_scaling

    keras = on_jax
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(250, 20)).astype(np.uint8)
    y = rng.integers(0, 3, size=250).astype(np.float32)
    weights = rng.uniform(0.5, 2.0, size=250).astype(np.float32)

    def model():
        network = build_model(
            20, 3, hidden_layer_sizes=(8,), l2=1e-3, scale_inputs=True, seed=0
        )
        set_input_scaling(network, 0.0, 255.0)
        return compile_model(
            network,
            "multiclass",
            optimizer=on_jax.optimizers.Adam(learning_rate=1e-2),
        )

    ours = model()
    _jax_engine.fit(
        ours,
        X,
        y,
        weights,
        multiclass=True,
        batch_size=200,
        epochs=1,
        initial_epoch=0,
        seed=7,
        callbacks=None,
        validation=None,
        verbose=0,
    )
    order = np.random.default_rng(7).permutation(250)  # the engine's shuffle
    reference = model()
    reference.fit(
        X[order].astype(np.float32),
        y[order],
        sample_weight=weights[order],
        batch_size=200,
        epochs=1,
        shuffle=False,
        verbose=0,
    )
    assert int(ours.optimizer.iterations.numpy()) == 2
    for mine, theirs in zip(ours.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    del keras


def test_compiled_programs_are_bounded_and_hold_no_model(on_jax, small_digits):
    from skmnist import KerasMLP
    from skmnist._engine import _jax_engine

    X, _, y, _ = small_digits
    first = KerasMLP(hidden_layer_sizes=(3,), max_iter=1, random_state=0).fit(X, y)
    model = weakref.ref(first.model_)
    for width in range(4, 4 + _jax_engine._MAX_PROGRAMS + 2):
        KerasMLP(hidden_layer_sizes=(width,), max_iter=1).fit(X[:50], y[:50])
    assert len(_jax_engine._PROGRAMS) <= _jax_engine._MAX_PROGRAMS
    del first
    gc.collect()
    assert model() is None  # nothing kept the fitted model alive


def test_same_structure_reuses_programs_across_fits(on_jax, small_digits):
    from skmnist import KerasMLP

    X, X_test, y, _ = small_digits
    a = KerasMLP(hidden_layer_sizes=(7,), max_iter=2, random_state=0).fit(X, y)
    b = KerasMLP(hidden_layer_sizes=(7,), max_iter=2, random_state=1).fit(X, y)
    assert a.model_._skmnist_programs is b.model_._skmnist_programs
    # One program, two seeds: the seeds still matter.
    assert not np.array_equal(a.predict_proba(X_test), b.predict_proba(X_test))


@pytest.mark.skipif(
    not sys.platform.startswith("linux")
    or not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"),
    reason="glibc's allocator only",
)
@pytest.mark.parametrize(
    "env_extra, jax_first, applied",
    [
        ({}, False, True),
        ({"SKMNIST_MALLOC": "0"}, False, False),
        ({"MALLOC_ARENA_MAX": "2"}, False, False),
        ({}, True, False),
    ],
)
def test_allocator_set_before_jax_starts_unless_told_not_to(
    env_extra, jax_first, applied
):
    # XLA:CPU's per-call scratch block must be reused, not mapped afresh on
    # every call (skmnist._engine._allocator); the user's own settings win,
    # and once JAX's threads run it is too late.
    code = f"""
        import json
        if {jax_first}:
            import jax.numpy
            jax.numpy.ones(1).block_until_ready()
        from skmnist._engine._keras import import_keras
        import_keras()
        from skmnist._engine import _allocator
        print(json.dumps(_allocator.applied))
    """
    env = {"SKMNIST_MALLOC": "", **env_extra}
    process = _run(code, backend="jax", env_extra=env)
    assert _backend_of(process) is applied
