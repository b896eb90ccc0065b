"""A photo or scan of one digit made to look like an MNIST image.

MNIST's digits are light strokes on a black background, each scaled to fit a
20 x 20 box and placed in a 28 x 28 image so that its centre of mass falls on
pixel (14, 14). A model trained on MNIST expects the same, so
:func:`mnist_like` prepares a picture's grey levels that way, whatever the
lighting of the paper and the digit's size and place (see its steps).
"""

import numpy as np

SIDE = 28  # MNIST images are SIDE x SIDE pixels
BOX = 20  # the digit is scaled to fit BOX x BOX, as in MNIST
CENTRE = 14.0  # row and column of the centre of mass of MNIST digits
INK = 0.1  # ink fainter than INK x the strokes' median is paper
STROKE = 0.5  # strokes: pixels darker than STROKE x the darkest ink
SPECK = 0.1  # groups of strokes with under SPECK x the largest one's ink are specks
WINDOW = 0.25  # the paper's light: window of WINDOW x the picture's shorter side
MAX_SIDE = 1000  # larger pictures are reduced to this shorter side first
NOISE_SIGMA = 2.0  # pixels: the picture is smoothed this much to measure its light

__all__ = ["mnist_like"]


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
    >>> from skmnist.datasets._photo import mnist_like
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
