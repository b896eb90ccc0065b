"""Hostile inputs for ``skmnist predict`` and ``load_mnist`` (issue 29), built small.

Picture and array bombs are written as a stream (rows compressed one at a
time), so building a picture that declares 88 million pixels costs the test
a few megabytes, not the gigabytes it would cost to decode. Nothing here
imports skmnist, so the same files can be fed to older versions (the
``benchmarks/hostile_inputs.py`` before/after table).
"""

import os
import struct
import zipfile
import zlib

import numpy as np

# Colour type and bit depth of a PNG, by the Pillow mode it decodes to.
_PNG_FORMATS = {"RGBA": (6, 8, 4), "I;16": (0, 16, 2), "L": (0, 8, 1), "RGB": (2, 8, 3)}


def _png_chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bomb(path, width, height=None, mode="RGBA"):
    """A PNG of ``width x height`` blank pixels in ``mode``, deflated to ~KB.

    ``mode`` is ``"RGBA"`` (8 bits, 4 channels), ``"I;16"`` (16-bit grey),
    ``"RGB"`` or ``"L"``. The file is valid: Pillow decodes all of it.
    """
    height = width if height is None else height
    colour_type, depth, channels = _PNG_FORMATS[mode]
    row = b"\x00" * (1 + width * channels * depth // 8)  # filter byte + pixels
    packer = zlib.compressobj(9)
    parts = [packer.compress(row) for _ in range(height)]
    parts.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(_png_chunk(b"IHDR", header))
        out.write(_png_chunk(b"IDAT", b"".join(parts)))
        out.write(_png_chunk(b"IEND", b""))
    return path


def jpeg_of_size(path, width, height):
    """A grey JPEG of ``width x height``: one dark bar on white, made by Pillow.

    Large sizes are cheap to write but expensive to decode at full scale
    (a phone photo of 50 megapixels is one).
    """
    from PIL import Image

    picture = Image.new("L", (width, height), 235)
    picture.paste(
        20, (width // 2 - width // 20, height // 4, width // 2, height * 3 // 4)
    )
    picture.save(path, quality=80)
    return path


def npz_bomb(path, n_values, *, dtype="|u1", key="images"):
    """A ``.npz`` holding one array of ``n_values`` zeros as rows of 784.

    ``n_values`` is rounded down to whole rows. The member is deflated as it
    is written, so 1e8 one-byte values make a file of about 100 KB.
    """
    from numpy.lib import format as npy

    itemsize = np.dtype(dtype).itemsize
    rows = n_values // 784
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
            header = {"descr": dtype, "fortran_order": False, "shape": (rows, 784)}
            npy.write_array_header_1_0(member, header)
            chunk = b"\x00" * (784 * itemsize * 4096)
            left = rows * 784 * itemsize
            while left:
                member.write(chunk[: min(left, len(chunk))])
                left -= min(left, len(chunk))
    return path


def fifo(path):
    """A named pipe with no writer: opening it for reading blocks forever."""
    os.mkfifo(path)
    return path


# -- running a case in a fresh process, with a timeout and a memory ceiling -------

# Runs ``python -m skmnist ARGS`` (or the script in $HOSTILE_SCRIPT) and, at
# exit, writes the process's own peak RSS (VmHWM, kB) to $HOSTILE_PEAK_FILE.
# ``ru_maxrss`` from wait4 would not do: it carries over the peak of the parent
# (a pytest worker holding Keras) across fork and exec.
_WRAPPER = r"""
import atexit, os, runpy, signal, sys

# Ctrl-C as in a terminal, even when the caller runs in the background (which
# sets SIGINT to be ignored, and that is inherited).
signal.signal(signal.SIGINT, signal.default_int_handler)

def _report_peak():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["HOSTILE_PEAK_FILE"], "w") as out:
        out.write(peak)

atexit.register(_report_peak)
if sys.argv[1:2] == ["--script"]:
    del sys.argv[1:3]
    exec(compile(os.environ["HOSTILE_SCRIPT"], "<script>", "exec"))
else:
    runpy.run_module("skmnist", run_name="__main__", alter_sys=True)
"""


class Outcome:
    """What a run gave: ``status``, ``out``, ``err``, ``peak_mb``, ``seconds``.

    ``status`` is None when the run was killed: ``killed`` then says why
    (``"timeout"`` or ``"memory"``).
    """

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __repr__(self):
        return (
            f"Outcome(status={self.status}, killed={self.killed}, peak_mb="
            f"{self.peak_mb}, seconds={self.seconds:.1f}, err={self.err[-2000:]!r})"
        )


def run_skmnist(
    args,
    *,
    script=None,
    timeout=120,
    ceiling_mb=3000,
    env=None,
    cwd=None,
    interrupt_at=None,
    signum=None,
):
    """Run ``python -m skmnist *args`` (or ``script``) in a fresh process.

    The process is killed past ``timeout`` seconds, or as soon as its resident
    memory passes ``ceiling_mb`` (polled every 20 ms: a shared machine must
    not lose its memory to a test that fails). ``interrupt_at``, if given,
    sends ``signum`` (SIGINT by default) once: a number is seconds after the
    start, a string a text to wait for on stderr.

    Returns
    -------
    Outcome
    """
    import signal as signal_module
    import subprocess
    import sys
    import tempfile
    import threading
    import time

    with tempfile.NamedTemporaryFile(prefix="peak-", delete=False) as handle:
        peak_file = handle.name
    environment = dict(os.environ if env is None else env)
    environment.setdefault("PYTHONPATH", os.pathsep.join(sys.path))
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    environment.setdefault("MPLBACKEND", "Agg")
    environment["HOSTILE_PEAK_FILE"] = peak_file
    argv = [sys.executable, "-c", _WRAPPER]
    if script is not None:
        environment["HOSTILE_SCRIPT"] = script
        argv += ["--script", "-"]
    argv += [str(arg) for arg in args]
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        # Not the checkout: with -c, the current folder comes first on sys.path.
        cwd=tempfile.gettempdir() if cwd is None else cwd,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    err_parts, killed = [], [None]
    signum = signal_module.SIGINT if signum is None else signum
    pending = [interrupt_at]

    def send_once():
        if pending[0] is not None and process.poll() is None:
            pending[0] = None
            process.send_signal(signum)

    def read_stderr():
        for line in process.stderr:
            err_parts.append(line)
            if isinstance(pending[0], str) and pending[0] in "".join(err_parts):
                send_once()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    out_parts = []
    out_reader = threading.Thread(
        target=lambda: out_parts.append(process.stdout.read()), daemon=True
    )
    out_reader.start()
    while process.poll() is None:
        elapsed = time.perf_counter() - started
        if isinstance(pending[0], (int, float)) and elapsed >= pending[0]:
            send_once()
        if elapsed > timeout:
            killed[0] = "timeout"
        elif _rss_mb(process.pid) > ceiling_mb:
            killed[0] = "memory"
        if killed[0]:
            process.send_signal(signal_module.SIGKILL)
            process.wait()
            break
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    reader.join(10)
    out_reader.join(10)
    try:
        with open(peak_file) as handle:
            text = handle.read().strip()
        peak_mb = int(text) / 1024 if text else None
    finally:
        os.unlink(peak_file)
    return Outcome(
        status=None if killed[0] else process.returncode,
        killed=killed[0],
        out="".join(out_parts),
        err="".join(err_parts),
        peak_mb=peak_mb,
        seconds=seconds,
    )


def _rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0
