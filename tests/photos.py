"""Photo-like pictures of MNIST digits, generated for the tests (no binaries kept).

Each picture is an MNIST digit written in dark ink (black, blue, navy, red,
green or pencil grey) on paper (light, tinted, blotchy and grainy), lit unevenly
(a linear or radial fall-off of the light), photographed (blur, sensor noise, a
small rotation, a colour cast) and saved as JPEG with Pillow. The digit's size
and place in the larger picture vary.

A *condition* changes one thing from the ``"even"`` picture (see
:data:`CONDITIONS`); everything else about a digit's picture (ink, paper,
canvas, the random draws) depends only on ``(seed, index)``, so the same digit
under two conditions differs by the condition alone. Pictures are made from
MNIST's held-out test images, which no model is trained on.

``python tests/photos.py MODEL.skmnist`` prints the model's accuracy per
condition next to its accuracy on the same digits as clean MNIST images.
"""

import io

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage

# Reflectance (R, G, B) of each ink, 0 = no light reflected, 1 = all.
INKS = {
    "black": (0.08, 0.08, 0.10),
    "blue": (0.15, 0.22, 0.60),
    "navy": (0.10, 0.12, 0.35),
    "red": (0.62, 0.12, 0.12),
    "green": (0.10, 0.36, 0.20),
    "pencil": (0.42, 0.42, 0.44),
}

# The even picture: lit evenly, a mid-sized digit near the middle, a little
# blur, noise, tilt and JPEG loss, as a careful phone photo would have.
EVEN = {
    "lighting": None,  # None, "linear" or "radial"
    "strength": 0.0,  # light lost at the darkest point of the page, 0-1
    "size": 0.55,  # the digit's longer side, as a fraction of the shorter page side
    "offset": False,  # True: anywhere on the page, up to its edges
    "blur": 0.012,  # Gaussian blur sigma, as a fraction of the digit's size
    "noise": 3.0,  # sensor noise, standard deviation in grey levels
    "rotation": 3.0,  # largest tilt, degrees
    "quality": 85,  # JPEG quality
}

# Each condition: what it changes from EVEN.
CONDITIONS = {
    "even": {},
    "linear 0.25": {"lighting": "linear", "strength": 0.25},
    "linear 0.5": {"lighting": "linear", "strength": 0.5},
    "linear 0.75": {"lighting": "linear", "strength": 0.75},
    "radial 0.25": {"lighting": "radial", "strength": 0.25},
    "radial 0.5": {"lighting": "radial", "strength": 0.5},
    "radial 0.75": {"lighting": "radial", "strength": 0.75},
    "blur": {"blur": 0.04},
    "noise": {"noise": 15.0},
    "rotation 15": {"rotation": 15.0},
    "jpeg 25": {"quality": 25},
    "small": {"size": 0.2},
    "large": {"size": 0.9},
    "offset": {"size": 0.35, "offset": True},
    "everything": {
        "lighting": "either",
        "strength": 0.75,
        "size": (0.25, 0.8),
        "offset": True,
        "blur": 0.03,
        "noise": 10.0,
        "rotation": 12.0,
        "quality": 40,
    },
}
STRONGEST = ("linear 0.75", "radial 0.75")


def photo(image, condition="even", *, seed=0, index=0):
    """A JPEG photo of one MNIST digit under ``condition``.

    Parameters
    ----------
    image : ndarray of shape (28, 28)
        An MNIST image, 0-255, light digit on black.
    condition : str
        A key of :data:`CONDITIONS`.
    seed, index : int
        Draws depend on ``(seed, index)`` only: give each digit its own index.

    Returns
    -------
    bytes
        The JPEG file.
    """
    settings = {**EVEN, **CONDITIONS[condition]}
    # One stream for what every condition shares, one for the condition's own
    # draws, so that changing a condition leaves the digit's paper and ink alone.
    shared = np.random.default_rng([seed, index])
    own = np.random.default_rng([seed, index, 1 + list(CONDITIONS).index(condition)])
    height, width = map(int, shared.integers(180, 261, size=2))
    paper = _paper(shared, height, width)
    ink_colour = np.array(list(INKS.values())[shared.integers(len(INKS))], np.float32)
    tilt = shared.uniform(-1, 1)
    exposure = shared.uniform(0.8, 1.0)
    cast = (1 + shared.uniform(-0.06, 0.06, size=3)).astype(np.float32)
    position = shared.uniform(0.4, 0.6, size=2)

    size = settings["size"]
    if isinstance(size, tuple):
        size = own.uniform(*size)
    if settings["offset"]:
        position = own.uniform(0, 1, size=2)
    digit_px = float(size * min(height, width))
    ink = _ink(image, digit_px, tilt * settings["rotation"])
    ink = _place(ink, height, width, position)

    ink = ink[..., None].astype(np.float32)
    reflectance = paper + (ink_colour - paper) * ink
    light = _lighting(own, settings, height, width) * exposure * 255
    picture = reflectance * light[..., None].astype(np.float32) * cast
    picture = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8))
    picture = picture.filter(ImageFilter.GaussianBlur(settings["blur"] * digit_px))
    noise = own.standard_normal((height, width, 3), dtype=np.float32)
    picture = np.asarray(picture) + settings["noise"] * noise
    picture = np.clip(picture + 0.5, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="JPEG", quality=settings["quality"])
    return buffer.getvalue()


def _paper(rng, height, width):
    """Light paper, (height, width, 3): a tint, soft blotches and grain."""
    tint = rng.uniform(0.84, 0.95) * np.array([1.0, 0.98, rng.uniform(0.9, 1.0)])
    # Blotches about 25 pixels across: smooth noise drawn coarse, then enlarged.
    coarse = rng.normal(size=(height // 8 + 2, width // 8 + 2))
    blotches = ndimage.zoom(ndimage.gaussian_filter(coarse, 1.5), 8, order=1)
    blotches = blotches[:height, :width] * 0.025 / max(blotches.std(), 1e-12)
    grain = rng.normal(0, 0.012, size=(height, width))
    paper = tint * (1 + blotches + grain)[..., None]
    return np.clip(paper, 0, 1).astype(np.float32)


def _ink(image, digit_px, degrees):
    """Ink cover 0-1 of the digit, scaled so its longer side is ``digit_px``."""
    cover = image.astype(np.float64) / 255
    rows = np.flatnonzero(cover.max(axis=1) > 0.1)
    cols = np.flatnonzero(cover.max(axis=0) > 0.1)
    longest = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    cover = ndimage.zoom(cover, digit_px / longest, order=1)
    # Pen strokes have sharp edges; upscaling MNIST's soft ones leaves a blur.
    cover = np.clip((cover - 0.25) / 0.5, 0, 1)
    cover = cover * cover * (3 - 2 * cover)
    if degrees:
        cover = ndimage.rotate(cover, degrees, order=1, reshape=True)
    rows = np.flatnonzero(cover.max(axis=1) > 0.02)
    cols = np.flatnonzero(cover.max(axis=0) > 0.02)
    return cover[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _place(ink, height, width, position):
    """``ink`` on a (height, width) page, its box at ``position`` (0-1, 0-1)."""
    ink = ink[: height - 4, : width - 4]  # a digit larger than the page is cut
    page = np.zeros((height, width))
    top = 2 + int(position[0] * (height - 4 - ink.shape[0]))
    left = 2 + int(position[1] * (width - 4 - ink.shape[1]))
    page[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    return page


def _lighting(rng, settings, height, width):
    """Light reaching each point, 1 at the brightest, 1 - strength at the darkest."""
    kind = settings["lighting"]
    if kind is None:
        return np.ones((height, width))
    if kind == "either":
        kind = ("linear", "radial")[rng.integers(2)]
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    if kind == "linear":
        angle = rng.uniform(0, 2 * np.pi)
        fall = np.cos(angle) * x + np.sin(angle) * y
    else:  # a lamp somewhere over the page: light falls off with the distance
        centre = rng.uniform(0, 1, size=2) * (y.max(), x.max())
        fall = (y - centre[0]) ** 2 + (x - centre[1]) ** 2
    fall = (fall - fall.min()) / (fall.max() - fall.min())
    return 1 - settings["strength"] * fall


def held_out_digits(n=None):
    """MNIST's held-out test images (n, 28, 28) and labels, embedded data."""
    from skmnist import load_mnist

    X, y = load_mnist(subset="test", source="embedded", return_X_y=True)
    return X[:n].reshape(-1, 28, 28), y[:n]


def read_photos(images, condition, *, seed=0):
    """The photos of ``images`` under ``condition``, read as ``predict`` reads them."""
    from skmnist.datasets._photo import mnist_like
    from skmnist.datasets._pictures import decode_picture

    rows = [
        mnist_like(
            decode_picture(
                io.BytesIO(photo(image, condition, seed=seed, index=i)), "photo"
            )
        )
        for i, image in enumerate(images)
    ]
    return np.array(rows).reshape(len(rows), -1)


def main(argv=None):
    """Print accuracy per condition for a saved model (``tests/photos.py -h``)."""
    import argparse
    import time

    from skmnist import load

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("model")
    parser.add_argument("--n", type=int, default=None, help="digits (default: all)")
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("--save", default=None, help="write probabilities to .npz")
    args = parser.parse_args(argv)
    model = load(args.model)
    images, y = held_out_digits(args.n)
    clean = float(np.mean(model.predict(images.reshape(len(y), -1)) == y))
    print(f"{type(model).__name__} from {args.model}; {len(y)} test digits")
    print(f"{'condition':<14} {'accuracy':>8} {'vs clean':>9} {'s':>6}")
    print(f"{'clean MNIST':<14} {clean:8.4f}")
    saved = {"y": y}
    for condition in args.conditions.split(","):
        started = time.perf_counter()
        X = read_photos(images, condition)
        proba = model.predict_proba(X)
        accuracy = float(np.mean(model.classes_[proba.argmax(axis=1)] == y))
        seconds = time.perf_counter() - started
        print(
            f"{condition:<14} {accuracy:8.4f} {100 * (accuracy - clean):+8.1f}p"
            f" {seconds:6.1f}"
        )
        saved[condition] = proba
    if args.save:
        np.savez(args.save, **saved)
    print_thresholds(model, saved, y)


def print_thresholds(model, probabilities, y, thresholds=(0.5, 0.6, 0.7, 0.8, 0.9)):
    """How a top-probability threshold splits right and wrong answers.

    For each threshold, over all the photos: the share of answers under it
    (flagged), how often those were wrong, how often the answers above it
    were wrong, and the share of all wrong answers that it flags.
    """
    proba = np.concatenate([p for key, p in probabilities.items() if key != "y"])
    labels = np.tile(y, len(probabilities) - 1)
    top = proba.max(axis=1)
    wrong = model.classes_[proba.argmax(axis=1)] != labels
    print(f"\n{len(top)} photos, {wrong.mean():.1%} wrong")
    print(
        f"{'threshold':>9} {'flagged':>8} {'wrong if':>9} {'wrong if':>9} {'errors':>7}"
    )
    print(f"{'':>9} {'':>8} {'under':>9} {'above':>9} {'flagged':>7}")
    for threshold in thresholds:
        low = top < threshold
        print(
            f"{threshold:9.2f} {low.mean():8.1%} {_share(wrong[low]):9.1%} "
            f"{_share(wrong[~low]):9.1%} {_share(low[wrong]):7.1%}"
        )


def _share(flags):
    """The share of True in ``flags``; nan (quietly) when there are none."""
    return flags.mean() if flags.size else float("nan")


if __name__ == "__main__":
    main()
