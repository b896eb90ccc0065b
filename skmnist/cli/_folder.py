"""Where the command line writes: ``--out`` report folders and files, checked first.

A report is written into a temporary folder beside its target and renamed
into place at the end, so an interrupted run never leaves half a report
behind; ``--out`` is checked before the long work, so that a run is not
wasted on a folder it may not replace.
"""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from .._utils import _stop
from .._utils._files import writable_target
from .._utils._io import usual_folder_mode
from ..exceptions import UsageError
from ._parser import REPORT_MARKER


def _cannot_create(folder, prefix):
    """Why no entry can be made in ``folder``, or None if one can."""
    try:  # the one sure test of writability (root ignores mode bits)
        os.rmdir(tempfile.mkdtemp(prefix=prefix, dir=folder))
    except OSError as error:
        return error.strerror or error
    return None


class ReportFolder:
    """Context manager yielding a temporary folder that replaces ``path`` on success.

    Made before the long work, it refuses (:class:`UsageError` naming
    ``--out``) the current or home folder or one above them, a folder holding
    an input (``inputs``: option name to the file or folder it reads, which
    replacing would delete), a mount point, an existing folder that is neither
    empty nor marked by :data:`REPORT_MARKER` (unless ``force``), and a parent
    that cannot be written or made (one missing level is created, as ``mkdir``
    would). On an exception, Ctrl-C and SIGTERM included, the temporary folder
    (and a parent made for it) is deleted and ``path`` left as it was.
    """

    def __init__(self, path, *, force=False, command="compare", inputs=None):
        self.given = str(path)
        # A symbolic link is followed to its folder, "." and ".." become theirs.
        self.path = Path(path).resolve()
        self.force = force
        self.command = command
        self.inputs = {k: v for k, v in (inputs or {}).items() if v is not None}
        self._tmp = None
        self._made_parent = False
        self._make_parent = self._check()

    def _error(self, message):
        return UsageError(f"--out {self.given}: {message}")

    def _check(self):
        """Refuse an unusable ``path``; return whether its parent must be made."""
        path = self.path
        for what, precious in (
            ("the current folder", Path.cwd().resolve()),
            ("your home folder", Path.home().resolve()),
        ):
            # Replacing them would pull the ground from under the user.
            if path == precious or path in precious.parents:
                raise self._error(
                    f"is {what} or a folder above it; name a new folder, e.g. "
                    "--out skmnist-report"
                )
        for option, value in self.inputs.items():
            used = Path(value).expanduser().resolve()
            if used == path or path in used.parents:
                raise self._error(
                    f"holds {option} {value}, which replacing the folder would "
                    "delete; name another folder"
                )
        if path.exists():
            if not path.is_dir():
                raise self._error("exists and is not a folder")
            if os.path.ismount(path):
                raise self._error("is a mount point; name a folder inside it")
            if not self.force and not self._replaceable():
                raise self._error(
                    f"folder exists and was not written by skmnist (it has no "
                    f"{REPORT_MARKER} file); name another folder, or add --force "
                    "to replace it and everything in it"
                )
        parent, make_parent = path.parent, False
        if not parent.is_dir():
            if parent.exists():
                raise self._error(f"{parent} is not a folder")
            if not parent.parent.is_dir():
                raise self._error(
                    f"folder {parent.parent} does not exist (skmnist creates one "
                    "missing level at most)"
                )
            parent, make_parent = parent.parent, True
        reason = _cannot_create(parent, f".{path.name}.")
        if reason is not None:
            raise self._error(f"cannot create a folder in {parent}: {reason}")
        return make_parent

    def _replaceable(self):
        """Whether ``path`` is empty or marked as written by skmnist."""
        try:
            marked = (self.path / REPORT_MARKER).is_file()
            return marked or next(self.path.iterdir(), None) is None
        except OSError as error:
            raise self._error(
                f"cannot read the folder: {error.strerror or error}"
            ) from None

    def __enter__(self):
        parent = self.path.parent
        if self._make_parent and not parent.is_dir():
            parent.mkdir()
            self._made_parent = True
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", dir=parent))
        os.chmod(self._tmp, usual_folder_mode())  # mkdtemp makes it private (0700)
        from .._version import __version__

        (self._tmp / REPORT_MARKER).write_text(
            f"Written by `skmnist {self.command}` (skmnist {__version__}).\n"
            "skmnist replaces this folder when --out names it again, because "
            "of this file;\ndelete the file to keep the folder from being "
            "replaced.\n"
        )
        return self._tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:  # a stop swallowed by a library callback: honour it now
                _stop.raise_if_stopped()
            except BaseException:
                with _stop.deferred():
                    self._discard()
                raise
        with _stop.deferred():  # no second signal cuts clean-up or commit short
            if exc_type is not None:
                self._discard()
            elif self.path.exists() and not self.force and not self._replaceable():
                self._discard()
                raise self._error(
                    "the folder was changed by someone else while skmnist ran; "
                    "nothing was replaced"
                )
            else:
                self._commit()
        return False

    def _commit(self):
        old = None
        try:
            if self.path.exists():
                old = self._tmp.with_name(self._tmp.name + ".old")
                os.replace(self.path, old)
            os.replace(self._tmp, self.path)
        except BaseException:
            if old is not None and not self.path.exists():
                os.replace(old, self.path)  # put the old report back
            self._discard()
            raise
        finally:
            if old is not None and old.exists() and self.path.exists():
                shutil.rmtree(old, ignore_errors=True)

    def _discard(self):
        shutil.rmtree(self._tmp, ignore_errors=True)
        if self._made_parent:
            with contextlib.suppress(OSError):  # only if still empty
                self.path.parent.rmdir()


def check_out_file(path, *, inputs):
    """Refuse an ``--out`` file that cannot be written, before any work.

    Its folder must exist and take a new entry; ``path`` may not be a folder,
    nor one of ``inputs`` (option name to the paths the command reads), which
    writing it would destroy.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"--out {path}: is a folder; name a .csv file")
    try:
        path = Path(writable_target(path))
    except ValueError as error:
        raise UsageError(f"--out {error}") from None
    for option, values in inputs.items():
        if any(path.resolve() == Path(value).resolve() for value in values):
            raise UsageError(
                f"--out {path}: is the {option} this command reads; writing the "
                "predictions there would destroy it, so name another .csv file"
            )
    folder = path.absolute().parent
    if not folder.is_dir():
        raise UsageError(f"--out {path}: folder {folder} does not exist")
    reason = _cannot_create(folder, f".{path.name}.")
    if reason is not None:
        raise UsageError(f"--out {path}: cannot write in {folder}: {reason}")
