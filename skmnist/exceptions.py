"""Every public error and warning of skmnist, in one place.

Each is also importable from the module that raises it (for instance
``skmnist.persistence.UntrustedModelError``), as it was before this module
existed; this is the one place they are defined.
"""

__all__ = [
    "MissingExtraError",
    "ModelVersionWarning",
    "UntrustedModelError",
    "UsageError",
]


class UntrustedModelError(ValueError):
    """A model file that :func:`skmnist.load` refuses: damaged, tampered or foreign.

    Subclasses :class:`ValueError`. The message names the file entry at fault.

    Examples
    --------
    >>> from skmnist.exceptions import UntrustedModelError
    >>> issubclass(UntrustedModelError, ValueError)
    True
    """


class ModelVersionWarning(UserWarning):
    """A model file was written by another version of skmnist or Keras.

    Examples
    --------
    >>> from skmnist.exceptions import ModelVersionWarning
    >>> issubclass(ModelVersionWarning, UserWarning)
    True
    """


class MissingExtraError(ImportError):
    """An optional dependency of skmnist is not installed.

    The message names the ``pip`` command that installs it, e.g.
    ``pip install "skmnist[dask]"``. Subclasses :class:`ImportError`.

    Examples
    --------
    >>> from skmnist.exceptions import MissingExtraError
    >>> issubclass(MissingExtraError, ImportError)
    True
    """


class UsageError(Exception):
    """A bad command-line argument or unusable input.

    The command line reports it as one line on standard error and exits with
    status 2, without a traceback.

    Examples
    --------
    >>> from skmnist.exceptions import UsageError
    >>> str(UsageError("--cv must be at least 2; got 1"))
    '--cv must be at least 2; got 1'
    """
