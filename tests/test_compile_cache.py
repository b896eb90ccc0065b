"""Compiled programs kept across processes: JAX's persistent cache, skmnist's folder."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("jax")

# A fit in a fresh process, counting JAX's persistent-cache events.
_FIT = textwrap.dedent(
    """
    import json
    from collections import Counter
    import jax.monitoring
    events = Counter()
    jax.monitoring.register_event_listener(lambda name, **kw: events.update([name]))
    import numpy as np
    from skmnist import KerasMLP
    from skmnist._engine._keras import import_keras
    import_keras()
    X = np.random.default_rng(0).random((60, 4)); y = np.arange(60) % 3
    KerasMLP(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X, y)
    print(json.dumps([
        jax.config.jax_compilation_cache_dir,
        jax.config.jax_compilation_cache_max_size,
        events["/jax/compilation_cache/cache_hits"],
        events["/jax/compilation_cache/cache_misses"],
    ]))
    """
)


def _fit_in_fresh_process(**env):
    unset = ("JAX_COMPILATION_CACHE_DIR", "SKMNIST_COMPILATION_CACHE")
    environ = {k: v for k, v in os.environ.items() if k not in unset}
    environ.update(env, KERAS_BACKEND="jax", PYTHONWARNINGS="ignore")
    result = subprocess.run(
        [sys.executable, "-c", _FIT],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_second_process_reuses_the_first_ones_programs(tmp_path):
    from skmnist._engine._compile_cache import MAX_BYTES

    folder = tmp_path / "cache"
    first = _fit_in_fresh_process(SKMNIST_COMPILATION_CACHE=str(folder))
    assert first[:2] == [str(folder), MAX_BYTES]  # bounded, in our folder
    assert first[2] == 0 and first[3] > 0  # compiled and written
    assert any(folder.iterdir())
    second = _fit_in_fresh_process(SKMNIST_COMPILATION_CACHE=str(folder))
    assert second[2] >= first[3] and second[3] == 0  # every program read back


def test_default_folder_is_under_the_data_home(tmp_path):
    folder, *_ = _fit_in_fresh_process(SKMNIST_DATA=str(tmp_path))
    assert folder == str(tmp_path / "jax-cache")


@pytest.mark.parametrize("setting", ["0", "off"])
def test_turned_off(tmp_path, setting):
    folder, _, hits, misses = _fit_in_fresh_process(
        SKMNIST_COMPILATION_CACHE=setting, SKMNIST_DATA=str(tmp_path)
    )
    assert folder is None and hits == misses == 0
    assert not (tmp_path / "jax-cache").exists()


def test_an_unusable_folder_of_the_users_warns_and_compiles_without(tmp_path):
    # A file (or a device) named as the folder quietly meant no cache.
    taken = tmp_path / "a-file"
    taken.write_text("")
    code = """
        import json, warnings
        import jax
        from skmnist._engine._compile_cache import configure
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            folder = configure(jax)
        print(json.dumps([folder, [str(w.message) for w in caught]]))
    """
    environ = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    environ["SKMNIST_COMPILATION_CACHE"] = str(taken)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    folder, messages = json.loads(result.stdout.strip().splitlines()[-1])
    assert folder is None and len(messages) == 1
    assert "cannot be used as the compilation cache folder" in messages[0]
