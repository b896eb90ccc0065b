"""Speed and memory of skmnist, measured side by side in one run.

Usage::

    python benchmarks/run.py [--data PATH] [--quick] [--out FILE.md]

Prints one markdown table of ratios (ours / reference, lower is faster) and the
machine it ran on. Without ``--data`` the 60,000 training images are built from
the 5,000 embedded MNIST images by random shifts of up to two pixels, and the
accuracies are measured on the 1,000 embedded test images. ``--quick`` shrinks
everything so that CI can check the script still runs; its figures mean nothing.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _workloads import (  # noqa: E402
    fit_seconds,
    grid_search_seconds,
    keras_raw_fit_seconds,
    make_dataset,
    predict_latency,
    warm_up_tensorflow,
)


def machine_description():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import keras
    import sklearn
    import tensorflow as tf

    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"scikit-learn {sklearn.__version__}, NumPy {np.__version__}"
    )


def peak_memory(n_samples, epochs):
    """Peak RSS increase of a KerasMLP fit, in a fresh process."""
    script = os.path.join(os.path.dirname(__file__), "_memory.py")
    output = subprocess.run(
        [sys.executable, script, str(n_samples), str(epochs)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="full MNIST (.npz or IDX folder)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes, only checks that the script runs",
    )
    parser.add_argument("--out", help="also write the table to this markdown file")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)

    n_train = 3000 if args.quick else 60000
    epochs = 2 if args.quick else 10
    X, y, X_test, y_test, source = make_dataset(args.data, n_train)
    rows = []

    def add(name, ours, reference, note=""):
        rows.append((name, ours, reference, note))
        print(f"  {name}: {ours} vs {reference} {note}", file=sys.stderr)

    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    from skmnist import KerasLogistic, KerasMLP, make_baseline

    scaled, scaled_test = X / 255.0, X_test / 255.0
    mlp = KerasMLP(max_iter=epochs, n_iter_no_change=epochs + 1, random_state=0)
    sk_mlp = MLPClassifier(
        hidden_layer_sizes=(128,),
        max_iter=epochs,
        n_iter_no_change=epochs + 1,
        random_state=0,
    )
    warm_up_tensorflow(X, y)
    repeats = 1 if args.quick else 2
    t_ours, acc_ours = fit_seconds(mlp, X, y, X_test, y_test, repeats)
    t_ref, acc_ref = fit_seconds(sk_mlp, scaled, y, scaled_test, y_test, repeats)
    add(
        f"1. KerasMLP / MLPClassifier fit time, best of {repeats} (128 hidden, "
        f"{epochs} epochs)",
        f"{t_ours:.2f} s, acc {acc_ours:.4f}",
        f"{t_ref:.2f} s, acc {acc_ref:.4f}",
        f"ratio {t_ours / t_ref:.2f}",
    )

    logistic = KerasLogistic(
        max_iter=epochs, n_iter_no_change=epochs + 1, random_state=0
    )
    t_log, acc_log = fit_seconds(logistic, X, y, X_test, y_test)
    for label, reference, data, test in [
        (
            "LogisticRegression(lbfgs)",
            LogisticRegression(max_iter=1000),
            scaled,
            scaled_test,
        ),
        (
            "LogisticRegression(saga)",
            LogisticRegression(solver="saga", tol=1e-3, max_iter=100),
            scaled,
            scaled_test,
        ),
        ("make_baseline()", make_baseline(), X, X_test),
    ]:
        t_ref, acc_ref = fit_seconds(reference, data, y, test, y_test)
        add(
            f"2. KerasLogistic ({epochs} epochs) / {label}",
            f"{t_log:.2f} s, acc {acc_log:.4f}",
            f"{t_ref:.2f} s, acc {acc_ref:.4f}",
            f"ratio {t_log / t_ref:.2f}, speed-up {t_ref / t_log:.1f}x",
        )

    wrapped, raw = keras_raw_fit_seconds(X, y, epochs)
    add(
        "3. KerasMLP.fit / raw keras Model.fit (same model and settings, "
        "best of 2, unseeded)",
        f"{wrapped:.2f} s",
        f"{raw:.2f} s",
        f"ratio {wrapped / raw:.3f}",
    )

    fitted = KerasMLP(max_iter=1, random_state=0).fit(X, y)
    p50, p95, batch = predict_latency(fitted, X_test, n_calls=50 if args.quick else 300)
    add(
        "4. predict latency, one image",
        f"p50 {p50 * 1e3:.2f} ms",
        f"p95 {p95 * 1e3:.2f} ms",
        "",
    )
    big = np.resize(X_test, (10000, X_test.shape[1]))
    start = time.perf_counter()
    fitted.predict_proba(big)
    add(
        "4. predict_proba, 10,000 images",
        f"{time.perf_counter() - start:.3f} s",
        "",
        f"single image via predict {batch * 1e3:.1f} ms",
    )

    memory = peak_memory(n_train, 1 if args.quick else 2)
    add(
        "5. peak RSS increase during fit / uint8 data + model",
        f"{memory['peak_increase_mb']:.0f} MB",
        f"{memory['data_mb']:.0f} MB + {memory['model_mb']:.1f} MB",
        f"ratio {memory['ratio']:.2f}",
    )

    t1, t2 = grid_search_seconds(X[:10000], y[:10000], quick=args.quick)
    add(
        "6. GridSearchCV 4 candidates x 2 folds, n_jobs=1 / n_jobs=2",
        f"{t1:.1f} s",
        f"{t2:.1f} s",
        f"speed-up {t1 / t2:.2f}x",
    )

    table = ["| measurement | ours | reference | ratio |", "| --- | --- | --- | --- |"]
    table += [
        f"| {name} | {ours} | {reference} | {note} |"
        for name, ours, reference, note in rows
    ]
    header = [
        f"Date: {datetime.date.today().isoformat()}",
        f"Machine: {machine_description()}",
        f"Command: python benchmarks/run.py {' '.join(argv or sys.argv[1:])}".rstrip(),
        f"Data: {source}; {len(y)} training and {len(y_test)} test images",
        "",
    ]
    text = "\n".join(header + table) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as out:
            out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
