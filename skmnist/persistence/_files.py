"""Save and load fitted models without pickle: one file, nothing from it runs.

:func:`save` writes one zip archive: ``manifest.json`` (the format, what the
archive holds, the versions of the libraries that wrote it); for each Keras
classifier ``estimator.json`` and ``weights.safetensors``
(:mod:`skmnist.persistence._keras_state`); for scikit-learn parts (the
baseline, a ``Pipeline``'s other steps) ``sklearn.skops``, written by
:func:`skops.io.dumps`; and a SHA-256 of the archive in its zip comment, so a
damaged file is refused before anything in it is read.

:func:`load` reads regular files only, within a size bound, never unpickles,
rebuilds each network with skmnist's own builders from validated parameters,
loads skops parts with an explicit list of trusted types, and refuses a model
that cannot predict. The checksum only detects damage (whoever crafts a file
can recompute it); the checks behind it are what make loading safe.
``pickle`` and ``joblib`` work too, for files you wrote yourself: loading a
pickle runs whatever code it names.
"""

import hashlib
import io
import json
import warnings
import zipfile
from pathlib import Path

from sklearn.pipeline import Pipeline

from .._utils import _safe_zip
from .._utils._files import check_regular_file, read_bounded
from .._utils._io import library_versions, write_bytes_atomic
from ..exceptions import ModelVersionWarning, UntrustedModelError
from ._keras_state import _unpack_keras
from ._sklearn_state import _pack, _skops_loads

__all__ = ["ModelVersionWarning", "UntrustedModelError", "load", "save"]

_FORMAT = "skmnist-model"
_FORMAT_VERSION = 2
_TRAILER = b"skmnist-sha256:"  # zip comment: this prefix, then 64 hex digits
_VERSIONED = ("skmnist", "keras", "tensorflow", "scikit-learn", "skops", "numpy")
_KERAS_FILES = ("estimator.json", "weights.safetensors")


def save(estimator, path):
    """Save a fitted skmnist model to one file, without pickle.

    Parameters
    ----------
    estimator : KerasLogistic, KerasMLP, KerasCNN, Pipeline or sklearn estimator
        A fitted ``KerasLogistic``, ``KerasMLP`` or ``KerasCNN``, the baseline from
        :func:`~skmnist.make_baseline`, or a ``Pipeline`` whose steps are
        scikit-learn transformers, ``PixelScaler`` and skmnist classifiers,
        ending in a classifier. Keras ``callbacks`` are not saved (the loaded
        model has none), nor scikit-learn callbacks set with ``set_callbacks``.
    path : str or path-like
        Where to write; the file is written under a temporary name and then
        renamed, so a failed save never leaves half a file.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    TypeError
        If the estimator cannot predict (a ``Pipeline`` ending in a
        transformer) or holds something :func:`load` would refuse.
    ValueError
        If the model is larger than :func:`load` accepts (the limits that
        bound what a crafted file can allocate); nothing is written.

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from sklearn.datasets import load_digits
    >>> import skmnist
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = skmnist.KerasLogistic(max_iter=2, random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = skmnist.save(clf, f"{tmp}/digits.skmnist")
    ...     same = skmnist.load(path)
    >>> bool(np.array_equal(same.predict_proba(X), clf.predict_proba(X)))
    True
    """
    from sklearn.utils.validation import check_is_fitted

    if not hasattr(estimator, "predict"):
        raise TypeError(
            f"skmnist.save writes models that predict; {type(estimator).__name__} "
            "has no predict method (a Pipeline must end in a classifier)."
        )
    check_is_fitted(estimator)
    manifest, entries = _pack(estimator)
    manifest.update(
        format=_FORMAT, format_version=_FORMAT_VERSION, versions=_library_versions()
    )
    data = _archive_bytes(manifest, entries)
    if len(data) > _safe_zip.MAX_FILE_BYTES:
        raise ValueError(
            f"This model is too large for skmnist.load: the file would be "
            f"{len(data)} bytes, over the limit of {_safe_zip.MAX_FILE_BYTES}. "
            "Nothing was written."
        )
    return write_bytes_atomic(Path(path), data)


def load(path):
    """Load a model written by :func:`save`; no code from the file runs.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`: a regular file (devices, FIFOs and
        sockets are refused before anything is read).

    Returns
    -------
    estimator : object
        The fitted estimator, with the same ``predict_proba`` as when saved.

    Raises
    ------
    UntrustedModelError
        A ``ValueError``: the path is no regular file, or the file is too
        large, damaged, altered, of another save format (skmnist 0.1's
        format 1), names anything outside the allow-lists, holds weights that
        do not fit the network its parameters describe, or a model that
        cannot predict. The message names the part at fault.

    Warns
    -----
    ModelVersionWarning
        The file was written by another version of skmnist or Keras.

    See Also
    --------
    save : Write the file.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_digits
    >>> import skmnist
    >>> X, y = load_digits(return_X_y=True)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = skmnist.save(skmnist.make_baseline().fit(X * 15, y), f"{tmp}/b")
    ...     skmnist.load(path).predict(X[:3] * 15)
    array([0, 1, 2])
    """
    limit = _safe_zip.MAX_FILE_BYTES
    size = check_regular_file(path, what="model file", error=UntrustedModelError)
    if size.st_size > limit:  # a first answer; the read below is bounded anyway
        raise UntrustedModelError(
            f"The model file {str(path)!r} is {size.st_size} bytes, over the "
            f"limit of {limit} bytes."
        )
    data = read_bounded(path, limit, what="model file", error=UntrustedModelError)
    budget = _safe_zip.Budget()  # shared with the archives nested inside
    manifest, entries = _read_archive(data, budget)
    _warn_versions(manifest)
    if manifest["kind"] == "keras":
        estimator = _unpack_keras(entries, "")
    else:
        estimator = _skops_loads(entries.pop("sklearn.skops"), budget)
    if manifest["kind"] == "pipeline":
        steps = estimator.steps if type(estimator) is Pipeline else []
        for i in manifest["keras_steps"]:
            step = steps[i] if i < len(steps) else None
            if not (isinstance(step, tuple) and step[1:] == ("passthrough",)):
                raise UntrustedModelError(
                    f"Pipeline step {i} should be a placeholder for a Keras "
                    f"classifier; the skops part has {str(step)[:200]}."
                )
            steps[i] = (step[0], _unpack_keras(entries, f"steps/{i}/"))
    _check_can_predict(estimator)
    return estimator


def _check_can_predict(estimator):
    """Refuse a model that loads but could not predict."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        if not hasattr(estimator, "predict"):
            raise TypeError("it has no predict method")
        check_is_fitted(estimator)
    except (NotFittedError, TypeError) as exc:
        raise UntrustedModelError(
            f"The saved {type(estimator).__name__} cannot predict ({exc}); "
            "skmnist.save writes fitted models ending in a classifier."
        ) from exc


# -- the archive ---------------------------------------------------------------


def _archive_bytes(manifest, entries):
    """Zip ``manifest`` and ``entries`` and seal the result with its SHA-256.

    The weights are stored, not deflated: raw floats barely compress, and a
    stored entry cannot inflate past the bytes the file holds.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
        for name, data in entries.items():
            stored = name.endswith(".safetensors")
            method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, method)
        archive.comment = _TRAILER + b"0" * 64
    data = buffer.getvalue()[:-64]
    return data + hashlib.sha256(data).hexdigest().encode()


def _read_archive(data, budget=None):
    """Check an archive's seal and layout; return its manifest and entries.

    Every entry is inflated within the limits of :mod:`skmnist._utils._safe_zip`,
    charged to ``budget``; the weights must be stored, never inflated.
    """
    if data[-64 - len(_TRAILER) : -64] != _TRAILER:
        raise UntrustedModelError(
            "Not a file written by skmnist.save: it does not end with its "
            "checksum (a truncated file, or another format)."
        )
    if hashlib.sha256(memoryview(data)[:-64]).hexdigest().encode() != data[-64:]:
        raise UntrustedModelError(
            "Checksum mismatch: the model file was damaged or modified after "
            "skmnist.save wrote it."
        )
    entries = _safe_zip.read_zip(
        data, "model file", UntrustedModelError, budget=budget, stored=(".safetensors",)
    )
    manifest = _safe_zip.parse_json(
        entries.pop("manifest.json", b"null"), "manifest.json", UntrustedModelError
    )
    expected = _expected_entries(manifest)
    if set(entries) != expected:
        raise UntrustedModelError(
            f"Unexpected archive entries: found {sorted(entries)[:20]}, the "
            f"manifest describes {sorted(expected)}."
        )
    return manifest, entries


def _expected_entries(manifest):
    if not (isinstance(manifest, dict) and manifest.get("format") == _FORMAT):
        raise UntrustedModelError("manifest.json does not describe an skmnist model.")
    version, versions = manifest.get("format_version"), manifest.get("versions")
    if type(version) is int and version == 1:  # true == 1 in JSON's Python
        writer = versions.get("skmnist") if isinstance(versions, dict) else None
        raise UntrustedModelError(
            f"This file was written by skmnist {str(writer)[:40]} in save format 1 "
            f"(a Keras model.keras inside), which skmnist "
            f"{_library_versions()['skmnist']} no longer reads: it reads format "
            f"{_FORMAT_VERSION}. Fit the model again and save it with this version "
            "(format 1 was never released, so it is not migrated)."
        )
    if type(version) is not int or version != _FORMAT_VERSION:
        raise UntrustedModelError(
            f"Unsupported format_version {str(version)[:40]}; this skmnist reads "
            f"version {_FORMAT_VERSION}."
        )
    kind, steps = manifest.get("kind"), manifest.get("keras_steps", [])
    if kind in ("keras", "sklearn"):
        return set(_KERAS_FILES) if kind == "keras" else {"sklearn.skops"}
    if kind == "pipeline" and isinstance(steps, list) and steps:
        if all(type(i) is int and 0 <= i < 1000 for i in steps):
            keras = {f"steps/{i}/{name}" for i in steps for name in _KERAS_FILES}
            return {"sklearn.skops"} | keras
    raise UntrustedModelError(
        f"manifest.json has an invalid kind {str(kind)[:40]!r} or keras_steps "
        f"{str(steps)[:80]}."
    )


def _library_versions():
    return library_versions(_VERSIONED)


def _warn_versions(manifest):
    saved, running = manifest.get("versions"), _library_versions()
    if not isinstance(saved, dict):
        raise UntrustedModelError("manifest.json has no library versions.")
    libraries = ("skmnist", "keras") if manifest["kind"] != "sklearn" else ("skmnist",)
    for library in libraries:
        if saved.get(library) != running[library]:
            warnings.warn(
                f"This model was saved with {library} {str(saved.get(library))[:40]} "
                f"and is loaded with {library} {running[library]}; check its "
                "predictions before relying on them.",
                ModelVersionWarning,
                stacklevel=3,
            )
