"""A stop asked for by a signal (Ctrl-C, SIGTERM, SIGHUP), kept until honoured.

The command line turns these signals into :class:`Stopped`, raised wherever
the main thread is, so that every clean-up path runs. Raised inside a
callback whose exceptions Python or a library swallows (JAX's
garbage-collection callback, a ``__del__``, a weakref callback), that
exception is lost and the run would go on to write its output. So the signal
is also recorded here: :func:`raise_if_stopped` raises it again wherever
skmnist moves on to the next piece of work (an epoch, a model) or is about to
commit output (renaming a report folder or a file into place), and inside
:func:`deferred` blocks (clean-up, the commit itself) a signal is only
recorded, so a second Ctrl-C cannot cut a clean-up short.

Nothing here installs a handler: outside the command line (a script, a
notebook) signals keep Python's own behaviour and nothing is ever recorded.
"""

import contextlib
import threading

__all__ = ["Stopped", "deferred", "raise_if_stopped", "request", "requested"]

_state = {"signum": None, "deferring": 0}
_lock = threading.Lock()


class Stopped(KeyboardInterrupt):
    """A stop signal, raised like Ctrl-C so every clean-up path runs."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def request(signum):
    """Record a stop by ``signum`` and raise it, unless clean-up is under way.

    The command line's signal handler.
    """
    _state["signum"] = signum
    if not _state["deferring"]:
        raise Stopped(signum)


def requested():
    """The signal number of a recorded stop, or None."""
    return _state["signum"]


def clear():
    """Forget a recorded stop (the command line starts and ends with this)."""
    _state["signum"] = None


def raise_if_stopped():
    """Raise :class:`Stopped` if a stop was recorded and not yet honoured.

    Called between pieces of work and before output is committed; a no-op
    unless the command line's handler recorded a signal.
    """
    signum = _state["signum"]
    if signum is not None and not _state["deferring"]:
        raise Stopped(signum)


@contextlib.contextmanager
def deferred():
    """Within the block a stop signal is recorded, not raised.

    For clean-up after an exception and for committing output (a rename or
    two), which a second signal must not cut in half. A stop recorded
    meanwhile is raised by the next :func:`raise_if_stopped`.
    """
    with _lock:
        _state["deferring"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["deferring"] -= 1
