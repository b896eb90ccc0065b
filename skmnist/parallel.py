"""Run hyperparameter searches on several processes or machines.

scikit-learn parallelises a search through joblib: ``n_jobs=k`` runs ``k``
``loky`` worker processes on this machine, and joblib's ``"dask"`` backend
carries the same calls to a Dask cluster. skmnist estimators pickle (a Keras 3
model pickles itself), so both work unchanged; this module only adds the two
things Keras needs on top:

* :func:`set_tensorflow_threads` and an automatic rule that keep ``k`` workers
  from each starting a TensorFlow thread pool as large as the machine;
* :func:`search_backend`, which starts or joins a Dask cluster for the
  duration of a ``with`` block (what ``skmnist tune --scheduler`` uses).

The thread rule, applied when TensorFlow is first imported by skmnist in a
process (first match wins):

1. :func:`set_tensorflow_threads` was called in this process;
2. the environment variable ``SKMNIST_TF_THREADS`` (``0`` keeps TensorFlow's
   default of all cores);
3. in a Dask worker: the worker's number of threads;
4. ``OMP_NUM_THREADS``, which joblib sets to ``cpu_count() // n_jobs`` in each
   ``loky`` worker (or to ``inner_max_num_threads`` of
   :func:`joblib.parallel_config`);
5. otherwise TensorFlow's default (all cores).

The chosen number sizes both TensorFlow pools (intra-op and inter-op).
"""

import contextlib
import re
from numbers import Integral

from ._engine import _threads
from ._engine._keras import _muted_native_stderr, tensorflow_required
from .exceptions import MissingExtraError

__all__ = ["MissingExtraError", "search_backend", "set_tensorflow_threads"]

INSTALL_DASK = 'pip install "skmnist[dask]"'

# "tcp://10.0.0.5:8786", "tls://host:8786", or a bare "host:8786".
_ADDRESS = re.compile(r"^([a-z][a-z0-9+.-]*://\S+|[\w.\-\[\]:]+:\d+)$", re.IGNORECASE)


def set_tensorflow_threads(n_threads):
    """Size TensorFlow's thread pools in this process, before it starts.

    TensorFlow fixes its intra-op and inter-op pools when its runtime starts
    (at the first Keras model or operation) and cannot resize them afterwards.
    Call this first, e.g. at the top of a script that runs several searches
    side by side. It takes precedence over ``SKMNIST_TF_THREADS`` and the
    automatic rule of :mod:`skmnist.parallel`, in this process only: worker
    processes started later apply the rule for themselves.

    Parameters
    ----------
    n_threads : int or None
        Threads for each pool, ``>= 1``. None restores TensorFlow's default
        (all cores).

    Raises
    ------
    RuntimeError
        If TensorFlow has already started in this process with other sizes.
        Setting the sizes it already uses is always allowed.
    MissingExtraError
        If TensorFlow, the ``skmnist[tensorflow]`` extra, is not installed.

    See Also
    --------
    search_backend : Run a search on a Dask cluster.

    Examples
    --------
    >>> import tensorflow as tf
    >>> from skmnist.parallel import set_tensorflow_threads
    >>> try:
    ...     set_tensorflow_threads(1)
    ... except RuntimeError:  # TensorFlow already ran here: too late to resize
    ...     pass
    >>> tf.config.threading.get_intra_op_parallelism_threads() in (0, 1)
    True
    """
    if n_threads is not None and (
        not isinstance(n_threads, Integral)
        or isinstance(n_threads, bool)
        or n_threads < 1
    ):
        raise ValueError(
            "The 'n_threads' parameter of set_tensorflow_threads must be an int "
            f">= 1 or None; got {n_threads!r}."
        )
    n_threads = None if n_threads is None else int(n_threads)
    with _muted_native_stderr(), tensorflow_required():
        import tensorflow as tf
    _threads.request_thread_count(tf, n_threads)


@contextlib.contextmanager
def search_backend(scheduler=None, *, n_workers=None, timeout=30, **cluster_kwargs):
    """Run the joblib calls of a ``with`` block on a Dask cluster.

    Everything that uses joblib inside the block (``GridSearchCV``,
    ``cross_validate``, ...) runs on the cluster; ``n_jobs=None`` means all its
    workers. Whatever the block started is closed on exit.

    Parameters
    ----------
    scheduler : None, "local", str or distributed.Client, default=None
        * None: nothing changes (plain joblib on this machine, ``n_jobs``);
        * ``"local"``: start a ``LocalCluster`` of ``n_workers`` processes with
          one thread each, on this machine;
        * an address such as ``"tcp://10.0.0.5:8786"``: connect to the
          scheduler of a running cluster (``dask scheduler`` and
          ``dask worker tcp://10.0.0.5:8786`` on the machines);
        * a ``distributed.Client``: use it (it is not closed on exit).
    n_workers : int, default=None
        Workers of the ``"local"`` cluster; None uses
        :func:`joblib.cpu_count`.
    timeout : float, default=30
        Seconds to wait for the scheduler at ``scheduler``'s address.
    **cluster_kwargs
        Passed to ``LocalCluster`` for ``"local"``, e.g.
        ``dashboard_address=":8787"`` (the dashboard is off by default).

    Yields
    ------
    client : distributed.Client or None
        The client in use, or None when ``scheduler`` is None.

    Raises
    ------
    MissingExtraError
        If ``scheduler`` is not None and ``dask[distributed]`` is not
        installed; the message says ``pip install "skmnist[dask]"``.
    ValueError
        If ``scheduler`` is a string that is neither ``"local"`` nor an
        address.
    OSError
        If no scheduler answers at the address within ``timeout``.

    See Also
    --------
    set_tensorflow_threads : Size TensorFlow's thread pools by hand.

    Notes
    -----
    Each Dask worker sizes TensorFlow to its own number of threads (see the
    rule in :mod:`skmnist.parallel`). A cluster with a single worker thread in
    total runs the search in this process: joblib skips a backend that offers
    one slot.

    When a worker dies mid-search, Dask reruns its task on another worker, up to
    ``distributed.scheduler.allowed-failures`` times (3 by default), then the
    search raises ``distributed.KilledWorker``. If the dead worker held the
    only copy of an array joblib scattered, the search raises
    ``FutureCancelledError`` at once. It never waits forever: joblib 1.6 alone
    would, and the backend used here passes those failures on.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from skmnist.parallel import search_backend
    >>> X, y = load_digits(return_X_y=True)
    >>> search = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [1, 15]})
    >>> with search_backend("local", n_workers=2) as client:
    ...     _ = search.fit(X, y)
    >>> search.best_params_
    {'n_neighbors': 1}
    """
    if scheduler is None:
        yield None
        return
    distributed = _check_scheduler(scheduler)
    from joblib import cpu_count, parallel_config

    with contextlib.ExitStack() as stack:
        if scheduler == "local":
            options = dict(
                n_workers=n_workers or cpu_count(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            options.update(cluster_kwargs)
            cluster = stack.enter_context(distributed.LocalCluster(**options))
            client = stack.enter_context(distributed.Client(cluster))
        elif isinstance(scheduler, str):
            client = stack.enter_context(distributed.Client(scheduler, timeout=timeout))
        elif isinstance(scheduler, distributed.Client):
            client = scheduler
        else:
            raise TypeError(
                "The 'scheduler' parameter of search_backend must be None, a str "
                f"or a distributed.Client; got {type(scheduler).__name__}."
            )
        # n_jobs=-1: estimators left at n_jobs=None use every worker.
        stack.enter_context(parallel_config(backend=_dask_backend(), n_jobs=-1))
        yield client


def _check_scheduler(
    scheduler, *, name="The 'scheduler' parameter of search_backend is"
):
    """Refuse a bad ``scheduler`` or a missing Dask without connecting; return
    ``distributed``. ``name`` starts the messages (the CLI's is ``--scheduler``)."""
    address = isinstance(scheduler, str) and scheduler != "local"
    if address and not _ADDRESS.match(scheduler):
        raise ValueError(
            "The 'scheduler' parameter of search_backend must be None, 'local', "
            "a scheduler address such as 'tcp://HOST:8786', or a "
            f"distributed.Client; got {scheduler!r}."
        )
    distributed = _import_distributed()
    problem = _protocol_problem(scheduler) if address else None
    if problem:
        raise ValueError(f"{name} {scheduler!r}: {problem}")
    return distributed


def _protocol_problem(address):
    """Why Dask cannot use ``address`` from here, or None.

    Dask itself fails on these deep inside ``Client``: ``ucx://`` without its
    package and ``tls://`` without certificates with a ``TypeError``,
    ``inproc://`` (a scheduler inside this very process) with "not enough
    values to unpack".
    """
    from distributed.comm import parse_address, registry
    from distributed.security import Security

    try:
        scheme, _ = parse_address(address)
        backend = registry.get_backend(scheme)
    except ValueError as exc:
        return f"an address Dask cannot read ({exc})."
    if scheme == "inproc":
        return (
            "inproc:// names a scheduler inside this process, not a cluster; "
            "give the cluster's tcp://HOST:PORT address, or 'local'."
        )
    try:
        backend.get_connector()
    except (TypeError, ImportError, NotImplementedError) as exc:
        return (
            f"Dask's {scheme}:// protocol is not usable here ({type(exc).__name__}: "
            f"{exc}); install its package (distributed-ucxx for ucx://) or "
            "connect over tcp://."
        )
    if scheme == "tls" and not Security().get_connection_args("client").get(
        "ssl_context"
    ):
        return (
            "no TLS certificates are configured for Dask (distributed.comm.tls."
            "ca-file, .client.cert and .client.key in Dask's configuration); "
            "configure them, or connect over tcp://."
        )
    return None


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:
        raise MissingExtraError(
            "Running a search on a Dask cluster needs dask.distributed, which is "
            f"not installed. Install it with: {INSTALL_DASK}"
        ) from exc
    return distributed


def _dask_backend():
    """joblib's Dask backend, mended so that a killed worker cannot hang a search.

    joblib 1.6 hands a task that failed on the Dask side (``KilledWorker``
    once a task has killed ``distributed.scheduler.allowed-failures`` workers,
    a lost scattered array) to its future but never to the completion callback
    that ``Parallel`` polls, so the search waits forever. Every failure is
    passed to that callback here, once; results still arrive as before.
    """
    try:
        from joblib._dask import DaskDistributedBackend
    except ImportError:  # pragma: no cover - joblib moved it: use it unmended
        return "dask"

    class _Backend(DaskDistributedBackend):
        def submit(self, func, callback=None):
            once = _CallOnce(callback)
            future = super().submit(func, callback=once)
            future.add_done_callback(once.on_failure)
            return future

    return _Backend()


class _CallOnce:
    def __init__(self, callback):
        self.callback = callback
        self.called = False

    def __call__(self, result):
        if not self.called and self.callback is not None:
            self.called = True
            self.callback(result)

    def on_failure(self, future):
        if not future.cancelled() and future.exception() is not None:
            # joblib's callback re-raises an exception it is given and records
            # the batch as failed, which ends the search with that error.
            self(future.exception())
