"""The ``skmnist`` argument parser: a leaf of the command-line package.

It imports nothing else of :mod:`skmnist.cli`, so every command module can
import it (the grids of ``skmnist tune`` live here for that reason).
"""

import argparse
import json

from ..comparison._compare import DEFAULT_EPOCHS, DEFAULT_MODEL_NAMES
from ..exceptions import UsageError

# Default search grids of `skmnist tune` when no --param is given.
TUNE_GRIDS = {
    "logistic": {"alpha": [1e-4, 1e-2, 1.0]},
    "mlp": {"hidden_layer_sizes": [64, 128], "alpha": [1e-4, 1e-2]},
}
MAX_SEED = 2**32 - 1
# The file that marks a folder as a report written by skmnist (see ReportFolder).
REPORT_MARKER = ".skmnist-report"


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    # Options defaulting to None or False say what that means in their help.
    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        if "default" in action.help:
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, formatter_class=_Formatter, **kwargs)

    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message} (see --help)")


class _StoreGiven(argparse.Action):
    """Store the value and note that it was given (``DEST_given``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_given", True)


def _integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _integer_where(accepts, expected):
    """An argparse ``type``: an integer that ``accepts``, else "EXPECTED, got N"."""

    def parse(text):
        value = _integer(text)
        if not accepts(value):
            raise argparse.ArgumentTypeError(f"{expected}, got {value}")
        return value

    return parse


_positive_int = _integer_where(lambda n: n >= 1, "expected a positive integer")
_folds = _integer_where(lambda n: n >= 2, "cross-validation needs at least 2 folds")
# joblib's convention: -1 is every CPU, -2 all but one, ...
_n_jobs = _integer_where(
    lambda n: n != 0,
    "expected a number of parallel workers (1, 2, ...) or -1 for every CPU",
)
# The range of numpy's and scikit-learn's integer seeds.
_seed = _integer_where(
    lambda n: 0 <= n <= MAX_SEED, f"expected an integer from 0 to {MAX_SEED}"
)


def _add_data_options(parser, *, subsets=True):
    parser.add_argument(
        "--source",
        default="auto",
        help="where MNIST comes from: auto (full MNIST if cached, else the embedded "
        "5,000 images), embedded, keras, openml, or the path of a Keras-format .npz "
        "or a folder of IDX files",
    )
    parser.add_argument(
        "--data-home",
        default=None,
        metavar="DIR",
        help="cache folder of downloaded data (default: $SKMNIST_DATA or "
        "~/skmnist_data)",
    )
    if subsets:
        parser.add_argument(
            "--n-train",
            type=_positive_int,
            default=None,
            metavar="N",
            help="fit on a stratified random subset of N training images, for "
            "quick trials (default: all)",
        )
        parser.add_argument(
            "--n-test",
            type=_positive_int,
            default=None,
            metavar="N",
            help="score on a stratified random subset of N test images (default: all)",
        )


def _add_report_options(parser, default, contents):
    parser.add_argument(
        "--out",
        default=default,
        metavar="DIR",
        help=f"report folder ({contents}), written when the run ends. An existing "
        f"DIR is replaced only if it is empty or skmnist wrote it (it holds a "
        f"{REPORT_MARKER} file); any other folder stops the command before any "
        f"work, unless --force. A missing parent folder is created (one level, not "
        f"a whole path)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace DIR even if skmnist did not write it, deleting everything in "
        "it (default: off)",
    )


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
    from .._version import __version__

    parser = _Parser(
        prog="skmnist",
        description="Keras classifiers as scikit-learn estimators, compared on "
        "MNIST handwritten digits.",
        epilog="Run `skmnist COMMAND --help` for the options of a command. Errors in "
        "the arguments or the data stop the command with exit status 2 and a "
        "one-line message, before any long work.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"skmnist {__version__}",
        help="print the version and exit",
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser
    )
    commands.required = True

    compare = commands.add_parser(
        "compare",
        help="fit the models on the same data and compare them",
        description="Fit each model on the training images, score it on the test "
        "images (or cross-validate it with --cv), print one table and write "
        "DIR/results.json, DIR/report.md and figures.",
    )
    _add_data_options(compare)
    compare.add_argument(
        "--models",
        default=",".join(DEFAULT_MODEL_NAMES),
        help="comma-separated models among baseline (LogisticRegression on scaled "
        "pixels), logistic (KerasLogistic), mlp (KerasMLP), sklearn-mlp "
        "(scikit-learn's MLPClassifier) and, only when named, cnn (KerasCNN: far "
        "slower per epoch)",
    )
    compare.add_argument(
        "--max-iter",
        type=_positive_int,
        default=DEFAULT_EPOCHS,
        metavar="N",
        help="epochs of each neural network (logistic, mlp, sklearn-mlp, cnn); the "
        "baseline always runs lbfgs to convergence",
    )
    compare.add_argument(
        "--cv",
        type=_folds,
        default=None,
        metavar="K",
        help="cross-validate on the training images with K >= 2 stratified folds "
        "instead of scoring the test images; K may not exceed the training images "
        "of the rarest digit (default: no cross-validation)",
    )
    compare.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="random seed of the models and subsets, 0 to 2**32 - 1",
    )
    compare.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=None,
        metavar="N",
        help="folds fitted in parallel with --cv; -1 uses every CPU (default: 1)",
    )
    _add_report_options(
        compare, "skmnist-report", "results.json, report.md, figures, models/"
    )
    compare.add_argument(
        "--save",
        action="store_true",
        help="also save each fitted model as DIR/models/NAME.skmnist (default: off)",
    )
    compare.add_argument(
        "--no-figures",
        action="store_true",
        help="skip the PNG figures (default: off, i.e. draw them)",
    )

    tune = commands.add_parser(
        "tune",
        help="grid-search a Keras model's parameters",
        description="Cross-validated grid search (GridSearchCV) of KerasLogistic or "
        "KerasMLP on the training images; the best candidate, refit on all of "
        "them, is scored on the test images and saved. Default grids: "
        + json.dumps(TUNE_GRIDS)
        + ".",
    )
    tune.add_argument(
        "--model",
        required=True,
        choices=sorted(TUNE_GRIDS),
        help="logistic (KerasLogistic) or mlp (KerasMLP); required",
    )
    tune.add_argument(
        "--param",
        action="append",
        default=None,
        metavar="NAME=V1,V2",
        help="values to try for one parameter, as Python literals (e.g. "
        "alpha=1e-4,1e-2, hidden_layer_sizes=(64,),(128,), "
        "learning_rate_init=1e-3,1e-2 or batch_size=auto,64: MLPClassifier's "
        "names); repeat the option for more parameters (default: the grids above)",
    )
    tune.add_argument(
        "--cv",
        type=_folds,
        default=3,
        metavar="K",
        help="cross-validation folds, at least 2",
    )
    tune.add_argument(
        "--max-iter",
        type=_positive_int,
        default=DEFAULT_EPOCHS,
        action=_StoreGiven,
        metavar="N",
        help="epochs of every fit (or --param max_iter=..., not both)",
    )
    tune.set_defaults(max_iter_given=False)
    tune.add_argument(
        "--seed", type=_seed, default=0, help="random seed, 0 to 2**32 - 1"
    )
    tune.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=None,
        metavar="N",
        help="fits in parallel; -1 uses every CPU (default: 1). Without --scheduler, "
        "on the JAX backend they run as threads of this process; on TensorFlow as "
        "worker processes, whose epochs are not shown",
    )
    tune.add_argument(
        "--scheduler",
        default=None,
        metavar="WHERE",
        help="run the search on Dask: 'local' starts a LocalCluster, "
        "tcp://HOST:8786 joins a running one (needs skmnist[dask]; default: this "
        "process and --n-jobs)",
    )
    tune.add_argument(
        "--progress-bar",
        action="store_true",
        help="show scikit-learn's ProgressBar instead: nested bars for the search, "
        "each fit and its epochs, on standard output, with --n-jobs too (needs "
        "scikit-learn >= 1.9; default: skmnist's progress on standard error)",
    )
    tune.add_argument(
        "--top",
        type=_positive_int,
        default=5,
        metavar="N",
        help="rows of cv_results_ shown",
    )
    _add_report_options(tune, "skmnist-tune", "best_model.skmnist, tune.json")
    _add_data_options(tune)

    download = commands.add_parser(
        "download",
        help="fetch and verify full MNIST (70,000 images)",
        description="Download full MNIST into the cache, verify its checksum and "
        "read it back.",
    )
    download.add_argument(
        "--source",
        default="keras",
        choices=["keras", "openml"],
        help="which copy of MNIST to fetch",
    )
    download.add_argument(
        "--data-home",
        default=None,
        metavar="DIR",
        help="cache folder (default: $SKMNIST_DATA or ~/skmnist_data)",
    )
    download.add_argument(
        "--force",
        action="store_true",
        help="download again even if cached (default: off)",
    )

    predict = commands.add_parser(
        "predict",
        help="classify your own digit images, or score a model on MNIST",
        description="Load a model saved by `skmnist compare --save`, `skmnist tune` "
        "or skmnist.save. Given IMAGE files, print the predicted digit and its "
        "probability for each image. Without IMAGE, print the model's accuracy on "
        "MNIST (--subset, --source).",
        epilog="IMAGE files: PNG, JPEG or any picture Pillow reads (converted to grey "
        "levels, inverted when the background is light, the digit cropped, scaled "
        "to fit 20 x 20 and centred in 28 x 28 as in MNIST); or a .npy / .npz "
        "array of 28 x 28 images or 784-pixel rows, 0-255 with 0 as background.",
    )
    predict.add_argument(
        "--model",
        required=True,
        metavar="FILE",
        help="model file written by skmnist.save; required",
    )
    predict.add_argument(
        "images",
        nargs="*",
        metavar="IMAGE",
        help="image files or arrays to classify (default: none, score the model "
        "on MNIST instead)",
    )
    predict.add_argument(
        "--subset",
        default=None,
        choices=["train", "test", "all"],
        help="without IMAGE: which MNIST images to score (default: test)",
    )
    predict.add_argument(
        "--out",
        default=None,
        metavar="FILE.csv",
        help="also write the predictions to this CSV file, replacing it (default: "
        "do not)",
    )
    _add_data_options(predict, subsets=False)

    export_onnx = commands.add_parser(
        "export-onnx",
        help="export a saved model to ONNX, to run it with onnxruntime",
        description="Convert a model saved by `skmnist compare --save`, `skmnist "
        "tune` or skmnist.save into an ONNX file (skmnist.to_onnx): input 'input', "
        "float32 rows of pixels (n, n_features), 0-255 for MNIST; outputs 'label' "
        "and 'probabilities'. Needs skmnist[onnx].",
    )
    export_onnx.add_argument(
        "model", metavar="MODEL", help="model file written by skmnist.save"
    )
    export_onnx.add_argument(
        "out",
        metavar="OUT",
        help="ONNX file to write, replacing it (never MODEL itself)",
    )
    export_onnx.add_argument(
        "--opset",
        type=_integer,
        default=None,
        metavar="N",
        help="ONNX operator set (default: skmnist.export.OPSET, 17)",
    )
    return parser


def one_line(error):
    """``error``'s message on one line (the command line's error format)."""
    return " ".join(str(error).split())
