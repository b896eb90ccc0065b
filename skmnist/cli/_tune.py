"""``skmnist tune``: a cross-validated grid search with progress and a summary."""

import ast
import contextlib
import json
import time

from .._utils._io import environment
from ..exceptions import UsageError
from ._data import check_folds, data_inputs, train_test
from ._folder import ReportFolder
from ._parser import TUNE_GRIDS, one_line


def _parse_param(text):
    """``"NAME=V1,V2"`` -> ``(NAME, [V1, V2])``; values are Python literals."""
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier() or not values.strip():
        raise UsageError(
            f"malformed --param {text!r}; expected NAME=V1,V2,... e.g. --param "
            "alpha=1e-4,1e-2"
        )
    try:
        return name, ast.literal_eval(f"[{values}]")
    # Bare words (solver=adam,sgd) are strings; so is what Python cannot build
    # (TypeError: a list as a dict key), for the parameter's check to refuse.
    except (ValueError, SyntaxError, TypeError):
        return name, [_literal_or_word(value.strip()) for value in values.split(",")]


def _literal_or_word(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError):
        return text


def _tune_grid(args, estimator):
    """The grid of ``--param`` (else the default), each value checked."""
    from sklearn.base import clone
    from sklearn.utils._param_validation import InvalidParameterError

    from .._engine._optim import keras_equivalent

    if not args.param:
        return TUNE_GRIDS[args.model]
    grid = {}
    for name, values in map(_parse_param, args.param):
        if name in grid:
            raise UsageError(
                f"--param {name} given twice; list all its values once, e.g. "
                f"--param {name}=V1,V2"
            )
        for i, value in enumerate(values):
            same = [earlier for earlier in values[:i] if earlier == value]
            if same:
                what = (
                    f"{value!r} listed twice"
                    if repr(same[0]) == repr(value)
                    else f"{value!r} equals {same[0]!r}, listed before it"
                )
                raise UsageError(
                    f"--param {name}: {what}; each candidate would be fitted twice"
                )
        grid[name] = values
    if "max_iter" in grid and args.max_iter_given:
        raise UsageError(
            "--param max_iter and --max-iter both set the epochs; give one of them"
        )
    valid = set(estimator.get_params()) - {"callbacks"}
    for name, values in grid.items():
        if name not in valid:
            if advice := keras_equivalent(name):
                raise UsageError(f"--param {name} is Keras' name: {advice}")
            raise UsageError(
                f"unknown parameter {name!r} for --model {args.model}; choose from "
                f"{', '.join(sorted(valid))}"
            )
        for value in values:
            try:
                clone(estimator).set_params(**{name: value})._validate_params()
            except InvalidParameterError as error:
                raise UsageError(f"--param {name}: {one_line(error)}") from None
    return grid


def _check_class_weights(grid, y):
    """Refuse a ``class_weight`` dict naming a digit absent from the labels."""
    import numpy as np

    classes = set(np.unique(y).tolist())
    for value in grid.get("class_weight", []):
        unknown = (
            sorted(set(value) - classes, key=repr) if isinstance(value, dict) else []
        )
        if unknown:
            raise UsageError(
                f"--param class_weight={value!r}: {', '.join(map(repr, unknown))} "
                f"not among the training labels {sorted(classes)}"
            )


def tune(args, out, err):
    """Run ``skmnist tune`` with parsed ``args``; return the exit status."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

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

    from .._engine._keras import import_keras
    from ._progress import EpochProgress, Reporter

    n_candidates = len(ParameterGrid(grid))
    n_fits = n_candidates * args.cv + 1  # +1: the refit on all data
    # On Keras' JAX backend parallel fits run as threads of this process: the
    # compiled steps release Python's lock and no worker process has to import
    # Keras and JAX and compile again (benchmarks/RESULTS.md, row 7: 1.07x the
    # speed of --n-jobs 1 in threads, 0.56x in processes, on 2 cores).
    in_threads = (
        args.scheduler is None
        and args.n_jobs not in (None, 1)
        and import_keras().backend.backend() == "jax"
    )
    # Fits in this process or its threads: their warnings can be gathered.
    in_process = args.scheduler is None and (args.n_jobs in (None, 1) or in_threads)
    with contextlib.nullcontext() if progress_bar else Reporter(err) as reporter:
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
        if progress_bar:
            search.set_callbacks(progress_bar)
        else:
            reporter.start(
                f"grid search: {n_candidates} candidate"
                f"{'s' if n_candidates > 1 else ''} x {args.cv} folds + refit on all "
                "training images",
                total=n_fits,
                count_fits=True,
            )
        with contextlib.ExitStack() as backend:
            _enter_backend(backend, args.scheduler)
            if in_threads:
                from joblib import parallel_config

                backend.enter_context(parallel_config(backend="threading"))
            if progress_bar:
                backend.enter_context(_default_console_like(out))
            # scikit-learn hands this process's warning filters to every fit:
            # recorded here and in threads, ignored in worker processes (Dask,
            # --n-jobs on TensorFlow), from which no record could come back.
            caught = backend.enter_context(warnings.catch_warnings(record=True))
            warnings.simplefilter(
                "always" if in_process else "ignore", ConvergenceWarning
            )
            search.fit(X, y)
        notes = _warning_notes(caught, n_fits, in_process)
        if not progress_bar:
            reporter.finish()
    test_score = float(search.score(X_test, y_test))
    top = _top_rows(search.cv_results_, args.top)
    _print_summary(out, args, search, top, notes, test_score, len(y_test))
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
        (tmp / "tune.json").write_text(
            json.dumps(summary, indent=2, default=str) + "\n"
        )
    out.out(f"Best model: {folder.path / 'best_model.skmnist'}")
    return 0


def _print_summary(out, args, search, top, notes, test_score, n_test):
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
            Text(_format_params(row["params"])),
        )
    out.print(table)
    for note in notes:
        out.print(Text("(!) ", style="yellow") + Text(note["text"]))
    out.out(f"Best parameters: {_format_params(search.best_params_)}")
    out.out(
        f"Cross-validated accuracy {search.best_score_:.4f}; test accuracy "
        f"{test_score:.4f} on {n_test:,} images"
    )


def _warning_notes(caught, n_fits, in_process):
    """One note per distinct convergence warning, with how many fits raised it.

    Other warnings recorded are shown again, as Python would have shown them.
    """
    from collections import Counter

    from sklearn.exceptions import ConvergenceWarning

    from ..comparison._compare import _convergence_notes

    counts = Counter(
        str(record.message).splitlines()[0].strip()
        for record in caught
        if issubclass(record.category, ConvergenceWarning)
    )
    notes = [
        {"text": f"{counts[text]} of {n_fits} fits: {text}", "fits": counts[text]}
        for text in _convergence_notes(caught)
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

    scikit-learn's ``ProgressBar`` draws on it, which off a terminal is 80
    columns wide and cuts its nested task names there.
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
            "--progress-bar needs scikit-learn >= 1.9 (sklearn.callback); this is "
            f"scikit-learn {sklearn.__version__}"
        )
    from sklearn.callback import ProgressBar

    return ProgressBar()


def _check_scheduler(scheduler):
    """A malformed ``--scheduler`` or a missing Dask: exit 2 before the data."""
    if scheduler is None:
        return
    from ..exceptions import MissingExtraError
    from ..parallel import _check_scheduler

    try:
        _check_scheduler(scheduler, name="--scheduler")
    except ValueError as error:
        if str(error).startswith("--scheduler"):  # an address Dask cannot use
            raise UsageError(one_line(error)) from None
        raise UsageError(
            f"--scheduler {scheduler!r}: expected 'local' or a scheduler address "
            "such as tcp://HOST:8786"
        ) from None
    except MissingExtraError as error:
        raise UsageError(f"--scheduler: {error}") from None


def _enter_backend(stack, scheduler):
    """Enter ``search_backend(scheduler)``; failing to connect exits 2 (usage)."""
    from ..parallel import search_backend

    try:
        stack.enter_context(search_backend(scheduler))
    except (OSError, ValueError, TypeError) as error:
        raise UsageError(f"--scheduler {scheduler}: {one_line(error)}") from None


def _top_rows(cv_results, n):
    ranks = cv_results["rank_test_score"]
    order = sorted(range(len(cv_results["params"])), key=lambda i: ranks[i])[:n]
    return [
        {
            "rank": int(ranks[i]),
            "mean_accuracy": float(cv_results["mean_test_score"][i]),
            "std_accuracy": float(cv_results["std_test_score"][i]),
            "mean_fit_seconds": float(cv_results["mean_fit_time"][i]),
            "params": cv_results["params"][i],
        }
        for i in order
    ]


def _format_params(params):
    return ", ".join(f"{key}={value!r}" for key, value in sorted(params.items()))
