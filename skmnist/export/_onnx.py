"""Export fitted classifiers to ONNX, for inference without Python or pickles.

:func:`to_onnx` turns a fitted :class:`~skmnist.KerasLogistic`,
:class:`~skmnist.KerasMLP` (any skmnist Keras classifier), the baseline of
:func:`~skmnist.make_baseline`, or a ``Pipeline`` of
:class:`~skmnist.PixelScaler` steps and one of them into an
``onnx.ModelProto`` that onnxruntime runs. skl2onnx converts the
scikit-learn parts and the pipeline; the Keras networks are converted by
skmnist itself (see :mod:`skmnist.export._onnx_graph` for why), registered with
skl2onnx as the converter of the Keras classifiers.

Needs the optional extra: ``pip install "skmnist[onnx]"``.
"""

import sys
from numbers import Integral

import numpy as np

from ..exceptions import MissingExtraError

__all__ = ["to_onnx"]

#: The ONNX operator set exported graphs use: opset 17 runs on onnxruntime
#: 1.13 and later, and every operator skmnist needs has its final form there.
OPSET = 17
_MIN_OPSET = 13  # Softmax over one axis, ArgMax and Gather as used here
INSTALL_ONNX = 'pip install "skmnist[onnx]"'
_INPUT = "input"
_OUTPUTS = ("label", "probabilities")


def _import_skl2onnx():
    try:
        import onnx  # noqa: F401
        import skl2onnx
    except ImportError as exc:
        raise MissingExtraError(
            "Exporting to ONNX needs onnx and skl2onnx, which are not installed. "
            f"Install them with: {INSTALL_ONNX}"
        ) from exc
    return skl2onnx


def _is_keras_classifier(estimator):
    # Without skmnist.classifiers._base imported no Keras classifier exists:
    # exporting the baseline never imports Keras.
    base = sys.modules.get("skmnist.classifiers._base")
    return base is not None and isinstance(estimator, base.BaseKerasClassifier)


def _check_final_step(estimator):
    """Refuse what cannot be exported, naming it; return the label kind."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.utils.validation import check_is_fitted

    if not (
        _is_keras_classifier(estimator) or isinstance(estimator, LogisticRegression)
    ):
        raise TypeError(
            "to_onnx exports skmnist's Keras classifiers (KerasLogistic, KerasMLP, "
            "...), LogisticRegression (make_baseline) and Pipelines of "
            "PixelScaler steps ending in one of them; got "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    target_type = getattr(estimator, "target_type_", "multiclass")
    if target_type not in ("binary", "multiclass"):
        raise ValueError(
            f"to_onnx exports binary and multiclass classifiers; this "
            f"{type(estimator).__name__} was fitted on {target_type} targets."
        )
    classes = np.asarray(estimator.classes_)
    if classes.dtype.kind in "iu" or (
        classes.dtype.kind in "OU" and all(isinstance(c, str) for c in classes)
    ):
        return
    raise ValueError(
        "to_onnx exports classifiers whose classes_ are integers or strings; "
        f"{type(estimator).__name__}.classes_ has dtype {classes.dtype} "
        f"({classes[:3].tolist()}...)."
    )


def _steps(estimator):
    """The (transformer, ..., classifier) steps, checked, of ``estimator``."""
    from sklearn.pipeline import Pipeline

    from ..preprocessing import PixelScaler

    if not isinstance(estimator, Pipeline):
        _check_final_step(estimator)
        return [estimator]
    steps = [step for _, step in estimator.steps]
    for step in steps[:-1]:
        if not isinstance(step, PixelScaler):
            raise TypeError(
                "to_onnx exports Pipelines whose steps before the classifier are "
                f"PixelScaler; got {step!r} in {type(estimator).__name__}."
            )
    _check_final_step(steps[-1])
    return steps


def _check_opset(opset, skl2onnx):
    latest = skl2onnx.get_latest_tested_opset_version()
    if (
        not isinstance(opset, Integral)
        or isinstance(opset, bool)
        or not _MIN_OPSET <= opset <= latest
    ):
        raise ValueError(
            f"opset must be an int from {_MIN_OPSET} to {latest} (the latest "
            f"skl2onnx {skl2onnx.__version__} has tested); got {opset!r}."
        )


# -- skl2onnx's converters for skmnist's own estimators --------------------------


def _classifier_shapes(operator):
    from skl2onnx.common.data_types import (
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    n = operator.inputs[0].get_first_dimension()
    classes = np.asarray(operator.raw_operator.classes_)
    label = Int64TensorType if classes.dtype.kind in "iub" else StringTensorType
    operator.outputs[0].set_type(label([n]))
    operator.outputs[1].set_type(FloatTensorType([n, len(classes)]))


def _convert_keras_classifier(scope, operator, container):
    from ._onnx_graph import add_classifier_head, add_network

    estimator = operator.raw_operator
    logits = add_network(
        scope, container, estimator.model_, operator.inputs[0].full_name
    )
    add_classifier_head(
        scope,
        container,
        logits,
        np.asarray(estimator.classes_),
        estimator.target_type_,
        tuple(output.full_name for output in operator.outputs),
    )


def _same_shape(operator):
    operator.outputs[0].type = operator.inputs[0].type.__class__(
        operator.inputs[0].type.shape
    )


def _convert_pixel_scaler(scope, operator, container):
    # Exactly PixelScaler.transform: a float32 division by 255. The range
    # check of transform (0-255) has no ONNX counterpart; inputs are trusted.
    divisor = scope.get_unique_variable_name("max_pixel")
    container.add_initializer(divisor, 1, [], [255.0])  # 1: TensorProto.FLOAT
    container.add_node(
        "Div",
        [operator.inputs[0].full_name, divisor],
        [operator.outputs[0].full_name],
        name=scope.get_unique_operator_name("PixelScaler"),
    )


def _register(skl2onnx, steps):
    from ..preprocessing import PixelScaler

    skl2onnx.update_registered_converter(
        PixelScaler, "SkmnistPixelScaler", _same_shape, _convert_pixel_scaler
    )
    for cls in {type(step) for step in steps if _is_keras_classifier(step)}:
        skl2onnx.update_registered_converter(
            cls,
            f"Skmnist{cls.__name__}",
            _classifier_shapes,
            _convert_keras_classifier,
            # Declaring zipmap gives these classifiers skl2onnx's classifier
            # parser (label and probabilities); to_onnx turns zipmap off.
            options={"zipmap": [True, False, "columns"]},
        )


def to_onnx(estimator, *, opset=OPSET):
    """Export a fitted classifier to an ONNX model that onnxruntime can run.

    Parameters
    ----------
    estimator : estimator or Pipeline
        A fitted :class:`~skmnist.KerasLogistic` or :class:`~skmnist.KerasMLP`
        (or another skmnist Keras classifier), the fitted
        :func:`~skmnist.make_baseline`, a ``LogisticRegression``, or a fitted
        ``Pipeline`` of :class:`~skmnist.PixelScaler` steps followed by one of
        them. Binary or multiclass targets whose classes are integers or
        strings.
    opset : int, default=OPSET
        ONNX operator set of the graph, from 13 to the latest one skl2onnx has
        tested; the default, ``skmnist.export.OPSET`` (17), runs on
        onnxruntime 1.13 and later.

    Returns
    -------
    onnx.ModelProto
        One input, ``"input"``: float32 of shape ``(n, n_features_in_)``, raw
        pixels in the range the estimator was fitted on (0-255 for MNIST;
        images ``(n, h, w)`` must be reshaped to rows and uint8 cast to
        float32 by the caller). Two outputs: ``"label"``, shape ``(n,)``, the
        classes ``predict`` returns (int64 for integer classes, else strings),
        and ``"probabilities"``, float32 of shape ``(n, n_classes)`` in the
        order of ``classes_``, as ``predict_proba`` returns (two columns for
        binary targets). The scaling ``input_scaling`` chose in ``fit`` is part
        of the graph, as it is part of the Keras model. A row holding NaN or
        infinity, which ``predict`` refuses with a ``ValueError``, gets NaN
        probabilities and the label -1 (one less than the smallest class if
        that is negative; ``""`` for string classes), never a class: an ONNX
        graph cannot raise.

    Raises
    ------
    MissingExtraError
        If onnx or skl2onnx is not installed.
    TypeError
        If ``estimator`` is not one of the classifiers above, or a Pipeline
        has another step.
    ValueError
        If ``estimator`` is not fitted (``NotFittedError``), was fitted on
        multilabel targets or classes that are neither integers nor strings,
        its Keras network has a layer or activation with no ONNX conversion
        here (the message names it), ``opset`` is out of range, or a string
        class is ``""`` (the label of non-finite rows).

    See Also
    --------
    skmnist.save : Saves a model for skmnist itself, without pickle.

    Notes
    -----
    The network is written from the Keras layers' weights with standard
    ONNX operators (``MatMul``, ``Add``, ``Conv``, ``MaxPool``, ``Relu``,
    ``Softmax``, ...); dropout and training-time augmentation layers are the
    identity at inference and are left out. A ``PixelScaler`` step becomes a
    division by 255, without the range check of its ``transform``.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from sklearn.datasets import load_digits
    >>> from skmnist import KerasLogistic, to_onnx
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = KerasLogistic(max_iter=5, random_state=0).fit(X, y)
    >>> onx = to_onnx(clf)
    >>> session = ort.InferenceSession(onx.SerializeToString())
    >>> label, proba = session.run(None, {"input": X[:3].astype(np.float32)})
    >>> bool((label == clf.predict(X[:3])).all()), proba.shape
    (True, (3, 10))
    """
    skl2onnx = _import_skl2onnx()
    from skl2onnx.common.data_types import FloatTensorType

    _check_opset(opset, skl2onnx)
    steps = _steps(estimator)
    final = steps[-1]
    _register(skl2onnx, steps)
    n_features = getattr(estimator, "n_features_in_", None)
    if n_features is None:  # a stateless PixelScaler first: ask the classifier
        n_features = final.n_features_in_
    onx = skl2onnx.convert_sklearn(
        estimator,
        name=f"skmnist_{type(final).__name__}",
        initial_types=[(_INPUT, FloatTensorType([None, int(n_features)]))],
        options={id(final): {"zipmap": False}},
        target_opset={"": int(opset), "ai.onnx.ml": 3},
    )
    _rename_outputs(onx.graph)
    _mark_non_finite_rows(onx.graph, np.asarray(final.classes_))
    from .._version import __version__

    onx.producer_name, onx.producer_version = "skmnist", __version__
    return onx


def _rename_outputs(graph):
    """Name the graph's outputs ``label`` and ``probabilities``."""
    renames = {
        output.name: new for output, new in zip(graph.output, _OUTPUTS, strict=True)
    }
    for node in graph.node:
        node.output[:] = [renames.get(name, name) for name in node.output]
        node.input[:] = [renames.get(name, name) for name in node.input]
    for output in graph.output:
        output.name = renames[output.name]


def _mark_non_finite_rows(graph, classes):
    """Rows holding NaN or infinity get NaN probabilities and a label no class has.

    ``predict`` refuses such rows with a ValueError; a graph cannot raise,
    and left alone it would label them with the first class (``ArgMax`` of
    NaN scores is 0). A row is non-finite when ``sum(x * 0)`` is NaN, which
    only MatMul and elementwise operators find, in every opset from 13.
    """
    from onnx import TensorProto, helper

    label = _non_finite_label(classes)
    is_string = isinstance(label, str)
    raw = {name: f"{name}_unchecked" for name in _OUTPUTS}
    for node in graph.node:
        node.output[:] = [raw.get(name, name) for name in node.output]
        node.input[:] = [raw.get(name, name) for name in node.input]
    n_features = graph.input[0].type.tensor_type.shape.dim[1].dim_value
    constants = [
        helper.make_tensor("nonfinite_zero", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor(
            "nonfinite_ones", TensorProto.FLOAT, [n_features, 1], [1.0] * n_features
        ),
        helper.make_tensor("nonfinite_flat", TensorProto.INT64, [1], [-1]),
        helper.make_tensor("nonfinite_nan", TensorProto.FLOAT, [], [float("nan")]),
        helper.make_tensor(
            "nonfinite_label",
            TensorProto.STRING if is_string else TensorProto.INT64,
            [],
            [label.encode() if is_string else int(label)],
        ),
    ]
    graph.initializer.extend(constants)
    graph.node.extend(
        [
            helper.make_node("Mul", [_INPUT, "nonfinite_zero"], ["nonfinite_zeros"]),
            helper.make_node(
                "MatMul", ["nonfinite_zeros", "nonfinite_ones"], ["nonfinite_sums"]
            ),
            helper.make_node(
                "IsNaN", ["nonfinite_sums"], ["nonfinite_column"]
            ),  # (n, 1)
            helper.make_node(
                "Reshape", ["nonfinite_column", "nonfinite_flat"], ["nonfinite_rows"]
            ),
            helper.make_node(
                "Where", ["nonfinite_rows", "nonfinite_label", raw["label"]], ["label"]
            ),
            helper.make_node(
                "Where",
                ["nonfinite_column", "nonfinite_nan", raw["probabilities"]],
                ["probabilities"],
            ),
        ]
    )


def _non_finite_label(classes):
    """The label of a row holding NaN or infinity: -1, or "" for string classes.

    Integer classes that include -1 get one less than the smallest class.
    """
    if classes.dtype.kind in "iub":
        smallest = int(classes.min())
        return -1 if smallest >= 0 else smallest - 1
    if "" in set(classes.tolist()):
        raise ValueError(
            "to_onnx marks rows holding NaN or infinity with the label '' (an "
            "ONNX graph cannot raise); one of the classes is '', so it could not "
            "be told apart. Rename that class."
        )
    return ""
