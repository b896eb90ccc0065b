"""``skmnist tune``: a cross-validated grid search with progress and a summary.

The command line calls :func:`tune` with its parsed arguments.
"""

import ast
import contextlib
import time

from .._utils._io import environment
from ..exceptions import UsageError
from ._data import check_folds, data_inputs, train_test
from ._parser import TUNE_GRIDS, one_line
from ._report import ReportFolder, write_json


def _parse_param(text):
    """``"NAME=V1,V2"`` -> ``(NAME, [V1, V2])``; values are Python literals."""
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier() or not values.strip():
        raise UsageError(
            f"skmnist tune: error: malformed --param {text!r}; expected "
            "NAME=V1,V2,... e.g. --param alpha=1e-4,1e-2"
        )
    try:
        parsed = ast.literal_eval(f"[{values}]")
    except (ValueError, SyntaxError):
        # Bare words (e.g. solver=adam,sgd) are strings.
        parsed = [_literal_or_word(value) for value in values.split(",")]
    return name, parsed


def _literal_or_word(text):
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()


def _tune_grid(args, estimator):
    from sklearn.base import clone
    from sklearn.utils._param_validation import InvalidParameterError

    from .._engine._optim import keras_equivalent

    if not args.param:
        return TUNE_GRIDS[args.model]
    grid = {}
    for name, values in map(_parse_param, args.param):
        if name in grid:
            raise UsageError(
                f"skmnist tune: error: --param {name} given twice; list all its "
                f"values once, e.g. --param {name}=V1,V2"
            )
        for i, value in enumerate(values):
            for earlier in values[:i]:
                if earlier != value:
                    continue
                what = (
                    f"{value!r} listed twice"
                    if repr(earlier) == repr(value)
                    else f"{value!r} equals {earlier!r}, listed before it"
                )
                raise UsageError(
                    f"skmnist tune: error: --param {name}: {what}; each candidate "
                    "would be fitted twice"
                )
        grid[name] = values
    if "max_iter" in grid and args.max_iter_given:
        raise UsageError(
            "skmnist tune: error: --param max_iter and --max-iter both set the "
            "epochs; give one of them"
        )
    valid = estimator.get_params()
    for name, values in grid.items():
        if name not in valid or name == "callbacks":
            keras_advice = keras_equivalent(name)
            if keras_advice:
                raise UsageError(
                    f"skmnist tune: error: --param {name} is Keras' name: "
                    f"{keras_advice}"
                )
            raise UsageError(
                f"skmnist tune: error: unknown parameter {name!r} for "
                f"--model {args.model}; choose from "
                f"{', '.join(sorted(set(valid) - {'callbacks'}))}"
            )
        for value in values:
            try:
                clone(estimator).set_params(**{name: value})._validate_params()
            except InvalidParameterError as error:
                raise UsageError(
                    f"skmnist tune: error: --param {name}: {one_line(error)}"
                ) from None
    return grid


def _check_class_weights(grid, y):
    """Refuse a ``class_weight`` dict naming a digit absent from the labels."""
    import numpy as np

    classes = set(np.unique(y).tolist())
    for value in grid.get("class_weight", []):
        if isinstance(value, dict):
            unknown = sorted(set(value) - classes, key=repr)
            if unknown:
                raise UsageError(
                    f"skmnist tune: error: --param class_weight={value!r}: "
                    f"{', '.join(map(repr, unknown))} not among the training "
                    f"labels {sorted(classes)}"
                )


def tune(args, out, err):
    """Run ``skmnist tune`` with parsed ``args``; return the exit status."""
    from ..comparison import default_estimators

    started = time.perf_counter()
    name = "logistic" if args.model == "logistic" else "mlp"
    probe = default_estimators([name], max_iter=args.max_iter, random_state=args.seed)
    grid = _tune_grid(args, probe[name])
    _check_scheduler(args.scheduler)
    # --out, the data, --cv and the grid against the labels: before the search.
    folder = ReportFolder(
        args.out, force=args.force, command="tune", inputs=data_inputs(args)
    )
    progress_bar = _progress_bar() if args.progress_bar else None
    X, y, X_test, y_test = train_test(args)
    check_folds(y, args.cv)
    _check_class_weights(grid, y)
    from sklearn.model_selection import GridSearchCV, ParameterGrid

    from ._progress import EpochProgress, Reporter

    n_fits = len(ParameterGrid(grid)) * args.cv + 1  # +1: the refit on all data
    reporting = contextlib.nullcontext() if progress_bar else Reporter(err)
    with reporting as reporter:
        estimator = default_estimators(
            [name],
            max_iter=args.max_iter,
            random_state=args.seed,
            callbacks=None if progress_bar else [EpochProgress(reporter)],
        )[name]
        search = GridSearchCV(
            estimator,
            grid,
            cv=args.cv,
            n_jobs=args.n_jobs,
            scoring="accuracy",
            error_score="raise",
        )
        n_candidates = len(ParameterGrid(grid))
        if progress_bar:
            search.set_callbacks(progress_bar)
        else:
            reporter.start(
                f"grid search: {n_candidates} candidate"
                f"{'s' if n_candidates > 1 else ''} x {args.cv} folds + "
                "refit on all training images",
                total=n_fits,
                count_fits=True,
            )
        in_threads = args.scheduler is None and _threads_suit(args.n_jobs)
        # Fits in this process or its threads: their warnings can be gathered.
        in_process = args.scheduler is None and (args.n_jobs in (None, 1) or in_threads)
        with contextlib.ExitStack() as backend:
            _enter_backend(backend, args.scheduler)
            if in_threads:
                from joblib import parallel_config

                backend.enter_context(parallel_config(backend="threading"))
            if progress_bar:
                backend.enter_context(_default_console_like(out))
            caught = backend.enter_context(_gathered_warnings(in_process))
            search.fit(X, y)
        notes = _warning_notes(caught, n_fits, in_process)
        if not progress_bar:
            reporter.finish()
    test_score = float(search.score(X_test, y_test))
    top = _top_rows(search.cv_results_, args.top)
    from rich import box
    from rich.table import Table
    from rich.text import Text

    n_candidates = len(search.cv_results_["params"])
    table = Table(
        title=f"{args.model}: top {len(top)} of {n_candidates} candidates "
        "(cross-validated accuracy)",
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    for column in ("rank", "accuracy", "± std", "fit (s)", "parameters"):
        table.add_column(column, justify="left" if column == "parameters" else "right")
    for row in top:
        table.add_row(
            str(row["rank"]),
            f"{row['mean_accuracy']:.4f}",
            f"{row['std_accuracy']:.4f}",
            f"{row['mean_fit_seconds']:.2f}",
            _format_params(row["params"]),
        )
    out.print(table)
    for note in notes:
        out.print(Text("(!) ", style="yellow") + Text(note["text"]))
    out.print(
        f"Best parameters: {_format_params(search.best_params_)}", highlight=False
    )
    out.print(
        f"Cross-validated accuracy {search.best_score_:.4f}; test accuracy "
        f"{test_score:.4f} on {len(y_test):,} images",
        highlight=False,
    )
    summary = {
        "model": args.model,
        "grid": grid,
        "cv": args.cv,
        "best_params": search.best_params_,
        "best_cv_accuracy": float(search.best_score_),
        "test_accuracy": test_score,
        "n_train": len(y),
        "n_test": len(y_test),
        "top": top,
        "warnings": notes,
        "environment": environment(),
        "wall_seconds": time.perf_counter() - started,
    }
    from ._report import save_model

    with folder as tmp:
        save_model(search.best_estimator_, tmp / "best_model.skmnist")
        write_json(tmp / "tune.json", summary)
    out.print(f"Best model: {folder.path / 'best_model.skmnist'}", highlight=False)
    return 0


@contextlib.contextmanager
def _gathered_warnings(in_process):
    """Record the search's warnings instead of printing them, as ``compare`` does.

    Yields the list of records. scikit-learn hands this process's warning
    filters to every fit, wherever it runs: in this process or its threads
    each ``ConvergenceWarning`` is recorded; in worker processes (``--n-jobs``
    on TensorFlow, Dask) nothing could bring the records back, so they are
    ignored there and :func:`_warning_notes` says so.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always" if in_process else "ignore", ConvergenceWarning)
        yield caught


def _warning_notes(caught, n_fits, in_process):
    """One line per distinct convergence warning, with how many fits raised it.

    Other warnings recorded are shown again, as Python would have shown them.
    """
    from sklearn.exceptions import ConvergenceWarning

    from ..comparison._compare import _convergence_notes

    texts = _convergence_notes(caught)
    firsts = [
        str(record.message).splitlines()[0].strip()
        for record in caught
        if issubclass(record.category, ConvergenceWarning)
    ]
    notes = [
        {
            "text": f"{firsts.count(text)} of {n_fits} fits: {text}",
            "fits": firsts.count(text),
        }
        for text in texts
    ]
    if not in_process:
        notes.append(
            {
                "text": "the fits ran in worker processes, whose convergence "
                "warnings are not gathered (--n-jobs 1 shows them)",
                "fits": None,
            }
        )
    return notes


@contextlib.contextmanager
def _default_console_like(console):
    """Make rich's default console write as ``console`` does, for the block.

    scikit-learn's ``ProgressBar`` draws on rich's default console, which off
    a terminal is 80 columns wide and cuts its nested task names there; the
    command's own output is as wide as ``console``.
    """
    import rich

    default = rich.get_console()
    kept = default.__dict__
    rich.reconfigure(file=console.file, width=console.width)
    try:
        yield
    finally:
        default.__dict__ = kept


def _progress_bar():
    """scikit-learn's ProgressBar for ``--progress-bar``, or exit 2 without it."""
    from ..classifiers import _callbacks as _sk_callbacks

    if not _sk_callbacks.SUPPORTED:
        import sklearn

        raise UsageError(
            "skmnist tune: error: --progress-bar needs scikit-learn >= 1.9 "
            f"(sklearn.callback); this is scikit-learn {sklearn.__version__}"
        )
    from sklearn.callback import ProgressBar

    return ProgressBar()


def _check_scheduler(scheduler):
    """A malformed ``--scheduler`` or a missing Dask: exit 2 before the data."""
    if scheduler is None:
        return
    from ..exceptions import MissingExtraError
    from ..parallel import _check_scheduler

    name = "skmnist tune: error: --scheduler"
    try:
        _check_scheduler(scheduler, name=name)
    except ValueError as error:
        if str(error).startswith(name):  # an address Dask cannot use from here
            raise UsageError(one_line(error)) from None
        raise UsageError(
            f"{name} {scheduler!r}: expected 'local' or a scheduler address such "
            "as tcp://HOST:8786"
        ) from None
    except MissingExtraError as error:
        raise UsageError(f"skmnist tune: error: --scheduler: {error}") from None


def _threads_suit(n_jobs):
    """Whether ``n_jobs`` parallel fits should run as threads of this process.

    On Keras' JAX backend they should: the compiled training steps release
    Python's lock, and threads start no worker that must import scikit-learn,
    Keras and JAX and compile its own programs (benchmarks/RESULTS.md, row 7:
    a first search at 1.07x the speed of ``n_jobs=1`` in threads, 0.56x in
    worker processes, on 2 cores). TensorFlow keeps joblib's processes.
    """
    from .._engine._keras import import_keras

    return n_jobs not in (None, 1) and import_keras().backend.backend() == "jax"


def _enter_backend(stack, scheduler):
    """Enter ``search_backend(scheduler)``; set-up errors exit 2 (usage)."""
    from ..parallel import search_backend

    # A malformed --scheduler or a missing Dask was refused by
    # _check_scheduler before the data were read; what is left is connecting.
    try:
        stack.enter_context(search_backend(scheduler))
    except (OSError, ValueError, TypeError) as error:
        raise UsageError(
            f"skmnist tune: error: --scheduler {scheduler}: {one_line(error)}"
        ) from None


def _top_rows(cv_results, n):
    order = sorted(
        range(len(cv_results["params"])), key=lambda i: cv_results["rank_test_score"][i]
    )[:n]
    return [
        {
            "rank": int(cv_results["rank_test_score"][i]),
            "mean_accuracy": float(cv_results["mean_test_score"][i]),
            "std_accuracy": float(cv_results["std_test_score"][i]),
            "mean_fit_seconds": float(cv_results["mean_fit_time"][i]),
            "params": cv_results["params"][i],
        }
        for i in order
    ]


def _format_params(params):
    return ", ".join(f"{key}={value!r}" for key, value in sorted(params.items()))
