import hashlib
import http.server
import os
import tempfile
import threading

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

matplotlib.use("Agg")  # headless: tests draw, never show
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Compiled programs shared by the test processes (xdist workers, the CLI and
# fresh-process tests) and kept between runs, never in the user's data home.
os.environ.setdefault(
    "SKMNIST_COMPILATION_CACHE",
    os.path.join(tempfile.gettempdir(), "skmnist-tests-jax-cache"),
)


@pytest.fixture(scope="session")
def digits_split():
    """sklearn digits, stratified 75/25, random_state=0 (the tests' protocol)."""
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


@pytest.fixture(scope="session")
def small_digits(digits_split):
    """A quick subset for tests that fit many times."""
    X_train, X_test, y_train, y_test = digits_split
    return X_train[:600], X_test[:200], y_train[:600], y_test[:200]


@pytest.fixture(scope="session")
def fitted_logistic(digits_split):
    from skmnist import KerasLogistic

    X_train, _, y_train, _ = digits_split
    return KerasLogistic(random_state=0).fit(X_train, y_train)


@pytest.fixture(scope="session")
def fitted_mlp(digits_split):
    from skmnist import KerasMLP

    X_train, _, y_train, _ = digits_split
    return KerasMLP(random_state=0).fit(X_train, y_train)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# -- a local web server for the download paths --------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        body, mode = self.server.routes.get(self.path, (b"", "missing"))
        if mode == "missing":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "truncated":  # announce everything, send half, hang up
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.wfile.write(body)

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture(scope="module")
def http_server():
    """An http.server on 127.0.0.1 serving ``server.routes``, one per module."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.routes, server.requests = {}, []
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def serve(http_server, monkeypatch):
    """serve(body, mode="ok", sha256=None) -> RemoteFile now used for "keras".

    ``mode`` is "ok", "missing" (404) or "truncated" (half the announced
    bytes); ``serve.requests`` lists the paths requested so far.
    """
    from skmnist.datasets import _sources

    http_server.routes.clear()
    http_server.requests.clear()
    monkeypatch.setattr(_sources, "DOWNLOAD_RETRIES", 0)  # pooch waits between tries

    def _serve(body, mode="ok", sha256=None):
        url = f"http://127.0.0.1:{http_server.server_port}/mnist.npz"
        http_server.routes["/mnist.npz"] = (body, mode)
        remote = _sources.RemoteFile(
            url=url,
            sha256=sha256 or hashlib.sha256(body).hexdigest(),
            filename="mnist.npz",
        )
        monkeypatch.setitem(_sources.REMOTE_FILES, "keras", remote)
        return remote

    _serve.requests = http_server.requests
    return _serve
