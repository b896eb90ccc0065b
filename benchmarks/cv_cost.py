"""Cost of a 5-fold CV with the default input scaling against ``input_scaling=None``.

Run ``python benchmarks/cv_cost.py`` (JAX backend). Each CV starts with an
empty programs cache, as a fresh search does, and the two sides alternate, so
machine noise falls on both. Reports seconds per CV (best of ``--repeats``),
their ratio (the target is at most 1.1) and the XLA compilations per fold.
"""

import argparse
import json
import time
import warnings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--datasets", default="iris,digits")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

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
    results = {}
    for name in args.datasets.split(","):
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
        times = {default: [], None: []}
        per_fold = {}

        def cv(scaling, X=X, y=y, folds=folds):
            _jax_engine._PROGRAMS.clear()  # as a fresh search
            counts = []
            for train, test in folds:
                before = len(compiled)
                clf = KerasMLP(max_iter=10, input_scaling=scaling, random_state=0)
                clf.fit(X[train], y[train]).score(X[test], y[test])
                counts.append(len(compiled) - before)
            return counts

        cv(None)  # warm-up: imports and one-off eager programs
        for _ in range(args.repeats):
            for scaling in (default, None):
                start = time.perf_counter()
                per_fold[scaling] = cv(scaling)
                times[scaling].append(time.perf_counter() - start)
        best = {str(k): round(min(v), 3) for k, v in times.items()}
        results[name] = {
            "seconds": best,
            "ratio": round(min(times[default]) / min(times[None]), 3),
            "compilations_per_fold": {str(k): v for k, v in per_fold.items()},
        }
    if args.json:
        print(json.dumps(results))
        return
    for name, result in results.items():
        print(
            f"{name}: default ({default!r}) {result['seconds'][str(default)]:.2f} s, "
            f"None {result['seconds']['None']:.2f} s, ratio {result['ratio']:.2f}; "
            f"compilations per fold {result['compilations_per_fold']}"
        )


if __name__ == "__main__":
    main()
