"""scikit-learn's estimator checks, run on both Keras classifiers."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmnist import KerasLogistic, KerasMLP

# Small batches and a larger step so a few epochs reach the accuracy the checks
# demand (> 0.83 on 300 blobs) while the whole suite stays quick. With exact
# epochs, 10 epochs are 100 steps here: 1e-2 was enough only while Keras ran 32
# steps per epoch; 5e-2 passes on both backends (3e-2 fails on JAX's weights).
QUICK = dict(max_iter=10, batch_size=32, learning_rate=5e-2, random_state=0)

# Each expected failure comes from scikeras' base classes or from mini-batch
# training itself, not from code of ours; the reason says which.
_COMMON_XFAILS = {
    "check_estimator_tags_renamed": (
        "scikeras' BaseWrapper still defines _more_tags; the check scans every "
        "class in the MRO, though our __sklearn_tags__ overrides it"
    ),
    "check_mixin_order": (
        "scikeras declares KerasClassifier(BaseWrapper, ClassifierMixin); putting "
        "ClassifierMixin first is an MRO error, so tags are fixed in _compat instead"
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "mini-batch training: zero-weight rows still shape the batches, so it is "
        "equivalent only within a tolerance (tested in test_training.py)"
    ),
}


def _expected_failed_checks(estimator):
    return _COMMON_XFAILS


@parametrize_with_checks(
    [KerasLogistic(**QUICK), KerasMLP(hidden_layer_sizes=(16,), **QUICK)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
