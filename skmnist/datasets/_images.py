"""Reading a user's own digit images as MNIST rows (784 pixels, 0-255).

Pictures are decoded within bounds (:mod:`skmnist.datasets._pictures`) and
made to look like MNIST's digits (:func:`~skmnist.datasets._photo.mnist_like`);
``.npy`` / ``.npz`` arrays are taken as they are, within bounds.
"""

import zipfile
from pathlib import Path

import numpy as np

from .._utils import _safe_zip
from .._utils._files import open_regular_file
from ._photo import SIDE, mnist_like
from ._pictures import read_picture

# Most images read at once, from all files together: all of MNIST (70,000).
# Predicting a larger set is a job for --source; this keeps a crafted array of
# 1e8 values (97 KB deflated) from costing gigabytes. As float64 the largest
# accepted array is 439 MB, converted to uint8 in blocks of _BLOCK_ROWS rows.
MAX_IMAGES = 70_000
MAX_VALUES = MAX_IMAGES * SIDE * SIDE  # most values in one .npy / .npz array
_BLOCK_ROWS = 4096
ARRAY_SUFFIXES = (".npy", ".npz")

__all__ = ["read_images"]


def read_images(paths):
    """Read digit images from files, as MNIST rows of 784 pixels.

    Parameters
    ----------
    paths : iterable of str or path-like
        Files to read, in order:

        - ``.npy`` or ``.npz`` (one array): an image of 28 x 28 pixels or a
          row of 784, or a stack of them, shaped ``(n, 28, 28)`` or
          ``(n, 784)``; values 0-255 with 0 as background, as in MNIST
          (a float array whose values all lie in 0-1 is multiplied by 255).
          Taken as they are: no inversion, cropping or centring.
        - any other file: a picture in one of the formats of
          :func:`~skmnist.datasets._pictures.read_picture` (PNG, JPEG, BMP,
          GIF, TIFF, WebP, PPM, AVIF), made MNIST-like by
          :func:`~skmnist.datasets._photo.mnist_like` after its EXIF rotation
          is applied and transparent parts are laid on white. A picture larger
          than 1024 pixels a side is first shrunk to that (JPEGs are decoded
          at a reduced scale); one of more than 8192 x 8192 pixels is refused.

        Only regular files are read (not devices, FIFOs or sockets), and at
        most :data:`MAX_IMAGES` (70,000) images in all: array headers are
        checked before their data is read.

    Returns
    -------
    X : ndarray of shape (n_images, 784), dtype uint8
        One image per row, 0 = background, 255 = darkest ink.
    names : list of str
        One name per row: the file name, followed by ``[i]`` for the i-th
        image of an array file holding several.

    Raises
    ------
    ValueError
        If a file cannot be read, is no regular file, holds no usable image
        or more than the limits above; the message names the file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skmnist.datasets._images import read_images
    >>> folder = tempfile.mkdtemp()
    >>> np.save(os.path.join(folder, "two.npy"), np.zeros((2, 28, 28), np.uint8))
    >>> X, names = read_images([os.path.join(folder, "two.npy")])
    >>> X.shape, [os.path.basename(name) for name in names]
    ((2, 784), ['two.npy[0]', 'two.npy[1]'])
    """
    rows, names = [], []
    n_images = 0
    for path in paths:
        path = Path(path)
        if n_images >= MAX_IMAGES:
            raise ValueError(
                f"{path}: more than {MAX_IMAGES:,} images in all; skmnist reads "
                "at most that many at once"
            )
        if path.suffix.lower() in ARRAY_SUFFIXES:
            images = _read_array(path, MAX_IMAGES - n_images)
            n_images += len(images)
            rows.append(images)
            if len(images) == 1:
                names.append(str(path))
            else:
                names += [f"{path}[{i}]" for i in range(len(images))]
        else:
            rows.append(mnist_like(read_picture(path)).reshape(1, -1))
            n_images += 1
            names.append(str(path))
    if not rows:
        return np.zeros((0, SIDE * SIDE), np.uint8), []
    return np.concatenate(rows), names


def _read_array(path, room):
    """The images of a .npy / .npz file, checked, as rows of 784 uint8.

    ``room`` is how many more images :func:`read_images` may take.
    """
    try:
        with open_regular_file(path, what=None) as handle:
            if path.suffix.lower() == ".npy":
                array = _read_npy(handle, path, room)
            else:
                _safe_zip.check_directory(handle, str(path), ValueError)
                with zipfile.ZipFile(handle) as archive:
                    members = [n for n in archive.namelist() if n.endswith(".npy")]
                    if len(members) != 1:
                        keys = ", ".join(n[:-4] for n in members) or "none"
                        raise ValueError(
                            f"{path}: expected one array of images, found "
                            f"{len(members)} ({keys}); save one with np.save or "
                            "np.savez(file, images), or give an MNIST-format file "
                            "to --source"
                        )
                    with archive.open(members[0]) as member:
                        array = _read_npy(member, path, room)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except _safe_zip.ZIP_ERRORS as error:
        if isinstance(error, ValueError) and str(error).startswith(str(path)):
            raise
        raise ValueError(f"{path}: cannot read the array: {error}") from None
    return _as_rows(array, path)


def _read_npy(handle, path, room):
    """Read one .npy stream after checking its header against the limits.

    numpy reads exactly the values the header declares (no more, whatever a
    compressed member inflates to), so checking the header bounds the memory.
    """
    try:
        shape, dtype = _safe_zip.read_npy_header(handle)
        if dtype.hasobject or dtype.kind not in "biuf" or dtype.itemsize > 8:
            raise ValueError(f"expected numbers, got dtype {dtype}")
        n_values = int(np.prod(shape, dtype=object))
        if n_values > MAX_VALUES:
            raise ValueError(
                f"shape {shape} holds {n_values:,} values, more than the "
                f"{MAX_VALUES:,} skmnist reads ({MAX_IMAGES:,} images of 784 "
                "pixels)"
            )
        n_images = n_values // (SIDE * SIDE)
        if n_images > room:
            raise ValueError(
                f"shape {shape} holds {n_images:,} images; with the files before "
                f"it that is over the {MAX_IMAGES:,} images skmnist reads at once"
            )
        handle.seek(0)
        return np.lib.format.read_array(handle, allow_pickle=False)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def _as_rows(array, path):
    if array.shape in ((SIDE, SIDE), (SIDE * SIDE,)):
        array = array.reshape(1, SIDE * SIDE)
    elif (
        array.ndim == 3
        and array.shape[1:] == (SIDE, SIDE)
        or (array.ndim == 2 and array.shape[1] == SIDE * SIDE)
    ):
        array = array.reshape(len(array), SIDE * SIDE)
    else:
        raise ValueError(
            f"{path}: array of shape {array.shape}; expected 28 x 28 "
            "images or 784-pixel rows: (28, 28), (784,), "
            "(n, 28, 28) or (n, 784)"
        )
    if len(array) == 0:
        raise ValueError(f"{path}: holds no images (shape {array.shape})")
    floats = array.dtype.kind == "f"
    # Checked and converted in blocks of rows, in the array's own dtype: a
    # float64 copy of the whole would cost eight times the uint8 result.
    blocks = range(0, len(array), _BLOCK_ROWS)
    if floats and not all(
        np.isfinite(array[i : i + _BLOCK_ROWS]).all() for i in blocks
    ):
        raise ValueError(f"{path}: holds NaN or infinite values")
    low, high = float(array.min()), float(array.max())
    scale = 1.0
    if floats and low >= 0 and high <= 1:
        scale = 255.0  # pixels scaled to 0-1, e.g. by PixelScaler
    elif low < 0 or high > 255:
        raise ValueError(
            f"{path}: values {low:g} to {high:g}; expected 0-255 "
            "(0 = background), as in MNIST"
        )
    rows = np.empty(array.shape, np.uint8)
    for i in blocks:
        block = array[i : i + _BLOCK_ROWS].astype(np.float64)
        rows[i : i + _BLOCK_ROWS] = np.rint(block * scale if floats else block)
    return rows
