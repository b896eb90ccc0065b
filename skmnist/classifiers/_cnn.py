"""KerasCNN: a small convolutional network as a scikit-learn classifier.

Kept apart from :mod:`skmnist.classifiers` (which re-exports it) only for
length. Its input stays what every skmnist estimator takes, flat pixel rows
(or ``(n, h, w)`` stacks, flattened by the shared validation), so pipelines,
:class:`~skmnist.PixelScaler`, persistence and prediction are unchanged: the
rows become images inside the model, in a ``Reshape`` layer.
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from .._engine._builders import build_cnn
from ._base import BaseKerasClassifier
from ._validation import image_shape_of_rows

MAX_FILTERS = 1024  # filters of one Conv2D layer
MAX_KERNEL_SIZE = 15  # side of a convolution kernel


class KerasCNN(BaseKerasClassifier):
    """Convolutional neural network in Keras, as a scikit-learn classifier.

    The next step after :class:`KerasMLP`: the pixels are read as an image,
    through blocks of a ``Conv2D`` (ReLU, ``"same"`` padding) and a 2x2
    ``MaxPooling2D``, then a ``Flatten``, one hidden ``Dense`` layer and a
    linear layer of logits. Like the other skmnist classifiers it takes flat
    rows (784 pixels for MNIST) and reshapes them into images inside the model,
    so it fits in the same pipelines and is saved by :func:`skmnist.save`.

    Parameters
    ----------
    filters : tuple of int, default=(32, 64)
        Filters of each convolution block (each from 1 to 1024); the image is
        halved in height and width after each block.
    kernel_size : int, default=3
        Side of the square convolution kernels, from 1 to 15.
    dense_units : int or None, default=128
        Units of the hidden ``Dense`` layer after the convolutions; None goes
        straight to the logits.
    dropout : float, default=0.25
        Dropout rate after ``Flatten`` and after the hidden layer, in [0, 1).
    shift : int or "auto", default="auto"
        Training-time augmentation: each training image is shifted by a random
        whole number of pixels, up to ``shift`` in each direction, edge pixels
        repeated (Keras' ``RandomTranslation``). Never applied by ``predict``,
        ``predict_proba`` or ``score``; 0 turns it off. ``"auto"`` shifts by
        one pixel per 14 of the shorter image side: 2 on 28x28 MNIST, none on
        8x8 digits (where one pixel is an eighth of the digit).
    image_shape : tuple (height, width) or None, default=None
        Shape of the images the rows hold. None takes it from ``X`` when it
        is a 3-D stack ``(n_samples, height, width)``, else infers square
        images from the row length (784 -> 28x28) and reads rows that are not
        square as images of one row, ``(1, n_features)``, except rows of 3 or
        4 times a square of 8 x 8 or more (2352 = 3 x 28 x 28), taken for
        flattened colour images and refused with a ``ValueError``: the
        network reads one channel.
    alpha : float, default=1e-4
        L2 penalty on every kernel, scaled as in ``MLPClassifier``
        (``alpha / (2 batch_size) * ||W||^2`` added to each batch's loss).
    solver : {"adam", "sgd", "rmsprop"}, default="adam"
        Keras optimizer (``"lbfgs"`` is refused, as for ``KerasMLP``).
    batch_size : int or "auto", default=128
        Samples per gradient step, capped at the number of samples;
        ``"auto"`` is ``min(200, n_samples)``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule of the step size for ``solver="sgd"``, as in ``KerasMLP``.
    learning_rate_init : float, default=1e-3
        Initial step size of the optimizer.
    power_t : float, default=0.5
        Exponent of ``learning_rate="invscaling"`` (``solver="sgd"``).
    max_iter : int, default=12
        Maximum number of epochs (passes over the training data); each epoch
        is exactly ``ceil(n_samples / batch_size)`` optimizer steps. Each
        epoch costs far more than a ``KerasMLP`` epoch. With the default,
        4,000 MNIST training images reach 97 to 98.6 % test accuracy and
        60,000 reached 98.7 % (benchmarks/RESULTS.md).
    shuffle : bool, default=True
        Reshuffle the samples every epoch; False takes them in order.
    momentum : float, default=0.9
        Momentum of ``solver="sgd"``, in [0, 1].
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with ``solver="sgd"`` and ``momentum > 0``.
    beta_1 : float, default=0.9
        Decay of Adam's first-moment estimate, in [0, 1).
    beta_2 : float, default=0.999
        Decay of Adam's second-moment estimate, in [0, 1).
    epsilon : float, default=1e-8
        Adam's numerical-stability term.
    max_fun : int, default=15000
        Accepted for ``MLPClassifier``'s sake and unused (no L-BFGS here).
    tol : float, default=1e-4
        Smallest improvement that counts, as in ``MLPClassifier``: an epoch
        improves when its training loss is below the best so far minus
        ``tol`` (with ``early_stopping=True``, when its validation score is
        at least the best so far plus ``tol``).
    n_iter_no_change : int or inf, default=10
        Stop once more than this many epochs in a row brought no ``tol``
        improvement (scikit-learn's rule). ``numpy.inf`` never stops early.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified, seeded),
        stop when its accuracy (the validation score) stops improving and
        restore the weights of the best score, as ``MLPClassifier``.
        ``partial_fit`` refuses it, as ``MLPClassifier`` does.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.
    validation_split : float, default=0.0
        Keras' name: share of the training data held out (stratified, seeded)
        and scored after every epoch into ``history_``; nothing stops or is
        restored. Giving it with ``early_stopping=True`` raises a
        ``ValueError``.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``sample_weight``; they must be
        finite and non-negative.
    input_scaling : {"auto", "max_abs", "standard"} or None, default="max_abs"
        How the first layer scales each pixel, with constants ``fit``
        computes from ``X``: ``"max_abs"`` divides by the largest ``|x|``
        (255 for raw pixels), one scale for the whole image; ``"standard"``
        standardises each pixel; ``"auto"`` is ``"max_abs"`` for pixel-like
        ``X``, no scaling within +-10, else ``"standard"``; ``None`` feeds
        pixels as they are.
        The constants are the layer's variables, so no scaled copy of ``X``
        is made.
    steps_per_execution : int, default=32
        Most training steps between two batch ends seen by callbacks (one
        TensorFlow graph call); lowered per fit to the largest divisor of the
        steps per epoch, so an epoch stays one pass. On JAX's CPU backend a
        convolutional network runs one compiled step per call instead: XLA
        computes a convolution's gradient many times slower inside a loop.
    jit_compile : bool, default=False
        Compile the training step with XLA on the TensorFlow backend. On
        JAX, skmnist always compiles the training steps with XLA and ignores
        it.
    callbacks : list of keras.callbacks.Callback, default=None
        Extra Keras callbacks for ``fit`` (e.g. progress displays). If one
        raises, the estimator is left as it was before the call.
    warm_start : bool, default=False
        Continue from the previous weights when ``fit`` is called again.
    random_state : int, RandomState instance or None, default=None
        Seed for weight initialisation, dropout, shifts, shuffling and the
        validation split. The same seed gives the same ``predict_proba`` on
        CPU.
    verbose : int, default=0
        0 is silent, 1 prints one line per epoch, 2 shows a progress bar.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_classes_ : int
        Number of classes (or labels, for multilabel targets).
    n_features_in_ : int
        Number of features (pixels) per sample seen in ``fit``.
    image_shape_ : tuple of int
        ``(height, width)`` of the images the rows were read as.
    model_ : keras.Model
        The trained Keras model; it takes flat rows and outputs logits. It
        holds every weight: ``MLPClassifier``'s ``coefs_``, ``intercepts_``
        and ``n_layers_`` describe a chain of dense layers, which a CNN is
        not, so it has none of them.
    n_outputs_ : int
        Number of outputs: 1 for binary targets, else classes or labels.
    out_activation_ : str
        ``"softmax"`` (multiclass) or ``"logistic"`` (binary, multilabel):
        the function ``predict_proba`` applies to the logits.
    history_ : dict of str to list of float
        Per-epoch ``loss``, ``accuracy`` and, with validation data,
        ``val_loss`` and ``val_accuracy``.
    loss_curve_ : list of float
        Training loss per epoch, as in ``MLPClassifier``.
    loss_ : float
        Training loss of the last epoch (the mean over its batches, L2
        penalty included), on ``MLPClassifier``'s scale: for multilabel
        targets, summed over the labels.
    best_loss_ : float or None
        Lowest training loss so far; None with ``early_stopping=True``.
    validation_scores_ : list of float or None
        Accuracy on the held-out data after each epoch with
        ``early_stopping=True`` (a warm start extends it); else None.
    best_validation_score_ : float or None
        Best of ``validation_scores_``; None without ``early_stopping``.
    n_iter_ : int
        Epochs run by the last ``fit`` (1 after ``partial_fit``), as in
        ``MLPClassifier``; ``loss_curve_`` and ``history_`` hold them all.
    best_epoch_ : int
        1-based epoch (over ``loss_curve_``) with the best training loss, or
        with ``early_stopping=True`` the best validation score (the weights
        kept).

    See Also
    --------
    KerasMLP : Dense layers only: faster, less accurate on images.
    KerasLogistic : No hidden layer.

    Notes
    -----
    The reported training ``loss`` and ``accuracy`` are measured on shifted
    images with dropout on, so they can stay below the accuracy on the
    unshifted training images.

    On the JAX backend, training runs on a copy of the network whose
    ``MaxPooling2D`` is a reshape and a max and whose ``RandomTranslation``
    moves whole pixels by one-hot products: the same outputs, with gradients
    XLA's CPU backend computes several times faster. ``model_``, what
    :func:`skmnist.save` writes and what ONNX export reads keep Keras' own
    layers. With glibc's allocator set by skmnist (``SKMNIST_MALLOC=0``
    keeps its defaults), the 12 default epochs over the 4,000 embedded MNIST
    images took 19 to 21 s on 2 cores instead of 45 to 46 s, at the same
    accuracy: about what TensorFlow's oneDNN convolutions take.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skmnist import KerasCNN
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = KerasCNN(filters=(8,), dense_units=32, max_iter=3, random_state=0)
    >>> clf.fit(X, y).image_shape_
    (8, 8)
    >>> clf.predict_proba(X[:2]).shape
    (2, 10)
    """

    _parameter_constraints: dict = {
        **BaseKerasClassifier._parameter_constraints,
        "filters": ["array-like", Interval(Integral, 1, MAX_FILTERS, closed="both")],
        "kernel_size": [Interval(Integral, 1, MAX_KERNEL_SIZE, closed="both")],
        "dense_units": [Interval(Integral, 1, None, closed="left"), None],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "shift": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "image_shape": ["array-like", None],
    }

    def __init__(
        self,
        *,
        filters=(32, 64),
        kernel_size=3,
        dense_units=128,
        dropout=0.25,
        shift="auto",
        image_shape=None,
        alpha=1e-4,
        solver="adam",
        batch_size=128,
        learning_rate="constant",
        learning_rate_init=1e-3,
        power_t=0.5,
        max_iter=12,
        shuffle=True,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        max_fun=15000,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        validation_split=0.0,
        class_weight=None,
        input_scaling="max_abs",
        steps_per_execution=32,
        jit_compile=False,
        callbacks=None,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.filters = filters
        self.kernel_size = kernel_size
        self.dense_units = dense_units
        self.dropout = dropout
        self.shift = shift
        self.image_shape = image_shape
        super().__init__(
            alpha=alpha,
            solver=solver,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            batch_size=batch_size,
            shuffle=shuffle,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            max_fun=max_fun,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            validation_split=validation_split,
            class_weight=class_weight,
            input_scaling=input_scaling,
            steps_per_execution=steps_per_execution,
            jit_compile=jit_compile,
            callbacks=callbacks,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
        )

    def _filters(self):
        filters = self.filters
        filters = (filters,) if isinstance(filters, Integral) else tuple(filters)
        if not filters or not all(
            isinstance(f, Integral) and 1 <= f <= MAX_FILTERS for f in filters
        ):
            raise ValueError(
                f"filters must be a non-empty sequence of integers from 1 to "
                f"{MAX_FILTERS}; got {self.filters!r}."
            )
        return tuple(int(f) for f in filters)

    def _check_data(self, X=None, y=None, *, reset=False):
        # A 3-D stack is flattened by the shared validation: note its image
        # shape first, to read the rows back as images of that shape.
        shape = getattr(X, "shape", None)
        stack = tuple(int(s) for s in shape[1:]) if shape and len(shape) == 3 else None
        X, y = super()._check_data(X, y, reset=reset)
        if X is None:
            return X, y
        if reset:
            self._filters()  # refuse bad filters before anything is built
            self.image_shape_ = image_shape_of_rows(
                self.image_shape, self.n_features_in_, stack
            )
        elif stack is not None and stack != self.image_shape_:
            raise ValueError(
                f"X holds images of shape {stack}; {type(self).__name__} was "
                f"fitted on images of shape {self.image_shape_}."
            )
        return X, y

    def _shift(self):
        if self.shift == "auto":
            return min(self.image_shape_) // 14
        return int(self.shift)

    def _network_size(self, n_outputs):
        kernel = int(self.kernel_size) ** 2
        height, width = self.image_shape_
        n_weights, channels = 0, 1
        for n_filters in self._filters():
            n_weights += (kernel * channels + 1) * n_filters
            channels = n_filters
            height, width = -(-height // 2), -(-width // 2)  # "same" pooling
        widths = [height * width * channels]
        if self.dense_units is not None:
            widths.append(int(self.dense_units))
        widths.append(n_outputs)
        n_weights += sum((a + 1) * b for a, b in zip(widths, widths[1:]))
        return n_weights, (
            f"filters={self.filters!r}, dense_units={self.dense_units!r} on "
            f"{self.image_shape_[0]} x {self.image_shape_[1]} images, "
            f"{n_outputs} outputs"
        )

    def _build_network(self, n_outputs, **kwargs):
        return build_cnn(
            self.n_features_in_,
            n_outputs,
            image_shape=self.image_shape_,
            filters=self._filters(),
            kernel_size=int(self.kernel_size),
            dense_units=None if self.dense_units is None else int(self.dense_units),
            dropout=float(self.dropout),
            shift=self._shift(),
            **kwargs,
        )
