"""One rule for every path a user gives skmnist to read: regular files, bounded.

Models, data files, pictures and ``--source`` paths all come through here.
Devices (``/dev/zero``), FIFOs and sockets are refused from ``stat`` before
anything is read: their size is 0 to ``stat``, so a size check alone lets
``/dev/zero`` fill the memory, and a FIFO with no writer blocks ``open``
forever. The file is opened non-blocking and checked again on the open
descriptor (the path may have been swapped in between), and the bytes are
counted while reading, never taken from ``st_size``.
"""

import os
import stat

__all__ = [
    "check_regular_file",
    "open_regular_file",
    "read_bounded",
    "writable_target",
]


def _kind(mode):
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _refusal(path, what, mode):
    if what is None:  # the caller's messages start with the path
        return f"{os.fspath(path)}: {_kind(mode)}, not a regular file"
    return f"The {what} {os.fspath(path)!r} is {_kind(mode)}; expected a regular file."


def check_regular_file(path, *, what="file", error=ValueError):
    """Return ``os.stat(path)``; raise ``error`` unless it is a regular file.

    Links are followed; a missing path raises ``FileNotFoundError``. ``what``
    names the path in the message (``"model file"``); None starts the message
    with the path instead (``"x.png: a FIFO (named pipe), not a regular file"``).
    """
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise error(_refusal(path, what, info.st_mode))
    return info


def open_regular_file(path, *, what="file", error=ValueError):
    """Open a regular file for binary reading, refusing anything else.

    ``O_NONBLOCK`` keeps ``open`` from waiting for a writer should the path
    be swapped for a FIFO after :func:`check_regular_file`; ``fstat`` on the
    descriptor then refuses it.
    """
    check_regular_file(path, what=what, error=error)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise error(_refusal(path, what, mode))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bounded(path, max_bytes, *, what="file", error=ValueError):
    """The bytes of a regular file; ``error`` if it holds over ``max_bytes``.

    One byte past the bound is read to tell, whatever ``stat`` says of the size.
    """
    with open_regular_file(path, what=what, error=error) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise error(
            f"The {what} {os.fspath(path)!r} is larger than the {max_bytes:,} "
            "bytes skmnist reads from one such file."
        )
    return data


def writable_target(path, *, error=ValueError):
    """The path a write to ``path`` replaces: links followed, regular files only.

    skmnist writes by renaming a finished temporary file onto the target; on
    a link that would replace the link, and on ``/dev/null`` or a FIFO it
    would replace the device itself (as root, ``/dev``'s own node). So links
    are followed to the file they name, and an existing target that is not a
    regular file is refused with ``error``.
    """
    target = os.path.realpath(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    if not stat.S_ISREG(mode):
        raise error(
            f"{os.fspath(path)} is {_kind(mode)}; skmnist writes only regular "
            "files (a new name or an existing file), so name another path"
        )
    return target
