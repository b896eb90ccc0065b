"""Reading the user's own digits: datasets._images and ``skmnist predict IMAGE``."""

import csv

import numpy as np
import pytest
from PIL import Image

from skmnist import cli, load_mnist
from skmnist.datasets._images import read_images
from skmnist.datasets._photo import mnist_like


@pytest.fixture(scope="module")
def digits():
    """Ten MNIST test images and their labels."""
    X, y = load_mnist(subset="test", source="embedded", return_X_y=True)
    return X[:10].reshape(-1, 28, 28), y[:10]


def on_paper(image, *, scale=4, shape=(160, 130), top=10, left=5):
    """``image`` as a scan would show it: dark ink on light paper, larger."""
    page = np.full(shape, 235.0)
    ink = 255.0 - np.kron(image, np.ones((scale, scale)))
    height, width = ink.shape
    page[top : top + height, left : left + width] = np.minimum(
        page[top : top + height, left : left + width], ink
    )
    return page


def correlation(a, b):
    return np.corrcoef(np.ravel(a).astype(float), np.ravel(b).astype(float))[0, 1]


def test_a_scanned_digit_is_framed_like_mnist(digits):
    images, _ = digits
    scores = [
        correlation(mnist_like(on_paper(image, top=5 + 3 * i)), image)
        for i, image in enumerate(images)
    ]
    assert np.median(scores) > 0.95 and min(scores) > 0.5, scores


def test_light_on_dark_and_dark_on_light_give_the_same_image(digits):
    image = digits[0][0].astype(float)
    dark_on_light = mnist_like(np.kron(255 - image, np.ones((3, 3))))
    light_on_dark = mnist_like(np.kron(image, np.ones((3, 3))))
    assert np.abs(dark_on_light.astype(int) - light_on_dark).max() <= 1
    assert dark_on_light[0, 0] == 0 and dark_on_light.max() == 255


def test_a_28_by_28_picture_is_only_inverted_and_levelled(digits):
    image = digits[0][0]
    np.testing.assert_array_equal(mnist_like(255 - image.astype(float)), image)


def test_a_blank_picture_becomes_black():
    assert not mnist_like(np.full((50, 40), 200.0)).any()


def test_pictures_of_each_kind_are_read_as_mnist_rows(digits, tmp_path):
    image = digits[0][0]
    page = on_paper(image).astype(np.uint8)
    Image.fromarray(page).save(tmp_path / "grey.png")
    Image.fromarray(np.stack([page] * 3, axis=-1)).save(
        tmp_path / "rgb.jpg", quality=95
    )
    Image.fromarray(page.astype(np.uint16) * 257).save(tmp_path / "deep.png")
    # Black ink on a transparent sheet: the transparent parts count as white.
    rgba = np.zeros(page.shape + (4,), np.uint8)
    rgba[..., 3] = 255 - page
    Image.fromarray(rgba).save(tmp_path / "transparent.png")
    names = ["grey.png", "rgb.jpg", "deep.png", "transparent.png"]
    X, read = read_images([tmp_path / name for name in names])
    assert X.shape == (4, 784) and X.dtype == np.uint8
    assert read == [str(tmp_path / name) for name in names]
    for row in X:
        assert correlation(row, image) > 0.9


def test_arrays_are_taken_as_they_are(digits, tmp_path):
    images, _ = digits
    np.save(tmp_path / "stack.npy", images)
    np.savez(tmp_path / "flat.npz", images=images[:3].reshape(3, 784))
    np.save(tmp_path / "one.npy", images[0] / 255.0)  # scaled to 0-1
    X, names = read_images(
        [tmp_path / "stack.npy", tmp_path / "flat.npz", tmp_path / "one.npy"]
    )
    np.testing.assert_array_equal(
        X, np.concatenate([images, images[:3], images[:1]]).reshape(-1, 784)
    )
    assert names[0] == f"{tmp_path / 'stack.npy'}[0]"
    assert names[10] == f"{tmp_path / 'flat.npz'}[0]"
    assert names[-1] == str(tmp_path / "one.npy")


@pytest.mark.parametrize(
    "content, phrase",
    [
        (np.zeros((2, 10, 10)), "expected 28 x 28"),
        (np.zeros((0, 28, 28)), "holds no images"),
        (np.full((28, 28), 300.0), "expected 0-255"),
        (np.full((28, 28), np.nan), "NaN"),
        (np.array([{"a": 1}], dtype=object), "expected numbers"),
    ],
)
def test_unusable_arrays_are_refused_by_name(content, phrase, tmp_path):
    np.save(tmp_path / "bad.npy", content, allow_pickle=True)
    with pytest.raises(ValueError, match=phrase) as error:
        read_images([tmp_path / "bad.npy"])
    assert "bad.npy" in str(error.value)


def test_an_npz_of_several_arrays_is_refused(tmp_path):
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((1, 28, 28)), y_train=np.zeros(1))
    with pytest.raises(ValueError, match="found 2 .x_train, y_train"):
        read_images([tmp_path / "mnist.npz"])


def test_a_huge_declared_shape_is_refused_before_reading(tmp_path):
    from numpy.lib import format as npy

    with open(tmp_path / "bomb.npy", "wb") as handle:  # a header, no data
        npy.write_array_header_1_0(
            handle, {"descr": "|u1", "fortran_order": False, "shape": (10**9, 784)}
        )
    with pytest.raises(ValueError, match="more than"):
        read_images([tmp_path / "bomb.npy"])


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    from skmnist import make_baseline, save

    X, y = load_mnist(source="embedded", return_X_y=True)
    path = tmp_path_factory.mktemp("model") / "baseline.skmnist"
    save(make_baseline().fit(X, y), path)
    return path


def test_predict_classifies_image_files(digits, model_file, tmp_path, capsys):
    from skmnist import load

    images, _ = digits
    paths = []
    for i, image in enumerate(images):
        paths.append(tmp_path / f"digit{i}.png")
        Image.fromarray(on_paper(image, top=5 + 3 * i).astype(np.uint8)).save(paths[-1])
    np.save(tmp_path / "stack.npy", images[:2])
    status = cli.main(
        [
            "predict",
            "--model",
            str(model_file),
            *map(str, paths),
            str(tmp_path / "stack.npy"),
            "--out",
            str(tmp_path / "pred.csv"),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "digit0.png" in out and "probability" in out
    rows = list(csv.DictReader((tmp_path / "pred.csv").open()))
    assert [row["image"] for row in rows] == [str(p) for p in paths] + [
        f"{tmp_path / 'stack.npy'}[{i}]" for i in range(2)
    ]
    model = load(model_file)
    expected = model.predict(images.reshape(-1, 784))
    labels = np.array([int(row["digit"]) for row in rows])
    # The files holding the arrays as they are: exactly the model's answers.
    np.testing.assert_array_equal(labels[-2:], expected[:2])
    # The scanned pages: framed like MNIST, nearly always the same answer.
    assert np.mean(labels[:10] == expected) >= 0.8
    probabilities = np.array([float(row["probability"]) for row in rows])
    assert ((0.1 <= probabilities) & (probabilities <= 1)).all()
