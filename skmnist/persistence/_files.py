"""Save and load fitted models without pickle: one file, nothing from it runs.

:func:`save` writes one zip archive holding

* ``manifest.json``: the file format, what the archive holds and the versions
  of skmnist, Keras, TensorFlow, scikit-learn, skops and NumPy that wrote it;
* for each ``KerasLogistic`` / ``KerasMLP`` / ``KerasCNN``: ``estimator.json``
  (class name, parameters, fitted attributes, the settings its network was
  built with) and ``weights.safetensors``, the network's weights and its
  optimizer's state in the `safetensors <https://huggingface.co/docs/safetensors>`_
  format (a bounded header of names, dtypes and shapes, then raw numbers);
* for scikit-learn parts (the baseline, a ``Pipeline``'s other steps):
  ``sklearn.skops``, written by :func:`skops.io.dumps`;
* a SHA-256 of the archive in its zip comment, so a damaged file is refused
  before anything in it is read.

:func:`load` reads that file back without unpickling and without reading any
network description from it: the estimator class comes from an allow-list,
each parameter is re-validated, each fitted attribute is checked against an
allow-list of names and types, the network the parameters describe is bounded
and then built by skmnist's own builders, and every weight is checked against
the built network's variables before it is read. skops loads with an explicit
list of trusted types. Anything else raises :class:`UntrustedModelError`.

When to use which:

* ``pickle`` / ``joblib`` work too (Keras models pickle through their native
  format) and are the fastest for a cache or a checkpoint **you wrote
  yourself**, read back by the same library versions. Loading a pickle runs
  whatever code it names: never load one from anyone else.
* :func:`save` / :func:`load` are for models that are shared, downloaded or
  kept across upgrades: loading runs no code from the file, and a file written
  by another skmnist or Keras version loads with a :class:`ModelVersionWarning`.

The checksum only detects damage; someone crafting a file can recompute it,
which is why every part is also checked against the allow-lists above.
"""

import copy
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
from ._keras_state import _is_keras_classifier, _pack_keras, _unpack_keras

__all__ = ["ModelVersionWarning", "UntrustedModelError", "load", "save"]

_FORMAT = "skmnist-model"
_FORMAT_VERSION = 2
_TRAILER = b"skmnist-sha256:"  # zip comment: this prefix, then 64 hex digits
_VERSIONED = ("skmnist", "keras", "tensorflow", "scikit-learn", "skops", "numpy")
_KERAS_FILES = ("estimator.json", "weights.safetensors")
# skops trusts scikit-learn, NumPy and SciPy types itself, but not the private
# classes of a fitted MLPClassifier's optimizer state: plain holders of NumPy
# arrays and floats, rebuilt without running code, needed for partial_fit.
SKOPS_TRUSTED = [
    "skmnist.preprocessing.PixelScaler",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
]


def save(estimator, path):
    """Save a fitted skmnist model to one file, without pickle.

    Parameters
    ----------
    estimator : KerasLogistic, KerasMLP, KerasCNN, Pipeline or sklearn estimator
        A fitted ``KerasLogistic``, ``KerasMLP`` or ``KerasCNN``, the baseline from
        :func:`~skmnist.make_baseline`, or a ``Pipeline`` whose steps are
        scikit-learn transformers, ``PixelScaler`` and skmnist classifiers,
        ending in a classifier (something with ``predict``).
        Keras ``callbacks`` are not saved (the loaded model has none), nor
        scikit-learn callbacks set with ``set_callbacks``.
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
        If the estimator holds something :func:`load` would refuse, or cannot
        predict (a ``Pipeline`` ending in a transformer).
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
        A ``ValueError``: the path is not a regular file, or the file is too
        large, damaged (checksum, truncated archive), was altered, was written
        in another save format (skmnist 0.1's format 1), names a class,
        attribute, parameter or type outside the allow-lists (e.g. an
        untrusted skops type), holds weights that do not fit the network its
        parameters describe, or holds a model that cannot predict.

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
    info = check_regular_file(path, what="model file", error=UntrustedModelError)
    if info.st_size > _safe_zip.MAX_FILE_BYTES:  # a first answer, before reading
        raise UntrustedModelError(
            f"The model file {str(path)!r} is {info.st_size} bytes, over the limit "
            f"of {_safe_zip.MAX_FILE_BYTES} bytes."
        )
    data = read_bounded(
        path, _safe_zip.MAX_FILE_BYTES, what="model file", error=UntrustedModelError
    )
    budget = _safe_zip.Budget()  # shared by the archives nested inside
    manifest, entries = _read_archive(data, budget)
    _warn_versions(manifest)
    kind = manifest["kind"]
    if kind == "keras":
        estimator = _unpack_keras(entries, "")
    else:
        estimator = _skops_loads(entries.pop("sklearn.skops"), budget)
    if kind == "pipeline":
        if type(estimator) is not Pipeline:
            raise UntrustedModelError(
                f"The manifest says 'pipeline' but the skops part holds a "
                f"{type(estimator).__name__}."
            )
        steps = estimator.steps
        for index in manifest["keras_steps"]:
            in_range = isinstance(steps, list) and index < len(steps)
            step = steps[index] if in_range else ()
            if not (
                isinstance(step, tuple)
                and len(step) == 2
                and isinstance(step[1], str)
                and step[1] == "passthrough"
            ):
                raise UntrustedModelError(
                    f"Pipeline step {index} should be a placeholder for a Keras "
                    f"classifier; the skops part has {str(step)[:200]}."
                )
            steps[index] = (step[0], _unpack_keras(entries, f"steps/{index}/"))
    _check_can_predict(estimator)
    return estimator


def _check_can_predict(estimator):
    """Refuse a model that loads but could not predict (issue 29)."""
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
            archive.writestr(
                name, data, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            )
        archive.comment = _TRAILER + b"0" * 64
    data = buffer.getvalue()[:-64]
    return data + hashlib.sha256(data).hexdigest().encode()


def _read_archive(data, budget=None):
    """Check an archive's seal and layout; return its manifest and entries.

    Every entry is inflated within the limits of :mod:`skmnist._utils._safe_zip`,
    charged to one budget (shared with the archives nested inside); the
    weights must be stored, never inflated.
    """
    seal = data[-64:]
    if data[-64 - len(_TRAILER) : -64] != _TRAILER:
        raise UntrustedModelError(
            "Not a file written by skmnist.save: it does not end with its "
            "checksum (a truncated file, or another format)."
        )
    if hashlib.sha256(memoryview(data)[:-64]).hexdigest().encode() != seal:
        raise UntrustedModelError(
            "Checksum mismatch: the model file was damaged or modified after "
            "skmnist.save wrote it."
        )
    entries = _safe_zip.read_zip(
        data, "model file", UntrustedModelError, budget=budget, stored=(".safetensors",)
    )
    if "manifest.json" not in entries:
        raise UntrustedModelError("The archive has no manifest.json.")
    manifest = _safe_zip.parse_json(
        entries.pop("manifest.json"), "manifest.json", UntrustedModelError
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
    version = manifest.get("format_version")
    if version == 1:
        versions = manifest.get("versions")
        writer = versions.get("skmnist") if isinstance(versions, dict) else None
        raise UntrustedModelError(
            f"This file was written by skmnist {str(writer)[:40]} in save format 1 "
            "(a Keras model.keras inside), which skmnist "
            f"{_library_versions()['skmnist']} no longer reads: it reads format "
            f"{_FORMAT_VERSION}. Fit the model again and save it with this version "
            "(format 1 was never released, so it is not migrated)."
        )
    if version != _FORMAT_VERSION:
        raise UntrustedModelError(
            f"Unsupported format_version {str(version)[:40]}; this skmnist reads "
            f"version {_FORMAT_VERSION}."
        )
    kind, steps = manifest.get("kind"), manifest.get("keras_steps", [])
    if kind == "keras":
        return set(_KERAS_FILES)
    if kind == "sklearn":
        return {"sklearn.skops"}
    if (
        kind == "pipeline"
        and isinstance(steps, list)
        and steps
        and all(type(i) is int and 0 <= i < 1000 for i in steps)
    ):
        return {"sklearn.skops"} | {
            f"steps/{i}/{name}" for i in steps for name in _KERAS_FILES
        }
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


# -- scikit-learn parts ----------------------------------------------------------


def _pack(estimator):
    estimator = _without_sk_callbacks(estimator)
    if _is_keras_classifier(estimator):
        return {"kind": "keras"}, _pack_keras(estimator, "")
    if type(estimator) is Pipeline and any(
        _is_keras_classifier(step) for _, step in estimator.steps
    ):
        keras_steps = [
            i
            for i, (_, step) in enumerate(estimator.steps)
            if _is_keras_classifier(step)
        ]
        shell = copy.copy(estimator)  # the steps list is replaced, not mutated
        steps = [(name, _without_sk_callbacks(step)) for name, step in estimator.steps]
        shell.steps = [
            (name, "passthrough" if i in keras_steps else step)
            for i, (name, step) in enumerate(steps)
        ]
        entries = {"sklearn.skops": _skops_dumps(shell)}
        for i in keras_steps:
            entries.update(_pack_keras(steps[i][1], f"steps/{i}/"))
        return {"kind": "pipeline", "keras_steps": keras_steps}, entries
    return {"kind": "sklearn"}, {"sklearn.skops": _skops_dumps(estimator)}


def _without_sk_callbacks(estimator):
    """``estimator``, or a shallow copy of it without scikit-learn callbacks.

    Callbacks set with ``set_callbacks`` (scikit-learn >= 1.9) are live
    objects (progress displays, score logs), not part of a model: like Keras
    ``callbacks``, they are left out, with a warning.
    """
    if not getattr(estimator, "_skl_callbacks", None):
        return estimator
    warnings.warn(
        f"scikit-learn callbacks set on {type(estimator).__name__} with "
        "set_callbacks are not saved; the loaded estimator has none.",
        UserWarning,
        stacklevel=4,
    )
    shell = copy.copy(estimator)
    del vars(shell)["_skl_callbacks"]
    return shell


def _skops_dumps(estimator):
    import skops.io

    try:
        data = skops.io.dumps(estimator)
    except Exception as exc:
        raise TypeError(
            f"Cannot save {type(estimator).__name__} with skops: {exc}. "
            "skmnist.save handles Keras classifiers only on their own "
            "or as steps of a top-level Pipeline."
        ) from exc
    untrusted = set(skops.io.get_untrusted_types(data=data)) - set(SKOPS_TRUSTED)
    if untrusted:
        raise TypeError(
            f"Cannot save {type(estimator).__name__}: it holds types that "
            f"skmnist.load refuses to load: {sorted(untrusted)}. Keras "
            "classifiers are saved only on their own or as steps of a top-level "
            "Pipeline."
        )
    return data


def _check_skops_entries(data, where, budget):
    """Check a skops zip (and the sparse-matrix .npz inside it) within limits."""
    for name, content in _safe_zip.read_zip(
        data, where, UntrustedModelError, budget=budget
    ).items():
        if name.endswith(".json"):
            _safe_zip.parse_json(content, f"{where}/{name}", UntrustedModelError)
        elif name.endswith(".npy"):
            _safe_zip.npy_header(
                io.BytesIO(content),
                len(content),
                f"{where}/{name}",
                UntrustedModelError,
                max_bytes=_safe_zip.MAX_ENTRY_BYTES,
            )
        elif name.endswith(".npz"):  # scipy.sparse.save_npz, itself a zip
            _check_skops_entries(content, f"{where}/{name}", budget)


def _skops_loads(data, budget):
    # skops reads a zip of schema.json and .npy arrays: check every entry within
    # the limits first, so that skops never inflates or allocates past them
    # (and is not even imported for a crafted file).
    _check_skops_entries(data, "sklearn.skops", budget)
    import skops.io

    try:
        untrusted = set(skops.io.get_untrusted_types(data=data)) - set(SKOPS_TRUSTED)
        if untrusted:
            raise UntrustedModelError(
                f"The scikit-learn part holds untrusted types {sorted(untrusted)}; "
                f"only scikit-learn's own and {SKOPS_TRUSTED} are loaded."
            )
        return skops.io.loads(data, trusted=SKOPS_TRUSTED)
    except UntrustedModelError:
        raise
    except Exception as exc:  # skops raises many types on a malformed schema
        raise UntrustedModelError(
            f"The scikit-learn part could not be loaded safely: {exc}"
        ) from exc
