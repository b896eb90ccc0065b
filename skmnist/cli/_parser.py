"""The ``skmnist`` argument parser: a leaf of the command-line package.

It imports nothing else of :mod:`skmnist.cli`, so every command module can
import it (the grids of ``skmnist tune`` live here for that reason).
"""

import argparse
import json

from ..comparison import DEFAULT_EPOCHS, MODEL_NAMES
from ..exceptions import UsageError

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


def one_line(error):
    """``error``'s message on one line (the command line's error format)."""
    return " ".join(str(error).split())
