"""Importing Keras: backend choice, thread pools, log muting.

Every module that needs Keras calls :func:`import_keras`, so TensorFlow is
imported once, quietly, with its thread pools sized first.
"""

import contextlib
import os
import sys

# TensorFlow reads this once, at import. Level 3 hides its native INFO, WARNING and
# ERROR lines (real failures still raise Python exceptions); users may override it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def import_keras():
    """Import Keras quietly: TensorFlow's native start-up logs are hidden.

    TensorFlow 2.21 logs through absl before ``TF_CPP_MIN_LOG_LEVEL`` applies
    ("oneDNN custom operations are on", "Could not find cuda drivers", ...), so
    the native stderr is muted while TensorFlow loads and picks its devices.
    Set ``SKMNIST_TF_LOGS=1`` to see those messages. TensorFlow's thread pools
    are sized first (see :mod:`skmnist.parallel`), before its runtime starts.
    """
    if "keras" in sys.modules:
        return sys.modules["keras"]
    with _muted_native_stderr():
        import keras
        import tensorflow as tf

        from ._threads import configure_tensorflow_threads

        configure_tensorflow_threads(tf)  # only possible before the first TF op
        tf.config.list_logical_devices()  # device set-up logs happen here
        # Every estimator traces its own functions by design (one model per
        # fit), which trips TensorFlow's "excessive retracing" warning.
        tf.get_logger().setLevel("ERROR")
    try:  # absl's Python logger repeats warnings Keras already gives
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:  # pragma: no cover - absl ships with tensorflow
        pass
    return keras


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
