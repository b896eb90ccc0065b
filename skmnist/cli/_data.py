"""Loading the images a command works on, with one-line errors."""

from ..exceptions import UsageError


def load(args, subset):
    from ..datasets import load_mnist

    try:
        X, y = load_mnist(
            subset=subset, source=args.source, data_home=args.data_home, return_X_y=True
        )
    except (ValueError, OSError) as error:
        raise UsageError(
            f"cannot read data from --source {args.source}: {error}"
        ) from None
    if len(y) == 0:
        raise UsageError(f"--source {args.source} holds no {subset} images")
    return X, y


def subset(X, y, n, seed, what):
    if n is None or n >= len(y):
        return X, y
    from sklearn.model_selection import train_test_split

    try:
        X, _, y, _ = train_test_split(X, y, train_size=n, stratify=y, random_state=seed)
    except ValueError as error:
        raise UsageError(
            f"--n-{what} {n} is too small to hold every class: {error}"
        ) from None
    return X, y


def train_test(args):
    X, y = subset(*load(args, "train"), args.n_train, args.seed, "train")
    X_test, y_test = subset(*load(args, "test"), args.n_test, args.seed, "test")
    return X, y, X_test, y_test


def check_folds(y, cv):
    """Refuse ``--cv K`` when some digit has fewer than K training images.

    StratifiedKFold puts images of every digit in every fold; with fewer it
    warns or fails after the models are built, so this is checked first.
    """
    if cv is None:
        return
    import numpy as np

    digits, counts = np.unique(y, return_counts=True)
    rarest = int(counts.min())
    if len(digits) < 2:
        raise UsageError(
            f"--cv {cv}: the training images hold only the digit {digits[0]}; "
            "cross-validation needs two or more"
        )
    if cv > rarest:
        advice = (
            f"use --cv {rarest} or fewer" if rarest >= 2 else "use more training images"
        )
        raise UsageError(
            f"--cv {cv}: more folds than the {rarest} training "
            f"{'image' if rarest == 1 else 'images'} of the rarest digit "
            f"({digits[counts.argmin()]}); {advice}"
        )


def source_name(args):
    from ..datasets import load_mnist

    # The Bunch names what "auto" resolved to; the embedded data loads in ms
    # and a cached file is already known to exist, so this costs little.
    bunch = load_mnist(subset="test", source=args.source, data_home=args.data_home)
    return bunch.source


def data_inputs(args):
    """The data a command reads, by option: an ``--out`` folder must not hold it.

    Named sources (``auto``, ``embedded``, ...) read the cache folder; a path
    source is a file or folder of its own.
    """
    from ..datasets import get_data_home

    named = args.source in ("auto", "embedded", "keras", "openml")
    return {
        "--source": None if named else args.source,
        "--data-home": get_data_home(args.data_home),
    }
