"""The ``skmnist`` command line: compare, tune, download, predict.

``main(argv)`` returns the exit status instead of exiting, so tests call it in
process. Bad arguments and unreadable data end with status 2 and one line on
stderr; Ctrl-C ends with 130 and leaves no half-written output (reports are
built in a temporary folder and renamed into place at the end). TensorFlow is
imported only once a command has to fit or load a Keras model.

The package's modules depend on each other in one direction only:
``__init__`` (``main``) -> ``_commands`` and ``_tune`` (one function per
command) -> ``_data``, ``_report``, ``_progress`` -> ``_parser`` (the leaf:
the parser and the tune grids) and the library itself.
"""

import sys

from ..exceptions import UsageError
from ._parser import build_parser, one_line

__all__ = ["UsageError", "build_parser", "main"]


def main(argv=None):
    """Run ``skmnist`` with ``argv`` and return the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after ``skmnist``; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 when a download fails, 2 for a bad argument or
        unreadable data (one line on stderr), 130 when interrupted.

    Examples
    --------
    >>> from skmnist.cli import main
    >>> main(["compare", "--models", "cnn"])  # the message goes to stderr
    2
    """
    from rich.console import Console

    out = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 120)
    err = Console(file=sys.stderr, width=None if sys.stderr.isatty() else 120)
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exit_:  # --help exits 0 through here
            return exit_.code
        args.argv = list(sys.argv[1:] if argv is None else argv)
        from . import _commands

        return _commands.COMMANDS[args.command](args, out, err)
    except UsageError as error:
        err.print(one_line(error), highlight=False, markup=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err.print("skmnist: interrupted; nothing was written.", highlight=False)
        return 130
