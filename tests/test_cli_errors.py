"""Every user-caused error: exit 2, one line naming the argument, before fitting."""

import numpy as np
import pytest
from cli_helpers import tiny

from skmnist import cli

TINY = tiny(max_iter=1)


@pytest.fixture(autouse=True)
def no_fitting(monkeypatch):
    """Make any fitting fail loudly: each error must come before it."""
    import sklearn.model_selection

    import skmnist.comparison

    def fitting_started(*args, **kwargs):
        raise AssertionError("fitting started before the error was found")

    monkeypatch.setattr(skmnist.comparison, "compare", fitting_started)
    monkeypatch.setattr(sklearn.model_selection.GridSearchCV, "fit", fitting_started)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A model of 8 x 8 digits (64 features), empty MNIST, a non-picture."""
    from sklearn.datasets import load_digits

    from skmnist import make_baseline, save

    folder = tmp_path_factory.mktemp("files")
    X, y = load_digits(return_X_y=True)
    save(make_baseline().fit(X * 15, y), folder / "digits64.skmnist")
    empty = np.zeros((0, 28, 28), np.uint8)
    np.savez(
        folder / "empty.npz",
        x_train=empty,
        y_train=np.zeros(0, np.uint8),
        x_test=empty,
        y_test=np.zeros(0, np.uint8),
    )
    (folder / "notes.png").write_text("not a picture")
    np.save(folder / "wrong-shape.npy", np.zeros((3, 10, 10)))
    np.save(folder / "digits.npy", np.zeros((2, 28, 28), np.uint8))
    return folder


CASES = [
    # (argv, words the one line must hold); {f} is the folder of `files`.
    (["compare", "--cv", "1", *TINY], ["--cv", "at least 2 folds"]),
    (
        ["compare", "--cv", "100000", *TINY],
        ["--cv 100000", "rarest digit", "--cv 20 or fewer"],
    ),
    (
        ["compare", "--cv", "2", "--source", "embedded", "--n-train", "10"],
        ["--cv 2", "more training images"],
    ),
    (["compare", "--cv", "2", "--n-jobs", "0", *TINY], ["--n-jobs", "got 0"]),
    (["compare", "--seed", "-1", *TINY], ["--seed", "got -1"]),
    (["compare", "--seed", str(2**32), *TINY], ["--seed"]),
    (["compare", "--n-train", "5", "--source", "embedded"], ["--n-train 5"]),
    (["compare", "--source", "{f}/empty.npz"], ["--source", "holds no train"]),
    (["tune", "--model", "logistic", "--cv", "1", *TINY], ["--cv", "at least 2"]),
    (["tune", "--model", "logistic", "--n-jobs", "0", *TINY], ["--n-jobs"]),
    (
        [
            "tune",
            "--model",
            "logistic",
            "--param",
            "class_weight={99: 1}",
            "--cv",
            "2",
            *TINY,
        ],
        ["--param class_weight", "99 not among the training labels"],
    ),
    (["tune", "--model", "logistic", "--cv", "50", *TINY], ["--cv 50"]),
    # A bad --scheduler is found before the data are read.
    (
        ["tune", "--model", "mlp", "--scheduler", "nowhere", "--source", "/no/x.npz"],
        ["--scheduler 'nowhere'", "tcp://HOST:8786"],
    ),
    (
        ["tune", "--model", "mlp", "--param", "alpha=1e-4", "--param", "alpha=1e-2"],
        ["--param alpha given twice"],
    ),
    (
        ["tune", "--model", "mlp", "--param", "alpha=1e-4,1e-2,1e-4", *TINY],
        ["--param alpha", "0.0001 listed twice"],
    ),
    # A literal Python cannot build (a list as a dict key) is a word, refused
    # by the parameter's check, not a TypeError's traceback.
    (
        ["tune", "--model", "mlp", "--param", "class_weight={[1]: 2}", *TINY],
        ["--param class_weight", "Got '{[1]: 2}'"],
    ),
    (
        ["tune", "--model", "mlp", "--param", "max_iter=5,10", *TINY],
        ["--param max_iter and --max-iter", "give one of them"],
    ),
    (
        ["compare", "--n-jobs", "2", *TINY],
        ["--n-jobs", "give --cv K too"],
    ),
    (
        ["predict", "--model", "{f}/digits64.skmnist", "--source", "embedded"],
        ["--model", "expects 64 features", "784"],
    ),
    (
        ["predict", "--model", "{f}/digits64.skmnist", "{f}/digits.npy"],
        ["--model", "expects 64 features"],
    ),
    (
        ["predict", "--model", "{f}/digits64.skmnist", "--source", "{f}/empty.npz"],
        ["--source", "holds no test images"],
    ),
    (
        ["predict", "--model", "{f}/digits64.skmnist", "--out", "{f}/no/such.csv"],
        ["--out", "does not exist"],
    ),
    (
        ["predict", "--model", "{f}/digits64.skmnist", "--out", "{f}"],
        ["--out", "is a folder"],
    ),
    (
        ["predict", "--model", "{f}/digits64.skmnist", "{f}/notes.png"],
        ["IMAGE", "notes.png", "not a picture"],
    ),
    (
        ["predict", "--model", "{f}/digits64.skmnist", "{f}/wrong-shape.npy"],
        ["IMAGE", "wrong-shape.npy", "(3, 10, 10)"],
    ),
    (
        ["predict", "--model", "{f}/digits64.skmnist", "{f}/missing.png"],
        ["IMAGE", "missing.png", "no such file"],
    ),
    (
        [
            "predict",
            "--model",
            "{f}/digits64.skmnist",
            "--subset",
            "train",
            "{f}/digits.npy",
        ],
        ["--subset", "IMAGE"],
    ),
]


@pytest.mark.parametrize(
    "argv, words", CASES, ids=[" ".join(argv[:4]) for argv, _ in CASES]
)
def test_user_errors_exit_2_with_one_line(argv, words, files, tmp_path, capsys):
    argv = [arg.replace("{f}", str(files)) for arg in argv]
    if argv[0] in ("compare", "tune"):
        argv += ["--out", str(tmp_path / "out")]
    status = cli.main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and err.startswith(f"skmnist {argv[0]}: error: ")
    for word in words:
        assert word in err
    assert not (tmp_path / "out").exists()


def test_seed_error_does_not_blame_n_train(capsys):
    cli.main(["compare", "--seed", "-1", *TINY])
    assert "--n-train" not in capsys.readouterr().err
