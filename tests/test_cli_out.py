"""``--out`` never deletes what skmnist did not write; signals leave no debris."""

import os
import signal
import stat
import subprocess
import sys
import time

import pytest
from cli_helpers import run

from skmnist.cli._folder import ReportFolder
from skmnist.cli._parser import REPORT_MARKER
from skmnist.exceptions import UsageError

QUICK = [
    "compare",
    "--models",
    "baseline",
    "--n-train",
    "300",
    "--n-test",
    "100",
    "--no-figures",
    "--source",
    "embedded",
]
# A --source that fails as soon as it is read: an --out error seen instead
# proves --out is checked before any data is loaded.
UNREAD = ["compare", "--models", "baseline", "--source", "/no/such/mnist.npz"]


def hidden(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def assert_one_line_exit_2(status, err, *phrases):
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for phrase in phrases:
        assert phrase in err


def test_a_users_folder_is_kept_and_named_in_the_error(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "thesis.tex").write_text("x")
    status, _, err = run(capsys, *QUICK, "--out", "d")
    assert_one_line_exit_2(status, err, "--out d", "--force")
    assert [p.name for p in (tmp_path / "d").iterdir()] == ["thesis.tex"]
    assert (tmp_path / "d" / "thesis.tex").read_text() == "x"
    assert hidden(tmp_path) == []


def test_a_users_folder_is_refused_before_the_data_is_read(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("x")
    status, _, err = run(capsys, *UNREAD, "--out", tmp_path / "d")
    assert_one_line_exit_2(status, err, "--force")


def test_a_marked_folder_is_replaced_and_marked_again(tmp_path, capsys):
    out = tmp_path / "d"
    out.mkdir()
    (out / REPORT_MARKER).write_text("")
    (out / "old-figure.png").write_text("stale")
    status, _, err = run(capsys, *QUICK, "--out", out)
    assert status == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        REPORT_MARKER,
        "report.md",
        "results.json",
    ]
    assert "skmnist compare" in (out / REPORT_MARKER).read_text()
    assert hidden(tmp_path) == []
    ReportFolder(out)  # what was written is marked: a next run may replace it


def test_an_empty_folder_is_used_and_force_replaces_a_users_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with ReportFolder(tmp_path / "empty") as tmp:
        (tmp / "report.md").write_text("new")
    assert (tmp_path / "empty" / "report.md").read_text() == "new"
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "thesis.tex").write_text("x")
    with pytest.raises(UsageError, match="--force"):
        ReportFolder(tmp_path / "d")
    with ReportFolder(tmp_path / "d", force=True) as tmp:
        (tmp / "report.md").write_text("new")
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [
        REPORT_MARKER,
        "report.md",
    ]
    assert hidden(tmp_path) == []


def test_a_folder_changed_during_the_run_is_not_replaced(tmp_path):
    (tmp_path / "r").mkdir()
    folder = ReportFolder(tmp_path / "r")  # empty when checked ...
    (tmp_path / "r" / "thesis.tex").write_text("x")  # ... filled meanwhile
    with pytest.raises(UsageError, match="changed"), folder as tmp:
        (tmp / "report.md").write_text("new")
    assert [p.name for p in (tmp_path / "r").iterdir()] == ["thesis.tex"]
    assert hidden(tmp_path) == []


def test_a_symbolic_link_is_followed_to_its_folder(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with ReportFolder(tmp_path / "link") as tmp:
        (tmp / "report.md").write_text("new")
    assert (tmp_path / "link").is_symlink()
    assert (tmp_path / "real" / "report.md").read_text() == "new"
    assert hidden(tmp_path) == []


def test_a_missing_parent_is_created_one_level_only(tmp_path, capsys):
    with ReportFolder(tmp_path / "new" / "r") as tmp:
        (tmp / "report.md").write_text("new")
    assert (tmp_path / "new" / "r" / "report.md").is_file()
    status, _, err = run(capsys, *UNREAD, "--out", tmp_path / "a" / "b" / "r")
    assert_one_line_exit_2(status, err, "does not exist")
    assert not (tmp_path / "a").exists()


def test_a_created_parent_is_removed_when_the_run_fails(tmp_path):
    with pytest.raises(KeyboardInterrupt), ReportFolder(tmp_path / "new" / "r"):
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def _unwritable_cases():
    cases = [
        pytest.param("file/r", "is not a folder", id="parent-is-a-file"),
        pytest.param("a/b/r", "does not exist", id="grandparent-missing"),
    ]
    if os.path.isdir("/proc/self"):
        cases.append(
            pytest.param(
                "/proc/skmnist-test/r", "cannot create a folder", id="inside-proc"
            )
        )
        cases.append(
            pytest.param(
                "/proc/skmnist-test", "cannot create a folder", id="proc-itself"
            )
        )
    cases.append(
        pytest.param(
            "read-only/r",
            "cannot create a folder",
            id="read-only-parent",
            marks=pytest.mark.skipif(
                os.name != "posix" or os.geteuid() == 0,
                reason="root writes into read-only folders",
            ),
        )
    )
    return cases


@pytest.mark.parametrize("out, phrase", _unwritable_cases())
def test_unwritable_or_missing_out_exits_2_before_the_data(
    out, phrase, tmp_path, capsys
):
    (tmp_path / "file").write_text("x")
    (tmp_path / "read-only").mkdir()
    (tmp_path / "read-only").chmod(0o500)
    try:
        status, _, err = run(
            capsys, *UNREAD, "--out", out if out.startswith("/") else tmp_path / out
        )
    finally:
        (tmp_path / "read-only").chmod(0o700)
    assert_one_line_exit_2(status, err, "--out", phrase)


@pytest.mark.parametrize("out", [".", "..", "~"])
def test_the_current_and_home_folders_are_refused_even_with_force(
    out, tmp_path, capsys, monkeypatch
):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(work))
    status, _, err = run(capsys, *UNREAD, "--force", "--out", os.path.expanduser(out))
    assert_one_line_exit_2(status, err, "folder above it")
    assert list(tmp_path.iterdir()) == [work] and list(work.iterdir()) == []


def test_tune_out_follows_the_same_rule(tmp_path, capsys):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "keep.txt").write_text("x")
    status, _, err = run(
        capsys,
        "tune",
        "--model",
        "logistic",
        "--source",
        "/no/such/mnist.npz",
        "--out",
        tmp_path / "t",
    )
    assert_one_line_exit_2(status, err, "skmnist tune: error: --out", "--force")
    assert (tmp_path / "t" / "keep.txt").read_text() == "x"


@pytest.fixture
def default_sigterm():
    """SIGTERM at its default action (as in a fresh process), restored after."""
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    signal.signal(signal.SIGTERM, previous)


def test_sigterm_while_writing_removes_the_temporary_folder(
    tmp_path, capsys, monkeypatch, default_sigterm
):
    from skmnist.cli import _commands

    def terminated_halfway(folder, *args, **kwargs):
        (folder / "results.json").write_text("{")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
        raise AssertionError("SIGTERM was not turned into an exception")

    monkeypatch.setattr(_commands, "write_compare_report", terminated_halfway)
    status, _, err = run(capsys, *QUICK, "--out", tmp_path / "r")
    assert status == 128 + signal.SIGTERM
    assert err.strip().splitlines()[-1] == (
        "skmnist: stopped by SIGTERM; nothing was written."
    )
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored


def test_sigterm_while_fitting_a_real_process_leaves_no_debris(tmp_path):
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skmnist",
            "compare",
            "--models",
            "logistic",
            "--source",
            "embedded",
            "--n-train",
            "1000",
            "--max-iter",
            "200",
            "--no-figures",
            "--out",
            "r",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = ""
        while "epoch" not in seen:  # plain progress: fitting has begun
            line = process.stderr.readline()
            assert line, (
                f"ended before fitting (status {process.wait()}): "
                f"{seen}{process.stdout.read()}"
            )
            seen += line
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM
    # Epoch lines printed before the signal may precede the one closing line.
    assert rest.strip().splitlines()[-1] == (
        "skmnist: stopped by SIGTERM; nothing was written."
    )
    assert "Traceback" not in rest
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_out_files_onto_a_fifo_exit_2_and_leave_it(tmp_path, capsys):
    # predict --out and export-onnx's OUT used to rename a file over a FIFO
    # or a device (as root: /dev/null) and report success.
    import numpy as np

    import skmnist

    X, y = skmnist.load_mnist(source="embedded", subset="test", return_X_y=True)
    model = tmp_path / "m.skmnist"
    skmnist.save(skmnist.make_baseline().fit(X[:300], y[:300]), model)
    np.save(tmp_path / "one.npy", X[:1].reshape(1, 28, 28))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for argv in (
        ["predict", "--model", model, tmp_path / "one.npy", "--out", fifo],
        ["export-onnx", model, fifo],
    ):
        status, _, err = run(capsys, *argv)
        assert_one_line_exit_2(status, err, "is a FIFO", "regular files")
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
