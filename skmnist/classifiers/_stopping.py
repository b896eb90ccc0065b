"""MLPClassifier's stopping state and attributes on a Keras classifier.

The rule itself (:mod:`skmnist._engine._stopping`) runs inside the training
loop; this module carries its state from one call to the next on the
estimator, as ``MLPClassifier`` does: ``best_loss_`` (None with early
stopping), ``validation_scores_`` and ``best_validation_score_`` (None
without), and the count of epochs without improvement, which a warm-started
``fit`` or the next ``partial_fit`` continues. A fresh fit starts them anew.
"""

import warnings

from sklearn.exceptions import ConvergenceWarning

from .._engine._stopping import NoImprovementRule


def stopping_rule(estimator, *, reset, on_validation):
    """The rule for this call: fresh if ``reset``, else the estimator's state."""
    state = {}
    if not reset:
        state = {
            "best_epoch": getattr(estimator, "best_epoch_", 0),
            "no_improvement_count": getattr(estimator, "_no_improvement_count", 0),
        }
        # A warm start that switches early_stopping on or off starts that
        # side's record afresh (MLPClassifier would fail on the None).
        if on_validation and getattr(estimator, "validation_scores_", None) is not None:
            state.update(
                validation_scores=list(estimator.validation_scores_),
                best_validation_score=estimator.best_validation_score_,
            )
        elif not on_validation and getattr(estimator, "best_loss_", None) is not None:
            state.update(best_loss=estimator.best_loss_)
    return NoImprovementRule(
        tol=estimator.tol,
        n_iter_no_change=estimator.n_iter_no_change,
        on_validation=on_validation,
        **state,
    )


def record(estimator, rule, epochs_run):
    """Set MLPClassifier's fitted attributes after a call that ran ``epochs_run``."""
    estimator.n_iter_ = epochs_run  # this call's epochs, as MLPClassifier
    estimator.loss_curve_ = list(estimator.history_["loss"])
    estimator.loss_ = estimator.loss_curve_[-1]
    estimator.best_loss_ = rule.best_loss
    estimator.validation_scores_ = rule.validation_scores
    estimator.best_validation_score_ = rule.best_validation_score
    estimator._no_improvement_count = rule.no_improvement_count
    estimator.best_epoch_ = rule.best_epoch


def warn_if_not_converged(estimator, stopper, max_iter, epochs_run):
    """MLPClassifier's ConvergenceWarning: all ``max_iter`` epochs ran unstopped.

    A callback that stopped the training (``model.stop_training``) was obeyed,
    not ignored: no warning then, as when the rule stopped it.
    """
    if epochs_run < max_iter or stopper.stopped or estimator.model_.stop_training:
        return
    warnings.warn(
        f"{type(estimator).__name__}: maximum iterations ({max_iter}) reached "
        "and the optimization hasn't converged yet.",
        ConvergenceWarning,
        stacklevel=5,
    )
