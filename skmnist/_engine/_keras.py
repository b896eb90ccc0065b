"""Importing Keras: backend choice, thread pools, log muting.

Every module that needs Keras calls :func:`import_keras`, so Keras and its
backend are imported once, quietly, with their thread pools sized first.

Which backend: Keras 3 reads it once, when it is first imported, from the
``KERAS_BACKEND`` environment variable or ``~/.keras/keras.json``. Measured on
2 CPU cores (``benchmarks/engines.py``), skmnist trains the same models
faster on JAX, where a whole epoch is one XLA program
(:mod:`skmnist._engine._jax_engine`), than on TensorFlow. So, when ``skmnist``
is imported (:func:`choose_backend_at_import`: environment and one small file
read, no Keras), and only if nobody chose:

1. Keras already imported: its backend stays (the user's choice, or Keras');
   if that is Keras' default, TensorFlow, while JAX is installed and nothing
   chose it, one warning says how to get JAX;
2. ``KERAS_BACKEND`` set: it is used;
3. ``keras.json`` names a backend other than Keras' own default
   (``"tensorflow"``, which Keras writes there on its first run): it is used;
4. JAX installed: ``KERAS_BACKEND=jax`` is set for this process (and so for
   the worker processes it starts), so ``import skmnist, keras`` is on JAX;
5. otherwise TensorFlow.

skmnist trains on ``"jax"`` and ``"tensorflow"``; another backend is refused
with a message saying how to choose one of those.
"""

import contextlib
import importlib.abc
import importlib.util
import json
import os
import sys
import threading
import warnings

from ..exceptions import MissingExtraError

SUPPORTED_BACKENDS = ("jax", "tensorflow")

# TensorFlow reads this once, at import. Level 3 hides its native INFO, WARNING and
# ERROR lines (real failures still raise Python exceptions); users may override it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _configured_backend():
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    try:
        with open(os.path.join(home, "keras.json")) as config:
            backend = json.load(config).get("backend")
    except (OSError, ValueError, AttributeError):
        return None
    return backend if isinstance(backend, str) else None


def _jax_installed():
    return (
        importlib.util.find_spec("jax") is not None
        and importlib.util.find_spec("jaxlib") is not None
    )


def choose_backend():
    """Return the backend Keras will use, setting ``KERAS_BACKEND`` if unset."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    chosen = os.environ.get("KERAS_BACKEND", "").strip()
    if chosen:
        return chosen
    configured = _configured_backend()
    if configured and configured != "tensorflow":
        return configured
    backend = "jax" if _jax_installed() else "tensorflow"
    os.environ["KERAS_BACKEND"] = backend
    return backend


def choose_backend_at_import():
    """Choose the backend when ``skmnist`` is imported; never imports Keras.

    Keras imported before skmnist on TensorFlow while JAX is installed and
    neither ``KERAS_BACKEND`` nor ``keras.json`` asked for TensorFlow: Keras
    took its default, which trains skmnist's models about twice as slowly
    here and keeps several MB per fit (``benchmarks/memory_per_fit.py``). The
    backend cannot change any more, so one warning says how to get JAX.
    """
    keras = sys.modules.get("keras")
    backend = getattr(getattr(keras, "backend", None), "backend", None)
    if keras is None or backend is None:  # not imported, or half-way
        return choose_backend() if keras is None else None
    if (
        backend() == "tensorflow"
        and not os.environ.get("KERAS_BACKEND", "").strip()
        and _configured_backend() in (None, "tensorflow")
        and _jax_installed()
    ):
        warnings.warn(
            "Keras was imported before skmnist and runs on its default "
            "backend, TensorFlow; skmnist trains about twice as fast on JAX, "
            "which is installed. Import skmnist before Keras, or set "
            "KERAS_BACKEND=jax before Keras is first imported. Set "
            "KERAS_BACKEND=tensorflow to keep TensorFlow without this warning.",
            UserWarning,
            stacklevel=3,
        )
    return backend()


def check_backend(backend):
    """Refuse a backend skmnist cannot train on, saying how to pick another."""
    if backend not in SUPPORTED_BACKENDS:
        raise ImportError(
            f"skmnist trains Keras models on the JAX or TensorFlow backend; Keras "
            f"uses {backend!r} in this process. Set KERAS_BACKEND=jax (needs "
            "'pip install jax[cpu]') or KERAS_BACKEND=tensorflow before Keras is "
            "first imported."
        )
    return backend


def import_keras():
    """Import Keras quietly, on the backend :func:`choose_backend` picks.

    TensorFlow 2.21 logs through absl before ``TF_CPP_MIN_LOG_LEVEL`` applies
    ("oneDNN custom operations are on", "Could not find cuda drivers", ...), so
    the native stderr is muted while the backend loads and picks its devices.
    Set ``SKMNIST_TF_LOGS=1`` to see those messages. The backend's thread pools
    are sized first (see :mod:`skmnist.parallel`), before its runtime starts.
    """
    if "keras" in sys.modules:
        keras = sys.modules["keras"]
        check_backend(keras.backend.backend())
        return keras
    backend = check_backend(choose_backend())
    with _muted_native_stderr():
        if backend == "jax":
            from ._allocator import configure_allocator
            from ._threads import configure_xla_threads

            configure_xla_threads()  # read when JAX starts its CPU client
            configure_allocator()  # before JAX's threads take their arenas
            import jax
            import keras

            from ._compile_cache import configure

            configure(jax)  # before the first program is compiled
        else:
            with tensorflow_required():
                keras = _import_tensorflow_keras()
    try:  # absl's Python logger repeats warnings Keras already gives
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # pragma: no cover - absl ships with tensorflow
        pass
    return keras


@contextlib.contextmanager
def tensorflow_required():
    """Turn a missing TensorFlow into the error that names its extra.

    TensorFlow is optional (``skmnist[tensorflow]``); Keras on its TensorFlow
    backend fails to import without it, deep in Keras' own modules.
    """
    try:
        yield
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] != "tensorflow":
            raise
        raise MissingExtraError(
            "Keras is set to its TensorFlow backend (KERAS_BACKEND or "
            "keras.json), but TensorFlow is not installed: run "
            'pip install "skmnist[tensorflow]", or unset KERAS_BACKEND to train '
            "on JAX, skmnist's default."
        ) from error


def _import_tensorflow_keras():
    import keras
    import tensorflow as tf

    from ._threads import configure_tensorflow_threads

    configure_tensorflow_threads(tf)  # only possible before the first TF op
    tf.config.list_logical_devices()  # device set-up logs happen here
    # Every estimator traces its own functions by design (one model per
    # fit), which trips TensorFlow's "excessive retracing" warning.
    tf.get_logger().setLevel("ERROR")
    return keras


class _TensorFlowRefuser(importlib.abc.MetaPathFinder):
    """Refuses ``import tensorflow`` in the threads inside ``without_tensorflow``.

    A finder, not ``sys.modules["tensorflow"] = None``: that entry is seen by
    every thread, and Keras' ``in_tf_graph`` (run by a Rescaling layer in
    another thread's training step) takes a ``"tensorflow"`` key in
    ``sys.modules`` as TensorFlow being there, and fails.
    """

    def __init__(self):
        self.local = threading.local()

    def find_spec(self, name, path=None, target=None):
        if getattr(self.local, "depth", 0) and name.split(".")[0] == "tensorflow":
            raise ModuleNotFoundError(
                f"No module named {name!r} (hidden by skmnist on the JAX backend)",
                name=name,
            )
        return None


_REFUSER = _TensorFlowRefuser()
_REFUSER_LOCK = threading.Lock()


@contextlib.contextmanager
def without_tensorflow():
    """On the JAX backend, keep TensorFlow unimported for the block.

    Keras' config serialisation (``serialize_keras_object`` asks whether a
    value is a ``tf.TensorShape``) imports TensorFlow if it is installed (the
    ``skmnist[tensorflow]`` extra), though nothing needs it on JAX. Measured
    with both installed (2 busy CPU cores, Keras 3.15, TF 2.21, 3 runs each),
    a fresh process's first ``KerasMLP`` fit took 19 s and 387 MB peak RSS
    with this block, 31 s and 846 MB without it: in every process and search
    worker. In the block, ``import tensorflow`` fails in this thread only
    (other threads, e.g. of joblib's threading backend or a Dask worker, can
    still import it) and they take their no-TensorFlow branch; afterwards
    Keras will look for TensorFlow again. Keras caches its "TensorFlow is not
    available" in one object for all threads, so the other threads see that
    answer until the block ends: on JAX, no Keras code needs TensorFlow.
    """
    keras = sys.modules.get("keras")
    if (
        keras is None
        or keras.backend.backend() != "jax"
        or sys.modules.get("tensorflow") is not None
    ):
        yield
        return
    with _REFUSER_LOCK:
        if _REFUSER not in sys.meta_path:
            sys.meta_path.insert(0, _REFUSER)
    local = _REFUSER.local
    local.depth = getattr(local, "depth", 0) + 1
    try:
        yield
    finally:
        local.depth -= 1
        if not local.depth:
            _forget_missing_tensorflow()


def _forget_missing_tensorflow():
    try:  # Keras' lazy handle on TensorFlow caches "not available"
        from keras.src.utils.module_utils import tensorflow as lazy_tf
    except ImportError:  # pragma: no cover - Keras moved it
        return
    if getattr(lazy_tf, "module", None) is None:
        lazy_tf._available = None


@contextlib.contextmanager
def _muted_native_stderr():
    if os.environ.get("SKMNIST_TF_LOGS"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
