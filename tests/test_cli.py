"""End-to-end runs of ``skmnist`` in process, on tiny settings."""

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from cli_helpers import run, tiny

import skmnist
from skmnist import cli

TINY = tiny(max_iter=2)


def no_leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """One saved comparison shared by the compare and predict tests."""
    out = tmp_path_factory.mktemp("cmp") / "report"
    status = cli.main(
        ["compare", *TINY, "--models", "baseline,logistic", "--save", "--out", str(out)]
    )
    return status, out


def test_compare_writes_table_report_figures_and_models(compared, capsys):
    status, out = compared
    assert status == 0
    results = json.loads((out / "results.json").read_text())
    assert [row["model"] for row in results["rows"]] == ["baseline", "logistic"]
    assert results["data"] == {
        "source": "embedded",
        "n_train": 200,
        "n_test": 100,
        "cv": None,
    }
    assert 0 < results["rows"][1]["accuracy"] <= 1
    assert results["environment"]["libraries"]["scikit-learn"]
    report = (out / "report.md").read_text()
    assert "| model | accuracy | log loss |" in report
    assert "![comparison](comparison.png)" in report
    for name in (
        "comparison.png",
        "confusion_logistic.png",
        "loss_curves.png",
        "models/baseline.skmnist",
        "models/logistic.skmnist",
    ):
        assert (out / name).stat().st_size > 0, name
    assert no_leftovers(out.parent) == []


def test_compare_prints_table_and_progress(tmp_path, capsys):
    status, out, err = run(
        capsys,
        "compare",
        *TINY,
        "--models",
        "logistic",
        "--no-figures",
        "--out",
        tmp_path / "r",
    )
    assert status == 0
    assert "macro F1" in out and "logistic" in out and "200 train / 100 test" in out
    assert "[1/1] logistic ..." in err and "epoch 2/2" in err
    # Keras' "loss" and "val_loss", spelt out: the validation data of compare
    # without --cv is the test set, and the line says so.
    epoch = next(line for line in err.splitlines() if "epoch 2/2" in line)
    assert "train loss" in epoch and "test loss" in epoch
    assert "train accuracy" in epoch and "val" not in epoch
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        ".skmnist-report",
        "report.md",
        "results.json",
    ]


def test_compare_cv_and_replacing_an_old_report(tmp_path, capsys):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / ".skmnist-report").write_text("")  # an earlier report
    (tmp_path / "r" / "stale.txt").write_text("old")
    status, out, _ = run(
        capsys,
        "compare",
        *TINY,
        "--models",
        "baseline",
        "--cv",
        "2",
        "--no-figures",
        "--save",
        "--out",
        tmp_path / "r",
    )
    assert status == 0 and "±" in out and "(refit)" in out
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    row = results["rows"][0]
    assert results["cv"] == 2 and "accuracy_std" in row
    # The saved model is the refit on all 200 training images, which the
    # test accuracy in the table scores.
    saved = skmnist.load(tmp_path / "r" / "models" / "baseline.skmnist")
    from skmnist.cli._data import train_test

    args = cli.build_parser().parse_args(["compare", *TINY])
    _, y_train, X_test, y_test = train_test(args)
    assert len(y_train) == 200
    assert row["test_accuracy"] == pytest.approx(saved.score(X_test, y_test))
    assert row["n_train"] == 200 and row["n_test"] == 100
    report = (tmp_path / "r" / "report.md").read_text()
    assert "refit on all 200 training images" in report
    assert not (tmp_path / "r" / "stale.txt").exists()
    assert no_leftovers(tmp_path) == []


def test_compare_names_each_estimator_and_its_warnings(tmp_path, capsys):
    status, out, _ = run(
        capsys,
        "compare",
        *TINY,
        "--models",
        "baseline,sklearn-mlp",
        "--max-iter",
        "2",
        "--no-figures",
        "--out",
        tmp_path / "r",
    )
    assert status == 0
    out = " ".join(out.split())  # the legend wraps at the console's width
    assert "LogisticRegression(C=0.1, max_iter=1000, random_state=0)" in out
    assert "MLPClassifier(hidden_layer_sizes=(128,), max_iter=2" in out
    assert "2 epochs, the max_iter limit" in out and "Best" in out
    assert "Maximum iterations (2) reached" in out  # the warning, under the table
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    baseline, mlp = results["rows"]
    assert baseline["warnings"] == [] and len(mlp["warnings"]) == 1
    assert mlp["estimator"].startswith("Pipeline(PixelScaler(), MLPClassifier(")
    assert results["best"] in {"baseline", "sklearn-mlp"}
    report = (tmp_path / "r" / "report.md").read_text()
    assert "- **sklearn-mlp**: `Pipeline(PixelScaler(), MLPClassifier(" in report
    assert "Did not converge: Stochastic Optimizer: Maximum iterations (2)" in report


def test_predict_prints_accuracy_and_writes_csv(compared, tmp_path, capsys):
    _, report = compared
    csv_path = tmp_path / "pred.csv"
    status, out, _ = run(
        capsys,
        "predict",
        "--model",
        report / "models" / "logistic.skmnist",
        "--source",
        "embedded",
        "--out",
        csv_path,
    )
    assert status == 0 and "Accuracy" in out and "1,000 test images" in out
    rows = list(csv.reader(csv_path.open()))
    assert rows[0] == ["index", "true", "predicted"] and len(rows) == 1001
    accuracy = np.mean([r[1] == r[2] for r in rows[1:]])
    assert f"Accuracy {accuracy:.4f}" in out


def test_tune_grid_search(tmp_path, capsys, recwarn):
    status, out, err = run(
        capsys,
        "tune",
        "--model",
        "logistic",
        "--param",
        "alpha=1e-4,1.0",
        "--cv",
        "2",
        *TINY,
        "--out",
        tmp_path / "t",
    )
    assert status == 0
    assert "rank" in out and "Best parameters: alpha=" in out
    assert "test accuracy" in out
    assert "fit 5/5 done" in err  # 2 candidates x 2 folds + refit
    # A log that is not a terminal still shows epochs of every fit.
    for fit in range(1, 6):
        assert f"fit {fit}/5: epoch 2/2: train loss" in err
    # 2 epochs converge in no fit: one line under the table says so, as
    # compare's legend does, and no raw warning (nor its source line) is shown.
    note = "(!) 5 of 5 fits: KerasLogistic: maximum iterations (2) reached"
    assert note in out
    assert "Warning" not in out + err and "estimator.fit(" not in err
    assert not [w for w in recwarn if "maximum iterations" in str(w.message)]
    summary = json.loads((tmp_path / "t" / "tune.json").read_text())
    assert summary["warnings"][0]["fits"] == 5
    assert summary["best_params"]["alpha"] in (1e-4, 1.0)
    assert len(summary["top"]) == 2 and summary["top"][0]["rank"] == 1
    assert (tmp_path / "t" / "best_model.skmnist").stat().st_size > 0


def test_tune_n_jobs_runs_threads_with_the_same_results(tmp_path, capsys):
    # On JAX, --n-jobs runs the fits as threads of this process (no worker to
    # start): the search must find what --n-jobs 1 finds, and the epochs, which
    # worker processes could not show, are shown.
    from skmnist._engine._keras import import_keras

    if import_keras().backend.backend() != "jax":
        pytest.skip("--n-jobs runs worker processes on TensorFlow")
    summaries = {}
    for n_jobs in (1, 2):
        status, _, err = run(
            capsys,
            "tune",
            "--model",
            "mlp",
            "--param",
            "alpha=1e-4,1.0",
            "--cv",
            "2",
            "--seed",
            "0",
            "--n-jobs",
            n_jobs,
            *TINY,
            "--out",
            tmp_path / str(n_jobs),
        )
        assert status == 0
        assert "fit 5/5 done" in err and "epoch 2/2: train loss" in err
        summaries[n_jobs] = json.loads(
            (tmp_path / str(n_jobs) / "tune.json").read_text()
        )
    assert summaries[2]["best_params"] == summaries[1]["best_params"]
    for row in summaries[1]["top"] + summaries[2]["top"]:
        del row["mean_fit_seconds"]
    assert summaries[2]["top"] == summaries[1]["top"]


def test_tune_max_iter_as_a_param(tmp_path, capsys):
    # Epochs may be searched too, when --max-iter is left out (both: exit 2,
    # in test_cli_errors.py).
    no_max_iter = TINY[: TINY.index("--max-iter")]
    status, out, _ = run(
        capsys,
        *["tune", "--model", "logistic", "--param", "max_iter=1,2", "--cv", "2"],
        *[*no_max_iter, "--out", tmp_path / "t"],
    )
    assert status == 0, out
    summary = json.loads((tmp_path / "t" / "tune.json").read_text())
    assert summary["grid"] == {"max_iter": [1, 2]}
    assert summary["best_params"]["max_iter"] in (1, 2)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("alpha=1e-4,0.1", ("alpha", [1e-4, 0.1])),
        (
            "hidden_layer_sizes=(64,),(32, 32)",
            ("hidden_layer_sizes", [(64,), (32, 32)]),
        ),
        ("solver=adam,sgd", ("solver", ["adam", "sgd"])),
        ("early_stopping=True,False", ("early_stopping", [True, False])),
        ("solver=adam,1e-3", ("solver", ["adam", 1e-3])),
        ("batch_size=auto,64", ("batch_size", ["auto", 64])),
    ],
)
def test_param_values_are_python_literals_or_words(text, expected):
    from skmnist.cli._tune import _parse_param

    assert _parse_param(text) == expected


def _mnist_npz_bytes(n_train=20, n_test=10):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    labels = np.arange(n_train, dtype=np.uint8) % 10
    buffer = io.BytesIO()
    np.savez(
        buffer,
        x_train=images,
        y_train=labels,
        x_test=images[:n_test],
        y_test=labels[:n_test],
    )
    return buffer.getvalue()


def test_download_fetches_verifies_and_reuses_the_cache(serve, tmp_path, capsys):
    serve(_mnist_npz_bytes())
    status, out, _ = run(
        capsys, "download", "--source", "keras", "--data-home", tmp_path
    )
    assert status == 0
    assert "Verified 30 images (784 pixels each, labels 0-9)" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mnist.npz"]
    # --data-home and --force reach the download: the verified cache is reused
    # unless forced.
    assert run(capsys, "download", "--data-home", tmp_path)[0] == 0
    assert serve.requests == ["/mnist.npz"]
    assert run(capsys, "download", "--data-home", tmp_path, "--force")[0] == 0
    assert serve.requests == ["/mnist.npz", "/mnist.npz"]


@pytest.mark.parametrize(
    "mode, cause",
    [
        ("missing", "(HTTP Error 404"),
        ("truncated", "(connection closed after"),
    ],
)
def test_download_failure_is_one_line_and_leaves_nothing(
    serve, tmp_path, capsys, mode, cause
):
    remote = serve(_mnist_npz_bytes(), mode=mode)
    status, _, err = run(capsys, "download", "--data-home", tmp_path)
    assert status == 1
    progress, error = err.strip().splitlines()
    assert progress.startswith("Downloading MNIST from keras")
    assert error.startswith(
        f"skmnist download: error: Could not download MNIST from {remote.url} {cause}"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv, phrase",
    [
        (["compare", "--models", "baseline,rnn"], "unknown model(s) rnn"),
        (["compare", "--max-iter", "0"], "expected a positive integer"),
        (["compare", "--source", "/no/such/mnist.npz"], "no such file"),
        (["compare", "--source", "mnist-on-the-moon"], "cannot read data"),
        (["tune", "--model", "logistic", "--param", "alpha"], "malformed --param"),
        (
            ["tune", "--model", "logistic", "--param", "colour=1,2"],
            "unknown parameter 'colour'",
        ),
        (["tune", "--model", "mlp", "--param", "alpha=-1"], "--param alpha"),
        (
            ["tune", "--model", "mlp", "--param", "learning_rate=0.01"],
            "learning_rate_init=0.01",
        ),
        (["tune", "--model", "mlp", "--param", "epochs=5,10"], "use max_iter"),
        (["tune", "--model", "mlp", "--param", "solver=lbfgs"], "no L-BFGS"),
        (["tune", "--model", "cnn"], "invalid choice: 'cnn'"),
        (["predict", "--model", "/no/such/model.skmnist"], "no such file"),
        (["download", "--source", "s3"], "invalid choice"),
        (["fly"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, phrase, capsys):
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert phrase in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_unreadable_data_and_model_exit_2(tmp_path, capsys):
    garbage = tmp_path / "broken.npz"
    garbage.write_bytes(b"not a zip file")
    status, _, err = run(
        capsys, "compare", "--source", garbage, "--out", tmp_path / "r"
    )
    assert status == 2 and "cannot read data" in err
    assert len(err.strip().splitlines()) == 1
    status, _, err = run(capsys, "predict", "--model", garbage, "--source", "embedded")
    assert status == 2 and "cannot load --model" in err
    assert not (tmp_path / "r").exists()


def test_out_that_is_a_file_exits_2(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    status, _, err = run(capsys, "compare", "--out", target)
    assert status == 2 and "is not a folder" in err


def test_ctrl_c_during_fitting_writes_nothing(tmp_path, capsys, monkeypatch):
    import skmnist.comparison

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(skmnist.comparison, "compare", interrupted)
    status, _, err = run(capsys, "compare", *TINY, "--out", tmp_path / "r")
    assert status == 130 and "interrupted" in err
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_writing_keeps_the_old_report(tmp_path, capsys, monkeypatch):
    old = tmp_path / "r"
    old.mkdir()
    (old / ".skmnist-report").write_text("")
    (old / "report.md").write_text("previous report")

    def half_written(folder, *args, **kwargs):
        (folder / "results.json").write_text("{")
        raise KeyboardInterrupt

    from skmnist.cli import _commands

    monkeypatch.setattr(_commands, "write_compare_report", half_written)
    status, _, _ = run(capsys, "compare", *TINY, "--models", "baseline", "--out", old)
    assert status == 130
    assert sorted(p.name for p in old.iterdir()) == [".skmnist-report", "report.md"]
    assert (old / "report.md").read_text() == "previous report"
    assert no_leftovers(tmp_path) == []


@pytest.mark.parametrize("command", ["compare", "tune", "download", "predict"])
def test_help_states_every_default(command, capsys):
    status, out, _ = run(capsys, command, "--help")
    assert status == 0
    parser = cli.build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    for action in sub._actions:
        if action.option_strings and action.dest != "help":
            assert action.option_strings[-1] in out
            text = sub._get_formatter()._get_help_string(action)
            assert "default" in text or "required" in text, action.dest


def test_python_dash_m_runs_the_same_command():
    done = subprocess.run(
        [sys.executable, "-m", "skmnist", "download", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "--data-home" in done.stdout


def test_tune_on_a_local_dask_cluster(tmp_path, capsys):
    status, out, _ = run(
        capsys,
        "tune",
        "--model",
        "logistic",
        "--param",
        "alpha=1e-4,1.0",
        "--cv",
        "2",
        *TINY,
        "--scheduler",
        "local",
        "--out",
        tmp_path / "t",
    )
    assert status == 0 and "Best parameters: alpha=" in out
    assert (tmp_path / "t" / "best_model.skmnist").stat().st_size > 0


def test_tune_scheduler_without_the_dask_extra_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    status, _, err = run(
        capsys,
        "tune",
        "--model",
        "logistic",
        "--cv",
        "2",
        *TINY,
        "--scheduler",
        "local",
        "--out",
        tmp_path / "t",
    )
    assert status == 2
    assert 'pip install "skmnist[dask]"' in err and "Traceback" not in err
    assert not (tmp_path / "t").exists()


def test_version(capsys):
    from skmnist import __version__

    status, out, _ = run(capsys, "--version")
    assert status == 0 and out == f"skmnist {__version__}\n"
