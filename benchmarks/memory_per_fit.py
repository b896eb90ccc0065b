"""Memory kept per fit: RSS growth per fit + predict_proba + score cycle.

Run ``python benchmarks/memory_per_fit.py`` (a fresh process: warm-up fits
first, so TensorFlow's one-off start-up memory is not counted). ``--through``
runs each cycle as a small ``GridSearchCV`` or ``cross_validate`` instead of a
bare fit; the figure is then per fit of the search. Reports MB per fit and fits
per GB of memory growth.
"""

import argparse
import gc
import json


def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not in /proc/self/status")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--solver", default="adam")
    parser.add_argument("--through", choices=["fit", "grid", "cv"], default="fit")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV, cross_validate

    from skmnist import KerasMLP

    X, y = load_digits(return_X_y=True)
    estimator = KerasMLP(hidden_layer_sizes=(64,), max_iter=2, solver=args.solver)

    def cycle():
        if args.through == "grid":  # 2 candidates x 2 folds + refit = 5 fits
            GridSearchCV(estimator, {"alpha": [1e-4, 1e-3]}, cv=2).fit(X, y)
            return 5
        if args.through == "cv":
            cross_validate(estimator, X, y, cv=3)
            return 3
        clf = KerasMLP(**estimator.get_params()).fit(X, y)
        clf.predict_proba(X)
        clf.score(X, y)
        return 1

    for _ in range(args.warmup):
        cycle()
    gc.collect()
    start, fits = rss_mb(), 0
    for _ in range(args.cycles):
        fits += cycle()
    gc.collect()
    mb_per_fit = (rss_mb() - start) / fits
    result = {"through": args.through, "solver": args.solver, "fits": fits,
              "mb_per_fit": round(mb_per_fit, 3),
              "fits_per_gb": round(1024 / mb_per_fit) if mb_per_fit > 0 else None}
    print(json.dumps(result) if args.json else
          f"{args.through} ({args.solver}): {mb_per_fit:.2f} MB kept per fit, "
          f"{result['fits_per_gb']} fits per GB over {fits} fits")


if __name__ == "__main__":
    main()
