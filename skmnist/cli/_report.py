"""Files written by the command line: report folders, JSON, Markdown, CSV.

Everything is written into a temporary folder (or file) beside its target and
renamed into place at the end, so an interrupted run never leaves half a
report behind.
"""

import contextlib
import csv
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from .._utils import _stop
from .._utils._io import atomic_open, environment, usual_folder_mode
from ..exceptions import UsageError
from ._parser import REPORT_MARKER


class ReportFolder:
    """Context manager yielding a temporary folder that replaces ``path`` on success.

    Built before the long work, it checks at once that ``path`` can be
    written: not the current folder or one above it, nor a mount point; an
    existing folder only if it is empty, holds :data:`REPORT_MARKER` (skmnist
    wrote it) or ``force`` is set; a parent folder that exists and is writable,
    or whose own parent is (the missing parent is then created, one level
    only, as ``mkdir`` would). Each failure is a :class:`UsageError` naming
    ``--out``.

    On entering, a hidden temporary folder holding the marker is created
    beside ``path``; on success it replaces ``path``. On an exception (Ctrl-C
    and SIGTERM included) it is deleted, with a parent folder created for it,
    and ``path`` is left as it was.

    Parameters
    ----------
    path : str or path-like
        The report folder (``--out``).
    force : bool, default=False
        Replace an existing folder that skmnist did not write (``--force``).
    command : str, default="compare"
        The command writing the folder, named in the marker file.
    inputs : dict of str to path-like, default=None
        The files and folders the command reads, by option name (``--source``,
        ``--data-home``): ``path`` may not be one of them or hold one, since
        replacing it would delete them, ``--force`` or not.
    """

    def __init__(self, path, *, force=False, command="compare", inputs=None):
        self.given = str(path)
        # Resolved once: a symbolic link is followed to the folder it names,
        # and "." or ".." become the folders they are.
        self.path = Path(path).resolve()
        self.force = force
        self.command = command
        self.inputs = {
            option: value
            for option, value in (inputs or {}).items()
            if value is not None
        }
        self._tmp = None
        self._made_parent = False
        self._make_parent = self._check()

    def _error(self, message):
        return UsageError(f"--out {self.given}: {message}")

    def _check(self):
        """Refuse an unusable ``path``; return whether its parent must be made."""
        path = self.path
        for what, precious in (
            ("the current folder", Path.cwd().resolve()),
            ("your home folder", Path.home().resolve()),
        ):
            # Replacing them would pull the ground from under the user.
            if path == precious or path in precious.parents:
                raise self._error(
                    f"is {what} or a folder above it; name a new "
                    "folder, e.g. --out skmnist-report"
                )
        for option, value in self.inputs.items():
            used = Path(value).expanduser().resolve()
            if used == path or path in used.parents:
                raise self._error(
                    f"holds {option} {value}, which replacing the "
                    "folder would delete; name another folder"
                )
        if path.exists():
            if not path.is_dir():
                raise self._error("exists and is not a folder")
            if os.path.ismount(path):
                raise self._error("is a mount point; name a folder inside it")
            if not self.force and not self._replaceable():
                raise self._error(
                    f"folder exists and was not written by skmnist (it has no "
                    f"{REPORT_MARKER} file); name another folder, or add --force "
                    "to replace it and everything in it"
                )
        parent, make_parent = path.parent, False
        if not parent.is_dir():
            if parent.exists():
                raise self._error(f"{parent} is not a folder")
            if not parent.parent.is_dir():
                raise self._error(
                    f"folder {parent.parent} does not exist (skmnist "
                    "creates one missing level at most)"
                )
            parent, make_parent = parent.parent, True
        try:  # the one sure test of writability (root ignores mode bits)
            os.rmdir(tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent))
        except OSError as error:
            raise self._error(
                f"cannot create a folder in {parent}: {error.strerror or error}"
            ) from None
        return make_parent

    def _replaceable(self):
        """Whether ``path`` is empty or marked as written by skmnist."""
        try:
            return (self.path / REPORT_MARKER).is_file() or next(
                self.path.iterdir(), None
            ) is None
        except OSError as error:
            raise self._error(
                f"cannot read the folder: {error.strerror or error}"
            ) from None

    def __enter__(self):
        parent = self.path.parent
        if self._make_parent and not parent.is_dir():
            parent.mkdir()
            self._made_parent = True
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", dir=parent))
        os.chmod(self._tmp, usual_folder_mode())  # mkdtemp makes it private (0700)
        from .._version import __version__

        (self._tmp / REPORT_MARKER).write_text(
            f"Written by `skmnist {self.command}` (skmnist {__version__}).\n"
            "skmnist replaces this folder when --out names it again, because "
            "of this file;\ndelete the file to keep the folder from being "
            "replaced.\n"
        )
        return self._tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:  # a stop swallowed by a library callback: honour it now
                _stop.raise_if_stopped()
            except BaseException:
                with _stop.deferred():
                    self._discard()
                raise
        with _stop.deferred():  # no second signal cuts clean-up or commit short
            return self._exit(exc_type)

    def _exit(self, exc_type):
        if exc_type is None and (
            self.path.exists() and not self.force and not self._replaceable()
        ):
            self._discard()
            raise self._error(
                "the folder was changed by someone else while "
                "skmnist ran; nothing was replaced"
            )
        if exc_type is not None:
            self._discard()
            return False
        old = None
        try:
            if self.path.exists():
                old = self._tmp.with_name(self._tmp.name + ".old")
                os.replace(self.path, old)
            os.replace(self._tmp, self.path)
        except BaseException:
            if old is not None and not self.path.exists():
                os.replace(old, self.path)  # put the old report back
            self._discard()
            raise
        finally:
            if old is not None and old.exists() and self.path.exists():
                shutil.rmtree(old, ignore_errors=True)
        return False

    def _discard(self):
        shutil.rmtree(self._tmp, ignore_errors=True)
        if self._made_parent:
            with contextlib.suppress(OSError):  # only if still empty
                self.path.parent.rmdir()


def write_json(path, data):
    """Write ``data`` as indented JSON (tuples become lists, others strings)."""
    path = Path(path)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


_NARROW_HEADERS = {
    "test_accuracy": "test\n(refit)",
    "log_loss": "log\nloss",
    "f1_macro": "macro\nF1",
    "fit_seconds": "fit\n(s)",
    "predict_seconds": "predict\n(s)",
    "n_parameters": "params",
}


def rich_table(result, *, title=None):
    """A ``rich.table.Table`` of a :class:`~skmnist.comparison.ComparisonResult`."""
    from rich import box
    from rich.table import Table

    # No vertical rules; with --cv the spread of the accuracy only (report.md
    # has all) and headers on two lines: the columns then fit 80 characters.
    table = Table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True
    )
    for key, (header, _) in result.columns().items():
        if result.cv:
            header = _NARROW_HEADERS.get(key, header)
        table.add_column(
            header, justify="left" if key == "model" else "right", no_wrap=True
        )
    for cells in result.formatted_rows(std_for=("accuracy",)):
        table.add_row(*cells)
    return table


def rich_legend(result):
    """The table's footer: each model's estimator, iterations run and warnings.

    A ``rich.table.Table`` grid of one line per model (then one per warning)
    and the best model with the rule that chose it.
    """
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for row in result.rows:
        line = Text(row.get("estimator") or "")
        budget = iterations_text(row)
        if budget:
            line.append(f"; {budget}", style="dim")
        if row.get("warnings"):
            line.append("; did not converge (!)", style="bold yellow")
        grid.add_row(row["model"], line)
    for row in result.rows:
        for note in row.get("warnings") or []:
            grid.add_row(Text(f"(!) {row['model']}", style="yellow"), note)
    grid.add_row("", "")
    grid.add_row(Text("Best", style="bold"), best_text(result))
    return grid


def iterations_text(row):
    """What a row's model ran, e.g. ``"30 epochs, the max_iter limit"``, or ``""``."""
    if row.get("n_iter") is None:
        return ""
    unit = row.get("iter_unit") or "iterations"
    text = f"{row['n_iter']:,} {unit}"
    limit = row.get("max_iter")
    if limit is None:
        return text
    if row["n_iter"] >= limit:
        return f"{text}, the max_iter limit"
    return f"{text}, stopped before max_iter={limit:,}"


def best_text(result):
    """The best model, its accuracy and, on a tie, why it won."""
    best = result.best
    kind = "cross-validated accuracy" if result.cv else "test accuracy"
    text = f"{best['model']}, {kind} {best['accuracy']:.4f}"
    tied = [
        row["model"]
        for row in result.rows
        if row is not best and row["accuracy"] == best["accuracy"]
    ]
    if tied:
        text += f" (tied with {', '.join(tied)}; lower log loss)"
    return text


def write_compare_report(
    folder,
    result,
    X_test,
    y_test,
    *,
    data,
    command,
    figures=True,
    save_models=False,
    started=None,
):
    """Write ``results.json``, ``report.md``, figures and models into ``folder``.

    The figures and saved models are those of ``result.estimators``: the
    models fitted on the training images, or refit on all of them after
    cross-validation.
    """
    folder = Path(folder)
    paths = []
    fitted = result.estimators
    if figures:
        from ..plotting import save_report_figures

        paths += save_report_figures(folder, fitted, X_test, y_test, result)
    if save_models:
        (folder / "models").mkdir()
        paths += [
            save_model(model, folder / "models" / f"{name}.skmnist")
            for name, model in fitted.items()
        ]
    env = environment()
    wall = None if started is None else time.perf_counter() - started
    summary = {
        **result.to_dict(),
        "data": data,
        "command": command,
        "environment": env,
        "wall_seconds": wall,
        "files": [str(path.relative_to(folder)) for path in paths],
    }
    paths.append(write_json(folder / "results.json", summary))
    paths.append(
        _write_markdown(
            folder / "report.md",
            result,
            data,
            command,
            env,
            wall,
            [p.relative_to(folder) for p in paths],
        )
    )
    return paths


def _setup_text(result, data):
    n_train = data["n_train"]
    if not result.cv:
        return (
            f"each model was fitted on the same {n_train:,} training images "
            f"and scored on {data['n_test']:,} test images."
        )
    fold = n_train // result.cv
    text = (
        f"{result.cv}-fold cross-validation on {n_train:,} training images "
        f"(each fold fits on about {n_train - fold:,} and scores {fold:,}): "
        "accuracy, log loss and macro F1 are the mean ± standard deviation "
        "over the folds, the times are means. Each model was then refit on "
        f"all {n_train:,} training images"
    )
    if result.n_test:
        text += (
            f"; that refit model is scored on {result.n_test:,} test images "
            "(refit test accuracy)"
        )
    return text + ", and it is the one the figures show and --save writes."


def _write_markdown(path, result, data, command, env, wall, files):
    lines = [
        "# skmnist comparison",
        "",
        f"Command: `{command}`",
        "",
        f"Data: MNIST from `{data['source']}`; {_setup_text(result, data)}",
        "",
        result.to_markdown(),
        "",
        f"Best: **{best_text(result)}**. The best model has the highest "
        "accuracy, ties going to the lower log loss; the prediction figures "
        "show it.",
        "",
        "## Models",
        "",
    ]
    for row in result.rows:
        line = f"- **{row['model']}**: `{row.get('estimator', '?')}`"
        budget = iterations_text(row)
        lines.append(line + (f"; {budget}." if budget else "."))
        lines += [f"  - Did not converge: {note}" for note in row.get("warnings") or []]
    lines.append("")
    images = [f for f in files if f.suffix == ".png"]
    others = [f for f in files if f.suffix != ".png"]
    if images:
        lines += ["## Figures", ""]
        if result.cv:
            lines += [
                "Predictions, confusion matrices and loss curves are those "
                "of the models refit on all training images.",
                "",
            ]
        else:
            lines += [
                "Validation curves, where shown, are the Keras models' loss "
                "and accuracy on the test images after each epoch: recorded "
                "to show over-fitting, never used to choose or stop a "
                "model.",
                "",
            ]
        lines += [f"![{f.stem}]({f.as_posix()})" for f in images] + [""]
    if others:
        lines += ["## Files", ""]
        lines += [f"- [{f.as_posix()}]({f.as_posix()})" for f in others] + [""]
    libraries = ", ".join(f"{k} {v}" for k, v in env["libraries"].items() if v)
    lines += [
        "## Machine",
        "",
        f"- {env['platform']}, {env['cpu_count']} CPUs ({env['processor']})",
        f"- Python {env['python']}; {libraries}",
    ]
    if wall is not None:
        lines.append(f"- Wall time of the command: {wall:.1f} s")
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)


def save_model(estimator, path):
    """:func:`skmnist.save`, after dropping the command line's progress callback."""
    from ..persistence import save

    if "callbacks" in estimator.get_params(deep=False):
        # The progress display belongs to this run; a saved model has none.
        estimator.set_params(callbacks=None)
    return save(estimator, path)


def write_predictions(path, y_true, y_pred):
    """Write ``index,true,predicted`` rows to ``path`` atomically."""
    path = Path(path)
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "true", "predicted"])
        writer.writerows(zip(range(len(y_true)), y_true.tolist(), y_pred.tolist()))
    return path


def check_out_file(path, *, inputs=None):
    """Refuse an ``--out`` file that cannot be written, before any work.

    The file's folder must exist and take a new file (a temporary file is
    created and removed there); an existing ``path`` must be a file, and not
    one of ``inputs`` (a dict of option name to the paths the command reads),
    which the CSV would overwrite.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"--out {path}: is a folder; name a .csv file")
    for option, values in (inputs or {}).items():
        for value in values:
            if path.resolve() == Path(value).resolve():
                raise UsageError(
                    f"--out {path}: is the {option} this command "
                    "reads; writing the predictions there would "
                    "destroy it, so name another .csv file"
                )
    folder = path.absolute().parent
    if not folder.is_dir():
        raise UsageError(f"--out {path}: folder {folder} does not exist")
    try:  # the one sure test of writability (root ignores mode bits)
        handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        os.close(handle)
        os.unlink(tmp)
    except OSError as error:
        raise UsageError(
            f"--out {path}: cannot write in {folder}: {error.strerror or error}"
        ) from None


def write_image_predictions(path, names, labels, probabilities):
    """Write ``image,digit,probability`` rows to ``path`` atomically."""
    path = Path(path)
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "digit", "probability"])
        for name, label, probability in zip(
            names, labels.tolist(), probabilities.tolist()
        ):
            writer.writerow(
                [
                    name,
                    label,
                    "" if probability != probability else f"{probability:.6f}",
                ]
            )
    return path
