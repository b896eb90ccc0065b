"""MNIST file formats: the original IDX files and the Keras ``mnist.npz``.

Every reader ends in :func:`check_mnist_arrays`, so the embedded, downloaded
and local sources all hand :func:`skmnist.load_mnist` arrays checked the same
way: pixels ``(n, 784)`` uint8 in 0-255, labels ``(n,)`` int64 in 0-9.
"""

import gzip
import os
import struct
import zipfile
import zlib

import numpy as np

from .._utils import _safe_zip
from .._utils._files import open_regular_file

N_PIXELS = 28 * 28
# The most pixel or label bytes one data file may declare: 1 GiB is 1.3 million
# images, twice EMNIST's largest split. Headers are checked against it (and
# against the bytes really present) before any array is allocated.
MAX_DATA_BYTES = 1 << 30

# IDX header: two zero bytes, a type code (0x08 = unsigned byte) and the number
# of dimensions, read together as one big-endian int32 "magic number".
IDX_LABELS_MAGIC = 2049  # 0x00000801: ubyte, 1 dimension (n,)
IDX_IMAGES_MAGIC = 2051  # 0x00000803: ubyte, 3 dimensions (n, rows, cols)

# The four original files; Kaggle's copies use a dot before "idx".
IDX_FILENAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
GZIP_MAGIC = b"\x1f\x8b"
NPZ_KEYS = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}


def check_mnist_arrays(images, labels, *, origin):
    """Validate MNIST images and labels; return ``(data, target)``.

    ``images`` is ``(n, 28, 28)`` or ``(n, 784)`` with whole values in 0-255,
    ``labels`` is ``(n,)`` with integers in 0-9. ``origin`` names where they
    came from in error messages. Returns C-contiguous ``(n, 784)`` uint8 data
    and int64 target.
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.ndim == 3 and images.shape[1:] == (28, 28):
        images = images.reshape(len(images), N_PIXELS)
    if images.ndim != 2 or images.shape[1] != N_PIXELS:
        raise ValueError(
            f"{origin}: images must have shape (n, 28, 28) or (n, 784); "
            f"got {images.shape}."
        )
    if labels.ndim != 1:
        raise ValueError(f"{origin}: labels must be 1-D; got shape {labels.shape}.")
    if len(images) != len(labels):
        raise ValueError(
            f"{origin}: images and labels differ in length: {len(images)} images, "
            f"{len(labels)} labels."
        )
    data = _as_uint8_pixels(images, origin)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"{origin}: labels must be integers 0-9; got dtype {labels.dtype}."
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        bad = labels[(labels < 0) | (labels > 9)]
        raise ValueError(
            f"{origin}: labels must be digits 0-9; got {bad.size} outside that "
            f"range, e.g. {bad[0]}."
        )
    return np.ascontiguousarray(data), labels.astype(np.int64)


def _as_uint8_pixels(images, origin):
    if images.dtype == np.uint8:
        return images
    if not (
        np.issubdtype(images.dtype, np.integer)
        or np.issubdtype(images.dtype, np.floating)
    ):
        raise ValueError(
            f"{origin}: pixels must be numbers 0-255; got dtype {images.dtype}."
        )
    if images.size:
        # Floats are accepted when they hold whole numbers (OpenML's float64).
        if np.issubdtype(images.dtype, np.floating) and not np.array_equal(
            images, np.round(images)
        ):
            raise ValueError(f"{origin}: pixels must be whole numbers 0-255.")
        low, high = images.min(), images.max()
        if low < 0 or high > 255:
            raise ValueError(
                f"{origin}: pixels must be within 0-255; got values from {low} "
                f"to {high}."
            )
    return images.astype(np.uint8)


def read_npz(path, subsets):
    """Read ``subsets`` (e.g. ``("train", "test")``) from a Keras-format npz.

    Returns a list of ``(data, target)`` pairs, one per subset.
    """
    origin = os.fspath(path)
    try:
        # One descriptor for the checks and the reading: the path cannot be
        # swapped in between, and a device or FIFO is refused before opening.
        with open_regular_file(path, what="data file") as handle:
            arrays = _read_npz_arrays(handle, subsets, origin)
    except FileNotFoundError:
        raise
    except _safe_zip.ZIP_ERRORS as exc:
        # Our own messages pass; np.load raises a bare ValueError for a non-npz.
        if isinstance(exc, ValueError) and str(exc).startswith((origin, "The data")):
            raise
        raise ValueError(
            f"{origin}: corrupt or truncated .npz file ({exc}). Delete it and "
            "download it again."
        ) from exc
    return [
        check_mnist_arrays(x, y, origin=f"{origin} [{s}]")
        for s, (x, y) in zip(subsets, arrays)
    ]


def _read_npz_arrays(handle, subsets, origin):
    """``[(images, labels), ...]`` of ``subsets`` from the open npz ``handle``."""
    _check_npz_headers(handle, [k for s in subsets for k in NPZ_KEYS[s]], origin)
    handle.seek(0)
    with np.load(handle, allow_pickle=False) as npz:
        missing = [k for s in subsets for k in NPZ_KEYS[s] if k not in npz.files]
        if missing:
            held = ", ".join(npz.files) or "nothing"
            raise ValueError(
                f"{origin}: not a Keras-format MNIST .npz: missing "
                f"{', '.join(missing)}; it holds {held}. Expected x_train, "
                "y_train, x_test, y_test."
            )
        return [(npz[NPZ_KEYS[s][0]], npz[NPZ_KEYS[s][1]]) for s in subsets]


def _check_npz_headers(handle, keys, origin):
    """Check the ``.npy`` headers of ``keys`` in an npz before numpy loads them.

    np.load trusts a member's header: a shape of 10**15 rows is allocated
    (MemoryError) before the data is found missing. Here each header must
    declare at most MAX_DATA_BYTES and exactly the bytes the member holds.
    """
    _safe_zip.check_directory(handle, origin, ValueError)
    with zipfile.ZipFile(handle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        for key in keys:
            info = infos.get(f"{key}.npy")
            if info is None:
                continue  # read_npz names the missing keys
            if info.flag_bits & 0x1:
                raise ValueError(f"{origin}: {key} is encrypted.")
            with archive.open(info) as member:
                _safe_zip.npy_header(
                    member,
                    info.file_size,
                    f"{origin}: {key}",
                    ValueError,
                    max_bytes=MAX_DATA_BYTES,
                )


def read_idx_folder(folder, subsets):
    """Read ``subsets`` from a folder of the original IDX files (raw or .gz)."""
    pairs = []
    for subset in subsets:
        images_name, labels_name = IDX_FILENAMES[subset]
        images_path = find_idx_file(folder, images_name)
        labels_path = find_idx_file(folder, labels_name)
        images = read_idx(images_path, IDX_IMAGES_MAGIC)
        labels = read_idx(labels_path, IDX_LABELS_MAGIC)
        origin = f"{images_path} + {os.path.basename(labels_path)}"
        pairs.append(check_mnist_arrays(images, labels, origin=origin))
    return pairs


def find_idx_file(folder, name):
    """Return the path of IDX file ``name`` in ``folder``, raw or gzipped."""
    dotted = name.replace("-idx", ".idx")
    candidates = [name, name + ".gz", dotted, dotted + ".gz"]
    for candidate in candidates:
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"{os.fspath(folder)}: no MNIST IDX file {name!r}; looked for "
        f"{', '.join(candidates)}."
    )


def read_idx(path, magic):
    """Parse one IDX file whose magic number must be ``magic`` (2049 or 2051).

    The header is read and checked first (magic number, dimensions, declared
    size against :data:`MAX_DATA_BYTES` and against the bytes present), then
    the data is read into one array of the declared size; a ``.gz`` file is
    inflated in chunks and never past the declared size.
    """
    path = os.fspath(path)
    with open_regular_file(path, what="IDX file") as raw:
        # Decide by content, not by name: a gzipped file may have lost its ".gz".
        is_gzip = raw.read(2) == GZIP_MAGIC
        if not is_gzip and path.endswith(".gz"):
            raise ValueError(f"{path}: corrupt or truncated .gz file (no gzip header).")
        raw.seek(0)
        if not is_gzip:
            return _read_idx_stream(raw, path, magic, os.fstat(raw.fileno()).st_size)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as f:
                return _read_idx_stream(f, path, magic, None)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: corrupt or truncated .gz file ({exc}).") from exc


def _read_idx_stream(f, path, magic, file_size):
    """Read an IDX stream; ``file_size`` is None when it is being inflated."""
    kind = "labels" if magic == IDX_LABELS_MAGIC else "images"
    head = f.read(4)
    if len(head) < 4:
        raise ValueError(f"{path}: too short to be an IDX file ({len(head)} bytes).")
    (found,) = struct.unpack(">i", head)
    if found != magic:
        raise ValueError(
            f"{path}: wrong IDX magic number {found} for {kind}; expected {magic} "
            f"({IDX_IMAGES_MAGIC} = images, {IDX_LABELS_MAGIC} = labels)."
        )
    ndim = magic & 0xFF
    dims = f.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(f"{path}: truncated IDX header ({4 + len(dims)} bytes).")
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", dims)
    if ndim == 3 and shape[1:] != (28, 28):
        raise ValueError(
            f"{path}: MNIST images are 28 x 28; the header says "
            f"{shape[1]} x {shape[2]}."
        )
    n_bytes = int(np.prod(shape, dtype=object))
    if n_bytes > MAX_DATA_BYTES:
        raise ValueError(
            f"{path}: the header announces {shape} ({n_bytes} bytes), over "
            f"skmnist's limit of {MAX_DATA_BYTES} bytes per file."
        )
    expected = header + n_bytes
    if file_size is not None and file_size != expected:
        _size_mismatch(path, shape, expected, file_size)
    array = np.empty(n_bytes, dtype=np.uint8)
    n_read = f.readinto(memoryview(array)) if n_bytes else 0
    while 0 < n_read < n_bytes:  # GzipFile may return short reads
        more = f.readinto(memoryview(array)[n_read:])
        if not more:
            break
        n_read += more
    if n_read < n_bytes:
        _size_mismatch(path, shape, expected, header + n_read)
    if f.read(1):  # one byte past the end is proof enough of extra data
        _size_mismatch(path, shape, expected, None)
    return array.reshape(shape)


def _size_mismatch(path, shape, expected, found):
    problem = "extra data" if found is None or found > expected else "truncated"
    has = "more" if found is None else str(found)
    raise ValueError(
        f"{path}: the header announces {shape} ({expected} bytes) but the file "
        f"has {has} bytes: {problem}."
    )
