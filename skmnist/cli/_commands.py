"""One function per ``skmnist`` command: ``(args, out, err) -> exit status``."""

import shlex
import time

from ..comparison._compare import MODEL_NAMES
from ..exceptions import UsageError
from ._data import check_folds, data_inputs, load, source_name, train_test
from ._parser import one_line
from ._report import (
    ReportFolder,
    check_out_file,
    rich_legend,
    rich_table,
    write_compare_report,
)

# -- compare --------------------------------------------------------------------


def _compare(args, out, err):
    started = time.perf_counter()
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = [name for name in names if name not in MODEL_NAMES]
    if unknown or not names:
        raise UsageError(
            f"skmnist compare: error: unknown model(s) "
            f"{', '.join(unknown) or repr(args.models)}; choose from "
            f"{', '.join(MODEL_NAMES)}"
        )
    if args.n_jobs not in (None, 1) and args.cv is None:
        raise UsageError(
            "skmnist compare: error: --n-jobs runs the folds of --cv in "
            "parallel; give --cv K too (without it each model is fitted once)"
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

        def on_model_start(name, index, total):
            reporter.start(f"[{index + 1}/{total}] {name}")

        def on_epoch(name, epoch, n_epochs, logs):
            reporter.epoch(epoch, n_epochs, logs)

        def on_model_end(name, row):
            reporter.finish("(did not converge)" if row["warnings"] else "")

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
            on_model_start=on_model_start,
            on_epoch=on_epoch,
            on_model_end=on_model_end,
        )
    data = {"source": source, "n_train": len(y), "n_test": len(y_test), "cv": args.cv}
    out.print(rich_table(result, title=_title(data)))
    out.print(rich_legend(result))
    with folder as tmp:
        paths = write_compare_report(
            tmp,
            result,
            X_test,
            y_test,
            data=data,
            command=_command_line(args),
            figures=not args.no_figures,
            save_models=args.save,
            started=started,
        )
    out.print(
        f"Report: {folder.path / 'report.md'} ({len(paths)} files) in "
        f"{time.perf_counter() - started:.1f} s",
        highlight=False,
    )
    return 0


def _title(data):
    if data["cv"]:
        return (
            f"MNIST ({data['source']}), {data['cv']}-fold cross-validation on "
            f"{data['n_train']:,} training images; refit scored on "
            f"{data['n_test']:,} test images"
        )
    return (
        f"MNIST ({data['source']}): {data['n_train']:,} train / "
        f"{data['n_test']:,} test images"
    )


def _command_line(args):
    return "skmnist " + shlex.join(args.argv)


# -- tune ----------------------------------------------------------------------


def _tune(args, out, err):
    from ._tune import tune  # GridSearchCV and Dask only when needed

    return tune(args, out, err)


# -- download and predict ---------------------------------------------------------

# Below this top probability `predict` notes that an image's digit may be wrong.
# Measured on 15,000 generated photos (tests/photos.py: 1,000 MNIST test digits
# under 15 conditions) read by the KerasMLP that `skmnist tune` picks: 10 % of
# the answers fall under 0.80 and 44 % of those are wrong, against 3.4 % above
# it, so the note flags 59 % of the wrong answers. The last threshold at which
# at least 40 % of the flagged answers are wrong; 0.5 would flag 18 % of them.
LOW_CONFIDENCE = 0.8


def _download(args, out, err):
    from .. import datasets
    from ..datasets._sources import check_data_home

    try:
        check_data_home(datasets.get_data_home(args.data_home))
    except ValueError as error:
        raise UsageError(f"skmnist download: error: {one_line(error)}") from None
    err.print(f"Downloading MNIST from {args.source} ...", highlight=False)
    try:
        path = datasets.download_mnist(
            source=args.source, data_home=args.data_home, force=args.force
        )
        X, y = datasets.load_mnist(subset="all", source=str(path), return_X_y=True)
    except (OSError, ValueError) as error:
        err.print(
            f"skmnist download: error: {one_line(error)}",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )
        return 1
    out.print(
        f"Verified {len(y):,} images ({X.shape[1]} pixels each, labels "
        f"{int(y.min())}-{int(y.max())}) in {path}",
        highlight=False,
    )
    return 0


def _predict(args, out, err):
    from pathlib import Path

    model_path = Path(args.model)
    if not model_path.is_file():
        raise UsageError(
            f"skmnist predict: error: --model {args.model}: no such "
            "file (or not a file)"
        )
    if args.images and (
        args.subset is not None or args.source != "auto" or args.data_home is not None
    ):
        raise UsageError(
            "skmnist predict: error: --subset, --source and "
            "--data-home score the model on MNIST; leave them out "
            "when classifying IMAGE files"
        )
    if args.out:  # before the model and data are read
        check_out_file(
            args.out,
            inputs={
                "--model": [args.model],
                "IMAGE": args.images or [],
                "--source": [args.source],
            },
        )
    if args.images:
        from ..datasets._images import read_images

        try:
            X, names = read_images(args.images)
        except ValueError as error:
            raise UsageError(
                f"skmnist predict: error: IMAGE {one_line(error)}"
            ) from None
        y = None
        model = _load_model(args.model)
    else:
        args.subset = args.subset or "test"
        model = _load_model(args.model)  # a bad model before MNIST is read
        X, y = load(args, args.subset)
    _check_features(model, X, args)
    if y is None:
        return _classify(model, X, names, args, out, err)
    import numpy as np

    predicted = model.predict(X)
    accuracy = float(np.mean(predicted == y))
    out.print(
        f"Accuracy {accuracy:.4f} on {len(y):,} {args.subset} images "
        f"({type(model).__name__} from {model_path})",
        highlight=False,
    )
    if args.out:
        from ._report import write_predictions

        write_predictions(Path(args.out), y, predicted)
        out.print(f"Predictions: {args.out}", highlight=False)
    return 0


def _load_model(path, *, command="predict", option="--model"):
    from ..persistence import load as load_model

    try:
        return load_model(path)
    except (ValueError, OSError) as error:
        raise UsageError(
            f"skmnist {command}: error: cannot load {option} {path}: {one_line(error)}"
        ) from None


def _check_features(model, X, args):
    expected = getattr(model, "n_features_in_", None)
    if expected is not None and expected != X.shape[1]:
        data = "the IMAGE files" if args.images else f"--source {args.source}"
        raise UsageError(
            f"skmnist predict: error: --model {args.model} expects {expected} "
            f"features per image, but the images of {data} have {X.shape[1]} "
            "pixels (28 x 28): the model was not trained on MNIST images"
        )


def _classify(model, X, names, args, out, err):
    """Print (and write) the digit and its probability for each image.

    Images whose top probability is under LOW_CONFIDENCE are listed on
    standard error with their two likeliest digits; the table and the CSV
    keep their columns, so scripts reading them are unaffected.
    """
    import numpy as np
    from rich import box
    from rich.table import Table

    labels = model.predict(X)
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        probabilities = np.max(proba, axis=1)
    else:
        proba, probabilities = None, np.full(len(labels), np.nan)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for column, justify in (
        ("image", "left"),
        ("digit", "right"),
        ("probability", "right"),
    ):
        table.add_column(column, justify=justify, overflow="fold")
    for name, label, probability in zip(names, labels.tolist(), probabilities.tolist()):
        table.add_row(
            name, str(label), "n/a" if np.isnan(probability) else f"{probability:.4f}"
        )
    out.print(table)
    if proba is not None:
        classes = getattr(model, "classes_", np.arange(proba.shape[1]))
        _note_low_confidence(err, names, proba, classes)
    if args.out:
        from pathlib import Path

        from ._report import write_image_predictions

        write_image_predictions(Path(args.out), names, labels, probabilities)
        out.print(f"Predictions: {args.out}", highlight=False)
    return 0


def _note_low_confidence(err, names, proba, classes):
    """On stderr: each image whose top probability is under LOW_CONFIDENCE."""
    import numpy as np

    low = np.flatnonzero(proba.max(axis=1) < LOW_CONFIDENCE)
    if not len(low):
        return
    err.print(
        f"{len(low)} of {len(names)} images under {LOW_CONFIDENCE:.2f} "
        "confidence; the digit may be wrong:",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    for i in low:
        first, second = np.argsort(proba[i])[::-1][:2]
        err.print(
            f"  {names[i]}: {classes[first]} at {proba[i, first]:.4f}, "
            f"then {classes[second]} at {proba[i, second]:.4f}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


# -- export-onnx ------------------------------------------------------------------


def _export_onnx(args, out, err):
    from pathlib import Path

    from .._utils._io import write_bytes_atomic
    from ..exceptions import MissingExtraError

    fail = "skmnist export-onnx: error:"
    model_path, out_path = Path(args.model), Path(args.out)
    if not model_path.is_file():
        raise UsageError(f"{fail} MODEL {args.model}: no such file (or not a file)")
    if out_path.resolve() == model_path.resolve():
        raise UsageError(
            f"{fail} OUT {args.out} is MODEL itself; writing the ONNX file there "
            "would destroy the model, so name another file"
        )
    if out_path.is_dir():
        raise UsageError(f"{fail} OUT {args.out}: is a folder; name an .onnx file")
    if not out_path.absolute().parent.is_dir():
        raise UsageError(
            f"{fail} OUT {args.out}: folder {out_path.absolute().parent} does not exist"
        )
    from ..export import OPSET, to_onnx

    model = _load_model(args.model, command="export-onnx", option="MODEL")
    try:
        onx = to_onnx(model, opset=OPSET if args.opset is None else args.opset)
    except (MissingExtraError, TypeError, ValueError) as error:
        raise UsageError(
            f"{fail} cannot export MODEL {args.model}: {one_line(error)}"
        ) from None
    try:
        write_bytes_atomic(out_path, onx.SerializeToString())
    except OSError as error:
        raise UsageError(
            f"{fail} OUT {args.out}: cannot write: {error.strerror or error}"
        ) from None
    shape = onx.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    opset = next(o.version for o in onx.opset_import if o.domain in ("", "ai.onnx"))
    out.print(
        f"Wrote {out_path} ({out_path.stat().st_size / 1024:,.0f} KiB, opset "
        f"{opset}): {type(model).__name__}, input 'input' "
        f"float32 (n, {shape}), outputs 'label' and 'probabilities'",
        highlight=False,
        soft_wrap=True,
    )
    return 0


COMMANDS = {
    "compare": _compare,
    "tune": _tune,
    "download": _download,
    "predict": _predict,
    "export-onnx": _export_onnx,
}
