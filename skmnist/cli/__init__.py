"""The ``skmnist`` command line: compare, tune, download, predict, export-onnx.

``main(argv)`` returns the exit status instead of exiting, so tests call it in
process. Bad arguments, unreadable data or models and an unusable ``--out``
end with status 2 and one line on stderr, checked before the long work where
possible. Ctrl-C ends with 130 and SIGTERM (or SIGHUP) with 128 + the signal
number, leaving no half-written output: reports are built in a temporary
folder and renamed into place at the end. A signal is also recorded, so that
one whose exception a library swallowed (JAX's garbage-collection callback)
still stops the run at its next epoch, and always before anything is renamed
into place. TensorFlow is imported only once a command has to fit or load a
Keras model.

The package's modules depend on each other in one direction only:
``__init__`` (``main``) -> ``_commands`` and ``_tune`` (one function per
command) -> ``_data``, ``_folder``, ``_report``, ``_progress`` -> ``_parser``
(the leaf: the parser and the tune grids) and the library itself.
"""

import contextlib
import signal
import sys
import threading
import time

from .._utils import _stop
from ..exceptions import UsageError
from ._parser import build_parser, one_line

__all__ = ["UsageError", "build_parser", "main"]

# Signals that stop a command, all the same way: raised as Ctrl-C's
# KeyboardInterrupt so that the same clean-up runs (temporary report folders
# and files removed), and recorded, so that one swallowed by a library
# callback still stops the run at its next step (skmnist._utils._stop).
_STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
# How long a stopped command waits for the fits still running in threads.
_THREADS_WAIT_SECONDS = 60


def _raise_stopped(signum, frame):
    _stop.request(signum)


@contextlib.contextmanager
def _signals_raise():
    """Turn SIGINT, SIGTERM and SIGHUP into :class:`~skmnist._utils._stop.Stopped`.

    Only signals left at their default action are taken over (``nohup``
    ignores SIGHUP, a shell's background job SIGINT: those choices are kept),
    and their handlers are restored afterwards; outside the main thread, to
    which Python delivers signals, nothing changes. Meanwhile a
    KeyboardInterrupt that Python can only report as "Exception ignored in
    ..." (raised in a garbage-collection callback, say) is dropped quietly:
    the stop it carried is recorded and honoured at the next step.
    """
    previous = {}
    hook = sys.unraisablehook
    if threading.current_thread() is threading.main_thread():
        for name in _STOP_SIGNALS:
            signum = getattr(signal, name, None)  # SIGHUP does not exist on Windows
            handler = None if signum is None else signal.getsignal(signum)
            if handler is signal.SIG_DFL or handler is signal.default_int_handler:
                previous[signum] = signal.signal(signum, _raise_stopped)

        def quiet_hook(unraisable):
            if not isinstance(unraisable.exc_value, KeyboardInterrupt):
                hook(unraisable)

        sys.unraisablehook = quiet_hook
    _stop.clear()
    try:
        yield
    finally:
        sys.unraisablehook = hook
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv=None):
    """Run ``skmnist`` with ``argv`` and return the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after ``skmnist``; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 when a download fails, 2 for a bad argument, unusable
        data, model or ``--out`` (one line on stderr), 130 when interrupted by
        Ctrl-C, 128 + N when stopped by signal N (143 for SIGTERM).

    Examples
    --------
    >>> from skmnist.cli import main
    >>> main(["compare", "--models", "rnn"])  # an unknown model: one line on stderr
    2
    """
    command = None
    err = None
    try:
        with _signals_raise():
            from rich.console import Console

            # Off a terminal 120 columns; plain messages are never highlighted.
            out, err = (
                Console(file=f, width=None if f.isatty() else 120, highlight=False)
                for f in (sys.stdout, sys.stderr)
            )
            try:
                args = build_parser().parse_args(argv)
            except SystemExit as exit_:  # --help and --version exit 0 through here
                return exit_.code
            command = args.command
            args.argv = list(sys.argv[1:] if argv is None else argv)
            from . import _commands

            status = _commands.COMMANDS[command](args, out, err)
            signum = _stop.requested()
            if signum is not None:
                # Recorded while the output was being committed: it is whole.
                _say(err, f"{_how(signum)} as it ended; its output is complete.")
                return 128 + signum
            return status
    except UsageError as error:
        # Most messages name only the problem; the parser's name the command.
        message = one_line(error)
        if not message.startswith("skmnist"):
            message = f"skmnist {command}: error: {message}"
        err.out(message)
        return 2
    except KeyboardInterrupt as interrupt:
        signum = getattr(interrupt, "signum", signal.SIGINT)
        _wait_for_search_threads()
        _say(err, f"{_how(signum)}; nothing was written.")
        return 128 + signum
    finally:
        _stop.clear()


def _wait_for_search_threads():
    """Let the threads of a threaded search end their fits before Python exits.

    After Ctrl-C, joblib's threading backend (``tune --n-jobs`` on JAX) lets
    each thread finish its current task, which the recorded stop ends at its
    next epoch. Python exiting while one is still inside JAX's compiled code
    aborts the process ("FATAL: exception not rethrown", status -6).
    """
    pool = sys.modules.get("multiprocessing.pool")
    if pool is None:
        return
    deadline = time.monotonic() + _THREADS_WAIT_SECONDS
    for thread in threading.enumerate():
        # A running ThreadPool worker; Thread drops _target when run ends.
        if getattr(thread, "_target", None) is pool.worker:
            thread.join(max(0.0, deadline - time.monotonic()))


def _how(signum):
    if signum == signal.SIGINT:
        return "interrupted"
    return f"stopped by {signal.Signals(signum).name}"


def _say(err, message):
    if err is None:  # stopped before the console was made
        print(f"skmnist: {message}", file=sys.stderr)
    else:
        err.out(f"skmnist: {message}")
