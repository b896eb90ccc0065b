"""Cost of a 5-fold CV with the default input scaling against ``input_scaling=None``.

Run ``python benchmarks/cv_cost.py`` (JAX backend): ``KerasMLP()`` with its
defaults on 5 stratified folds, as issue 25 measured, but for a fixed number of
epochs (``--max-iter``, never stopped early): scaled and unscaled data stop
after different numbers of epochs, which is not the cost of the scaling. Two
regimes, the two sides alternating so that machine noise falls on both:

* ``warm``: a CV in a process that already ran one with the same estimator
  (a notebook, a grid search's next candidate with the same architecture):
  only what each fold itself compiles is paid;
* ``cold``: the programs cache emptied first, as a fresh process pays.

Reports the median seconds per CV over ``--repeats`` (each side first in turn,
garbage collected between CVs), the ratio default / None (the target is at
most 1.1) and the XLA compilations of each fold.
"""

import argparse
import gc
import json
import os
import statistics
import time
import warnings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--datasets", default="iris,digits")
    parser.add_argument("--max-iter", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    # Cold means nothing compiled yet, not even on disk: no persistent cache.
    os.environ.setdefault("SKMNIST_COMPILATION_CACHE", "0")
    import jax
    from sklearn import datasets
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import StratifiedKFold

    from skmnist import KerasMLP
    from skmnist._engine import _jax_engine

    warnings.simplefilter("ignore", ConvergenceWarning)
    compiled = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, duration, **kw: (
            compiled.append(event)
            if event == "/jax/core/compile/backend_compile_duration"
            else None
        )
    )
    default = KerasMLP().get_params()["input_scaling"]
    sides = (default, None)
    results = {}
    for name in args.datasets.split(","):
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        folds = list(StratifiedKFold(5).split(X, y))

        def cv(scaling, X=X, y=y, folds=folds):
            """Seconds of one CV and the compilations of each fold."""
            counts, start = [], time.perf_counter()
            for train, test in folds:
                before = len(compiled)
                clf = KerasMLP(
                    max_iter=args.max_iter,
                    n_iter_no_change=float("inf"),
                    input_scaling=scaling,
                )
                clf.fit(X[train], y[train]).score(X[test], y[test])
                counts.append(len(compiled) - before)
            return time.perf_counter() - start, counts

        result = {}
        for regime in ("cold", "warm"):
            times = {side: [] for side in sides}
            per_fold = {}
            for side in sides:
                cv(side)  # warm-up: imports, one-off eager programs, caches
            for repeat in range(args.repeats):
                # Each side first in turn; garbage (Keras models hold
                # cycles) collected before each CV, not inside another's.
                for side in sides[repeat % 2 :] + sides[: repeat % 2]:
                    gc.collect()
                    if regime == "cold":
                        _jax_engine._PROGRAMS.clear()
                    seconds, per_fold[side] = cv(side)
                    times[side].append(seconds)
            median = {side: statistics.median(times[side]) for side in sides}
            result[regime] = {
                "seconds": {str(side): round(median[side], 3) for side in sides},
                "ratio": round(median[default] / median[None], 3),
                "compilations_per_fold": {str(s): per_fold[s] for s in sides},
            }
        results[name] = result
    if args.json:
        print(json.dumps(results))
        return
    for name, result in results.items():
        for regime, row in result.items():
            print(
                f"{name} {regime}: default ({default!r}) "
                f"{row['seconds'][str(default)]:.2f} s, None "
                f"{row['seconds']['None']:.2f} s, ratio {row['ratio']:.2f}; "
                f"compilations per fold {row['compilations_per_fold']}"
            )


if __name__ == "__main__":
    main()
