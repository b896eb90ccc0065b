"""An --out file or folder never overwrites or deletes what the command reads."""

import numpy as np
from sklearn.linear_model import LogisticRegression

import skmnist
from skmnist import cli
from skmnist.cli._parser import REPORT_MARKER
from skmnist.datasets import load_mnist


def _saved_model(path):
    rng = np.random.RandomState(0)
    X, y = rng.randint(0, 256, (40, 784)).astype(float), np.arange(40) % 10
    skmnist.save(LogisticRegression(max_iter=5).fit(X, y), path)
    return path.read_bytes()


def test_predict_out_does_not_overwrite_the_model_file(tmp_path, capsys):
    model = tmp_path / "m.skmnist"
    before = _saved_model(model)
    images = tmp_path / "x.npy"
    np.save(images, np.zeros((2, 28, 28), np.uint8))
    status = cli.main(
        ["predict", "--model", str(model), "--out", str(model), str(images)]
    )
    capsys.readouterr()
    assert model.read_bytes() == before  # the model survives
    assert status == 2


def test_predict_out_does_not_overwrite_an_input_image(tmp_path, capsys):
    model = tmp_path / "m.skmnist"
    _saved_model(model)
    images = tmp_path / "x.npy"
    np.save(images, np.zeros((2, 28, 28), np.uint8))
    before = images.read_bytes()
    status = cli.main(
        ["predict", "--model", str(model), "--out", str(images), str(images)]
    )
    capsys.readouterr()
    assert images.read_bytes() == before
    assert status == 2


def test_compare_out_does_not_delete_its_own_source_data(tmp_path, capsys):
    out = tmp_path / "report"
    out.mkdir()
    (out / REPORT_MARKER).write_text("compare\n")  # a report folder from before
    train = load_mnist(subset="train", source="embedded")
    test = load_mnist(subset="test", source="embedded")
    data = out / "mnist.npz"  # the user keeps their data next to the report
    np.savez(
        data,
        x_train=np.asarray(train.data[:300]).reshape(-1, 28, 28).astype("uint8"),
        y_train=np.asarray(train.target[:300]).astype("uint8"),
        x_test=np.asarray(test.data[:100]).reshape(-1, 28, 28).astype("uint8"),
        y_test=np.asarray(test.target[:100]).astype("uint8"),
    )
    status = cli.main(
        [
            "compare",
            "--models",
            "baseline",
            "--no-figures",
            "--source",
            str(data),
            "--out",
            str(out),
        ]
    )
    assert status == 2
    assert data.is_file()
    assert "holds --source" in capsys.readouterr().err


def test_names_are_printed_as_they_are(tmp_path, capsys):
    # File names are text, not rich markup or emoji codes ("[a]" was dropped,
    # ":ok:" replaced), and a path longer than the 120 columns of a log is not
    # cut over two lines.
    model = tmp_path / "m.skmnist"
    _saved_model(model)
    images = tmp_path / "digit[a]:ok:.npy"
    np.save(images, np.zeros((2, 28, 28), np.uint8))
    out = tmp_path / ("long" * 30) / "p[b].csv"
    out.parent.mkdir()
    status = cli.main(
        ["predict", "--model", str(model), "--out", str(out), str(images)]
    )
    stdout = capsys.readouterr().out
    assert status == 0
    assert f"{images.name}[0]" in stdout
    assert f"Predictions: {out}\n" in stdout
