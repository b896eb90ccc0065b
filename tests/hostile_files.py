"""Crafted model and data files, built the way an attacker would (issues 15, 27).

Each builder takes the bytes of a valid ``.skmnist`` file holding one Keras
classifier (or a path for data files) and returns a hostile variant, re-sealed
with a correct checksum so that the checks behind it are what refuses it. Sizes
are parameters: the tests make small bombs. Nothing here imports skmnist, so
the same files can be fed to other versions.
"""

import gzip
import hashlib
import io
import json
import struct
import zipfile

import numpy as np

TRAILER = b"skmnist-sha256:"
WEIGHTS = "weights.safetensors"


def entries_of(archive_bytes):
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def seal(entries, compress_weights=False):
    """Zip ``entries`` as skmnist.save does (weights stored), with a valid checksum."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            stored = name.endswith(".safetensors") and not compress_weights
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
        archive.comment = TRAILER + b"0" * 64
    data = buffer.getvalue()[:-64]
    return data + hashlib.sha256(data).hexdigest().encode()


def _edit_estimator(model, edit):
    entries = entries_of(model)
    document = json.loads(entries["estimator.json"])
    edit(document)
    entries["estimator.json"] = json.dumps(document).encode()
    return seal(entries)


def set_param(model, name, value):
    """Parameter ``name`` set to ``value`` (JSON as skmnist writes it)."""

    def edit(document):
        pairs = document["params"]["__dict__"]
        document["params"]["__dict__"] = [p for p in pairs if p[0] != name]
        document["params"]["__dict__"].append([name, value])

    return _edit_estimator(model, edit)


# -- estimator.json ------------------------------------------------------------


def estimator_bomb(model, pad_bytes):
    """estimator.json padded with ``pad_bytes`` spaces, deflated (a zip bomb)."""
    entries = entries_of(model)
    document = entries.pop("estimator.json")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, data in entries.items():
            archive.writestr(key, data, zipfile.ZIP_STORED)
        with archive.open("estimator.json", "w", force_zip64=True) as member:
            member.write(document[:1])
            chunk = b" " * (1 << 24)
            for start in range(0, pad_bytes, len(chunk)):
                member.write(chunk[: pad_bytes - start])
            member.write(document[1:])
        archive.comment = TRAILER + b"0" * 64
    data = buffer.getvalue()[:-64]
    return data + hashlib.sha256(data).hexdigest().encode()


def units_bomb(model, units=500_000):
    """A KerasMLP file whose hidden layer declares ``units`` units."""
    return set_param(model, "hidden_layer_sizes", {"__tuple__": [units]})


def classes_dtype(model, dtype="<U20000000"):
    def edit(document):
        document["attributes"]["classes_"]["dtype"] = dtype

    return _edit_estimator(model, edit)


def bad_classes(model, classes, dtype=None):
    """classes_ replaced by ``classes`` (unsorted, duplicated, NaN...)."""

    def edit(document):
        document["attributes"]["classes_"]["__ndarray__"] = classes
        if dtype is not None:
            document["attributes"]["classes_"]["dtype"] = dtype
        document["attributes"]["n_classes_"] = len(classes)

    return _edit_estimator(model, edit)


def json_depth(model, depth=600):
    """history_ holds a list nested ``depth`` deep (written as text: the json
    module itself cannot build or write much deeper than 1000)."""
    entries = entries_of(model)
    document = json.loads(entries["estimator.json"])
    document["attributes"]["history_"] = {"__dict__": [["loss", "NESTED"]]}
    text = json.dumps(document).replace('"NESTED"', "[" * depth + "]" * depth)
    entries["estimator.json"] = text.encode()
    return seal(entries)


def encrypted_flag(model, entry="estimator.json"):
    """``entry`` marked encrypted in its zip headers (its data is not)."""
    data = bytearray(seal(entries_of(model)))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(entry)
    data[info.header_offset + 6] |= 0x1  # local header's flag bits
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:  # central directory
        name_len = struct.unpack("<H", data[start + 28 : start + 30])[0]
        if data[start + 46 : start + 46 + name_len] == entry.encode():
            data[start + 8] |= 0x1
        start += 4
    body = bytes(data[:-64])
    return body + hashlib.sha256(body).hexdigest().encode()


def corrupt_deflate(model, entry="estimator.json"):
    """``entry``'s deflate stream starts with a reserved block type."""
    data = bytearray(seal(entries_of(model)))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(entry)
    name_len, extra_len = struct.unpack(
        "<HH", data[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_len + extra_len
    data[start] = 0xFF  # BFINAL=1, BTYPE=11: "invalid block type"
    body = bytes(data[:-64])
    return body + hashlib.sha256(body).hexdigest().encode()


# -- weights.safetensors ----------------------------------------------------------


def split_safetensors(data):
    """``(header, body)`` of a safetensors file: its JSON header and the bytes after."""
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + size]), data[8 + size :]


def join_safetensors(header, body, size=None):
    """A safetensors file from ``header`` and ``body``; ``size`` may lie."""
    text = json.dumps(header).encode()
    return (len(text) if size is None else size).to_bytes(8, "little") + text + body


def with_weights(model, weights, compress=False):
    """``model`` whose weights entry is replaced by the bytes ``weights``."""
    entries = entries_of(model)
    entries[WEIGHTS] = weights
    return seal(entries, compress_weights=compress)


def edit_header(model, edit):
    """``edit(header)`` applied to the weights' header; the data stays."""
    header, body = split_safetensors(entries_of(model)[WEIGHTS])
    edit(header)
    return with_weights(model, join_safetensors(header, body))


def edit_tensors(model, edit):
    """``edit(arrays)`` on the weights as NumPy arrays, re-encoded validly."""
    import safetensors.numpy

    arrays = dict(safetensors.numpy.load(entries_of(model)[WEIGHTS]))
    edit(arrays)
    return with_weights(model, safetensors.numpy.save(arrays))


def header_length_bomb(model, size=1 << 62):
    """The weights' first 8 bytes declare a header of ``size`` bytes."""
    header, body = split_safetensors(entries_of(model)[WEIGHTS])
    return with_weights(model, join_safetensors(header, body, size=size))


def huge_shape(model, shape=(10**6, 10**6)):
    """The first tensor declares ``shape``; its byte range stays as it was."""

    def edit(header):
        name = next(name for name in header if name != "__metadata__")
        header[name]["shape"] = list(shape)

    return edit_header(model, edit)


def truncated_weights(model, keep=-4):
    header, body = split_safetensors(entries_of(model)[WEIGHTS])
    return with_weights(model, join_safetensors(header, body[:keep]))


def compressed_weights(model, pad_bytes=0):
    """The weights deflated in the archive, ``pad_bytes`` zeros appended: a
    zip bomb if the reader inflated it."""
    return with_weights(model, entries_of(model)[WEIGHTS] + bytes(pad_bytes), True)


# -- data files --------------------------------------------------------------


def idx_header(shape, magic):
    return struct.pack(f">i{len(shape)}I", magic, *shape)


def idx_gz_bomb(path, n_bytes, header=b""):
    """A gzip of ``header`` then zeros, ``n_bytes`` in all once inflated."""
    chunk = bytes(1 << 24)
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(header)
        left = n_bytes - len(header)
        while left > 0:
            out.write(chunk[:left])
            left -= len(chunk)
    return path


def sparse_idx(path, n_bytes, header=b""):
    """A sparse raw file of ``n_bytes``: ``header`` then holes (zeros)."""
    with open(path, "wb") as out:
        out.write(header)
        out.truncate(n_bytes)
    return path


def npz_declaring_rows(path, rows=10**15):
    """A Keras-format npz whose x_train.npy header declares ``rows`` images."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.zeros((2, 28, 28), np.uint8))
    real = buffer.getvalue()
    header = np.lib.format.header_data_from_array_1_0(np.zeros((2, 28, 28), np.uint8))
    header["shape"] = (rows, 28, 28)
    fake = io.BytesIO()
    np.lib.format.write_array_header_1_0(fake, header)
    payload = real[-2 * 28 * 28 :]
    labels = io.BytesIO()
    np.lib.format.write_array(labels, np.zeros(2, np.int64))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", fake.getvalue() + payload)
        archive.writestr("y_train.npy", labels.getvalue())
        archive.writestr("x_test.npy", real)
        archive.writestr("y_test.npy", labels.getvalue())
    return path
