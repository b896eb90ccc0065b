"""What the JAX engine feeds its compiled programs: plans, rows, validation.

Private helper of :mod:`skmnist._engine._jax_engine`. An epoch's plan is its
shuffled row indices and weights in fixed-shape batches; dense ``X`` goes to
the device once per fit and the programs gather its rows, while sparse ``X``
(CSR) stays on the host and each compiled call gets only its own rows,
densified (:func:`sparse_piece`), so the whole matrix is never dense. The
validation set is scored in one padded pass, or a fixed-size chunk at a time
when it is sparse.
"""

import numpy as np
from scipy.sparse import issparse

# Largest dense copy of sparse rows made at once: for one compiled call (float32
# MNIST: 53 batches of 200 rows; a call's steps are cut down to fit), or one
# chunk scored or predicted (fewer rows per chunk then).
SPARSE_PIECE_BYTES = 32 << 20
# Rows of sparse validation data densified and scored at a time.
_SPARSE_VALIDATION_ROWS = 1024
# Rows per forward pass at prediction time; shorter inputs are padded up to the
# next power of two, so at most 13 programs are compiled per model and dtype.
_PREDICT_CHUNK = 4096


def chunk_rows(X, most):
    """Rows of ``X`` per chunk: ``most`` (a power of two), fewer when sparse.

    A chunk of sparse rows is densified: it holds at most
    ``SPARSE_PIECE_BYTES``, whatever the width (a power of two still).
    """
    rows = most
    if issparse(X):
        row_bytes = X.shape[1] * X.dtype.itemsize
        while rows > 1 and rows * row_bytes > SPARSE_PIECE_BYTES:
            rows //= 2
    return rows


def predict_chunks(X):
    """``(rows, n_real)`` of ``X`` a chunk at a time, dense, padded with zeros."""
    size = chunk_rows(X, _PREDICT_CHUNK)
    for start in range(0, X.shape[0], size):
        chunk = X[start : start + size]
        if issparse(chunk):
            chunk = chunk.toarray()
        n_rows = chunk.shape[0]
        padded = min(size, 1 << max(0, n_rows - 1).bit_length())
        if padded != n_rows:
            zeros = np.zeros((padded - n_rows,) + chunk.shape[1:], chunk.dtype)
            chunk = np.concatenate([chunk, zeros])
        yield chunk, n_rows


def epoch_plan(rng, weights, batch_size, shuffle=True):
    """Shuffled row indices and weights, shaped ``(n_steps, batch_size)``.

    Padding rows get weight 0. The real rows of a short last batch are scaled by
    ``batch_size / n_real`` for the loss, which averages over the full batch
    shape: the gradient is then the mean over the real rows, as in Keras.
    """
    n_samples = weights.shape[0]
    n_steps = -(-n_samples // batch_size)
    pad = n_steps * batch_size - n_samples
    order = rng.permutation(n_samples) if shuffle else np.arange(n_samples)
    rows = np.concatenate([order, np.zeros(pad, dtype=order.dtype)])
    metric_weights = np.concatenate([weights[order], np.zeros(pad, np.float32)])
    n_real = np.full(n_steps, batch_size, dtype=np.float32)
    n_real[-1] = batch_size - pad
    loss_weights = metric_weights.copy()
    if pad:
        loss_weights[-batch_size:] *= batch_size / n_real[-1]
    shape = (n_steps, batch_size)
    return (
        rows.astype(np.int32).reshape(shape),
        loss_weights.reshape(shape),
        metric_weights.reshape(shape),
        n_real,
    )


def sparse_steps(step_length, batch_size, n_features, itemsize):
    """The largest divisor of ``step_length`` whose densified rows fit the bound."""
    row_bytes = batch_size * n_features * itemsize
    for steps in range(step_length, 0, -1):
        if step_length % steps == 0 and steps * row_bytes <= SPARSE_PIECE_BYTES:
            return steps
    return 1  # one batch, whatever its size: it is trained on densely anyway


def sparse_piece(X, y, piece):
    """``(data, piece)`` for one compiled call on sparse ``X`` (CSR).

    The call's rows, densified in their plan's order, become its data; its
    plan then indexes them in order (``0 .. steps * batch_size - 1``).
    """
    rows = piece[0]
    flat = rows.reshape(-1)
    data = (X[flat].toarray(), y[flat])
    local = np.arange(flat.size, dtype=np.int32).reshape(rows.shape)
    return data, (local, *piece[1:])


def device_data(X, y):
    """Dense ``(X, y)`` on the device, once per fit; None for sparse ``X``.

    ``device_put`` copies once (``jnp.asarray`` briefly holds two copies: a
    60k MNIST fit then peaks at twice its data), and not at all when NumPy's
    buffer happens to be 64-byte aligned: JAX's CPU client then aliases it.
    """
    import jax

    if issparse(X):
        return None
    return (jax.device_put(X), jax.device_put(y))


def validation_chunks(validation):
    """The validation set as padded ``(X, y, weights, n_real)`` chunks.

    Dense: one chunk, padded to a power of two rows and put on the device
    once. Sparse: a generator of fixed-size chunks, each densified when it is
    scored, so one compiled program serves them all. Padding rows weigh 0.
    """
    X_val, y_val, w_val = validation
    if w_val is None:
        w_val = np.ones(X_val.shape[0], np.float32)
    if not issparse(X_val):
        import jax

        n_rows = 1 << max(0, X_val.shape[0] - 1).bit_length()
        padded = _padded(X_val, y_val, w_val, n_rows)
        return [(*(jax.device_put(a) for a in padded[:3]), padded[3])]
    X_val = X_val.tocsr()
    n_rows = chunk_rows(X_val, _SPARSE_VALIDATION_ROWS)
    n_rows = min(n_rows, 1 << max(0, X_val.shape[0] - 1).bit_length())

    def chunks():
        for start in range(0, X_val.shape[0], n_rows):
            rows = slice(start, start + n_rows)
            yield _padded(X_val[rows].toarray(), y_val[rows], w_val[rows], n_rows)

    return chunks


def _padded(X, y, weights, n_rows):
    n_real = X.shape[0]
    pad = [(0, n_rows - n_real)]
    return (
        np.pad(X, pad + [(0, 0)] * (X.ndim - 1)),
        np.pad(y, pad + [(0, 0)] * (y.ndim - 1)),
        np.pad(weights, pad),
        np.float32(n_real),
    )


def score_validation(validate, trainable, non_trainable, chunks):
    """``(loss, accuracy)`` over every chunk, each weighted by its real rows.

    The accuracy is a count divided in float64, so it is exact (0.4 is 0.4),
    as scikit-learn's score that early stopping compares.
    """
    loss_sum = correct = seen = 0.0
    for X, y, weights, n_real in chunks() if callable(chunks) else chunks:
        loss, right = validate(trainable, non_trainable, X, y, weights, n_real)
        loss_sum += float(loss) * float(n_real)
        correct += float(right)
        seen += float(n_real)
    return loss_sum / seen, correct / seen
