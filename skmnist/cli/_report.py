"""Files written by the command line: report folders, JSON, Markdown, CSV.

Everything is written into a temporary folder (or file) beside its target and
renamed into place at the end, so an interrupted run never leaves half a
report behind.
"""

import csv
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from .._io import atomic_open, environment, usual_folder_mode
from ..exceptions import UsageError


class ReportFolder:
    """Context manager yielding a temporary folder that replaces ``path`` on success.

    On an exception (Ctrl-C included) the temporary folder is deleted and
    ``path`` is left as it was.
    """

    def __init__(self, path):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise UsageError(f"--out {path}: exists and is not a folder")
        self._tmp = None

    def __enter__(self):
        parent = self.path.absolute().parent
        parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", dir=parent))
        os.chmod(self._tmp, usual_folder_mode())  # mkdtemp makes it private (0700)
        return self._tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            return False
        old = None
        if self.path.exists():
            old = self._tmp.with_name(self._tmp.name + ".old")
            os.replace(self.path, old)
        os.replace(self._tmp, self.path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return False


def write_json(path, data):
    """Write ``data`` as indented JSON (tuples become lists, others strings)."""
    path = Path(path)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def rich_table(result, *, title=None):
    """A ``rich.table.Table`` of a :class:`~skmnist.comparison.ComparisonResult`."""
    from rich import box
    from rich.table import Table

    from ..comparison import COLUMNS

    # No vertical rules: the seven columns then fit an 80-column terminal.
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False,
                  collapse_padding=True)
    for key, (header, _) in COLUMNS.items():
        table.add_column(header, justify="left" if key == "model" else "right",
                         no_wrap=key == "model")
    for cells in result.formatted_rows():
        table.add_row(*cells)
    return table


def write_compare_report(folder, result, X_test, y_test, *, data, command,
                         figures=True, save_models=False, started=None):
    """Write ``results.json``, ``report.md``, figures and models into ``folder``."""
    folder = Path(folder)
    paths = []
    fitted = {name: model[0] if isinstance(model, list) else model
              for name, model in result.estimators_.items()}
    if figures:
        from ..plotting import save_report_figures

        paths += save_report_figures(folder, fitted, X_test, y_test, result)
    if save_models:
        (folder / "models").mkdir()
        paths += [save_model(model, folder / "models" / f"{name}.skmnist")
                  for name, model in fitted.items()]
    env = environment()
    wall = None if started is None else time.perf_counter() - started
    summary = {**result.to_dict(), "data": data, "command": command,
               "environment": env, "wall_seconds": wall,
               "files": [str(path.relative_to(folder)) for path in paths]}
    paths.append(write_json(folder / "results.json", summary))
    paths.append(_write_markdown(folder / "report.md", result, data, command, env,
                                 wall, [p.relative_to(folder) for p in paths]))
    return paths


def _write_markdown(path, result, data, command, env, wall, files):
    best = result.best_
    if data.get("cv"):
        setup = (f"{data['cv']}-fold cross-validation on {data['n_train']:,} "
                 "training images; each cell is mean ± standard deviation.")
    else:
        setup = (f"fitted on {data['n_train']:,} training images, scored on "
                 f"{data['n_test']:,} test images.")
    lines = [
        "# skmnist comparison", "",
        f"Command: `{command}`", "",
        f"Data: MNIST from `{data['source']}`, {setup}", "",
        result.to_markdown(), "",
        f"Most accurate: **{best['model']}** (accuracy {best['accuracy']:.4f}).", "",
    ]
    images = [f for f in files if f.suffix == ".png"]
    others = [f for f in files if f.suffix != ".png"]
    if images:
        lines += ["## Figures", "",
                  "Validation curves, where shown, are the Keras models' loss and "
                  "accuracy on the test images after each epoch: recorded to show "
                  "over-fitting, never used to choose or stop a model.", ""]
        lines += [f"![{f.stem}]({f.as_posix()})" for f in images] + [""]
    if others:
        lines += ["## Files", ""]
        lines += [f"- [{f.as_posix()}]({f.as_posix()})" for f in others] + [""]
    libraries = ", ".join(f"{k} {v}" for k, v in env["libraries"].items() if v)
    lines += ["## Machine", "",
              f"- {env['platform']}, {env['cpu_count']} CPUs ({env['processor']})",
              f"- Python {env['python']}; {libraries}"]
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
