"""Reading a user's own digit images as MNIST rows (784 pixels, 0-255).

MNIST's digits are light strokes on a black background, each scaled to fit a
20 x 20 box and placed in a 28 x 28 image so that its centre of mass falls on
pixel (14, 14). A model trained on MNIST expects the same, so
:func:`read_images` prepares pictures that way (see :func:`mnist_like` for the
exact steps) and takes arrays as they are.
"""

import zipfile
from pathlib import Path

import numpy as np

from .._utils import _safe_zip
from .._utils._files import open_regular_file
from ._pictures import read_picture

SIDE = 28  # MNIST images are SIDE x SIDE pixels
BOX = 20  # the digit is scaled to fit BOX x BOX, as in MNIST
CENTRE = 14.0  # row and column of the centre of mass of MNIST digits
INK = 0.1  # ink fainter than INK x the strokes' median is paper
STROKE = 0.5  # strokes: pixels darker than STROKE x the darkest ink
SPECK = 0.1  # groups of strokes with under SPECK x the largest one's ink are specks
WINDOW = 0.25  # the paper's light: window of WINDOW x the picture's shorter side
MAX_SIDE = 1000  # larger pictures are reduced to this shorter side first
NOISE_SIGMA = 2.0  # pixels: the picture is smoothed this much to measure its light
# Most images read at once, from all files together: all of MNIST (70,000).
# Predicting a larger set is a job for --source; this keeps a crafted array of
# 1e8 values (97 KB deflated) from costing gigabytes. As float64 the largest
# accepted array is 439 MB, converted to uint8 in blocks of _BLOCK_ROWS rows.
MAX_IMAGES = 70_000
MAX_VALUES = MAX_IMAGES * SIDE * SIDE  # most values in one .npy / .npz array
_BLOCK_ROWS = 4096
ARRAY_SUFFIXES = (".npy", ".npz")

__all__ = ["mnist_like", "read_images"]


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
          :func:`mnist_like` after its EXIF rotation is applied and
          transparent parts are laid on white. A picture larger than
          1024 pixels a side is first shrunk to that (JPEGs are decoded at
          a reduced scale); one of more than 8192 x 8192 pixels is refused.

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


def mnist_like(pixels):
    """Make a grey-level picture of one digit look like an MNIST image.

    The steps, in order:

    1. Dark ink on light paper or light ink on dark: the side on which the
       picture strays furthest from its local average is the ink's (ink is
       sparse, the background is everywhere). Light ink on dark is inverted.
    2. A picture of 28 x 28 pixels is taken as already framed like MNIST: its
       levels are stretched so that the median of its outermost pixels
       becomes 0 and the strongest ink 255, and it stops here.
    3. The light falling on the paper is estimated at each pixel: the
       brightest level within a window of a quarter of the picture's shorter
       side, darkened back (a grey closing, which removes strokes narrower
       than the window) and smoothed. It is measured on the picture blurred
       a little against its noise and continued past its edges, so that a
       shadow reaching an edge keeps its slope. Each pixel's darkness is then
       ``1 - level / light``: paper is 0 wherever it lies, in light or in
       shadow.
    4. Strokes are the pixels darker than half the darkest ink; groups of
       touching stroke pixels holding under 10 % of the largest group's ink
       are specks and dropped. The strokes and their neighbours are kept,
       levelled so that the strokes' median darkness becomes 255 and the
       paper's noise (or a tenth of that darkness) 0.
    5. The digit is cropped to the box around what is kept, scaled (Lanczos
       filter, keeping its aspect ratio) so that its longer side is 20
       pixels, and placed on a black 28 x 28 image so that its centre of
       mass lies on pixel (14, 14).

    A blank picture (no ink at all) becomes a black image. Pictures whose
    shorter side exceeds 1,000 pixels are first reduced to that.

    Parameters
    ----------
    pixels : array-like of shape (height, width)
        Grey levels of any range (higher is lighter).

    Returns
    -------
    image : ndarray of shape (28, 28), dtype uint8
        0 = background, 255 = strongest ink.

    Examples
    --------
    >>> import numpy as np
    >>> from skmnist.datasets._images import mnist_like
    >>> page = np.full((100, 60), 240.0)  # white paper ...
    >>> page[20:80, 25:35] = 10.0         # ... with a dark vertical bar
    >>> page *= np.linspace(0.4, 1.0, 60)  # ... lit from the right
    >>> image = mnist_like(page)
    >>> image.shape, int(image[14, 14]), int(image[0, 0])
    ((28, 28), 255, 0)
    >>> int((image > 0).any(axis=0).sum()) < 10  # a narrow stroke, as drawn
    True
    """
    grey = np.asarray(pixels, dtype=np.float64)
    if grey.ndim != 2 or grey.size == 0:
        raise ValueError(f"expected a 2-D picture, got shape {grey.shape}")
    if not np.isfinite(grey).all():
        raise ValueError("the picture holds NaN or infinite values")
    low, high = grey.min(), grey.max()
    if high <= low:
        return np.zeros((SIDE, SIDE), np.uint8)
    window = max(3, round(WINDOW * min(grey.shape)))
    if _light_ink(grey, window):
        grey = high + low - grey
    grey = grey - low  # black is 0, which the light is measured from
    if grey.shape == (SIDE, SIDE):
        return _levelled(grey)
    grey = _reduced(grey)
    window = max(3, round(WINDOW * min(grey.shape)))
    darkness = np.clip(1 - grey / np.maximum(_paper_light(grey, window), 1e-12), 0, 1)
    digit = _strokes(darkness)
    if not digit.any():
        return np.zeros((SIDE, SIDE), np.uint8)
    return np.rint(_frame(digit)).astype(np.uint8)


def _light_ink(grey, window):
    """Whether the ink is lighter than the background (which is then dark).

    The differences from the local average have a long tail on the ink's
    side: their third moment is negative for dark ink, positive for light.
    """
    from scipy import ndimage

    residual = grey - ndimage.uniform_filter(grey, window, mode="nearest")
    return float(np.mean(residual * residual * residual)) > 0


def _levelled(grey):
    """A 28 x 28 picture, dark ink on light: the border median 0, ink 255."""
    ink = -grey
    border = np.median(np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]]))
    if ink.max() <= border:
        return np.zeros((SIDE, SIDE), np.uint8)
    ink = np.clip((ink - border) / (ink.max() - border), 0, 1) * 255
    return np.rint(ink).astype(np.uint8)


def _reduced(grey):
    """``grey`` with its shorter side at most MAX_SIDE pixels (area-averaged)."""
    from PIL import Image

    scale = MAX_SIDE / min(grey.shape)
    if scale >= 1:
        return grey
    size = (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale)))
    picture = Image.fromarray(grey.astype(np.float32), mode="F")
    return np.asarray(picture.resize(size, Image.Resampling.BOX), dtype=np.float64)


def _paper_light(grey, window):
    """The light on the paper at each pixel of ``grey`` (dark ink on light paper).

    A grey closing over ``window`` (wider than any stroke) keeps the paper's
    level and drops the ink; a box filter smooths its steps. Both run on the
    picture continued past its edges: mirrored (which keeps light paper and
    ink as they are) or continued in slope (which keeps a shadow darkening
    towards an edge darkening), whichever is darker, since a mirror alone
    would make the darkest edge a valley that the closing fills with light.
    """
    from scipy import ndimage

    pad = window
    # Noise would lift the closing's maxima above the paper, most in shadow.
    grey = ndimage.gaussian_filter(grey, NOISE_SIGMA)
    continued = np.minimum(
        np.pad(grey, pad, mode="reflect"),
        np.pad(grey, pad, mode="reflect", reflect_type="odd"),
    )
    light = ndimage.grey_closing(continued, size=(window, window), mode="nearest")
    light = ndimage.uniform_filter(light, max(1, window // 2), mode="nearest")
    return light[pad:-pad, pad:-pad]


def _strokes(darkness):
    """The digit's ink (0-255) in ``darkness`` (0 = paper, 1 = black), specks out."""
    from scipy import ndimage

    peak = ndimage.gaussian_filter(darkness, 1.0).max()  # not one noisy pixel
    strokes = darkness > STROKE * peak
    if peak <= 0 or not strokes.any():
        return np.zeros_like(darkness)
    groups, n_groups = ndimage.label(strokes, structure=np.ones((3, 3)))
    if n_groups > 1:
        ink = ndimage.sum_labels(darkness, groups, index=np.arange(1, n_groups + 1))
        strokes = np.isin(groups, np.flatnonzero(ink >= SPECK * ink.max()) + 1)
    full = np.median(darkness[strokes])
    centre = np.median(darkness)
    noise = centre + 4 * 1.4826 * np.median(np.abs(darkness - centre))
    floor = min(max(noise, INK * full), STROKE * full)
    kept = ndimage.binary_dilation(strokes, structure=np.ones((3, 3)))
    return np.clip((darkness - floor) / (full - floor), 0, 1) * 255 * kept


def _frame(grey):
    """Crop to the ink, scale to fit BOX x BOX, centre by mass on SIDE x SIDE."""
    from PIL import Image

    rows = np.flatnonzero(grey.any(axis=1))
    cols = np.flatnonzero(grey.any(axis=0))
    digit = grey[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = digit.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    digit = np.asarray(
        Image.fromarray(digit.astype(np.float32), mode="F").resize(
            size, Image.Resampling.LANCZOS
        )
    )
    digit = np.clip(digit, 0, 255)  # Lanczos rings a little past the range
    mass = digit.sum()
    height, width = digit.shape
    centre_row = (digit.sum(axis=1) @ np.arange(height)) / mass
    centre_col = (digit.sum(axis=0) @ np.arange(width)) / mass
    top = int(np.clip(round(CENTRE - centre_row), 0, SIDE - height))
    left = int(np.clip(round(CENTRE - centre_col), 0, SIDE - width))
    canvas = np.zeros((SIDE, SIDE))
    canvas[top : top + height, left : left + width] = digit
    return canvas


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
    from numpy.lib import format as npy

    try:
        version = npy.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = npy.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, _, dtype = npy.read_array_header_2_0(handle)
        else:
            raise ValueError(f".npy format version {version} is not supported")
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
        return npy.read_array(handle, allow_pickle=False)
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
