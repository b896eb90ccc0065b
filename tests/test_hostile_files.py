"""Crafted model and data files (issue 15): each refused, cheaply, by name.

The files are built here, small (tests/hostile_files.py), never committed. The
subprocess test at the end feeds the worst of them to a fresh process that
imported skmnist and bounds its peak memory.
"""

import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile

import hostile_files as hostile
import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

import skmnist
from skmnist._utils import _safe_zip
from skmnist.datasets import _idx
from skmnist.exceptions import UntrustedModelError

MiB = 1 << 20


@pytest.fixture(scope="module")
def model_bytes(small_digits, tmp_path_factory):
    """A valid saved KerasLogistic (64 features), as bytes."""
    X, _, y, _ = small_digits
    clf = skmnist.KerasLogistic(max_iter=1, random_state=0).fit(X, y)
    path = tmp_path_factory.mktemp("model") / "base.skmnist"
    return skmnist.save(clf, path).read_bytes()


def _refused(tmp_path, data, match):
    path = tmp_path / "hostile.skmnist"
    path.write_bytes(data)
    with pytest.raises(UntrustedModelError, match=match):
        skmnist.load(path)


def _lie_about_size(data, entry, size):
    """Rewrite ``entry``'s uncompressed size in the central directory."""
    data = bytearray(data)
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        name_len = struct.unpack("<H", data[start + 28 : start + 30])[0]
        if data[start + 46 : start + 46 + name_len] == entry.encode():
            data[start + 24 : start + 28] = struct.pack("<I", size)
        start += 4
    return bytes(data)


def _with_inner_keras(model_bytes, make_inner):
    entries = hostile.entries_of(model_bytes)
    entries["model.keras"] = make_inner(entries["model.keras"])
    return hostile.seal(entries)


# -- model files -------------------------------------------------------------


def test_valid_file_still_loads(model_bytes, tmp_path):
    path = tmp_path / "ok.skmnist"
    path.write_bytes(model_bytes)
    assert skmnist.load(path).n_features_in_ == 64


def test_config_bomb_is_refused_by_its_declared_size(model_bytes, tmp_path):
    _refused(
        tmp_path,
        hostile.config_bomb(model_bytes, 20 * MiB),
        r"model\.keras/config\.json declares \d+ bytes inflated, over the "
        r"limit of 16777216",
    )


def test_config_bomb_lying_about_its_size_is_refused(model_bytes, tmp_path):
    # The inner archive claims 200 bytes for 20 MB of spaces: reading stops at
    # the claim and the CRC gives the lie away.
    def lie(inner):
        return _lie_about_size(inner, "config.json", 200)

    bomb = hostile.config_bomb(model_bytes, 20 * MiB)
    _refused(
        tmp_path,
        _with_inner_keras(bomb, lie),
        r"model\.keras/config\.json: unreadable archive \(BadZipFile",
    )


def test_json_cap_applies_inside_nested_archives(model_bytes, tmp_path, monkeypatch):
    # A cap that the outer estimator.json fits under and the nested Keras
    # config.json does not.
    with zipfile.ZipFile(io.BytesIO(model_bytes)) as outer:
        outer_json = outer.getinfo("estimator.json").file_size
        with zipfile.ZipFile(io.BytesIO(outer.read("model.keras"))) as inner:
            inner_json = inner.getinfo("config.json").file_size
    assert outer_json < inner_json
    cap = (outer_json + inner_json) // 2
    monkeypatch.setattr(_safe_zip, "MAX_JSON_BYTES", cap)
    _refused(
        tmp_path,
        model_bytes,
        r"model\.keras/config\.json declares \d+ bytes inflated, over the "
        rf"limit of {cap} bytes",
    )


def test_total_budget_and_file_size_limits(model_bytes, tmp_path, monkeypatch):
    monkeypatch.setattr(_safe_zip, "MAX_TOTAL_BYTES", 20_000)
    _refused(tmp_path, model_bytes, "over the limit of")
    monkeypatch.setattr(_safe_zip, "MAX_FILE_BYTES", 1000)
    _refused(tmp_path, model_bytes, r"hostile\.skmnist is \d+ bytes, over the limit")


@pytest.mark.parametrize(
    "units, match",
    [
        (500_000, "units=500000; allowed are integers 1 to 65536"),
        (60_000, r"may hold \d+ weights, over the limit of 16000000"),
        (0, "units=0"),
        (2.5, "units=2.5"),
    ],
)
def test_layer_sizes_are_checked_before_keras_builds(
    model_bytes, tmp_path, units, match
):
    _refused(tmp_path, hostile.units_bomb(model_bytes, units), match)


def test_declared_input_shape_is_bounded(model_bytes, tmp_path):
    config = json.loads(
        hostile.entries_of(hostile.entries_of(model_bytes)["model.keras"])[
            "config.json"
        ]
    )
    config["config"]["layers"][0]["config"]["batch_shape"] = [None, 10**9]
    data = hostile._edit_keras(model_bytes, "config.json", json.dumps(config).encode())
    _refused(tmp_path, data, r"declared shape \[None, 1000000000\]")


@pytest.mark.parametrize(
    "dtype, match",
    [
        ("<U20000000", "80000000 bytes per item, over the limit of 1024"),
        ("(100000000,)f8", "over the limit of 1024"),
        ("V8", "dtype"),
    ],
)
def test_wide_label_dtypes_are_refused(model_bytes, tmp_path, dtype, match):
    _refused(tmp_path, hostile.classes_dtype(model_bytes, dtype), match)


@pytest.mark.parametrize(
    "classes, dtype, match",
    [
        (list(range(9, -1, -1)), None, "not sorted and distinct"),
        ([0, 0, 2, 3, 4, 5, 6, 7, 8, 9], None, "not sorted and distinct"),
        ([0.0, 1, 2, 3, 4, 5, 6, 7, 8, float("nan")], "<f8", "cannot be sorted"),
        (["a", 1, 2, 3, 4, 5, 6, 7, 8, 9], "object", "cannot be sorted"),
    ],
)
def test_bad_classes_are_refused(model_bytes, tmp_path, classes, dtype, match):
    _refused(
        tmp_path,
        hostile.bad_classes(model_bytes, classes, dtype),
        "estimator.json: classes_.*" + match,
    )


@pytest.mark.parametrize(
    "depth, match",
    [
        (600, "estimator.json nests arrays and objects over 64 levels deep"),
        (5000, "estimator.json is not valid JSON"),  # json's own RecursionError
    ],
)
def test_deep_json_is_refused(model_bytes, tmp_path, depth, match):
    _refused(tmp_path, hostile.json_depth(model_bytes, depth), match)


def test_encrypted_flag_is_refused(model_bytes, tmp_path):
    _refused(
        tmp_path,
        hostile.encrypted_flag(model_bytes),
        r"model file/estimator\.json is encrypted",
    )


def test_corrupt_deflate_data_is_refused(model_bytes, tmp_path):
    _refused(
        tmp_path,
        hostile.corrupt_deflate(model_bytes),
        r"model file/estimator\.json: unreadable archive \(error: Error -3",
    )


def _weights_with(model_bytes, add):
    import h5py

    def make_inner(inner):
        entries = hostile.entries_of(inner)
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as store:
            add(store)
        entries["model.weights.h5"] = buffer.getvalue()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for name, data in entries.items():
                archive.writestr(name, data)
        return out.getvalue()

    return _with_inner_keras(model_bytes, make_inner)


@pytest.mark.parametrize(
    "add, match",
    [
        (
            lambda s: s.create_dataset(
                "bomb", shape=(10**10,), dtype="f4", chunks=(2**20,), compression="gzip"
            ),
            "not a plain numeric array",
        ),
        (
            lambda s: s.__setitem__(
                "elsewhere", __import__("h5py").ExternalLink("/etc/passwd", "/")
            ),
            "is a link",
        ),
        (
            lambda s: s.create_dataset("big", shape=(300 * MiB,), dtype="u1"),
            "declare over",
        ),
    ],
)
def test_hostile_weights_file_is_refused(model_bytes, tmp_path, add, match):
    _refused(
        tmp_path, _weights_with(model_bytes, add), r"model\.weights\.h5: .*" + match
    )


@pytest.fixture(scope="module")
def baseline_bytes(small_digits, tmp_path_factory):
    X, _, y, _ = small_digits
    path = tmp_path_factory.mktemp("baseline") / "baseline.skmnist"
    return skmnist.save(skmnist.make_baseline().fit(X, y), path).read_bytes()


def _edit_skops(baseline_bytes, edit):
    entries = hostile.entries_of(baseline_bytes)
    inner = hostile.entries_of(entries["sklearn.skops"])
    edit(inner)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in inner.items():
            archive.writestr(name, data)
    entries["sklearn.skops"] = out.getvalue()
    return hostile.seal(entries)


def test_skops_array_declaring_huge_shape_is_refused(baseline_bytes, tmp_path):
    def edit(inner):
        name = next(n for n in inner if n.endswith(".npy"))
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
        )
        inner[name] = header.getvalue() + b"\0" * 64

    _refused(
        tmp_path,
        _edit_skops(baseline_bytes, edit),
        r"sklearn\.skops/.*\.npy: declares shape \(1000000000000,\)",
    )


def test_skops_schema_nested_too_deep_is_refused(baseline_bytes, tmp_path):
    def edit(inner):
        inner["schema.json"] = ("[" * 200 + "]" * 200).encode()

    _refused(
        tmp_path,
        _edit_skops(baseline_bytes, edit),
        r"sklearn\.skops/schema\.json nests arrays and objects over 64",
    )


# -- sklearn's MLPClassifier (issue 19) ---------------------------------------


@pytest.mark.parametrize(
    "solver, early_stopping",
    [("adam", True), ("adam", False), ("sgd", False), ("lbfgs", False)],
)
def test_mlp_classifier_round_trip(small_digits, tmp_path, solver, early_stopping):
    X, X_test, y, _ = small_digits
    mlp = MLPClassifier(
        hidden_layer_sizes=(16,),
        max_iter=5,
        solver=solver,
        early_stopping=early_stopping,
        random_state=0,
    )
    with pytest.warns(Warning):  # not converged in 5 iterations
        mlp.fit(X, y)
    same = skmnist.load(skmnist.save(mlp, tmp_path / "mlp.skmnist"))
    np.testing.assert_array_equal(same.predict_proba(X_test), mlp.predict_proba(X_test))
    if not early_stopping and solver != "lbfgs":  # the optimizer state is back
        same.partial_fit(X, y)
        mlp.partial_fit(X, y)
        np.testing.assert_allclose(
            same.predict_proba(X_test), mlp.predict_proba(X_test)
        )


# -- data files ----------------------------------------------------------------


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda p: hostile.idx_gz_bomb(p.with_suffix(".gz"), 200 * MiB),
            "wrong IDX magic number 0",
        ),
        (
            lambda p: hostile.idx_gz_bomb(
                p.with_suffix(".gz"),
                200 * MiB,
                hostile.idx_header((60000, 28, 28), _idx.IDX_IMAGES_MAGIC),
            ),
            r"announces \(60000, 28, 28\) \(47040016 bytes\) "
            r"but the file has more bytes",
        ),
        (lambda p: hostile.sparse_idx(p, 3 * 10**9), "wrong IDX magic number 0"),
        (
            lambda p: hostile.sparse_idx(
                p, 3 * 10**9, hostile.idx_header((60000, 28, 28), _idx.IDX_IMAGES_MAGIC)
            ),
            r"\(47040016 bytes\) but the file has 3000000000 bytes: extra data",
        ),
        (
            lambda p: hostile.sparse_idx(
                p, 16, hostile.idx_header((2_000_000, 28, 28), _idx.IDX_IMAGES_MAGIC)
            ),
            r"\(1568000000 bytes\), over skmnist's limit of 1073741824",
        ),
        (
            lambda p: hostile.idx_gz_bomb(
                p.with_suffix(".gz"),
                1000,
                hostile.idx_header((60000, 28, 28), _idx.IDX_IMAGES_MAGIC),
            ),
            "has 1000 bytes: truncated",
        ),
    ],
)
def test_idx_bombs_are_refused_from_the_header(tmp_path, make, match):
    path = make(tmp_path / "train-images-idx3-ubyte")
    with pytest.raises(ValueError, match=match):
        _idx.read_idx(str(path), _idx.IDX_IMAGES_MAGIC)


def test_npz_declaring_1e15_rows_is_a_value_error(tmp_path):
    path = hostile.npz_declaring_rows(tmp_path / "mnist.npz")
    with pytest.raises(
        ValueError,
        match=r"x_train: declares shape "
        r"\(1000000000000000, 28, 28\) of uint8 .*over the limit",
    ):
        skmnist.load_mnist(source=path)


def test_npz_header_disagreeing_with_its_data_is_a_value_error(tmp_path):
    path = hostile.npz_declaring_rows(tmp_path / "mnist.npz", rows=1000)
    with pytest.raises(
        ValueError,
        match=r"declares shape \(1000, 28, 28\) of uint8 "
        r"\(784000 bytes\) but holds 1568 bytes",
    ):
        skmnist.load_mnist(source=path)


# -- memory, measured in a fresh process -----------------------------------------


def test_worst_files_are_refused_within_a_memory_bound(model_bytes, tmp_path):
    """Peak RSS of a process that imported skmnist and refused every bomb."""
    files = {
        "config": hostile.config_bomb(model_bytes, 300 * MiB),
        "units": hostile.units_bomb(model_bytes, 500_000),
        "width": hostile.units_bomb(model_bytes, 60_000),
        "dtype": hostile.classes_dtype(model_bytes, "<U20000000"),
        "depth": hostile.json_depth(model_bytes, 600),
    }
    for name, data in files.items():
        (tmp_path / f"{name}.skmnist").write_bytes(data)
    header = hostile.idx_header((60000, 28, 28), _idx.IDX_IMAGES_MAGIC)
    hostile.idx_gz_bomb(tmp_path / "bomb.gz", 300 * MiB, header)
    hostile.sparse_idx(tmp_path / "sparse", 3 * 10**9)
    hostile.npz_declaring_rows(tmp_path / "rows.npz")
    script = textwrap.dedent(rf"""
        import re, skmnist
        from pathlib import Path
        from skmnist.datasets._idx import read_idx
        folder = Path({str(tmp_path)!r})
        jobs = [(skmnist.load, p) for p in sorted(folder.glob("*.skmnist"))]
        jobs += [(lambda p: read_idx(str(p), 2051), folder / n)
                 for n in ("bomb.gz", "sparse")]
        jobs += [(lambda p: skmnist.load_mnist(source=p), folder / "rows.npz")]
        for load, path in jobs:
            try:
                load(path)
                print("LOADED", path.name)
            except ValueError as exc:
                print("refused", path.name, type(exc).__name__)
        import sys
        print("tensorflow" in sys.modules)
        # VmHWM is this process's own peak: ru_maxrss would carry over the
        # peak of the parent (a pytest worker that fitted Keras models)
        # across fork and exec.
        status = Path("/proc/self/status").read_text()
        print(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    lines = result.stdout.split("\n")
    assert all(line.startswith("refused") for line in lines[:-3]), result.stdout
    assert len(lines) - 3 == len(files) + 3
    assert lines[-3] == "False"  # refused before TensorFlow was even imported
    peak_mb = int(lines[-2]) / 1024
    assert peak_mb < 1500, f"peak RSS {peak_mb:.0f} MB"


def test_npz_inside_skops_is_checked_too(baseline_bytes, tmp_path):
    # skops stores scipy sparse matrices as an .npz inside its own zip; its
    # arrays are checked like any other, before skops reads the schema.
    def edit(inner):
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
        )
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("data.npy", header.getvalue())
        inner["1234.npz"] = out.getvalue()

    _refused(
        tmp_path,
        _edit_skops(baseline_bytes, edit),
        r"sklearn\.skops/1234\.npz/data\.npy: declares shape \(1000000000000,\)",
    )


def _many_entries(n):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for i in range(n):
            archive.writestr(f"{i}.npy", b"")
    return buffer.getvalue()


def test_oversized_central_directory_is_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(_safe_zip, "MAX_ENTRIES", 100)
    monkeypatch.setattr(_safe_zip, "MAX_DIRECTORY_BYTES", 100 * 1024)
    data = _many_entries(101)
    with pytest.raises(UntrustedModelError, match=r"101 entries, over the limits"):
        _safe_zip.read_zip(data, "model file", UntrustedModelError)
    path = tmp_path / "mnist.npz"
    path.write_bytes(_many_entries(101))
    with pytest.raises(ValueError, match=r"mnist\.npz: a central directory"):
        skmnist.load_mnist(source=path)
