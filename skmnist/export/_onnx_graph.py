"""A fitted Keras network as ONNX nodes, written from its layers' weights.

:func:`add_network` appends to a graph that skl2onnx is building (its ``scope``
and ``container``) the nodes that compute a chain of Keras layers at inference
time, and :func:`add_classifier_head` the probabilities and labels that
``predict_proba`` and ``predict`` return. Only the layers and activations
skmnist's builders (:mod:`skmnist._engine._builders`) use are known; any
other one is refused by name rather than guessed at.

Why not a converter: Keras' ``model.export(format="onnx")`` needs tf2onnx,
which imports TensorFlow, on the TensorFlow backend and jax2onnx (32 more
packages) on JAX, and neither exports a network with a ``RandomTranslation``
layer that onnxruntime runs (see docs/user_guide/onnx.rst for the figures).
The few operators below are exact and need only ``onnx``.
"""

import numpy as np

# The layers skmnist's builders make. Dropout and the training-time shifts are
# the identity at inference (Keras runs them only with training=True).
_INFERENCE_IDENTITY = frozenset({"InputLayer", "Dropout", "RandomTranslation"})
SUPPORTED_LAYERS = (
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "InputLayer",
    "MaxPooling2D",
    "RandomTranslation",
    "Rescaling",
    "Reshape",
)

SUPPORTED_ACTIVATIONS = ("elu", "gelu", "linear", "relu", "selu", "sigmoid", "tanh")

# The activations with an ONNX operator of their own (selu: Keras' constants).
_OPERATORS = {
    "relu": ("Relu", {}),
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "elu": ("Elu", {"alpha": 1.0}),
    "selu": ("Selu", {"alpha": 1.6732632423543772, "gamma": 1.0507009873554805}),
}


class _Graph:
    """Adds nodes and constants to skl2onnx's container under unique names."""

    def __init__(self, scope, container, prefix):
        self.scope = scope
        self.container = container
        self.prefix = prefix

    def name(self, hint):
        return self.scope.get_unique_variable_name(f"{self.prefix}_{hint}")

    def constant(self, hint, value, dtype=np.float32):
        from onnx import numpy_helper

        name = self.name(hint)
        tensor = numpy_helper.from_array(np.asarray(value, dtype=dtype), name)
        self.container.initializers.append(tensor)
        return name

    def node(self, op_type, inputs, hint=None, output=None, **attributes):
        output = output or self.name(hint or op_type.lower())
        self.container.add_node(
            op_type,
            list(inputs),
            [output],
            name=self.scope.get_unique_operator_name(f"{self.prefix}_{op_type}"),
            **attributes,
        )
        return output


def _refuse(layer, what):
    return ValueError(
        f"Cannot export layer {layer.name!r} ({type(layer).__name__}) to ONNX: {what}."
    )


def _activation(graph, x, function, layer):
    name = getattr(function, "__name__", repr(function))
    if name not in SUPPORTED_ACTIVATIONS:
        raise _refuse(
            layer,
            f"activation {name!r} is not supported; supported are "
            f"{', '.join(SUPPORTED_ACTIVATIONS)}",
        )
    if name == "linear":
        return x
    if name in _OPERATORS:
        op_type, attributes = _OPERATORS[name]
        return graph.node(op_type, [x], **attributes)
    # gelu, exact (Keras' default approximate=False): x / 2 * (1 + erf(x / sqrt 2)).
    # The Gelu operator exists only from opset 20.
    scaled = graph.node("Div", [x, graph.constant("sqrt2", np.sqrt(2.0))])
    one_plus = graph.node(
        "Add", [graph.node("Erf", [scaled]), graph.constant("one", 1.0)]
    )
    half_x = graph.node("Mul", [x, graph.constant("half", 0.5)])
    return graph.node("Mul", [half_x, one_plus])


def _nchw(graph, x):
    return graph.node("Transpose", [x], "nchw", perm=[0, 3, 1, 2])


def _nhwc(graph, x):
    return graph.node("Transpose", [x], "nhwc", perm=[0, 2, 3, 1])


def _channels_last(layer):
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise _refuse(layer, "only data_format='channels_last' is supported")


def _padding(layer):
    # Keras' (TensorFlow's) "same" puts the odd padding pixel at the end.
    if layer.padding == "same":
        return {"auto_pad": "SAME_UPPER"}
    return {"auto_pad": "VALID"}


def _dense(graph, x, layer, rank):
    if rank != 2:
        raise _refuse(layer, f"Dense on a {rank}-D input (flatten it first)")
    weights = layer.get_weights()
    x = graph.node("MatMul", [x, graph.constant("kernel", weights[0])])
    if layer.use_bias:
        x = graph.node("Add", [x, graph.constant("bias", weights[1])])
    return _activation(graph, x, layer.activation, layer)


def _conv2d(graph, x, layer):
    _channels_last(layer)
    if getattr(layer, "groups", 1) != 1:
        raise _refuse(layer, "grouped convolutions are not supported")
    weights = layer.get_weights()
    # Keras kernels are (kh, kw, in, out); ONNX wants (out, in, kh, kw).
    inputs = [
        _nchw(graph, x),
        graph.constant("kernel", weights[0].transpose(3, 2, 0, 1)),
    ]
    if layer.use_bias:
        inputs.append(graph.constant("bias", weights[1]))
    y = graph.node(
        "Conv",
        inputs,
        kernel_shape=list(layer.kernel_size),
        strides=list(layer.strides),
        dilations=list(layer.dilation_rate),
        **_padding(layer),
    )
    return _activation(graph, _nhwc(graph, y), layer.activation, layer)


def _max_pooling(graph, x, layer):
    _channels_last(layer)
    y = graph.node(
        "MaxPool",
        [_nchw(graph, x)],
        kernel_shape=list(layer.pool_size),
        strides=list(layer.strides),
        **_padding(layer),
    )
    return _nhwc(graph, y)


def _rescaling(graph, x, layer, rank):
    scale = np.asarray(layer.scale, dtype=np.float32)
    offset = np.asarray(layer.offset, dtype=np.float32)
    if rank != 2 and (scale.ndim or offset.ndim):
        raise _refuse(layer, "a per-channel scale on images is not supported")
    x = graph.node("Mul", [x, graph.constant("scale", scale)])
    if np.any(offset != 0):
        x = graph.node("Add", [x, graph.constant("offset", offset)])
    return x


def _input_scaling(layer, rank):
    """Whether ``layer`` is the builders' input scaling, a frozen BatchNormalization.

    It computes ``(x - moving_mean) * gamma / sqrt(moving_variance + epsilon)``
    on flat rows; any other BatchNormalization is refused as unsupported.
    """
    axis = getattr(layer, "axis", None)
    return (
        type(layer).__name__ == "BatchNormalization"
        and not layer.trainable
        and layer.scale
        and not layer.center
        and rank == 2
        and axis in (-1, 1)
    )


def _scaling(graph, x, layer):
    mean = np.asarray(layer.moving_mean, dtype=np.float32)
    variance = np.asarray(layer.moving_variance, dtype=np.float32)
    gamma = np.asarray(layer.gamma, dtype=np.float32)
    factor = gamma / np.sqrt(variance + np.float32(layer.epsilon))
    x = graph.node("Sub", [x, graph.constant("center", mean)])
    return graph.node("Mul", [x, graph.constant("factor", factor)])


def _reshape(graph, x, layer):
    # The built layer's output shape has any -1 of target_shape resolved.
    target = [int(d) for d in layer.output.shape[1:]]
    if len(target) not in (1, 3):
        raise _refuse(
            layer, f"target_shape {tuple(target)} is neither flat nor (h, w, c)"
        )
    shape = graph.constant("shape", [-1, *target], np.int64)
    return graph.node("Reshape", [x, shape]), 1 + len(target)


def _layer(graph, x, layer, rank):
    """Add ``layer``'s inference computation; return (output name, output rank)."""
    kind = type(layer).__name__
    if kind in _INFERENCE_IDENTITY:
        return x, rank
    if kind == "Dense":
        return _dense(graph, x, layer, rank), rank
    if kind == "Rescaling":
        return _rescaling(graph, x, layer, rank), rank
    if _input_scaling(layer, rank):
        return _scaling(graph, x, layer), rank
    if kind == "Reshape":
        return _reshape(graph, x, layer)
    if kind == "Flatten":
        _channels_last(layer)
        return graph.node("Flatten", [x], axis=1), 2
    if kind not in SUPPORTED_LAYERS:
        raise _refuse(
            layer,
            f"this layer is not supported; supported are {', '.join(SUPPORTED_LAYERS)}",
        )
    if rank != 4:
        raise _refuse(layer, f"it needs (n, h, w, c) images, not a {rank}-D input")
    if kind == "Conv2D":
        return _conv2d(graph, x, layer), rank
    return _max_pooling(graph, x, layer), rank  # MaxPooling2D


def chain_of_layers(model):
    """The layers of ``model`` in order, if they form one unbranched chain.

    Parameters
    ----------
    model : keras.Model
        A built Sequential or functional model with one input and one output.

    Returns
    -------
    list of keras.layers.Layer
        Each layer's only input is the previous layer's output.
    """
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            f"Cannot export Keras model {model.name!r} to ONNX: it has "
            f"{len(model.inputs)} inputs and {len(model.outputs)} outputs; only "
            "a chain of layers from one input to one output is supported."
        )
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    previous = model.inputs[0]
    for layer in layers:
        nodes = layer._inbound_nodes
        if len(nodes) != 1 or len(nodes[0].input_tensors) != 1:
            raise _refuse(layer, "it is shared or takes several inputs")
        if nodes[0].input_tensors[0] is not previous:
            raise _refuse(
                layer, "the model branches; only a chain of layers is supported"
            )
        previous = layer.output
    if previous is not model.outputs[0]:
        raise ValueError(
            f"Cannot export Keras model {model.name!r} to ONNX: its output is not "
            "the last layer's; only a chain of layers is supported."
        )
    return layers


def add_network(scope, container, model, x):
    """Append the nodes of ``model``'s forward pass (training=False) to the graph.

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
        Names variables and nodes uniquely.
    container : skl2onnx.common._container.ModelComponentContainer
        Receives the nodes and constants.
    model : keras.Model
        The fitted network; it maps flat float32 rows to logits.
    x : str
        Name of the graph's float32 input of shape (n, n_features).

    Returns
    -------
    str
        Name of the (n, n_outputs) float32 logits.
    """
    graph = _Graph(scope, container, "keras")
    rank = 2
    for layer in chain_of_layers(model):
        x, rank = _layer(graph, x, layer, rank)
    if rank != 2:
        raise ValueError(
            f"Cannot export Keras model {model.name!r} to ONNX: its output is "
            f"{rank}-D; a classifier's logits are (n, n_outputs)."
        )
    return x


def add_classifier_head(scope, container, logits, classes, target_type, outputs):
    """Probabilities and labels from logits, as ``predict_proba`` and ``predict``.

    Parameters
    ----------
    scope : skl2onnx.common._topology.Scope
        Names variables and nodes uniquely.
    container : skl2onnx.common._container.ModelComponentContainer
        Receives the nodes and constants.
    logits : str
        Name of the (n, n_outputs) float32 logits.
    classes : ndarray of shape (n_classes,)
        The estimator's ``classes_``, integers or strings.
    target_type : {"binary", "multiclass"}
        One logit and a sigmoid, or one logit per class and a softmax.
    outputs : tuple of str
        Names of the label and probability outputs.
    """
    graph = _Graph(scope, container, "head")
    label, probabilities = outputs
    if target_type == "binary":
        # predict_proba's two columns: 1 - sigmoid(logit), sigmoid(logit).
        positive = graph.node("Sigmoid", [logits])
        negative = graph.node("Sub", [graph.constant("one", [[1.0]]), positive])
        graph.node("Concat", [negative, positive], output=probabilities, axis=1)
    else:
        graph.node("Softmax", [logits], output=probabilities, axis=1)
    # ArgMax keeps the first of equal maxima, as numpy's argmax in predict.
    index = graph.node("ArgMax", [probabilities], axis=1, keepdims=0)
    if classes.dtype.kind in "iub":
        table = graph.constant("classes", classes, np.int64)
    else:
        table = graph.constant("classes", classes.astype(str).astype(object), object)
    graph.node("Gather", [table, index], output=label, axis=0)
