"""Which Keras backend skmnist trains on: JAX when installed, else TensorFlow.

Keras 3 reads its backend once, when it is first imported, from the
``KERAS_BACKEND`` environment variable or ``~/.keras/keras.json``. Measured on
a 2-core CPU (``benchmarks/engines.py``), the same Keras model trains about
twice as fast on JAX, whose XLA programs skmnist compiles one epoch at a time,
as on TensorFlow. So, before Keras is imported, and only if nobody chose:

1. Keras already imported: its backend stays (the user's choice, or Keras');
2. ``KERAS_BACKEND`` set: it is used;
3. ``keras.json`` names a backend other than Keras' own default
   (``"tensorflow"``, which Keras writes there on its first run): it is used;
4. JAX installed: ``KERAS_BACKEND=jax`` is set for this process (and so for
   the worker processes it starts);
5. otherwise TensorFlow.

skmnist trains on ``"jax"`` and ``"tensorflow"``; another backend is refused
with a message saying how to choose one of those.
"""

import importlib.util
import json
import os
import sys

SUPPORTED = ("jax", "tensorflow")


def _configured_backend():
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json")) as config:
            backend = json.load(config).get("backend")
    except (OSError, ValueError, AttributeError):
        return None
    return backend if isinstance(backend, str) else None


def _jax_installed():
    return (importlib.util.find_spec("jax") is not None
            and importlib.util.find_spec("jaxlib") is not None)


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


def check_backend(backend):
    """Refuse a backend skmnist cannot train on, saying how to pick another."""
    if backend not in SUPPORTED:
        raise ImportError(
            f"skmnist trains Keras models on the JAX or TensorFlow backend; Keras "
            f"uses {backend!r} in this process. Set KERAS_BACKEND=jax (needs "
            "'pip install jax[cpu]') or KERAS_BACKEND=tensorflow before Keras is "
            "first imported.")
    return backend


def backend():
    """The Keras backend of this process (imports nothing)."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    return choose_backend()
