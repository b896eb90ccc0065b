"""Writing files safely, and the library versions recorded in them.

One rule for every file skmnist writes (reports, CSV, saved models, the data
cache): the bytes go to a temporary name in the target's own folder and are
renamed into place only when complete, so an interrupted write never leaves
half a file; and the finished file gets the mode any file the user creates
would get (``0o666`` less the umask), not ``mkstemp``'s private ``0o600``.
"""

import contextlib
import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path

from . import _stop
from ._files import writable_target

# Libraries whose versions are written into reports and saved models.
LIBRARIES = (
    "skmnist",
    "numpy",
    "scikit-learn",
    "scipy",
    "tensorflow",
    "keras",
    "jax",
    "scikeras",
    "skops",
    "matplotlib",
)


def _umask():
    # os.umask can only be read by setting it; set it straight back.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def usual_file_mode():
    """The mode a file created by the user would get: ``0o666`` less the umask."""
    return 0o666 & ~_umask()


def usual_folder_mode():
    """The mode a folder created by the user would get: ``0o777`` less the umask."""
    return 0o777 & ~_umask()


@contextlib.contextmanager
def atomic_path(path, *, suffix=".part"):
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary file (``.NAME.XXXXXX<suffix>``, created empty and private in
    ``path``'s folder, which must exist) is removed if the block raises
    (``KeyboardInterrupt`` included) or the command line recorded a stop
    signal meanwhile, leaving ``path`` as it was. On success it gets
    :func:`usual_file_mode` and replaces ``path`` atomically. A link is
    followed to the file it names; an existing ``path`` that is not a regular
    file (``/dev/null``, a FIFO) raises ``ValueError`` before anything is made.
    """
    path = Path(writable_target(path))
    fd, tmp = tempfile.mkstemp(
        dir=path.absolute().parent, prefix=f".{path.name}.", suffix=suffix
    )
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        _stop.raise_if_stopped()  # a stop swallowed by a library: honour it now
        with _stop.deferred():
            os.chmod(tmp, usual_file_mode())
            os.replace(tmp, path)
    except BaseException:
        with _stop.deferred():
            tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(path, mode="wb", **kwargs):
    """:func:`open` on a temporary file renamed onto ``path`` on success."""
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as handle:
        yield handle


def write_bytes_atomic(path, data):
    """Write ``data`` to ``path`` through :func:`atomic_path`; return the path."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def library_versions(names=LIBRARIES):
    """``{distribution name: version}``, None for those not installed."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    if "skmnist" in versions:
        from .._version import __version__

        versions["skmnist"] = __version__  # an uninstalled checkout too
    return versions


def environment():
    """The machine (python, platform, processor, cpu_count) and library versions."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "libraries": library_versions(),
    }
