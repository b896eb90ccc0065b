"""The ``skmnist`` command line: compare, tune, download, predict.

``main(argv)`` returns the exit status instead of exiting, so tests call it in
process. Bad arguments and unreadable data end with status 2 and one line on
stderr; Ctrl-C ends with 130 and leaves no half-written output (reports are
built in a temporary folder and renamed into place at the end). TensorFlow is
imported only once a command has to fit or load a Keras model.
"""

import argparse
import json
import shlex
import sys
import time

from ._report import (
    ReportFolder,
    rich_table,
    write_compare_report,
)
from .comparison import DEFAULT_EPOCHS, MODEL_NAMES
from .exceptions import UsageError

# Default search grids of `skmnist tune` when no --param is given.
TUNE_GRIDS = {
    "logistic": {"alpha": [1e-4, 1e-2, 1.0]},
    "mlp": {"hidden_layer_sizes": [64, 128], "alpha": [1e-4, 1e-2]},
}
DEFAULT_MODELS = ",".join(MODEL_NAMES)




class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message} (see --help)")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Appends ``(default: X)``; options defaulting to None say in their help."""

    def _get_help_string(self, action):
        default = action.default
        if (default is None or default is False or default is argparse.SUPPRESS
                or not action.option_strings
                or "default" in action.help):
            return action.help
        return f"{action.help} (default: {default})"


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _add_data_options(parser, *, subsets=True):
    parser.add_argument(
        "--source", default="auto",
        help="where MNIST comes from: auto (full MNIST if cached, else the "
             "embedded 5,000 images), embedded, keras, openml, or the path of a "
             "Keras-format .npz or a folder of IDX files")
    parser.add_argument("--data-home", default=None, metavar="DIR",
                        help="cache folder of downloaded data (default: "
                             "$SKMNIST_DATA or ~/skmnist_data)")
    if subsets:
        parser.add_argument("--n-train", type=_positive_int, default=None, metavar="N",
                            help="fit on a stratified random subset of N training "
                                 "images, for quick trials (default: all)")
        parser.add_argument("--n-test", type=_positive_int, default=None, metavar="N",
                            help="score on a stratified random subset of N test "
                                 "images (default: all)")


def build_parser():
    """The ``argparse`` parser of ``skmnist`` and its sub-commands.

    Returns
    -------
    parser : argparse.ArgumentParser
        Its ``error`` raises :class:`UsageError` instead of exiting.

    Examples
    --------
    >>> from skmnist.cli import build_parser
    >>> args = build_parser().parse_args(["compare", "--models", "baseline"])
    >>> args.models, args.max_iter, args.out
    ('baseline', 30, 'skmnist-report')
    """
    parser = _Parser(prog="skmnist", formatter_class=_Formatter,
                     description="Keras classifiers as scikit-learn estimators, "
                                 "compared on MNIST.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     parser_class=_Parser)
    commands.required = True

    compare = commands.add_parser(
        "compare", formatter_class=_Formatter,
        help="fit the models on the same data and compare them",
        description="Fit each model on the training images, score it on the test "
                    "images and write DIR/results.json, DIR/report.md and figures.")
    _add_data_options(compare)
    compare.add_argument("--models", default=DEFAULT_MODELS,
                         help="comma-separated models among baseline, logistic "
                              "(KerasLogistic), mlp (KerasMLP), sklearn-mlp")
    compare.add_argument("--max-iter", type=_positive_int, default=DEFAULT_EPOCHS,
                         metavar="N",
                         help="epochs of each neural network (logistic, mlp, "
                              "sklearn-mlp); the baseline always runs lbfgs to "
                              "convergence")
    compare.add_argument("--cv", type=_positive_int, default=None, metavar="K",
                         help="cross-validate on the training images with K folds "
                              "instead of scoring the test images (default: no)")
    compare.add_argument("--seed", type=int, default=0,
                         help="random seed of the models and subsets")
    compare.add_argument("--n-jobs", type=int, default=None, metavar="N",
                         help="folds fitted in parallel with --cv (default: 1)")
    compare.add_argument("--out", default="skmnist-report", metavar="DIR",
                         help="report folder, replaced as a whole at the end")
    compare.add_argument("--save", action="store_true",
                         help="also save each fitted model as DIR/models/NAME.skmnist "
                              "(default: off)")
    compare.add_argument("--no-figures", action="store_true",
                         help="skip the PNG figures (default: off, i.e. draw them)")

    tune = commands.add_parser(
        "tune", formatter_class=_Formatter,
        help="grid-search a Keras model's parameters",
        description="Cross-validated grid search (GridSearchCV) of KerasLogistic or "
                    "KerasMLP. Default grids: " + json.dumps(TUNE_GRIDS) + ".")
    tune.add_argument("--model", required=True, choices=sorted(TUNE_GRIDS),
                      help="logistic (KerasLogistic) or mlp (KerasMLP); required")
    tune.add_argument("--param", action="append", default=None, metavar="NAME=V1,V2",
                      help="values to try for one parameter (Python literals; "
                           "repeat the option for more parameters; default: "
                           "the grid above)")
    tune.add_argument("--cv", type=_positive_int, default=3, metavar="K",
                      help="cross-validation folds")
    tune.add_argument("--max-iter", type=_positive_int, default=DEFAULT_EPOCHS,
                      metavar="N", help="epochs of every fit")
    tune.add_argument("--seed", type=int, default=0, help="random seed")
    tune.add_argument("--n-jobs", type=int, default=None, metavar="N",
                      help="fits in parallel (default: 1; epochs are shown "
                           "only with 1)")
    tune.add_argument("--scheduler", default=None, metavar="WHERE",
                      help="run the search on Dask: 'local' starts a LocalCluster, "
                           "tcp://HOST:8786 joins a running one (needs "
                           "skmnist[dask]; default: this process and --n-jobs)")
    tune.add_argument("--top", type=_positive_int, default=5, metavar="N",
                      help="rows of cv_results_ shown")
    tune.add_argument("--out", default="skmnist-tune", metavar="DIR",
                      help="folder for best_model.skmnist and tune.json")
    _add_data_options(tune)

    download = commands.add_parser(
        "download", formatter_class=_Formatter,
        help="fetch and verify full MNIST (70,000 images)",
        description="Download full MNIST into the cache, verify its checksum and "
                    "read it back.")
    download.add_argument("--source", default="keras", choices=["keras", "openml"],
                          help="which copy of MNIST to fetch")
    download.add_argument("--data-home", default=None, metavar="DIR",
                          help="cache folder (default: $SKMNIST_DATA or "
                               "~/skmnist_data)")
    download.add_argument("--force", action="store_true",
                          help="download again even if cached (default: off)")

    predict = commands.add_parser(
        "predict", formatter_class=_Formatter,
        help="score a saved model, or write its predictions",
        description="Load a model saved by `skmnist compare --save`, `skmnist tune` "
                    "or skmnist.save, print its accuracy and optionally write a CSV "
                    "of index,true,predicted.")
    predict.add_argument("--model", required=True, metavar="FILE",
                         help="model file written by skmnist.save; required")
    predict.add_argument("--subset", default="test", choices=["train", "test", "all"],
                         help="which images to predict")
    predict.add_argument("--out", default=None, metavar="FILE.csv",
                         help="write the predictions there (default: do not)")
    _add_data_options(predict, subsets=False)
    return parser


def main(argv=None):
    """Run ``skmnist`` with ``argv`` and return the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after ``skmnist``; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 when a download fails, 2 for a bad argument or
        unreadable data (one line on stderr), 130 when interrupted.

    Examples
    --------
    >>> from skmnist.cli import main
    >>> main(["compare", "--models", "cnn"])  # the message goes to stderr
    2
    """
    from rich.console import Console

    out = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 120)
    err = Console(file=sys.stderr, width=None if sys.stderr.isatty() else 120)
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exit_:  # --help exits 0 through here
            return exit_.code
        args.argv = list(sys.argv[1:] if argv is None else argv)
        handler = {"compare": _compare, "tune": _tune, "download": _download,
                   "predict": _predict}[args.command]
        return handler(args, out, err)
    except UsageError as error:
        err.print(_one_line(error), highlight=False, markup=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err.print("skmnist: interrupted; nothing was written.", highlight=False)
        return 130


def _one_line(error):
    return " ".join(str(error).split())


# -- data ---------------------------------------------------------------------


def _load(args, subset):
    from .datasets import load_mnist

    try:
        return load_mnist(subset=subset, source=args.source, data_home=args.data_home,
                          return_X_y=True)
    except (ValueError, OSError) as error:
        raise UsageError(f"skmnist {args.command}: error: cannot read data from "
                         f"--source {args.source}: {error}") from None


def _subset(X, y, n, seed, what):
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


def _train_test(args):
    X, y = _subset(*_load(args, "train"), args.n_train, args.seed, "train")
    X_test, y_test = _subset(*_load(args, "test"), args.n_test, args.seed, "test")
    return X, y, X_test, y_test


def _source_name(args):
    from .datasets import load_mnist

    # The Bunch names what "auto" resolved to; the embedded data loads in ms
    # and a cached file is already known to exist, so this costs little.
    bunch = load_mnist(subset="test", source=args.source, data_home=args.data_home)
    return bunch.source


# -- compare --------------------------------------------------------------------


def _compare(args, out, err):
    from .comparison import _run, default_estimators

    started = time.perf_counter()
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = [name for name in names if name not in MODEL_NAMES]
    if unknown or not names:
        raise UsageError(f"skmnist compare: error: unknown model(s) "
                         f"{', '.join(unknown) or repr(args.models)}; choose from "
                         f"{', '.join(MODEL_NAMES)}")
    folder = ReportFolder(args.out)  # checks --out before the long work
    X, y, X_test, y_test = _train_test(args)
    source = _source_name(args)
    from ._progress import Reporter

    with Reporter(err) as reporter:
        callbacks = None
        if {"logistic", "mlp"} & set(names):
            from ._progress import EpochProgress

            callbacks = [EpochProgress(reporter)]
        estimators = default_estimators(names, max_iter=args.max_iter,
                                        random_state=args.seed, callbacks=callbacks)

        def on_start(name, index, total):
            reporter.start(f"[{index + 1}/{total}] {name}")

        def on_end(name, row, notes):
            reporter.finish("(did not converge)" if notes else "")

        cv_kwargs = dict(cv=None, n_jobs=None)
        if args.cv is not None:
            cv_kwargs = dict(cv=args.cv, n_jobs=args.n_jobs)
        result = _run(estimators, X, y,
                      None if args.cv else X_test, None if args.cv else y_test,
                      on_start=on_start, on_end=on_end, **cv_kwargs)
    data = {"source": source, "n_train": len(y), "n_test": len(y_test),
            "cv": args.cv}
    out.print(rich_table(result, title=_title(data)))
    best = result.best_
    out.print(f"Best: {best['model']} (accuracy {best['accuracy']:.4f})",
              highlight=False)
    with folder as tmp:
        paths = write_compare_report(
            tmp, result, X_test, y_test, data=data, command=_command_line(args),
            figures=not args.no_figures, save_models=args.save,
            started=started)
    out.print(f"Report: {folder.path / 'report.md'} ({len(paths)} files) in "
              f"{time.perf_counter() - started:.1f} s", highlight=False)
    return 0


def _title(data):
    if data["cv"]:
        return (f"MNIST ({data['source']}), {data['cv']}-fold cross-validation on "
                f"{data['n_train']:,} training images")
    return (f"MNIST ({data['source']}): {data['n_train']:,} train / "
            f"{data['n_test']:,} test images")


def _command_line(args):
    return "skmnist " + shlex.join(args.argv)


# -- tune ----------------------------------------------------------------------


def _tune(args, out, err):
    from ._tune import tune

    return tune(args, out, err)


# -- download and predict ---------------------------------------------------------


def _download(args, out, err):
    from . import datasets

    err.print(f"Downloading MNIST from {args.source} ...", highlight=False)
    try:
        path = datasets.download_mnist(source=args.source, data_home=args.data_home,
                                       force=args.force)
        X, y = datasets.load_mnist(subset="all", source=str(path), return_X_y=True)
    except (OSError, ValueError) as error:
        err.print(f"skmnist download: error: {_one_line(error)}", soft_wrap=True,
                  highlight=False,
                  markup=False)
        return 1
    out.print(f"Verified {len(y):,} images ({X.shape[1]} pixels each, labels "
              f"{int(y.min())}-{int(y.max())}) in {path}", highlight=False)
    return 0


def _predict(args, out, err):
    from pathlib import Path

    import numpy as np

    model_path = Path(args.model)
    if not model_path.is_file():
        raise UsageError(f"skmnist predict: error: --model {args.model}: no such file")
    from .persistence import load

    X, y = _load(args, args.subset)
    try:
        model = load(model_path)
    except (ValueError, OSError) as error:
        raise UsageError(f"skmnist predict: error: cannot load --model "
                         f"{args.model}: {_one_line(error)}") from None
    predicted = model.predict(X)
    accuracy = float(np.mean(predicted == y))
    out.print(f"Accuracy {accuracy:.4f} on {len(y):,} {args.subset} images "
              f"({type(model).__name__} from {model_path})", highlight=False)
    if args.out:
        from ._report import write_predictions

        write_predictions(Path(args.out), y, predicted)
        out.print(f"Predictions: {args.out}", highlight=False)
    return 0
