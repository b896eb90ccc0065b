"""One function per ``skmnist`` command: ``(args, out, err) -> exit status``."""

import shlex
import time

from ..comparison import MODEL_NAMES
from ..exceptions import UsageError
from ._data import load, source_name, train_test
from ._parser import one_line
from ._report import ReportFolder, rich_table, write_compare_report

# -- compare --------------------------------------------------------------------


def _compare(args, out, err):
    from ..comparison import _run, default_estimators

    started = time.perf_counter()
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = [name for name in names if name not in MODEL_NAMES]
    if unknown or not names:
        raise UsageError(f"skmnist compare: error: unknown model(s) "
                         f"{', '.join(unknown) or repr(args.models)}; choose from "
                         f"{', '.join(MODEL_NAMES)}")
    folder = ReportFolder(args.out)  # checks --out before the long work
    X, y, X_test, y_test = train_test(args)
    source = source_name(args)
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
    from ._tune import tune  # GridSearchCV and Dask only when needed

    return tune(args, out, err)


# -- download and predict ---------------------------------------------------------


def _download(args, out, err):
    from .. import datasets

    err.print(f"Downloading MNIST from {args.source} ...", highlight=False)
    try:
        path = datasets.download_mnist(source=args.source, data_home=args.data_home,
                                       force=args.force)
        X, y = datasets.load_mnist(subset="all", source=str(path), return_X_y=True)
    except (OSError, ValueError) as error:
        err.print(f"skmnist download: error: {one_line(error)}", soft_wrap=True,
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
    from ..persistence import load as load_model

    X, y = load(args, args.subset)
    try:
        model = load_model(model_path)
    except (ValueError, OSError) as error:
        raise UsageError(f"skmnist predict: error: cannot load --model "
                         f"{args.model}: {one_line(error)}") from None
    predicted = model.predict(X)
    accuracy = float(np.mean(predicted == y))
    out.print(f"Accuracy {accuracy:.4f} on {len(y):,} {args.subset} images "
              f"({type(model).__name__} from {model_path})", highlight=False)
    if args.out:
        from ._report import write_predictions

        write_predictions(Path(args.out), y, predicted)
        out.print(f"Predictions: {args.out}", highlight=False)
    return 0


COMMANDS = {"compare": _compare, "tune": _tune, "download": _download,
            "predict": _predict}
