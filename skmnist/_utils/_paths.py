"""Where skmnist keeps what it caches: the data home."""

import os

DATA_HOME_VARIABLE = "SKMNIST_DATA"


def data_home(path=None):
    """skmnist's cache folder, as an absolute path (not created here).

    ``path`` wins; else the ``SKMNIST_DATA`` environment variable; else
    ``~/skmnist_data``.

    Parameters
    ----------
    path : str or path-like, default=None
        An explicit folder.

    Returns
    -------
    str
        The folder.
    """
    if path is None:
        path = os.environ.get(DATA_HOME_VARIABLE, os.path.join("~", "skmnist_data"))
    return os.path.abspath(os.path.expanduser(os.fspath(path)))
