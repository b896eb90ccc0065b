"""KerasLogistic: multinomial logistic regression as a scikit-learn classifier.

It takes scikit-learn's ``MLPClassifier`` parameter names (no hidden layer);
what it shares with :class:`~skmnist.KerasMLP` (parameters, fit, partial_fit,
prediction) is the one base class in :mod:`skmnist.classifiers._base`.
"""

from ._base import BaseKerasClassifier
from ._mlp_attributes import MLPAttributesMixin


class KerasLogistic(MLPAttributesMixin, BaseKerasClassifier):
    """Multinomial logistic regression in Keras, as a scikit-learn classifier.

    One ``Dense`` layer of linear scores (logits) over the flattened pixels,
    trained on the cross-entropy computed from the logits; :meth:`predict_proba`
    applies the softmax (multiclass) or sigmoid (binary, multilabel).

    Parameters
    ----------
    alpha : float, default=1e-2
        L2 penalty on the weights, scaled as in scikit-learn's ``MLPClassifier``
        (``alpha / (2 batch_size) * ||W||^2`` added to each batch's mean loss),
        so ``alpha = batch_size / (n_samples * C)`` matches
        ``LogisticRegression(C=C)`` (``1 / C`` with full batches). 100 times
        ``MLPClassifier``'s 1e-4, nearer ``LogisticRegression``'s default
        ``C=1``: on 60,000 shifted MNIST images, test accuracy 0.870 (lbfgs
        0.870; 0.866 at 1e-4) and the training loss settles in 47 to 63
        epochs instead of 93 to 107.
    solver : {"adam", "sgd", "rmsprop"}, default="adam"
        Keras optimizer. ``"lbfgs"`` (MLPClassifier's full-batch solver) is
        refused with a ``ValueError``: Keras trains by mini-batch steps.
    batch_size : int or "auto", default="auto"
        Samples per gradient step; ``"auto"`` is ``min(200, n_samples)``, and
        an int is capped at the number of samples. Larger
        batches cost less per sample on CPUs; 32 is several times slower.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Schedule of the step size, as in MLPClassifier, for ``solver="sgd"``
        only (Adam and RMSprop adapt their own steps): ``"constant"`` keeps
        ``learning_rate_init``; ``"invscaling"`` sets it before each epoch to
        ``learning_rate_init / (t_ + 1) ** power_t``, ``t_`` being the samples
        seen so far; ``"adaptive"`` divides it by 5 each time
        ``n_iter_no_change`` epochs bring no ``tol`` improvement, and stops
        once it is at most 1e-6. Until skmnist 0.1 this name was the step
        size: a float here raises a ``ValueError`` naming ``learning_rate_init``.
    learning_rate_init : float, default=3e-3
        Initial step size of the optimizer. Three times ``MLPClassifier``'s
        1e-3, which suits hidden layers: the linear model converges in a
        third of the epochs (on digits, 0.956 accuracy after 100 epochs
        against 0.944 after 200 at 1e-3).
    power_t : float, default=0.5
        Exponent of ``learning_rate="invscaling"`` (``solver="sgd"``).
    max_iter : int, default=200
        Maximum number of epochs (passes over the training data); each epoch
        is exactly ``ceil(n_samples / batch_size)`` optimizer steps.
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
        Adam's numerical-stability term (scikit-learn's default, not
        Keras' 1e-7).
    max_fun : int, default=15000
        Accepted for MLPClassifier's sake and unused: it bounds L-BFGS's
        loss evaluations, and no solver here is L-BFGS.
    tol : float, default=1e-4
        Smallest improvement that counts, as in ``MLPClassifier``: an epoch
        improves when its training loss is below the best so far minus
        ``tol`` (with ``early_stopping=True``, when its validation score is
        at least the best so far plus ``tol``).
    n_iter_no_change : int or inf, default=10
        Stop once more than this many epochs in a row brought no ``tol``
        improvement (scikit-learn's rule; with ``learning_rate="adaptive"``,
        divide the step by 5 first). ``numpy.inf`` never stops early.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified, seeded),
        stop when its accuracy (the validation score) stops improving and
        restore the weights of the best score, as ``MLPClassifier``.
        ``partial_fit`` refuses it, as ``MLPClassifier`` does.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.
    validation_split : float, default=0.0
        Keras' name: share of the training data held out (stratified, seeded
        by ``random_state``) and scored after every epoch, recorded as
        ``val_loss`` and ``val_accuracy`` in ``history_``; nothing stops or
        is restored. 0 holds nothing out. Giving it with
        ``early_stopping=True`` raises a ``ValueError``.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into ``sample_weight``; they must be
        finite and non-negative.
    input_scaling : {"auto", "max_abs", "standard"} or None, default="auto"
        How the first layer scales each input feature, with constants ``fit``
        computes from ``X``: ``"max_abs"`` divides by the largest ``|x|``
        (255 for raw pixels); ``"standard"`` standardises each feature (as
        ``StandardScaler``; a feature constant in ``fit`` is only centred);
        ``"auto"`` is ``"max_abs"`` for 8-bit pixels (whole numbers from 0
        to 255, the largest 128 or more), no scaling for ``X`` within +-10
        (already scaled data), and ``"standard"`` otherwise (chosen on a
        panel of data sets, see ``benchmarks/panel.py``); ``None`` feeds
        inputs as they are. The constants are the layer's variables, not
        constants of its structure, so the folds of a search share compiled
        programs; no scaled copy of ``X`` is made.
    steps_per_execution : int, default=32
        Most training steps run per compiled call (one XLA program on JAX,
        one TensorFlow graph call); amortises per-step overhead on CPUs.
        Lowered per fit to the largest divisor of the steps per epoch, so an
        epoch stays one pass.
    jit_compile : bool, default=False
        Compile the training step with XLA on the TensorFlow backend. On
        JAX, skmnist always compiles whole runs of steps with XLA and ignores
        it.
    callbacks : list of keras.callbacks.Callback, default=None
        Extra Keras callbacks for ``fit`` (e.g. progress displays).
    warm_start : bool, default=False
        Continue from the previous weights when ``fit`` is called again.
    random_state : int, RandomState instance or None, default=None
        Seed for weight initialisation, shuffling and the validation split.
        The same seed gives the same ``predict_proba`` on CPU, also when
        seeded fits run in parallel threads: no global seed is set or read.
    verbose : int, default=0
        0 is silent, 1 prints one line per epoch, 2 shows a progress bar.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features (pixels) per sample seen in ``fit``.
    model_ : keras.Model
        The trained Keras model; it outputs logits.
    history_ : dict of str to list of float
        Per-epoch ``loss``, ``accuracy`` and, with validation data,
        ``val_loss`` and ``val_accuracy`` (see ``validation_split``); with a
        ``learning_rate`` schedule, the ``learning_rate`` of each epoch.
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
    t_ : int
        Training samples seen by the optimizer (epochs times rows), as in
        ``MLPClassifier``.
    coefs_ : list of ndarray
        Weight matrices, ``coefs_[i]`` of shape ``(units of layer i, units of
        layer i + 1)``, as in ``MLPClassifier`` (read from ``model_``; the
        first acts on the inputs after ``input_scaling``).
    intercepts_ : list of ndarray
        Bias vectors, ``intercepts_[i]`` of shape ``(units of layer i + 1,)``.
    n_layers_ : int
        Number of layers, the input and output layers included.
    n_outputs_ : int
        Number of outputs: 1 for binary targets, else classes or labels.
    out_activation_ : str
        ``"softmax"`` (multiclass) or ``"logistic"`` (binary, multilabel):
        the function ``predict_proba`` applies to the logits.
    best_epoch_ : int
        1-based epoch (over ``loss_curve_``) with the best training loss, or
        with ``early_stopping=True`` the best validation score (the weights
        kept).

    See Also
    --------
    KerasMLP : The same with hidden layers.
    sklearn.linear_model.LogisticRegression : The classic solver.

    Notes
    -----
    A ``fit`` or ``partial_fit`` that fails for any reason (bad input, an
    exception or ``KeyboardInterrupt`` raised from a callback, a loss that
    becomes non-finite) leaves the estimator exactly as it was: weights,
    optimizer state, ``history_`` and ``n_iter_``. Training that diverges raises
    a ``ValueError`` naming the likely cause.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skmnist import KerasLogistic
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = KerasLogistic(max_iter=20, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 10)
    >>> round(clf.score(X, y), 1) >= 0.9
    True
    """

    def __init__(
        self,
        *,
        alpha=1e-2,
        solver="adam",
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=3e-3,
        power_t=0.5,
        max_iter=200,
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
        input_scaling="auto",
        steps_per_execution=32,
        jit_compile=False,
        callbacks=None,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
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
