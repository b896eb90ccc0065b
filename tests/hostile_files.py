"""Crafted model and data files, built the way an attacker would (issue 15).

Each builder takes the bytes of a valid ``.skmnist`` file holding one Keras
classifier (or a path for data files) and returns a hostile variant, re-sealed
with a correct checksum so that the checks behind it are what refuses it. Sizes
are parameters: the tests make small bombs, ``benchmarks``-style measurements
the full-size ones of the issue. Nothing here imports skmnist, so the same
files can be fed to older versions.
"""

import gzip
import hashlib
import io
import json
import struct
import zipfile

import numpy as np

TRAILER = b"skmnist-sha256:"


def entries_of(archive_bytes):
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def seal(entries):
    """Zip ``entries`` (deflated) as skmnist.save does, with a valid checksum."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
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


def _edit_keras(model, name, content):
    entries = entries_of(model)
    inner = entries_of(entries["model.keras"])
    inner[name] = content
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for key, data in inner.items():
            archive.writestr(key, data)
    entries["model.keras"] = buffer.getvalue()
    return seal(entries)


def config_bomb(model, pad_bytes):
    """Inner config.json padded with ``pad_bytes`` spaces, deflated twice."""
    inner = entries_of(entries_of(model)["model.keras"])
    config = inner.pop("config.json")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, data in inner.items():
            archive.writestr(key, data)
        with archive.open("config.json", "w", force_zip64=True) as member:
            member.write(config[:1])
            chunk = b" " * (1 << 24)
            for start in range(0, pad_bytes, len(chunk)):
                member.write(chunk[: pad_bytes - start])
            member.write(config[1:])
    entries = entries_of(model)
    entries["model.keras"] = buffer.getvalue()
    return seal(entries)


def units_bomb(model, units=500_000):
    """The output Dense layer declares ``units`` units."""
    config = json.loads(entries_of(entries_of(model)["model.keras"])["config.json"])
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "Dense":
            layer["config"]["units"] = units
    return _edit_keras(model, "config.json", json.dumps(config).encode())


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
        name_len = struct.unpack("<H", data[start + 28:start + 30])[0]
        if data[start + 46:start + 46 + name_len] == entry.encode():
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
        "<HH", data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    data[start] = 0xFF  # BFINAL=1, BTYPE=11: "invalid block type"
    body = bytes(data[:-64])
    return body + hashlib.sha256(body).hexdigest().encode()


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
    header = np.lib.format.header_data_from_array_1_0(np.zeros((2, 28, 28),
                                                                 np.uint8))
    header["shape"] = (rows, 28, 28)
    fake = io.BytesIO()
    np.lib.format.write_array_header_1_0(fake, header)
    payload = real[-2 * 28 * 28:]
    labels = io.BytesIO()
    np.lib.format.write_array(labels, np.zeros(2, np.int64))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", fake.getvalue() + payload)
        archive.writestr("y_train.npy", labels.getvalue())
        archive.writestr("x_test.npy", real)
        archive.writestr("y_test.npy", labels.getvalue())
    return path
