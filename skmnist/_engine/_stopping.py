"""scikit-learn's stopping rule for ``MLPClassifier``, as a Keras callback.

:class:`NoImprovementRule` is ``MLPClassifier._update_no_improvement_count``
epoch by epoch: each epoch's training loss is compared with the best loss so
far minus ``tol`` (or, with early stopping, the validation score with the best
score so far plus ``tol``), and ``n_iter_no_change`` consecutive epochs
without such an improvement exhaust it. Keras' ``EarlyStopping`` compares
with the value at the last big-enough improvement instead, so a slow, steady
decrease never stops it.

The callback (:func:`stopping_class`) applies the rule after every epoch and
does what ``MLPClassifier`` does when it is exhausted: stop, or with sgd's
``"adaptive"`` schedule divide the step by 5 (stopping only once it is at most
1e-6); with early stopping it keeps the weights of the best validation score
and restores them when training ends.
"""

import functools
import math

from ._keras import import_keras

# As MLPClassifier's SGDOptimizer: "adaptive" stops once the step is this small.
SMALLEST_ADAPTIVE_STEP = 1e-6


class NoImprovementRule:
    """The state of MLPClassifier's stopping rule, updated once per epoch.

    Parameters
    ----------
    tol : float
        Smallest improvement that counts.
    n_iter_no_change : int or inf
        The rule is exhausted after more than this many epochs in a row
        without an improvement.
    on_validation : bool
        Watch the validation score (early stopping) instead of the loss.
    best_loss : float or None, default=inf
        The best training loss so far (None with ``on_validation``).
    best_validation_score : float or None, default=-inf
        The best validation score so far (None without ``on_validation``).
    validation_scores : list of float or None, default=None
        Scores so far; extended in place. None without ``on_validation``.
    no_improvement_count : int, default=0
        Epochs in a row without an improvement so far.
    best_epoch : int, default=0
        1-based epoch of the best loss or score so far (0: none yet).
    """

    def __init__(
        self,
        *,
        tol,
        n_iter_no_change,
        on_validation,
        best_loss=math.inf,
        best_validation_score=-math.inf,
        validation_scores=None,
        no_improvement_count=0,
        best_epoch=0,
    ):
        self.tol = float(tol)
        self.n_iter_no_change = n_iter_no_change
        self.on_validation = on_validation
        self.best_loss = None if on_validation else float(best_loss)
        self.best_validation_score = (
            float(best_validation_score) if on_validation else None
        )
        self.validation_scores = (
            (validation_scores if validation_scores is not None else [])
            if on_validation
            else None
        )
        self.no_improvement_count = int(no_improvement_count)
        self.best_epoch = int(best_epoch)

    def update(self, epoch, loss, validation_score=None):
        """Take epoch ``epoch`` (1-based); return whether it is the best so far.

        The comparisons are scikit-learn's, NaN included: a NaN score is no
        improvement of the best, yet resets the count (``NaN < x`` is False).
        """
        if self.on_validation:
            score = float(validation_score)
            self.validation_scores.append(score)
            if score < self.best_validation_score + self.tol:
                self.no_improvement_count += 1
            else:
                self.no_improvement_count = 0
            best = score > self.best_validation_score
            if best:
                self.best_validation_score = score
        else:
            loss = float(loss)
            if loss > self.best_loss - self.tol:
                self.no_improvement_count += 1
            else:
                self.no_improvement_count = 0
            best = loss < self.best_loss
            if best:
                self.best_loss = loss
        if best:
            self.best_epoch = epoch
        return best

    @property
    def exhausted(self):
        """More than ``n_iter_no_change`` epochs in a row without improvement."""
        return self.no_improvement_count > self.n_iter_no_change


@functools.cache
def stopping_class():
    """The Keras callback applying a :class:`NoImprovementRule` (defined lazily)."""
    keras = import_keras()

    class NoImprovementStopping(keras.callbacks.Callback):
        """Apply ``rule`` after each epoch; stop (or lower the step) when exhausted.

        Parameters
        ----------
        rule : NoImprovementRule
            Updated in place; the caller reads it after training.
        adaptive : bool
            sgd's ``"adaptive"`` schedule: divide the step by 5 instead of
            stopping while it is above 1e-6, and log each epoch's step as
            ``learning_rate``.
        restore_best : bool
            Keep the weights of the best validation score (those the model
            starts from until one is better, as ``MLPClassifier``'s
            ``_best_coefs``) and restore them when training ends.
        """

        def __init__(self, rule, *, adaptive, restore_best):
            super().__init__()
            self.rule = rule
            self.adaptive = adaptive
            self.restore_best = restore_best
            self.stopped = False
            self._best_weights = None

        def on_train_begin(self, logs=None):
            self.stopped = False
            if self.restore_best:
                self._best_weights = self.model.get_weights()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs if logs is not None else {}
            optimizer = self.model.optimizer
            rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
            if self.adaptive:
                logs["learning_rate"] = rate
            best = self.rule.update(
                epoch + 1, logs.get("loss"), logs.get("val_accuracy")
            )
            if best and self.restore_best:
                self._best_weights = self.model.get_weights()
            if not self.rule.exhausted:
                return
            if self.adaptive and rate > SMALLEST_ADAPTIVE_STEP:
                optimizer.learning_rate = rate / 5.0
                self.rule.no_improvement_count = 0
            else:
                self.stopped = True
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            if self.restore_best and self._best_weights is not None:
                self.model.set_weights(self._best_weights)
            self._best_weights = None

    return NoImprovementStopping
