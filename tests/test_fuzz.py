"""Property-based tests: hostile fit/predict inputs raise clear errors, never crash.

One estimator is fitted per module and only predicted with; the few fit
properties use ``max_iter=1`` on tiny data. Every property also checks that a
failed call leaves the fitted estimator predicting exactly as before.

What happens to each input class (the outcome these tests pin down):

* dtypes: bool, signed/unsigned ints, float16/32/64 are accepted; complex and
  datetime raise; object arrays and string arrays are converted like
  scikit-learn does (numeric strings work, other strings raise ValueError
  "could not convert string to float").
* shapes: 2-D ``(n, 64)`` and 3-D ``(n, h, w)`` with ``h * w == 64`` are
  accepted; 0 rows, 0 features, wrong width, 1-D, 0-D, 4-D and more raise
  ValueError.
* NaN and inf raise ValueError; finite float64 values beyond float32's range
  raise ValueError; finite values up to ~3.4e38 are accepted (predictions for
  them are meaningless, and with ``input_scaling="standard"`` the logits
  overflow, so ``predict_proba`` can hold NaN: documented, not guarded).
* sparse matrices and arrays of every scipy format predict as their dense
  form does (as ``MLPClassifier``, CSR and CSC are kept, others converted).
* Python lists behave as the arrays they convert to; ragged lists raise
  ValueError.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

N_FEATURES = 64
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
ERRORS = (ValueError, TypeError)
F32_MAX = float(np.finfo(np.float32).max)


@pytest.fixture(scope="module")
def model(small_digits):
    """A fitted KerasLogistic and its reference predictions on fixed images."""
    from skmnist import KerasLogistic

    X_train, X_test, y_train, _ = small_digits
    clf = KerasLogistic(max_iter=3, batch_size=50, random_state=0)
    clf.fit(X_train * 15, y_train)
    probe = X_test[:20] * 15
    return clf, probe, clf.predict_proba(probe)


def _unchanged(model):
    clf, probe, expected = model
    np.testing.assert_array_equal(clf.predict_proba(probe), expected)


def _call(clf, method, X):
    """Call ``method``; return its output, or the (expected) exception."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # casts of huge values
            return getattr(clf, method)(X)
    except ERRORS as exc:
        assert len(str(exc)) > 15, f"unclear message: {exc!r}"
        return exc


def _check_output(out, n_rows, method):
    assert not isinstance(out, BaseException), f"refused valid input: {out!r}"
    if method == "predict_proba":
        assert out.shape == (n_rows, 10)
    else:
        assert out.shape == (n_rows,)


numeric_dtypes = st.sampled_from(
    [
        np.bool_,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.uint8,
        np.uint16,
        np.uint32,
        np.uint64,
        np.float16,
        np.float32,
        np.float64,
    ]
)
methods = st.sampled_from(["predict", "predict_proba"])


@SETTINGS
@given(data=st.data(), dtype=numeric_dtypes, method=methods, n_rows=st.integers(1, 5))
def test_numeric_dtypes_predict_or_refuse_nonfinite(model, data, dtype, method, n_rows):
    X = data.draw(hnp.arrays(dtype, (n_rows, N_FEATURES)))
    out = _call(model[0], method, X)
    as_float = X.astype(np.float64)
    if np.isnan(as_float).any():
        assert isinstance(out, ValueError) and "NaN" in str(out)
    elif np.isinf(as_float).any():
        assert isinstance(out, ValueError) and "infinity" in str(out)
    elif (np.abs(as_float) > F32_MAX).any():
        assert isinstance(out, ValueError) and "float32 range" in str(out)
    else:
        _check_output(out, n_rows, method)
        if method == "predict_proba" and np.abs(as_float).max() < 1e6:
            np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    _unchanged(model)


@SETTINGS
@given(
    values=hnp.arrays(
        np.float64,
        (3, N_FEATURES),
        elements=st.sampled_from([-F32_MAX, -1e38, 0.0, 1e38, F32_MAX]),
    )
)
def test_huge_finite_values_do_not_crash(model, values):
    out = _call(model[0], "predict_proba", values)
    _check_output(out, 3, "predict_proba")  # values may be NaN: see module doc
    _unchanged(model)


@SETTINGS
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=9),
    method=methods,
)
def test_shapes_other_than_images_are_refused(model, shape, method):
    X = np.ones(shape, dtype=np.uint8)
    out = _call(model[0], method, X)
    flat = len(shape) in (2, 3) and int(np.prod(shape[1:])) == N_FEATURES
    if flat and shape[0] > 0:
        _check_output(out, shape[0], method)
    else:
        assert isinstance(out, ValueError), f"shape {shape}: {out!r}"
    _unchanged(model)


@pytest.mark.parametrize(
    "shape, phrase",
    [
        ((0, N_FEATURES), "0 sample"),
        ((3, 0), "0 feature"),
        ((3, 63), "63 features"),
        ((N_FEATURES,), "Expected 2D array"),
        ((), "scalar"),
        ((2, 8, 8, 1), "got shape"),
        ((2, 4, 4, 4), "got shape"),
    ],
)
def test_wrong_shape_messages(model, shape, phrase):
    with pytest.raises(ValueError, match=phrase):
        model[0].predict_proba(np.ones(shape))
    _unchanged(model)


@SETTINGS
@given(
    text=st.lists(st.text(max_size=4), min_size=N_FEATURES, max_size=N_FEATURES),
    as_object=st.booleans(),
)
def test_strings_convert_like_scikit_learn_or_raise(model, text, as_object):
    X = np.array([text], dtype=object if as_object else str)
    out = _call(model[0], "predict_proba", X)
    try:
        numbers = np.array(text, dtype=np.float64)
    except ValueError:
        assert isinstance(out, ValueError)
    else:
        if np.isfinite(numbers).all() and (np.abs(numbers) <= F32_MAX).all():
            _check_output(out, 1, "predict_proba")
        else:
            assert isinstance(out, ValueError)
    _unchanged(model)


@pytest.mark.parametrize(
    "X, error, phrase",
    [
        (np.ones((2, N_FEATURES), dtype=complex), ValueError, "Complex"),
        (np.zeros((2, N_FEATURES), dtype="datetime64[s]"), TypeError, "datetime64"),
        (np.zeros((2, N_FEATURES), dtype="timedelta64[s]"), TypeError, "timedelta64"),
        (np.array([[None] * N_FEATURES], dtype=object), ValueError, "NaN"),
        (np.array([[{}] * N_FEATURES], dtype=object), TypeError, "dict"),
        (None, TypeError, "dimension"),
        ("pixels", ValueError, "convert string"),
    ],
)
def test_other_dtypes_raise_clear_errors(model, X, error, phrase):
    with pytest.raises(error, match=phrase):
        model[0].predict_proba(X)
    _unchanged(model)


@SETTINGS
@given(
    fmt=st.sampled_from(["csr", "csc", "coo", "lil", "dok", "bsr", "dia"]),
    as_array=st.booleans(),
    density=st.floats(0, 1),
    method=methods,
)
def test_sparse_input_predicts_as_its_dense_form(model, fmt, as_array, density, method):
    rng = np.random.default_rng(0)
    dense = rng.integers(0, 256, (3, N_FEATURES)) * (
        rng.random((3, N_FEATURES)) < density
    )
    X = getattr(sp, f"{fmt}_{'array' if as_array else 'matrix'}")(dense)
    out = _call(model[0], method, X)
    np.testing.assert_allclose(out, getattr(model[0], method)(dense), atol=1e-6)
    _unchanged(model)


@SETTINGS
@given(
    rows=st.lists(
        st.lists(st.floats(0, 255), min_size=N_FEATURES - 1, max_size=N_FEATURES + 1),
        min_size=1,
        max_size=4,
    )
)
def test_python_lists_behave_like_arrays(model, rows):
    out = _call(model[0], "predict", rows)
    widths = {len(row) for row in rows}
    if widths == {N_FEATURES}:
        expected = model[0].predict(np.array(rows))
        np.testing.assert_array_equal(out, expected)
    else:
        assert isinstance(out, ValueError)
    _unchanged(model)


# -- fit inputs --------------------------------------------------------------------

invalid_fits = st.sampled_from(
    [
        ("nan_in_X", "NaN"),
        ("inf_in_X", "infinity"),
        ("nan_in_y", "NaN"),
        ("continuous_y", "continuous"),
        ("length_mismatch", "inconsistent"),
        ("one_class", "greater than one"),
        ("wrong_width", "features"),
        ("unseen_label", "not seen"),
    ]
)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(case=invalid_fits, warm=st.booleans(), seed=st.integers(0, 2**16))
def test_failed_fit_leaves_the_fitted_estimator_unchanged(model, case, warm, seed):
    clf = model[0]
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, size=(20, N_FEATURES)).astype(np.float64)
    y = rng.integers(0, 10, size=20)
    name, phrase = case
    if name == "nan_in_X":
        X[rng.integers(20), rng.integers(N_FEATURES)] = np.nan
    elif name == "inf_in_X":
        X[rng.integers(20), rng.integers(N_FEATURES)] = -np.inf
    elif name == "nan_in_y":
        y = y.astype(float)
        y[rng.integers(20)] = np.nan
    elif name == "continuous_y":
        y = rng.normal(size=20)
    elif name == "length_mismatch":
        y = y[:-1]
    elif name == "one_class":
        y = np.zeros(20, dtype=int)
    elif name == "wrong_width":
        X = X[:, :-1]
    elif name == "unseen_label":
        y[0] = 42
    if name in ("unseen_label", "wrong_width"):
        warm = True  # a fresh fit would accept new labels and a new width
    elif name == "one_class":
        warm = False  # partial_fit on one known class is a valid update
    method = clf.partial_fit if warm else clf.fit
    with pytest.raises(ERRORS, match=phrase):
        method(X, y)
    _unchanged(model)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(dtype=numeric_dtypes, labels=st.sampled_from(["int", "str", "float", "bool"]))
def test_fit_accepts_every_numeric_dtype_and_label_type(dtype, labels):
    from skmnist import KerasLogistic

    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(30, 6)).astype(dtype)
    y = {
        "int": rng.integers(0, 3, 30),
        "str": rng.choice(["a", "b", "c"], 30),
        "float": rng.choice([0.0, 1.0, 2.0], 30),
        "bool": rng.random(30) > 0.5,
    }[labels]
    clf = KerasLogistic(max_iter=1, batch_size=30, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    assert set(clf.predict(X)) <= set(np.unique(y))
