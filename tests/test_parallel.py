"""Searches on several processes (joblib/loky) and on a Dask cluster."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from joblib import cpu_count
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, cross_validate

from skmnist._engine import _threads
from skmnist.parallel import MissingExtraError, search_backend, set_tensorflow_threads

GRID = {"learning_rate_init": [0.01, 0.1], "alpha": [0.0, 0.01]}
# log loss, not accuracy: a continuous score shows any float difference.
SCORING = "neg_log_loss"


@pytest.fixture(scope="module")
def tiny_digits():
    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300]


def _search(n_jobs=None):
    from skmnist import KerasLogistic

    return GridSearchCV(
        KerasLogistic(max_iter=5, batch_size=50, random_state=0),
        GRID,
        cv=2,
        scoring=SCORING,
        n_jobs=n_jobs,
    )


@pytest.fixture(scope="module")
def sequential_search(tiny_digits):
    return _search(n_jobs=1).fit(*tiny_digits)


def _assert_same_search(search, reference):
    assert search.best_params_ == reference.best_params_
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_allclose(
            search.cv_results_[key], reference.cv_results_[key], rtol=1e-6
        )


def _tf_threads():
    """Runs in a worker: import skmnist's Keras side, report its backend's pools.

    On JAX, the intra-op size XLA_FLAGS hands to XLA (XLA has no inter-op pool
    of its own: reported equal).
    """
    import re

    from skmnist._engine import _threads
    from skmnist._engine._keras import import_keras  # applies the thread rule

    if import_keras().backend.backend() == "jax":
        found = re.search(
            r"intra_op_parallelism_threads=(\d+)", os.environ.get("XLA_FLAGS", "")
        )
        n_threads = int(found.group(1)) if found else 0
        return n_threads, n_threads, _threads.applied[1]
    import tensorflow as tf

    # The source is what the rule chose when TensorFlow was first imported.
    return (
        tf.config.threading.get_intra_op_parallelism_threads(),
        tf.config.threading.get_inter_op_parallelism_threads(),
        _threads.applied[1],
    )


def test_loky_search_matches_sequential(tiny_digits, sequential_search, monkeypatch):
    # Workers inherit these; without them joblib's own limit applies.
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv(_threads.ENV_VAR, raising=False)
    search = _search(n_jobs=2).fit(*tiny_digits)
    _assert_same_search(search, sequential_search)

    # Fitted Keras models come back from the workers and still predict.
    cv = cross_validate(
        search.estimator,
        *tiny_digits,
        cv=2,
        n_jobs=2,
        return_estimator=True,
        return_indices=True,
    )
    X, y = tiny_digits
    for estimator, test, score in zip(
        cv["estimator"], cv["indices"]["test"], cv["test_score"]
    ):
        assert estimator.score(X[test], y[test]) == pytest.approx(score)

    # The same (reused) loky workers sized TensorFlow by joblib's limit.
    from joblib import Parallel, delayed

    reports = Parallel(n_jobs=2)(delayed(_tf_threads)() for _ in range(2))
    expected = max(cpu_count() // 2, 1)
    assert set(reports) == {(expected, expected, "OMP_NUM_THREADS")}


def test_threaded_search_matches_sequential():
    # joblib's threading backend (and a Dask worker with several threads) fits
    # in threads of one process: fits must neither fail nor differ. A fresh
    # process, threaded search first: nothing compiled yet and TensorFlow not
    # imported, so the threads hide it, compile and train at the same time.
    pytest.importorskip("jax")
    code = """
        import sys
        from joblib import parallel_config
        from sklearn.datasets import load_digits
        from sklearn.model_selection import GridSearchCV
        from skmnist import KerasMLP

        X, y = load_digits(return_X_y=True)
        grid = {"hidden_layer_sizes": [(8,), (9,)], "alpha": [1e-4, 1e-2]}
        model = KerasMLP(max_iter=2, random_state=0)
        assert "tensorflow" not in sys.modules
        scores = []
        for backend in ("threading", "sequential"):
            with parallel_config(backend=backend):
                search = GridSearchCV(
                    model, grid, cv=2, n_jobs=2, error_score="raise",
                    scoring="neg_log_loss",
                ).fit(X, y)
            scores.append(search.cv_results_["mean_test_score"].tolist())
        print(scores[0] == scores[1], "tensorflow" in sys.modules)
    """
    result = _run_python(code, timeout=300, KERAS_BACKEND="jax")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "True False"


def test_hiding_tensorflow_in_one_thread_leaves_the_others_alone():
    # On JAX, skmnist keeps TensorFlow unimported while it serialises configs.
    # That once hid it from every thread: the hiding thread then failed with a
    # KeyError on leaving, and a training step in another thread (a Rescaling
    # layer asks Keras whether it runs in a TF graph) with "This requires the
    # tensorflow module". A fresh process: TensorFlow must not be imported yet.
    pytest.importorskip("jax")
    code = """
        import sys, threading
        from sklearn.datasets import load_digits
        from skmnist import KerasMLP
        from skmnist._engine._keras import import_keras, without_tensorflow

        assert import_keras().backend.backend() == "jax"
        inside, leave, errors = threading.Event(), threading.Event(), []

        def hide():
            try:
                with without_tensorflow():
                    inside.set()
                    leave.wait(60)
            except Exception as error:
                errors.append(repr(error))

        hider = threading.Thread(target=hide)
        hider.start()
        assert inside.wait(60)
        X, y = load_digits(return_X_y=True)
        model = KerasMLP(hidden_layer_sizes=(7,), max_iter=2, random_state=0)
        shape = model.fit(X, y).predict(X).shape
        leave.set()
        hider.join()
        print(shape == y.shape, errors, "tensorflow" in sys.modules)
    """
    result = _run_python(code, timeout=120, KERAS_BACKEND="jax")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True [] False"


def test_dask_search_matches_sequential(tiny_digits, sequential_search):
    distributed = pytest.importorskip("distributed", reason="dask extra not installed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        with search_backend(cluster.scheduler_address, timeout=30) as client:
            search = _search().fit(*tiny_digits)
            reports = client.run(_tf_threads)
        assert client.status == "closed"  # the block closed what it opened
        assert cluster.status.name == "running"  # ... and only that
    assert sorted(reports.values()) == [(1, 1, "dask worker")] * 2
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # Initial weights and dropout layers are seeded explicitly (_builders), so
    # a Dask worker's event-loop thread drawing from `random` cannot change them.
    _assert_same_search(search, sequential_search)


def test_search_backend_local_starts_and_closes_a_cluster():
    pytest.importorskip("distributed", reason="dask extra not installed")
    from sklearn.neighbors import KNeighborsClassifier

    X, y = load_digits(return_X_y=True)
    search = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [1, 15]}, cv=2)
    with search_backend("local", n_workers=2) as client:
        workers = client.scheduler_info()["workers"]
        search.fit(X[:300], y[:300])
        cluster = client.cluster
    assert [w["nthreads"] for w in workers.values()] == [1, 1]
    assert client.status == "closed"
    assert cluster.status.name == "closed"
    assert search.best_params_ == {"n_neighbors": 1}


def test_search_backend_none_is_plain_joblib():
    from joblib.parallel import get_active_backend

    before = type(get_active_backend()[0])
    with search_backend(None) as client:
        assert client is None
        assert type(get_active_backend()[0]) is before


@pytest.mark.parametrize("scheduler", ["locale", "8786", "tcp//host"])
def test_search_backend_rejects_unknown_scheduler(scheduler):
    with pytest.raises(ValueError, match="'scheduler' parameter .* got"):
        with search_backend(scheduler):
            pass


def test_missing_dask_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    for scheduler in ("local", "tcp://127.0.0.1:8786"):
        with pytest.raises(MissingExtraError, match=r'pip install "skmnist\[dask\]"'):
            with search_backend(scheduler):
                pass
    assert issubclass(MissingExtraError, ImportError)
    with search_backend(None):  # no scheduler, no Dask needed
        pass


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, (None, "tensorflow default")),
        ({"OMP_NUM_THREADS": "3"}, (3, "OMP_NUM_THREADS")),
        (
            {"OMP_NUM_THREADS": "3", "SKMNIST_TF_THREADS": "2"},
            (2, "SKMNIST_TF_THREADS"),
        ),
        (
            {"OMP_NUM_THREADS": "3", "SKMNIST_TF_THREADS": "0"},
            (None, "SKMNIST_TF_THREADS"),
        ),
    ],
)
def test_thread_rule(monkeypatch, env, expected):
    for name in ("OMP_NUM_THREADS", _threads.ENV_VAR):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _threads.resolve_thread_count() == expected
    monkeypatch.setattr(_threads, "_requested", 5)  # set_tensorflow_threads wins
    assert _threads.resolve_thread_count() == (5, "set_tensorflow_threads")


def test_thread_rule_warns_on_bad_env_var(monkeypatch):
    monkeypatch.setenv(_threads.ENV_VAR, "many")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    with pytest.warns(RuntimeWarning, match="SKMNIST_TF_THREADS must be"):
        assert _threads.resolve_thread_count() == (2, "OMP_NUM_THREADS")


@pytest.mark.parametrize("n_threads", [0, -1, 1.5, "2", True])
def test_set_tensorflow_threads_rejects_bad_values(n_threads):
    with pytest.raises(ValueError, match="'n_threads' parameter .* got"):
        set_tensorflow_threads(n_threads)


def _run_python(code, timeout, **env):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env}
    # A hang fails the test (TimeoutExpired) instead of stalling the run.
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_env_var_sizes_tensorflow_and_late_changes_raise():
    code = """
        from skmnist._engine._keras import import_keras
        import_keras()  # applies the thread rule
        import tensorflow as tf
        from skmnist.parallel import set_tensorflow_threads
        threading = tf.config.threading
        print(threading.get_intra_op_parallelism_threads(),
              threading.get_inter_op_parallelism_threads())
        from skmnist._engine import _threads
        set_tensorflow_threads(1)  # the sizes in use: allowed
        try:
            set_tensorflow_threads(2)
        except RuntimeError as exc:
            print(exc)
        # The accepted call now wins over the environment; the refused one
        # left no trace.
        print(_threads.resolve_thread_count(), _threads.applied)
    """
    result = _run_python(
        code,
        timeout=120,
        SKMNIST_TF_THREADS="1",
        OMP_NUM_THREADS="2",
        KERAS_BACKEND="tensorflow",
    )
    assert result.returncode == 0, result.stderr
    sizes, message, recorded = result.stdout.splitlines()
    assert sizes == "1 1"
    assert "already started" in message and "SKMNIST_TF_THREADS" in message
    assert recorded == ("(1, 'set_tensorflow_threads') (1, 'set_tensorflow_threads')")


def test_env_var_sizes_xla_on_jax():
    pytest.importorskip("jax")
    code = """
        import os
        from skmnist._engine import _threads
        from skmnist._engine._keras import import_keras
        import_keras()  # applies the thread rule
        print(_threads.applied, os.environ["XLA_FLAGS"])
    """
    result = _run_python(
        code, timeout=120, SKMNIST_TF_THREADS="1", KERAS_BACKEND="jax", XLA_FLAGS=""
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "(1, 'SKMNIST_TF_THREADS') --xla_cpu_multi_thread_eigen=false "
        "intra_op_parallelism_threads=1"
    )


def test_dead_worker_raises_instead_of_hanging(tmp_path):
    script = tmp_path / "crash.py"
    script.write_text(
        textwrap.dedent("""
        import os

        import dask
        import joblib
        from distributed import Client, LocalCluster
        from sklearn.datasets import load_digits
        from sklearn.dummy import DummyClassifier
        from sklearn.model_selection import cross_val_score

        from skmnist.parallel import search_backend


        class Crash(DummyClassifier):
            def fit(self, X, y):
                os._exit(1)  # the worker process dies mid-search


        def report(context):
            try:
                with context:
                    cross_val_score(Crash(), X, y, cv=2)
            except Exception as exc:
                print(type(exc).__name__, flush=True)


        if __name__ == "__main__":  # Dask and loky workers re-import this file
            X, y = load_digits(return_X_y=True)
            report(joblib.parallel_config(backend="loky", n_jobs=2))
            # No retries: the first death is final (Dask retries 3 times by default).
            dask.config.set({"distributed.scheduler.allowed-failures": 0})
            cluster = LocalCluster(n_workers=2, threads_per_worker=1,
                                   processes=True, dashboard_address=None)
            with cluster, Client(cluster) as client:
                report(search_backend(client))
    """)
    )
    # A hang fails the test (TimeoutExpired) instead of stalling the run.
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["TerminatedWorkerError", "KilledWorker"]
