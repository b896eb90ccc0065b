"""Reading untrusted archives, JSON and ``.npy`` headers within fixed bounds.

Private helper of :mod:`skmnist.persistence` (model files, whose
``sklearn.skops`` part is a zip archive too) and of
:mod:`skmnist.datasets._idx` (``.npz`` data files). Nothing here trusts a size that a
file declares: every zip entry is inflated in chunks and abandoned as soon as
it passes its cap, so a deflate bomb costs at most the cap, whatever its
header says. Every failure becomes one error type (the ``error`` argument)
whose message names the entry at fault.

The limits are module constants, so the documentation can quote them and the
tests can lower them to build small bombs.
"""

import io
import json
import struct
import zipfile
import zlib

import numpy as np

MiB = 1 << 20
# Sized for MNIST models with room to spare: the largest skmnist network anyone
# trains here (hidden layers of a few thousand units) is well under these,
# and together they keep refusing a crafted file far below 1.5 GB of memory.
MAX_FILE_BYTES = 256 * MiB  # a model file on disk
MAX_ENTRY_BYTES = 192 * MiB  # one inflated entry (weights, skops parts)
MAX_JSON_BYTES = 16 * MiB  # one JSON entry
MAX_TOTAL_BYTES = 256 * MiB  # all inflated entries of one model file, nested too
MAX_ENTRIES = 4096  # entries in one archive
# zipfile builds one ZipInfo (~0.5 KB) per central-directory record before
# anyone can count them: bound the directory's size first (~1 KB per entry).
MAX_DIRECTORY_BYTES = MAX_ENTRIES * 1024
MAX_JSON_DEPTH = 64  # nesting of JSON arrays and objects (Keras configs use ~10)
_CHUNK = 1 << 20

# Exceptions that reading a malformed zip raises: encrypted entries raise
# RuntimeError, corrupt deflate data zlib.error, a bad CRC BadZipFile,
# unknown compression NotImplementedError, a truncated stream EOFError.
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    RuntimeError,
    NotImplementedError,
    EOFError,
    OSError,
    ValueError,
    struct.error,
    OverflowError,
    KeyError,
    IndexError,
    UnicodeDecodeError,
)


class Budget:
    """Bytes that the inflated entries of one file may still use, in total."""

    def __init__(self, total=None):
        self.left = MAX_TOTAL_BYTES if total is None else total


def read_zip(source, where, error, *, budget=None, json_names=(), stored=()):
    """Return ``{name: bytes}`` for every entry of the zip ``source``.

    ``source`` holds the archive's bytes. Entries named in ``json_names`` (or ending
    in ``.json``) are capped at :data:`MAX_JSON_BYTES`, others at
    :data:`MAX_ENTRY_BYTES`, all together at what ``budget`` has left.
    Entries whose names end with one of ``stored`` must be stored, not
    compressed (they then cannot inflate past the archive's own bytes).
    Encrypted, duplicated, oddly compressed, corrupt or truncated entries
    raise ``error`` naming ``where/entry``.
    """
    budget = Budget() if budget is None else budget
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    entry = ""
    try:
        check_directory(source, where, error)
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            if len(infos) > MAX_ENTRIES or len(set(names)) != len(names):
                raise error(
                    f"{where}: {len(infos)} entries, duplicated or over the "
                    f"limit of {MAX_ENTRIES}."
                )
            entries = {}
            for info in infos:
                entry = f"/{info.filename}"
                is_json = info.filename in json_names or info.filename.endswith(".json")
                if info.filename.endswith(tuple(stored)) and info.compress_type:
                    raise error(
                        f"{where}/{info.filename} is compressed; skmnist stores "
                        "it uncompressed."
                    )
                entries[info.filename] = _read_entry(
                    archive,
                    info,
                    f"{where}/{info.filename}",
                    error,
                    budget,
                    MAX_JSON_BYTES if is_json else MAX_ENTRY_BYTES,
                )
    except error:
        raise
    except ZIP_ERRORS as exc:
        raise error(
            f"{where}{entry}: unreadable archive ({type(exc).__name__}: {exc})."
        ) from exc
    return entries


def check_directory(fileobj, where, error):
    """Refuse a zip whose central directory is too large to parse cheaply."""
    position = fileobj.tell()
    # zipfile's own end-of-directory reader (zip64 too); private but unchanged
    # since Python 2.
    end = zipfile._EndRecData(fileobj)
    fileobj.seek(position)
    if end is None:
        raise zipfile.BadZipFile("File is not a zip file")
    size = end[zipfile._ECD_SIZE]
    if size > MAX_DIRECTORY_BYTES or end[zipfile._ECD_ENTRIES_TOTAL] > MAX_ENTRIES:
        raise error(
            f"{where}: a central directory of {size} bytes and "
            f"{end[zipfile._ECD_ENTRIES_TOTAL]} entries, over the limits of "
            f"{MAX_DIRECTORY_BYTES} bytes and {MAX_ENTRIES} entries."
        )


def _read_entry(archive, info, where, error, budget, limit):
    if info.flag_bits & 0x1:
        raise error(f"{where} is encrypted; skmnist never writes encrypted entries.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise error(
            f"{where} uses compression method {info.compress_type}; only "
            "stored and deflated entries are read."
        )
    cap = min(limit, budget.left)
    if info.file_size > cap:
        raise error(
            f"{where} declares {info.file_size} bytes inflated, over the "
            f"limit of {cap} bytes."
        )
    chunks, size = [], 0
    with archive.open(info) as member:
        # The declared size is only a claim: count what actually comes out.
        while chunk := member.read(min(_CHUNK, cap + 1 - size)):
            size += len(chunk)
            if size > cap:
                raise error(f"{where} inflates past the limit of {cap} bytes.")
            chunks.append(chunk)
    budget.left -= size
    return b"".join(chunks)


def parse_json(data, where, error):
    """Parse JSON ``data`` no larger than :data:`MAX_JSON_BYTES`, nested at most
    :data:`MAX_JSON_DEPTH` deep; raise ``error`` naming ``where`` otherwise."""
    if len(data) > MAX_JSON_BYTES:
        raise error(
            f"{where} is {len(data)} bytes, over the limit of "
            f"{MAX_JSON_BYTES} for JSON."
        )
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise error(
            f"{where} is not valid JSON (or nested too deep): {str(exc)[:200]}"
        ) from exc
    if json_depth(value) > MAX_JSON_DEPTH:
        raise error(
            f"{where} nests arrays and objects over {MAX_JSON_DEPTH} "
            "levels deep, the limit."
        )
    return value


def json_depth(value):
    """Deepest nesting of lists and dicts in ``value``, found without recursion.

    The walk stops one level past :data:`MAX_JSON_DEPTH`: deeper is refused.
    """
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth)
            if depth <= MAX_JSON_DEPTH:  # one level past the limit is proof enough
                stack.extend((item, depth + 1) for item in node)
    return deepest


def read_npy_header(fileobj):
    """``(shape, dtype)`` from a ``.npy`` header (format 1.0 or 2.0), unchecked."""
    version = np.lib.format.read_magic(fileobj)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f".npy format version {version} is not supported")
    read = np.lib.format.read_array_header_1_0
    if version == (2, 0):
        read = np.lib.format.read_array_header_2_0
    shape, _, dtype = read(fileobj)
    return shape, dtype


def npy_header(fileobj, payload_bytes, where, error, *, max_bytes):
    """Read a ``.npy`` header; check it against the bytes that follow it.

    ``payload_bytes`` is the size of the whole ``.npy`` member (header
    included). Returns ``(shape, dtype)``. Refuses object dtypes, a declared
    size over ``max_bytes`` and a declared size that differs from the data
    present, so loading allocates no more than the file really holds.
    """
    try:
        shape, dtype = read_npy_header(fileobj)
    except ZIP_ERRORS + (SyntaxError, TypeError) as exc:
        raise error(f"{where}: not a valid .npy array ({exc}).") from exc
    if dtype.hasobject:
        raise error(
            f"{where}: holds Python objects (dtype {dtype}); only plain "
            "numeric arrays are read."
        )
    declared = dtype.itemsize
    for dim in shape:
        declared *= dim  # Python ints: 10**15 rows cannot overflow
    if declared > max_bytes:
        raise error(
            f"{where}: declares shape {shape} of {dtype} ({declared} "
            f"bytes), over the limit of {max_bytes} bytes."
        )
    present = payload_bytes - fileobj.tell()
    if declared != present:
        raise error(
            f"{where}: declares shape {shape} of {dtype} ({declared} "
            f"bytes) but holds {present} bytes of data."
        )
    return shape, dtype
