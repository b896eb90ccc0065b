# Two commands set everything up on a fresh machine (see README):
#   make compare   creates .venv if missing, then runs `skmnist compare`
#   make test      creates .venv if missing, then runs the test suite
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: venv compare test lint docs bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,docs]"
	touch $@

# make test also installs the optional extras it tests: TensorFlow (its second
# phase) and scikeras (tests/test_scikeras_interop.py). make compare does not:
# it runs on the default install.
$(VENV)/.extras: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[tensorflow,scikeras]"
	touch $@

venv: $(VENV)/.installed

compare: venv
	$(VENV)/bin/skmnist compare --source embedded

# The whole suite on the default backend (JAX, see skmnist/_engine/_keras.py),
# then the estimator, training and persistence tests again on the other one,
# TensorFlow: the skmnist[tensorflow] extra, which stays supported.
# tests/test_backends.py is not repeated there: each of its tests starts
# Python processes with the backend it names (TensorFlow among them), and its
# in-process tests are JAX-only, so a second run repeated the same processes.
OTHER_BACKEND_TESTS := tests/test_classifiers.py tests/test_training.py \
	tests/test_trust.py tests/test_persistence.py \
	tests/test_sk_callbacks.py tests/test_cnn.py tests/test_parity.py

test: venv $(VENV)/.extras
	$(PY) -m pytest -n 2 --durations=15 $(PYTEST_ARGS)
	$(PY) -m pytest --doctest-modules skmnist -q -p no:cacheprovider
	KERAS_BACKEND=tensorflow $(PY) -m pytest -n 2 -q -m "not slow" \
		$(OTHER_BACKEND_TESTS) $(PYTEST_ARGS)

# The public API whose docstrings numpydoc validates (pyproject.toml sets the checks).
PUBLIC_API := skmnist/__init__.py skmnist/exceptions.py skmnist/baseline.py \
	skmnist/preprocessing.py skmnist/parallel.py \
	skmnist/classifiers/__init__.py skmnist/classifiers/_logistic.py \
	skmnist/classifiers/_mlp.py skmnist/classifiers/_cnn.py \
	skmnist/classifiers/_scikeras.py \
	skmnist/comparison/__init__.py skmnist/comparison/_compare.py \
	skmnist/comparison/_result.py $(wildcard skmnist/plotting/*.py) \
	skmnist/datasets/__init__.py skmnist/datasets/_mnist.py \
	skmnist/persistence/__init__.py skmnist/persistence/_files.py \
	skmnist/export/__init__.py skmnist/export/_onnx.py

lint: venv
	$(PY) -m ruff check skmnist tests examples benchmarks docs/conf.py docs/gallery_figures.py
	$(PY) -m ruff format --check skmnist tests examples benchmarks docs/conf.py docs/gallery_figures.py
	$(VENV)/bin/numpydoc lint $(PUBLIC_API)

docs: venv
	$(MAKE) -C docs html SPHINXBUILD=$(abspath $(VENV))/bin/sphinx-build

bench: venv
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info docs/_build skmnist-report
