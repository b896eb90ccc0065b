"""Reading a user's picture as grey levels, bounded before it is decoded.

A picture file is small; what it decodes to need not be (a 362 KB PNG
declares 9400 x 9400 RGBA pixels: 2.3 GB once decoded and turned into
floats). So only a few common formats are tried, the size the header
declares is checked before decoding, JPEGs are decoded at a reduced scale,
and large pictures are shrunk before they become arrays of floats.
:func:`skmnist.datasets._images.read_images` calls :func:`read_picture` for
every file that is not an array.
"""

import warnings

import numpy as np

from .._utils._files import open_regular_file

# Pictures: at most 8192 x 8192 decoded pixels (a 50-megapixel phone photo is
# 8160 x 6120), so about 0.5 GB at the worst (RGBA: 4 bytes a pixel, twice).
# JPEGs are decoded at 1/2, 1/4 or 1/8 scale when that leaves WORK_SIDE pixels
# a side; any picture is shrunk to WORK_SIDE before becoming floats, which is
# ample for a digit that ends up 20 pixels tall.
MAX_PICTURE_PIXELS = 1 << 26
WORK_SIDE = 1024
# The formats tried, in order; Pillow's other plugins (EPS runs Ghostscript)
# are never used for a user's file.
PICTURE_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM", "AVIF")

__all__ = ["decode_picture", "read_picture"]


def read_picture(path):
    """Grey levels of the picture at ``path`` (transparency laid on white).

    A float array of at most :data:`WORK_SIDE` pixels a side, EXIF rotation
    applied, bounded before decoding as the module says; ``ValueError``
    naming ``path`` for anything that is not a picture skmnist reads.
    """
    try:
        with open_regular_file(path, what=None, error=_PictureRefused) as handle:
            return decode_picture(handle, path)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except _PictureRefused as refused:
        raise ValueError(str(refused)) from None


def decode_picture(handle, name):
    """Grey levels of the picture read from the binary file object ``handle``.

    :func:`read_picture` without the path: the same limits, and a
    ``ValueError`` naming ``name`` for anything that is not a picture
    skmnist reads.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # Pillow only warns between 89 and 179 megapixels; refuse them all.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(handle, formats=_picture_formats()) as picture:
                picture.draft("L", (WORK_SIDE, WORK_SIDE))  # JPEG only
                _check_pixels(picture, name)
                picture.load()
                _check_pixels(picture, name)  # some plugins settle the size here
                return _grey_levels(picture)
    except _PictureRefused as refused:
        raise ValueError(str(refused)) from None
    except Exception as error:  # noqa: BLE001
        # Pillow's decoders raise many types (OSError, SyntaxError, struct.error,
        # DecompressionBombError, ...) on a bad file; all mean "not a picture".
        raise ValueError(
            f"{name}: not a picture skmnist reads (formats: "
            f"{', '.join(PICTURE_FORMATS)}; {type(error).__name__}: {error})"
        ) from None


class _PictureRefused(Exception):
    """A readable picture refused by skmnist's own limits; the message says why."""


def _picture_formats():
    from PIL import Image

    Image.init()
    return [name for name in PICTURE_FORMATS if name in Image.OPEN]


def _check_pixels(picture, path):
    width, height = picture.size
    if width * height > MAX_PICTURE_PIXELS:
        raise _PictureRefused(
            f"{path}: a picture of {width} x {height} pixels "
            f"({width * height:,}); skmnist decodes at most "
            f"{MAX_PICTURE_PIXELS:,} pixels (8192 x 8192) of one picture"
        )


def _grey_levels(picture):
    """Float grey levels of a loaded picture, at most WORK_SIDE pixels a side.

    Large pictures are shrunk in the cheapest mode that keeps what matters
    (alpha, or 16-bit depth) before anything else, so a picture of N pixels
    costs at most about 8 N bytes (4 for the decoded pixels, 4 for Pillow's
    premultiplied copy while resizing) whatever its mode.
    """
    from PIL import ExifTags, Image

    orientation = picture.getexif().get(ExifTags.Base.Orientation, 1)
    mode = picture.mode
    if mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        kind = "RGBA"  # transparency is laid on white once small
        image = picture if mode in ("RGBA", "LA") else picture.convert("RGBA")
    elif mode in ("I", "F") or mode.startswith("I;16"):
        kind = "F"  # deep grey: keep every level
        image = picture if mode == "F" else picture.convert("F")
    else:
        kind = "L"
        image = picture if mode == "L" else picture.convert("L")
    if image is not picture:
        picture.close()  # frees the decoded pixels; the converted copy remains
    width, height = image.size
    if max(width, height) > WORK_SIDE:
        scale = WORK_SIDE / max(width, height)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = image.resize(size, Image.Resampling.BOX)  # averages each area
    if kind == "RGBA":
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba).convert("L")
    method = _exif_transpose_methods().get(orientation)
    if method is not None:
        image = image.transpose(method)
    return np.asarray(image, dtype=np.float64)


def _exif_transpose_methods():
    from PIL import Image

    # ImageOps.exif_transpose's table, applied here to the shrunk picture (the
    # whole one would be copied).
    return {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }
