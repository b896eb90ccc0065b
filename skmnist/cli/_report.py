"""What ``skmnist compare`` shows and writes: its table, results.json, report.md."""

import json
import time
from pathlib import Path

from .._utils._io import environment

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
        header = _NARROW_HEADERS.get(key, header) if result.cv else header
        justify = "left" if key == "model" else "right"
        table.add_column(header, justify=justify, no_wrap=True)
    for cells in result.formatted_rows(std_for=("accuracy",)):
        table.add_row(*cells)
    return table


def rich_legend(result):
    """The table's footer: each model's estimator, iterations and warnings, the best."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for row in result.rows:
        line = Text(row.get("estimator") or "")
        if budget := iterations_text(row):
            line.append(f"; {budget}", style="dim")
        if row.get("warnings"):
            line.append("; did not converge (!)", style="bold yellow")
        grid.add_row(row["model"], line)
    for row in result.rows:
        for note in row.get("warnings") or []:
            grid.add_row(Text(f"(!) {row['model']}", style="yellow"), Text(note))
    grid.add_row("", "")
    grid.add_row(Text("Best", style="bold"), best_text(result))
    return grid


def iterations_text(row):
    """What a row's model ran, e.g. ``"30 epochs, the max_iter limit"``, or ``""``."""
    if row.get("n_iter") is None:
        return ""
    text = f"{row['n_iter']:,} {row.get('iter_unit') or 'iterations'}"
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
    folder, result, X_test, y_test, *, data, command, figures, save_models, started
):
    """Write figures, models, ``results.json`` and ``report.md`` into ``folder``.

    The figures and saved models are those of ``result.estimators``: fitted on
    the training images, or refit on all of them after cross-validation.
    """
    paths = []
    if figures:
        from ..plotting import save_report_figures

        paths += save_report_figures(folder, result.estimators, X_test, y_test, result)
    if save_models:
        (folder / "models").mkdir()
        paths += [
            save_model(model, folder / "models" / f"{name}.skmnist")
            for name, model in result.estimators.items()
        ]
    env = environment()
    wall = time.perf_counter() - started
    files = [path.relative_to(folder) for path in paths]
    summary = {
        **result.to_dict(),
        "data": data,
        "command": command,
        "environment": env,
        "wall_seconds": wall,
        "files": [str(file) for file in files],
    }
    paths.append(folder / "results.json")
    paths[-1].write_text(json.dumps(summary, indent=2, default=str) + "\n")
    files.append(Path("results.json"))
    paths.append(folder / "report.md")
    paths[-1].write_text(_markdown(result, data, command, env, wall, files))
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


def _markdown(result, data, command, env, wall, files):
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
        budget = iterations_text(row)
        lines.append(
            f"- **{row['model']}**: `{row.get('estimator', '?')}`"
            + (f"; {budget}." if budget else ".")
        )
        lines += [f"  - Did not converge: {note}" for note in row.get("warnings") or []]
    lines.append("")
    images = [f for f in files if f.suffix == ".png"]
    others = [f for f in files if f.suffix != ".png"]
    if images:
        lines += ["## Figures", ""]
        if result.cv:
            lines.append(
                "Predictions, confusion matrices and loss curves are those "
                "of the models refit on all training images."
            )
        else:
            lines.append(
                "Validation curves, where shown, are the Keras models' loss "
                "and accuracy on the test images after each epoch: recorded "
                "to show over-fitting, never used to choose or stop a model."
            )
        lines += ["", *(f"![{f.stem}]({f.as_posix()})" for f in images), ""]
    if others:
        lines += ["## Files", ""]
        lines += [f"- [{f.as_posix()}]({f.as_posix()})" for f in others] + [""]
    libraries = ", ".join(f"{k} {v}" for k, v in env["libraries"].items() if v)
    lines += [
        "## Machine",
        "",
        f"- {env['platform']}, {env['cpu_count']} CPUs ({env['processor']})",
        f"- Python {env['python']}; {libraries}",
        f"- Wall time of the command: {wall:.1f} s",
    ]
    return "\n".join(lines) + "\n"


def save_model(estimator, path):
    """:func:`skmnist.save`, after dropping the command line's progress callback."""
    from ..persistence import save

    if "callbacks" in estimator.get_params(deep=False):
        # The progress display belongs to this run; a saved model has none.
        estimator.set_params(callbacks=None)
    return save(estimator, path)
