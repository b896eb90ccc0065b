"""The ``skmnist`` command line: compare, tune, download, predict, export-onnx.

``main(argv)`` returns the exit status instead of exiting, so tests call it in
process. Bad arguments, unreadable data or models and an unusable ``--out``
end with status 2 and one line on stderr, checked before the long work where
possible. Ctrl-C ends with 130 and SIGTERM (or SIGHUP) with 128 + the signal
number, leaving no half-written output: reports are built in a temporary
folder and renamed into place at the end. TensorFlow is imported only once a
command has to fit or load a Keras model.

The package's modules depend on each other in one direction only:
``__init__`` (``main``) -> ``_commands`` and ``_tune`` (one function per
command) -> ``_data``, ``_report``, ``_progress`` -> ``_parser`` (the leaf:
the parser and the tune grids) and the library itself.
"""

import contextlib
import signal
import sys
import threading

from ..exceptions import UsageError
from ._parser import build_parser, one_line

__all__ = ["UsageError", "build_parser", "main"]

# Signals that stop a command the way Ctrl-C does, so that the same clean-up
# runs (temporary report folders and files removed).
_STOP_SIGNALS = ("SIGTERM", "SIGHUP")


class _Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C so every clean-up path runs."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum, frame):
    raise _Stopped(signum)


@contextlib.contextmanager
def _signals_raise():
    """Turn SIGTERM and SIGHUP into :class:`_Stopped` while the block runs.

    Only signals left at their default action are taken over (``nohup`` sets
    SIGHUP to be ignored, and that choice is kept); the previous handlers are
    restored afterwards. Outside the main thread nothing changes (Python
    delivers signals to the main thread only).
    """
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for name in _STOP_SIGNALS:
            signum = getattr(signal, name, None)  # SIGHUP does not exist on Windows
            if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
                previous[signum] = signal.signal(signum, _raise_stopped)
    try:
        yield
    finally:
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
    from rich.console import Console

    out = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 120)
    err = Console(file=sys.stderr, width=None if sys.stderr.isatty() else 120)
    command = None
    try:
        with _signals_raise():
            try:
                args = build_parser().parse_args(argv)
            except SystemExit as exit_:  # --help and --version exit 0 through here
                return exit_.code
            command = args.command
            args.argv = list(sys.argv[1:] if argv is None else argv)
            from . import _commands

            return _commands.COMMANDS[command](args, out, err)
    except UsageError as error:
        message = one_line(error)
        if not message.startswith("skmnist"):
            message = f"skmnist {command}: error: {message}"
        err.print(message, highlight=False, markup=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt as interrupt:
        signum = getattr(interrupt, "signum", signal.SIGINT)
        how = (
            "interrupted"
            if signum == signal.SIGINT
            else f"stopped by {signal.Signals(signum).name}"
        )
        err.print(f"skmnist: {how}; nothing was written.", highlight=False)
        return 128 + signum
