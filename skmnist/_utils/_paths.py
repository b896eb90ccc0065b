"""Where skmnist keeps what it caches: the data home."""

import os


def data_home(path=None):
    """skmnist's cache folder as an absolute path (not created here).

    ``path`` wins; else the ``SKMNIST_DATA`` environment variable; else
    ``~/skmnist_data``.
    """
    if path is None:
        path = os.environ.get("SKMNIST_DATA", os.path.join("~", "skmnist_data"))
    return os.path.abspath(os.path.expanduser(os.fspath(path)))
