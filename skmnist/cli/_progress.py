"""Progress of the command line: which model is fitting, and its epochs.

On a terminal a rich progress display is drawn on stderr; elsewhere (CI logs,
pipes, tests) plain lines are printed instead, a few epochs per fit (with
their training and validation metrics), so logs stay short. Keras models
report their epochs through :class:`EpochProgress`, a Keras callback given
to the estimator's ``callbacks`` parameter.
"""

import math
import threading
import time

from rich import progress

from .._engine._keras import import_keras
from .._utils import _stop

keras = import_keras()

# Plain (non-terminal) output prints about this many epoch lines per fit, and
# fewer per fit of a grid search, which has many.
_PLAIN_LINES_PER_FIT = 5
_PLAIN_LINES_PER_SEARCH_FIT = 2


class Reporter:
    """Shows tasks and epochs on ``console`` (a ``rich.console.Console``).

    A context manager: ``start(label, total)`` begins a task, ``epoch(done,
    total, logs)`` reports Keras epochs of it and ``finish(message)`` ends it.
    Every step first raises a stop that a library swallowed (Ctrl-C in JAX's
    garbage-collection callback): between epochs is where such a stop ends a fit.
    """

    def __init__(self, console):
        self.console = console
        self._progress = None
        self._task = None
        self._label = ""
        self._count_fits = False
        self._fits = 0
        self._total = None
        self._started = 0.0
        # The fits of a threaded search (tune --n-jobs on JAX) report at once:
        # each is numbered when it starts, in its own thread.
        self._lock = threading.Lock()
        self._begun = 0
        self._thread = threading.local()

    def __enter__(self):
        if self.console.is_terminal:
            self._progress = progress.Progress(
                progress.SpinnerColumn(),
                progress.TextColumn("{task.description}"),
                progress.BarColumn(),
                progress.MofNCompleteColumn(),
                progress.TextColumn("{task.fields[info]}"),
                progress.TimeElapsedColumn(),
                console=self.console,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc_info):
        if self._progress is not None:
            self._progress.stop()
        return False

    def start(self, label, total=None, *, count_fits=False):
        """Begin a task of ``total`` Keras epochs, or with ``count_fits`` whole fits."""
        _stop.raise_if_stopped()
        self._label = label
        self._count_fits = count_fits
        self._fits = self._begun = 0
        self._total = total
        self._started = time.perf_counter()
        if self._progress is not None:
            self._task = self._progress.add_task(label, total=total, info="")
        else:
            self.console.out(f"{label} ...")

    def epoch(self, done, total, logs=None):
        """Epoch ``done`` of ``total`` has ended, with Keras ``logs``."""
        _stop.raise_if_stopped()
        with self._lock:
            metrics = _describe_logs(logs)
            if self._progress is not None:
                if self._count_fits:
                    info = f"epoch {done}/{total}: {metrics}"
                    self._progress.update(self._task, info=info)
                else:
                    self._progress.update(
                        self._task, completed=done, total=total, info=metrics
                    )
                return
            lines = (
                _PLAIN_LINES_PER_SEARCH_FIT
                if self._count_fits
                else _PLAIN_LINES_PER_FIT
            )
            step = max(1, math.ceil(total / lines))
            # The first epoch too: a fit that stops early (on a flat loss) long
            # before ``total / lines`` epochs would otherwise show no line at all.
            if done == 1 or done % step == 0 or done == total:
                # Fits of a search are numbered; a model's fit is named.
                where = (
                    f"fit {self._number()}/{self._total}"
                    if self._count_fits
                    else self._label
                )
                self.console.out(f"  {where}: epoch {done}/{total}: {metrics}")

    def fit_begun(self):
        """A fit starts in this thread: it takes the next number."""
        _stop.raise_if_stopped()
        with self._lock:
            self._begun += 1
            self._thread.number = self._begun

    def _number(self):
        return getattr(self._thread, "number", None) or self._fits + 1

    def fit_done(self):
        """One whole fit has ended (counted when ``count_fits`` was set)."""
        if not self._count_fits:
            return
        with self._lock:
            number = self._number()
            self._fits += 1
            if self._progress is not None:
                self._progress.update(self._task, completed=self._fits)
            else:
                seconds = time.perf_counter() - self._started
                self.console.out(
                    f"  fit {number}/{self._total} done, {self._fits} finished, "
                    f"{seconds:.1f} s elapsed"
                )

    def finish(self, message=""):
        """End the current task, with a closing ``message``."""
        _stop.raise_if_stopped()
        seconds = time.perf_counter() - self._started
        if self._progress is None:
            self.console.out(
                f"{self._label}: done in {seconds:.1f} s {message}".rstrip()
            )
            return
        task = next(t for t in self._progress.tasks if t.id == self._task)
        # An early-stopped fit ends before its total; show it as complete.
        end = task.completed or 1
        self._progress.update(
            self._task,
            total=end,
            completed=end,
            info=f"{seconds:.1f} s {message}".rstrip(),
        )


def _describe_logs(logs):
    """``train loss 0.31, val loss 0.38, train accuracy 0.92, ...`` from Keras logs.

    Keras names training metrics bare (``loss``) and validation ones ``val_``;
    spelling both out keeps a reader from taking one for the other. ``compare``
    names them ``test_`` when the validation data is the test set.
    """
    logs = logs or {}
    return ", ".join(
        f"{name} {metric} {logs[prefix + metric]:.4f}"
        for metric in ("loss", "accuracy")
        for prefix, name in (("", "train"), ("val_", "val"), ("test_", "test"))
        if prefix + metric in logs
    )


class EpochProgress(keras.callbacks.Callback):
    """Keras callback forwarding epoch ends to a :class:`Reporter`.

    scikit-learn's ``clone`` deep-copies estimator parameters, so a copy of
    this callback returns itself: the clones fitted by ``cross_validate`` or
    ``GridSearchCV`` all report to the same display. Pickled into a worker
    process (``n_jobs > 1``) it becomes silent, the display staying behind.
    """

    def __init__(self, reporter=None):
        super().__init__()
        self.reporter = reporter
        # Shared by the fits of a threaded search (tune --n-jobs on JAX), each
        # with its own epochs: Keras hands a fit's params in the thread that
        # fits, so keep them per thread.
        self._fit = threading.local()

    def set_params(self, params):
        self._fit.params = params

    def __deepcopy__(self, memo):
        return self

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.__init__(None)

    def on_epoch_end(self, epoch, logs=None):
        if self.reporter is not None:
            params = getattr(self._fit, "params", None) or {}
            self.reporter.epoch(epoch + 1, params.get("epochs") or epoch + 1, logs)

    def on_train_begin(self, logs=None):
        if self.reporter is not None:
            self.reporter.fit_begun()

    def on_train_end(self, logs=None):
        if self.reporter is not None:
            self.reporter.fit_done()
