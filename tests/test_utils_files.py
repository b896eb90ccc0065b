"""The one rule for paths users give: regular files only, read within a bound."""

import os
import stat

import pytest

from skmnist._utils._files import (
    check_regular_file,
    open_regular_file,
    read_bounded,
    writable_target,
)
from skmnist._utils._io import write_bytes_atomic


def test_regular_file_is_read(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"abc")
    assert read_bounded(path, 3) == b"abc"
    with open_regular_file(path) as handle:
        assert handle.read() == b"abc"


def test_file_over_the_bound_is_refused(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"abcd")
    with pytest.raises(ValueError, match="larger than the 3 bytes"):
        read_bounded(path, 3, what="model file")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_device_is_refused_before_reading():
    with pytest.raises(ValueError, match="character device; expected a regular"):
        read_bounded("/dev/zero", 10**12)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.npy"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="FIFO"):
        read_bounded(fifo, 100)


def test_folder_and_missing_path(tmp_path):
    with pytest.raises(ValueError, match="is a folder"):
        check_regular_file(tmp_path, what="data file")
    with pytest.raises(FileNotFoundError):
        check_regular_file(tmp_path / "missing")


# -- writing ---------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_write_onto_a_fifo_is_refused_and_leaves_it(tmp_path):
    # The rename of a finished temporary file would replace the FIFO (or, as
    # root, /dev/null itself) with a regular file.
    fifo = tmp_path / "model.skmnist"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="is a FIFO .*writes only regular files"):
        write_bytes_atomic(fifo, b"data")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.skmnist"]


def test_a_write_through_a_link_replaces_the_file_it_names(tmp_path):
    target = tmp_path / "target.csv"
    target.write_text("old")
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    write_bytes_atomic(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"
    assert writable_target(tmp_path / "new.csv") == str(tmp_path / "new.csv")
