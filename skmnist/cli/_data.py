"""Loading the images a command works on, with one-line errors."""

from ..exceptions import UsageError

# -- data ---------------------------------------------------------------------


def load(args, subset):
    from ..datasets import load_mnist

    try:
        return load_mnist(subset=subset, source=args.source, data_home=args.data_home,
                          return_X_y=True)
    except (ValueError, OSError) as error:
        raise UsageError(f"skmnist {args.command}: error: cannot read data from "
                         f"--source {args.source}: {error}") from None


def subset(X, y, n, seed, what):
    if n is None or n >= len(y):
        return X, y
    from sklearn.model_selection import train_test_split

    try:
        X, _, y, _ = train_test_split(X, y, train_size=n, stratify=y,
                                      random_state=seed)
    except ValueError as error:
        raise UsageError(f"--n-{what} {n} is too small to hold every class: "
                         f"{error}") from None
    return X, y


def train_test(args):
    X, y = subset(*load(args, "train"), args.n_train, args.seed, "train")
    X_test, y_test = subset(*load(args, "test"), args.n_test, args.seed, "test")
    return X, y, X_test, y_test


def source_name(args):
    from ..datasets import load_mnist

    # The Bunch names what "auto" resolved to; the embedded data loads in ms
    # and a cached file is already known to exist, so this costs little.
    bunch = load_mnist(subset="test", source=args.source, data_home=args.data_home)
    return bunch.source
