"""One function per ``skmnist`` command: ``(args, out, err) -> exit status``.

A :class:`UsageError` names the problem only: ``main`` puts ``skmnist COMMAND:
error:`` before it. Plain messages go through ``Console.out`` (no markup, no
wrapping), so that a path is printed as it is, brackets and all.
"""

import shlex
import time
from pathlib import Path

from ..comparison._compare import MODEL_NAMES
from ..exceptions import UsageError
from ._data import check_folds, data_inputs, load, source_name, train_test
from ._folder import ReportFolder, check_out_file
from ._parser import one_line
from ._report import rich_legend, rich_table, write_compare_report

# Below this top probability `predict` notes that an image's digit may be wrong.
# Measured on 15,000 generated photos (tests/photos.py: 1,000 MNIST test digits
# under 15 conditions) read by the KerasMLP that `skmnist tune` picks (README's
# grid, 2026-12-05): 4.8 % of the answers fall under 0.80 and 57 % of those are
# wrong, against 3.9 % above it; the note flags 42 % of the wrong answers. 0.5
# would flag 5.6 % of them, 0.9 flags 57 % but notes 7.1 % of all answers.
LOW_CONFIDENCE = 0.8


def _compare(args, out, err):
    started = time.perf_counter()
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = [name for name in names if name not in MODEL_NAMES]
    if unknown or not names:
        raise UsageError(
            f"unknown model(s) {', '.join(unknown) or repr(args.models)}; choose "
            f"from {', '.join(MODEL_NAMES)}"
        )
    if args.n_jobs not in (None, 1) and args.cv is None:
        raise UsageError(
            "--n-jobs runs the folds of --cv in parallel; give --cv K too (without "
            "it each model is fitted once)"
        )
    # --out, the data and --cv are checked before the long work.
    folder = ReportFolder(
        args.out, force=args.force, command="compare", inputs=data_inputs(args)
    )
    X, y, X_test, y_test = train_test(args)
    check_folds(y, args.cv)
    source = source_name(args)
    from ..comparison import compare, default_estimators
    from ._progress import Reporter

    estimators = default_estimators(
        names, max_iter=args.max_iter, random_state=args.seed
    )
    with Reporter(err) as reporter:
        # With --cv the test images score the models refit on all training
        # images, which the figures and --save then use.
        result = compare(
            estimators,
            X,
            y,
            X_test,
            y_test,
            cv=args.cv,
            n_jobs=args.n_jobs,
            on_model_start=lambda name, i, n: reporter.start(f"[{i + 1}/{n}] {name}"),
            on_epoch=lambda name, *epoch: reporter.epoch(*epoch),
            on_model_end=lambda name, row: reporter.finish(
                "(did not converge)" if row["warnings"] else ""
            ),
        )
    data = {"source": source, "n_train": len(y), "n_test": len(y_test), "cv": args.cv}
    if args.cv:
        title = (
            f"MNIST ({source}), {args.cv}-fold cross-validation on {len(y):,} "
            f"training images; refit scored on {len(y_test):,} test images"
        )
    else:
        title = f"MNIST ({source}): {len(y):,} train / {len(y_test):,} test images"
    out.print(rich_table(result, title=title))
    out.print(rich_legend(result))
    with folder as tmp:
        paths = write_compare_report(
            tmp,
            result,
            X_test,
            y_test,
            data=data,
            command="skmnist " + shlex.join(args.argv),
            figures=not args.no_figures,
            save_models=args.save,
            started=started,
        )
    out.out(
        f"Report: {folder.path / 'report.md'} ({len(paths)} files) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return 0


def _tune(args, out, err):
    from ._tune import tune  # GridSearchCV and Dask only when needed

    return tune(args, out, err)


def _download(args, out, err):
    from .. import datasets
    from ..datasets._sources import check_data_home

    try:
        check_data_home(datasets.get_data_home(args.data_home))
    except ValueError as error:
        raise UsageError(f"skmnist download: error: {one_line(error)}") from None
    err.out(f"Downloading MNIST from {args.source} ...")
    try:
        path = datasets.download_mnist(
            source=args.source, data_home=args.data_home, force=args.force
        )
        X, y = datasets.load_mnist(subset="all", source=str(path), return_X_y=True)
    except (OSError, ValueError) as error:
        err.out(f"skmnist download: error: {one_line(error)}")
        return 1
    out.out(
        f"Verified {len(y):,} images ({X.shape[1]} pixels each, labels "
        f"{int(y.min())}-{int(y.max())}) in {path}"
    )
    return 0


def _predict(args, out, err):
    if not Path(args.model).is_file():
        raise UsageError(f"--model {args.model}: no such file (or not a file)")
    if args.images and (
        args.subset is not None or args.source != "auto" or args.data_home is not None
    ):
        raise UsageError(
            "--subset, --source and --data-home score the model on MNIST; leave "
            "them out when classifying IMAGE files"
        )
    if args.out:  # before the model and data are read
        reads = {
            "--model": [args.model],
            "IMAGE": args.images,
            "--source": [args.source],
        }
        check_out_file(args.out, inputs=reads)
    if args.images:
        from ..datasets._images import read_images

        try:
            X, names = read_images(args.images)
        except ValueError as error:
            raise UsageError(f"IMAGE {one_line(error)}") from None
        model = _load_model(args.model, "--model")
    else:
        args.subset = args.subset or "test"
        model = _load_model(args.model, "--model")  # a bad model before MNIST is read
        X, y = load(args, args.subset)
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and expected != X.shape[1]:
        data = "the IMAGE files" if args.images else f"--source {args.source}"
        raise UsageError(
            f"--model {args.model} expects {expected} features per image, but the "
            f"images of {data} have {X.shape[1]} pixels (28 x 28): the model was not "
            "trained on MNIST images"
        )
    if args.images:
        rows = _classify(model, X, names, out, err)
        header = ["image", "digit", "probability"]
    else:
        predicted = model.predict(X)
        out.out(
            f"Accuracy {float((predicted == y).mean()):.4f} on {len(y):,} "
            f"{args.subset} images ({type(model).__name__} from {Path(args.model)})"
        )
        rows = zip(range(len(y)), y.tolist(), predicted.tolist())
        header = ["index", "true", "predicted"]
    if args.out:
        import csv

        from .._utils._io import atomic_open

        with atomic_open(args.out, "w", newline="") as handle:
            csv.writer(handle).writerows([header, *rows])
        out.out(f"Predictions: {args.out}")
    return 0


def _load_model(path, option):
    from ..persistence import load as load_model

    try:
        return load_model(path)
    except (ValueError, OSError) as error:
        raise UsageError(f"cannot load {option} {path}: {one_line(error)}") from None


def _classify(model, X, names, out, err):
    """Print each image's digit and probability; return the CSV rows.

    Images whose top probability is under LOW_CONFIDENCE are listed on
    standard error with their two likeliest digits; the table and the CSV
    keep their columns, so scripts reading them are unaffected.
    """
    import numpy as np
    from rich import box
    from rich.table import Table
    from rich.text import Text

    labels = model.predict(X).tolist()
    proba = model.predict_proba(X) if hasattr(model, "predict_proba") else None
    top = np.full(len(labels), np.nan) if proba is None else proba.max(axis=1)
    top = top.tolist()  # NaN where a model gives no probability
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("image", overflow="fold")
    table.add_column("digit", justify="right", overflow="fold")
    table.add_column("probability", justify="right", overflow="fold")
    for name, label, p in zip(names, labels, top):
        table.add_row(Text(name), str(label), "n/a" if np.isnan(p) else f"{p:.4f}")
    out.print(table)
    low = [] if proba is None else np.flatnonzero(proba.max(axis=1) < LOW_CONFIDENCE)
    if len(low):
        classes = getattr(model, "classes_", np.arange(proba.shape[1]))
        err.out(
            f"{len(low)} of {len(names)} images under {LOW_CONFIDENCE:.2f} "
            "confidence; the digit may be wrong:"
        )
        for i in low:
            first, second = np.argsort(proba[i])[::-1][:2]
            err.out(
                f"  {names[i]}: {classes[first]} at {proba[i, first]:.4f}, "
                f"then {classes[second]} at {proba[i, second]:.4f}"
            )
    return [
        [name, label, "" if np.isnan(p) else f"{p:.6f}"]
        for name, label, p in zip(names, labels, top)
    ]


def _export_onnx(args, out, err):
    from .._utils._files import writable_target
    from .._utils._io import write_bytes_atomic
    from ..exceptions import MissingExtraError

    model_path, out_path = Path(args.model), Path(args.out)
    if not model_path.is_file():
        raise UsageError(f"MODEL {args.model}: no such file (or not a file)")
    if out_path.resolve() == model_path.resolve():
        raise UsageError(
            f"OUT {args.out} is MODEL itself; writing the ONNX file there would "
            "destroy the model, so name another file"
        )
    if out_path.is_dir():
        raise UsageError(f"OUT {args.out}: is a folder; name an .onnx file")
    try:
        writable_target(out_path)
    except ValueError as error:
        raise UsageError(f"OUT {error}") from None
    if not out_path.absolute().parent.is_dir():
        raise UsageError(
            f"OUT {args.out}: folder {out_path.absolute().parent} does not exist"
        )
    from ..export import OPSET, to_onnx

    model = _load_model(args.model, "MODEL")
    try:
        onx = to_onnx(model, opset=OPSET if args.opset is None else args.opset)
    except (MissingExtraError, TypeError, ValueError) as error:
        raise UsageError(
            f"cannot export MODEL {args.model}: {one_line(error)}"
        ) from None
    try:
        write_bytes_atomic(out_path, onx.SerializeToString())
    except OSError as error:
        raise UsageError(
            f"OUT {args.out}: cannot write: {error.strerror or error}"
        ) from None
    shape = onx.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    opset = next(o.version for o in onx.opset_import if o.domain in ("", "ai.onnx"))
    out.out(
        f"Wrote {out_path} ({out_path.stat().st_size / 1024:,.0f} KiB, opset "
        f"{opset}): {type(model).__name__}, input 'input' float32 (n, {shape}), "
        "outputs 'label' and 'probabilities'"
    )
    return 0


COMMANDS = {
    "compare": _compare,
    "tune": _tune,
    "download": _download,
    "predict": _predict,
    "export-onnx": _export_onnx,
}
