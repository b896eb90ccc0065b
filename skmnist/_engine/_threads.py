"""How many threads TensorFlow may use in this process.

TensorFlow sizes its intra-op and inter-op thread pools to the number of cores
when its runtime starts, and never changes them afterwards. That is right for
one process, and wrong for ``k`` joblib or Dask workers on the same machine:
``k`` pools of ``n_cores`` threads each fight over ``n_cores`` cores. The rule
below picks a smaller pool from what the parallel engine already tells a worker.

The rule, first match wins:

1. :func:`skmnist.parallel.set_tensorflow_threads` was called in this process;
2. the environment variable ``SKMNIST_TF_THREADS`` is set (``0`` keeps
   TensorFlow's own default, i.e. all cores);
3. the process is a Dask worker: the worker's ``nthreads`` (its tasks run in
   threads that share one TensorFlow runtime);
4. ``OMP_NUM_THREADS`` is set: joblib's ``loky`` workers receive
   ``cpu_count() // n_jobs`` there (or ``inner_max_num_threads`` of
   :func:`joblib.parallel_config`), the limit NumPy's BLAS obeys too;
5. otherwise TensorFlow's default (all cores).

The chosen number is used for both the intra-op and the inter-op pool.
"""

import os
import sys
import warnings

ENV_VAR = "SKMNIST_TF_THREADS"

# Set through request_thread_count (skmnist.parallel.set_tensorflow_threads);
# wins over every other source.
_requested = None
# (n_threads, source) chosen when skmnist imported TensorFlow in this process.
applied = None


def resolve_thread_count():
    """Return ``(n_threads, source)``; ``n_threads`` is None for TF's default."""
    if _requested is not None:
        return _requested, "set_tensorflow_threads"
    value = os.environ.get(ENV_VAR, "").strip()
    if value:
        try:
            n_threads = int(value)
            if n_threads < 0:
                raise ValueError
        except ValueError:
            warnings.warn(
                f"{ENV_VAR} must be a non-negative integer (0 keeps TensorFlow's "
                f"default); got {value!r}. It is ignored.",
                RuntimeWarning,
                stacklevel=2,
            )
        else:
            return (n_threads or None), ENV_VAR
    n_threads = _dask_worker_threads()
    if n_threads is not None:
        return n_threads, "dask worker"
    n_threads = _positive_int(os.environ.get("OMP_NUM_THREADS"))
    if n_threads is not None:
        return n_threads, "OMP_NUM_THREADS"
    return None, "tensorflow default"


def _dask_worker_threads():
    # Only a process that already runs distributed can be a Dask worker: never
    # import it just to ask.
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import Worker, get_worker
    except ImportError:
        return None
    try:
        worker = get_worker()
    except ValueError:
        # get_worker() only answers inside a running task, but a task's
        # arguments (our estimator, hence TensorFlow's import) are unpickled
        # before it runs: fall back to the worker(s) living in this process.
        workers = list(getattr(Worker, "_instances", ()))
        if len(workers) != 1:
            return None
        worker = workers[0]
    return getattr(getattr(worker, "state", worker), "nthreads", None)


def _positive_int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def apply_thread_count(tf, n_threads):
    """Set both TensorFlow pools to ``n_threads``; RuntimeError if too late.

    Setting the value TensorFlow already uses is allowed at any time.
    """
    threading = tf.config.threading
    current = (
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(),
    )
    wanted = (0, 0) if n_threads is None else (n_threads, n_threads)
    if current == wanted:
        return
    try:
        threading.set_intra_op_parallelism_threads(wanted[0])
        threading.set_inter_op_parallelism_threads(wanted[1])
    except RuntimeError as exc:
        raise RuntimeError(
            f"TensorFlow has already started in this process with intra-op="
            f"{current[0]} and inter-op={current[1]} threads (0 means all "
            f"cores); its thread pools cannot be resized to {n_threads}. Call "
            "skmnist.parallel.set_tensorflow_threads before the first Keras "
            f"model is built, or set {ENV_VAR} in the environment before "
            "starting Python."
        ) from exc


def request_thread_count(tf, n_threads):
    """Apply ``n_threads`` now and let it win over every other source.

    What :func:`skmnist.parallel.set_tensorflow_threads` does once it has
    validated ``n_threads``. The request is remembered only once applied, so a
    call that raises ``RuntimeError`` (TensorFlow already started with other
    sizes) changes nothing.
    """
    global _requested, applied
    apply_thread_count(tf, n_threads)
    _requested = n_threads
    applied = (n_threads, "set_tensorflow_threads")


def configure_tensorflow_threads(tf):
    """Apply the module's rule; called right after TensorFlow is imported.

    Never raises: if TensorFlow was started by someone else first, an explicit
    request (function or environment variable) that cannot be honoured is
    reported as a ``RuntimeWarning`` and the automatic rule is skipped.
    """
    global applied
    n_threads, source = resolve_thread_count()
    if n_threads is None and source == "tensorflow default":
        applied = (None, source)
        return
    try:
        apply_thread_count(tf, n_threads)
    except RuntimeError as exc:
        if source in ("set_tensorflow_threads", ENV_VAR):
            warnings.warn(str(exc), RuntimeWarning, stacklevel=2)
        return
    applied = (n_threads, source)


def _xla_flags(n_threads):
    # XLA's CPU client reads these once, when JAX runs its first computation.
    # One thread also turns off Eigen's own pool inside XLA's kernels.
    if n_threads == 1:
        return "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    return f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={n_threads}"


def _jax_started():
    bridge = sys.modules.get("jax._src.xla_bridge")
    return bool(getattr(bridge, "_backends", None))


def configure_xla_threads():
    """The same rule for Keras' JAX backend: sets ``XLA_FLAGS`` before JAX starts.

    Never raises; if JAX already ran a computation in this process, an explicit
    request is reported as a ``RuntimeWarning`` and the rule is skipped.
    """
    global applied
    n_threads, source = resolve_thread_count()
    if n_threads is None:
        applied = (None, "xla default" if source == "tensorflow default" else source)
        return
    if _jax_started():
        if source in ("set_tensorflow_threads", ENV_VAR):
            warnings.warn(
                f"JAX has already started in this process; its thread pool "
                f"cannot be resized to {n_threads}. Set {ENV_VAR} in the "
                "environment before starting Python.",
                RuntimeWarning,
                stacklevel=2,
            )
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if "intra_op_parallelism_threads" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {_xla_flags(n_threads)}".strip()
    applied = (n_threads, source)
