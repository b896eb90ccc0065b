"""Faster twins of two Keras layers, for the JAX engine's compiled programs only.

:mod:`skmnist._engine._jax_engine` compiles its programs from a structural
copy of the user's model (the template). The copy swaps two layers for
subclasses that compute the same outputs with other XLA operations; the
user's model, what :func:`skmnist.save` writes and what ONNX export reads
keep Keras' own classes. A subclass has its parent's config, variables and
random draws, so the template takes the model's weights and seed states
unchanged.

Measured on a 2-core CPU (jaxlib 0.10.2), one training step of ``KerasCNN()``:

- ``MaxPooling2D``: Keras lowers it to ``lax.reduce_window``, whose gradient
  on XLA:CPU is a variadic reduce-window (value and four indices) plus a
  scatter, as long as the convolutions themselves. A reshape to
  ``(n, h / 2, 2, w / 2, 2, c)`` and a max over the window axes computes the
  same maximum; its gradient is elementwise. Ties share the gradient equally
  (Keras sends it all to one of them); both are gradients of the max.
- ``RandomTranslation`` with ``interpolation="nearest"`` and
  ``fill_mode="nearest"``: Keras builds an affine grid per pixel and gathers
  through ``map_coordinates``. The shifts are whole pixels, so two one-hot
  matrix products (rows, then columns) give bit-identical images from the
  same random draws (for finite pixels: a product spreads an infinite one).

Any other configuration (strides other than the pool size, channels first,
other fill or interpolation modes) runs the parent's own code.
"""

import threading


def _pads(size, window, stride):
    """``"same"`` padding of a pooling axis: (before, after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _sources(jnp, lax, size, shift):
    """Source index of each output pixel along one axis, per image.

    As Keras' ``affine_transform`` with ``map_coordinates(order=0,
    mode="nearest")``: the pixel at ``round(i - shift)`` (half away from
    zero), clamped to the image; the same float32 arithmetic, so the same
    pixels.
    """
    position = jnp.arange(size, dtype=jnp.float32)[None, :] - shift
    return jnp.clip(lax.round(position), 0, size - 1).astype(jnp.int32)


def _layer_classes():
    """The two subclasses, made once Keras is importable (lazily, as Keras)."""
    import jax.numpy as jnp
    from jax import lax

    from ._keras import import_keras

    keras = import_keras()

    class ReshapeMaxPooling2D(keras.layers.MaxPooling2D):
        """``MaxPooling2D`` whose windows tile the image: a reshape and a max."""

        def call(self, inputs):
            pool, strides = tuple(self.pool_size), tuple(self.strides)
            if pool != strides or self.data_format != "channels_last":
                return super().call(inputs)
            _, height, width, channels = inputs.shape
            if self.padding == "same":
                pads = [_pads(s, p, p) for s, p in zip((height, width), pool)]
                if any(before or after for before, after in pads):
                    # reduce_window's "SAME" padding: -inf, never the max.
                    inputs = jnp.pad(
                        inputs, [(0, 0), *pads, (0, 0)], constant_values=-jnp.inf
                    )
            rows, cols = inputs.shape[1] // pool[0], inputs.shape[2] // pool[1]
            # "valid" drops the last partial window, as reduce_window does.
            inputs = inputs[:, : rows * pool[0], : cols * pool[1], :]
            windows = inputs.reshape(-1, rows, pool[0], cols, pool[1], channels)
            return windows.max(axis=(2, 4))

    class WholePixelTranslation(keras.layers.RandomTranslation):
        """``RandomTranslation`` for nearest interpolation and nearest fill."""

        def _translate_inputs(self, inputs, transformation, interpolation):
            if (
                transformation is None
                or interpolation != "nearest"
                or self.fill_mode != "nearest"
                or self.data_format != "channels_last"
                or len(inputs.shape) != 4
            ):
                return super()._translate_inputs(inputs, transformation, interpolation)
            shifts = transformation["translations"]  # (n, 2): x then y, pixels
            _, height, width, _ = inputs.shape
            rows = _sources(jnp, lax, height, shifts[:, 1:2])
            cols = _sources(jnp, lax, width, shifts[:, 0:1])
            pick_rows = (rows[:, :, None] == jnp.arange(height)).astype(inputs.dtype)
            pick_cols = (cols[:, :, None] == jnp.arange(width)).astype(inputs.dtype)
            images = jnp.einsum("bhH,bHWc->bhWc", pick_rows, inputs)
            return jnp.einsum("bwW,bhWc->bhwc", pick_cols, images)

    return {
        keras.layers.MaxPooling2D: ReshapeMaxPooling2D,
        keras.layers.RandomTranslation: WholePixelTranslation,
    }


_CLASSES = None
_CLASSES_LOCK = threading.Lock()


def fast_classes():
    """``{Keras class: its twin}``, made on first use."""
    global _CLASSES
    with _CLASSES_LOCK:
        if _CLASSES is None:
            _CLASSES = _layer_classes()
    return _CLASSES


def clone_layer(layer):
    """``clone_model``'s ``clone_function``: the faster twin, else a plain copy."""
    # Exact classes only: a user's own subclass is copied as it is.
    cls = fast_classes().get(type(layer), type(layer))
    return cls.from_config(layer.get_config())
