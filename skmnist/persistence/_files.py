"""Save and load fitted models without pickle: one file, nothing from it runs.

:func:`save` writes one zip archive holding

* ``manifest.json``: the file format, what the archive holds and the versions
  of skmnist, Keras, TensorFlow, scikit-learn, skops and NumPy that wrote it;
* for each ``KerasLogistic`` / ``KerasMLP`` / ``KerasCNN``: ``estimator.json``
  (class name, parameters, fitted attributes; arrays as lists with their
  dtype) and
  ``model.keras``, the Keras model in its native format;
* for scikit-learn parts (the baseline, a ``Pipeline``'s other steps):
  ``sklearn.skops``, written by :func:`skops.io.dumps`;
* a SHA-256 of the archive in its zip comment, so a damaged file is refused
  before anything in it is read.

:func:`load` reads that file back without ever unpickling: the estimator class
comes from an allow-list (``KerasLogistic``, ``KerasMLP``, ``KerasCNN``), each
parameter is re-validated, each fitted attribute is checked against an
allow-list of names and types, every class named in the Keras config must be
one skmnist builds, Keras loads with ``safe_mode=True``, and skops loads with
an explicit list of trusted types. Anything else raises :class:`UntrustedModelError`.

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

Files saved while ``learning_rate`` was the step size (a float; it is now
``learning_rate_init``, and ``learning_rate`` the schedule, as in
``MLPClassifier``) load silently with that value as ``learning_rate_init``
and the optimizer settings they were trained with (no sgd momentum, Keras'
Adam epsilon of 1e-7).
"""

import copy
import hashlib
import io
import json
import os
import warnings
import zipfile
from pathlib import Path

from sklearn.pipeline import Pipeline

from .._utils import _safe_zip
from .._utils._io import library_versions, write_bytes_atomic
from ..exceptions import ModelVersionWarning
from ._keras_state import (
    UntrustedModelError,
    _is_keras_classifier,
    _pack_keras,
    _parse_json,
    _unpack_keras,
)

__all__ = ["ModelVersionWarning", "UntrustedModelError", "load", "save"]

_FORMAT = "skmnist-model"
_FORMAT_VERSION = 1
_TRAILER = b"skmnist-sha256:"  # zip comment: this prefix, then 64 hex digits
_VERSIONED = ("skmnist", "keras", "tensorflow", "scikit-learn", "skops", "numpy")
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
        scikit-learn transformers, ``PixelScaler`` and skmnist classifiers.
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
        If the estimator holds something :func:`load` would refuse.
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
    path = Path(path)
    manifest, entries = _pack(estimator)
    manifest.update(
        format=_FORMAT, format_version=_FORMAT_VERSION, versions=_library_versions()
    )
    data = _archive_bytes(manifest, entries)
    _check_loadable(data, manifest)
    write_bytes_atomic(path, data)
    return path


def _check_loadable(data, manifest):
    """Refuse to write a file that :func:`load` would refuse for its size.

    ``load`` bounds what a file may make it allocate (:mod:`skmnist._utils._safe_zip`,
    :mod:`skmnist.persistence._keras_checks`). A model past those bounds, e.g. hidden
    layers of thousands of units, would be written and then never load; the
    same checks run here first, so nothing is written.
    """
    from ._keras_checks import _check_keras_archive

    try:
        _check_file_size(len(data), "the model file to write")
        budget = _safe_zip.Budget()
        _, entries = _read_archive(data, budget=budget)
        prefixes = (
            [""]
            if manifest["kind"] == "keras"
            else [f"steps/{i}/" for i in manifest.get("keras_steps", [])]
        )
        for prefix in prefixes:
            where = f"{prefix}model.keras"
            _check_keras_archive(entries[where], where, budget)
    except UntrustedModelError as error:
        raise ValueError(
            "This model is too large for skmnist.load, which bounds what a model "
            f"file may make it allocate: {error} Nothing was written."
        ) from None


def _check_file_size(n_bytes, name):
    """The first of load's limits, which save runs too (``_check_loadable``)."""
    if n_bytes > _safe_zip.MAX_FILE_BYTES:
        raise UntrustedModelError(
            f"{name} is {n_bytes} bytes, over the limit of "
            f"{_safe_zip.MAX_FILE_BYTES} bytes for a model file."
        )


def load(path):
    """Load a model written by :func:`save`; no code from the file runs.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.

    Returns
    -------
    estimator : object
        The fitted estimator, with the same ``predict_proba`` as when saved.

    Raises
    ------
    UntrustedModelError
        A ``ValueError``: the file is damaged (checksum, truncated archive),
        was altered, or names a class, attribute or type outside the
        allow-lists (e.g. a Keras ``Lambda`` layer, an untrusted skops type).

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
    path = Path(path)
    _check_file_size(os.stat(path).st_size, path.name)
    budget = _safe_zip.Budget()
    manifest, entries = _read_archive(path.read_bytes(), budget=budget)
    _warn_versions(manifest)
    kind = manifest["kind"]
    if kind == "keras":
        return _unpack_keras(entries, "", budget)
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
                    f"classifier; the skops part has {step!r}."
                )
            steps[index] = (step[0], _unpack_keras(entries, f"steps/{index}/", budget))
    return estimator


# -- the archive ---------------------------------------------------------------


def _archive_bytes(manifest, entries):
    """Zip ``manifest`` and ``entries`` and seal the result with its SHA-256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
        for name, data in entries.items():
            archive.writestr(name, data)
        archive.comment = _TRAILER + b"0" * 64
    data = buffer.getvalue()[:-64]
    return data + hashlib.sha256(data).hexdigest().encode()


def _read_archive(data, budget=None):
    """Check an archive's seal and layout; return its manifest and entries.

    Every entry is inflated within the limits of :mod:`skmnist._utils._safe_zip`,
    charged to ``budget`` (shared with the archives nested inside).
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
    entries = _safe_zip.read_zip(data, "model file", UntrustedModelError, budget=budget)
    if "manifest.json" not in entries:
        raise UntrustedModelError("The archive has no manifest.json.")
    manifest = _parse_json(entries.pop("manifest.json"), "manifest.json")
    expected = _expected_entries(manifest)
    if set(entries) != expected:
        raise UntrustedModelError(
            f"Unexpected archive entries: found {sorted(entries)}, the manifest "
            f"describes {sorted(expected)}."
        )
    return manifest, entries


def _expected_entries(manifest):
    if not (isinstance(manifest, dict) and manifest.get("format") == _FORMAT):
        raise UntrustedModelError("manifest.json does not describe an skmnist model.")
    if manifest.get("format_version") != _FORMAT_VERSION:
        raise UntrustedModelError(
            f"Unsupported format_version {manifest.get('format_version')!r}; "
            f"this skmnist reads version {_FORMAT_VERSION}."
        )
    kind, steps = manifest.get("kind"), manifest.get("keras_steps", [])
    keras_files = {"estimator.json", "model.keras"}
    if kind == "keras":
        return keras_files
    if kind == "sklearn":
        return {"sklearn.skops"}
    if (
        kind == "pipeline"
        and isinstance(steps, list)
        and steps
        and all(type(i) is int and 0 <= i < 1000 for i in steps)
    ):
        return {"sklearn.skops"} | {
            f"steps/{i}/{name}" for i in steps for name in keras_files
        }
    raise UntrustedModelError(
        f"manifest.json has an invalid kind {kind!r} or keras_steps {steps!r}."
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
                f"This model was saved with {library} {saved.get(library)} and is "
                f"loaded with {library} {running[library]}; check its predictions "
                "before relying on them.",
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
            _parse_json(content, f"{where}/{name}")
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


def _skops_loads(data, budget=None):
    import skops.io

    # skops reads a zip of schema.json and .npy arrays: check every entry within
    # the limits first, so that skops never inflates or allocates past them.
    _check_skops_entries(data, "sklearn.skops", budget)
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
