"""Issue 29's hostile inputs, each run in a fresh process: status, peak RSS, time.

Usage::

    python benchmarks/hostile_inputs.py [--skmnist PATH] [--only NAME,...]

``--skmnist`` is the checkout whose package is measured (default: this one),
so the same table can be made for an older version. Every case runs in its
own process, killed after ``--timeout`` seconds or as soon as its resident
memory passes ``--ceiling-mb`` (a device read without limit would otherwise
take the machine's memory). Prints one markdown table.
"""

import argparse
import os
import sys
import tempfile
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
import hostile_inputs as hostile  # noqa: E402

TINY = ["--source", "embedded", "--n-train", "200", "--n-test", "100"]


def _script(body):
    return textwrap.dedent(body)


def cases(folder):
    """``[(name, args, script, options)]``: the CLI runs args, the API a script."""
    model = folder / "baseline.skmnist"
    out = folder / "report"
    api = {"API": True}
    return [
        (
            "predict RGBA PNG 9400x9400",
            ["predict", "--model", model, folder / "rgba.png"],
            None,
            {},
        ),
        (
            "predict 16-bit PNG 9400x9400",
            ["predict", "--model", model, folder / "grey16.png"],
            None,
            {},
        ),
        (
            "predict RGBA PNG 8192x8192 (largest accepted)",
            ["predict", "--model", model, folder / "rgba8192.png"],
            None,
            {},
        ),
        (
            "predict JPEG 8160x6120 (50 MP photo)",
            ["predict", "--model", model, folder / "photo.jpg"],
            None,
            {},
        ),
        (
            "predict .npz of 1e8 values (97 KB)",
            ["predict", "--model", model, folder / "bomb.npz"],
            None,
            {},
        ),
        (
            "predict .npz of 70,000 float64 images",
            ["predict", "--model", model, folder / "mnist70k.npz"],
            None,
            {},
        ),
        (
            "predict fifo.png",
            ["predict", "--model", model, folder / "fifo.png"],
            None,
            {"timeout": 30},
        ),
        (
            "predict fifo.npy",
            ["predict", "--model", model, folder / "fifo.npy"],
            None,
            {"timeout": 30},
        ),
        (
            "predict --source FIFO",
            ["predict", "--model", model, "--source", folder / "fifo"],
            None,
            {"timeout": 30},
        ),
        (
            "predict --source /dev/zero",
            ["predict", "--model", model, "--source", "/dev/zero"],
            None,
            {},
        ),
        (
            "compare --source /dev/zero",
            ["compare", "--models", "logistic", "--source", "/dev/zero", "--out", out],
            None,
            {},
        ),
        (
            "load_mnist(source=FIFO)",
            [],
            f"import skmnist; skmnist.load_mnist(source={str(folder / 'fifo')!r})",
            {**api, "timeout": 30},
        ),
        (
            "load_mnist(source='/dev/zero')",
            [],
            "import skmnist; skmnist.load_mnist(source='/dev/zero')",
            api,
        ),
        (
            "tune --scheduler ucx://127.0.0.1:8786",
            [
                "tune",
                "--model",
                "logistic",
                "--scheduler",
                "ucx://127.0.0.1:8786",
                *TINY,
                "--out",
                out,
            ],
            None,
            {},
        ),
        (
            "tune --scheduler tls://127.0.0.1:8786",
            [
                "tune",
                "--model",
                "logistic",
                "--scheduler",
                "tls://127.0.0.1:8786",
                *TINY,
                "--out",
                out,
            ],
            None,
            {},
        ),
        (
            "tune --scheduler inproc://x",
            [
                "tune",
                "--model",
                "logistic",
                "--scheduler",
                "inproc://x",
                *TINY,
                "--out",
                out,
            ],
            None,
            {},
        ),
        (
            "download --data-home FILE",
            ["download", "--data-home", folder / "home-file"],
            None,
            {},
        ),
        (
            "compare --source keras --data-home FILE",
            [
                "compare",
                "--models",
                "logistic",
                "--source",
                "keras",
                "--data-home",
                folder / "home-file",
                "--out",
                out,
            ],
            None,
            {},
        ),
        (
            "KerasMLP(hidden_layer_sizes=(10**8,)).fit",
            [],
            _script("""
                import skmnist
                X, y = skmnist.load_mnist(source="embedded", return_X_y=True)
                clf = skmnist.KerasMLP(hidden_layer_sizes=(10**8,), max_iter=1)
                clf.fit(X[:100], y[:100])
            """),
            api,
        ),
        (
            "KerasCNN on (n, 2352) RGB rows",
            [],
            _script("""
                import numpy as np, skmnist
                X, y = skmnist.load_mnist(source="embedded", return_X_y=True)
                rgb = np.repeat(X[:200].reshape(-1, 28, 28, 1), 3, axis=3)
                rgb = rgb.reshape(200, -1)
                clf = skmnist.KerasCNN(max_iter=1, random_state=0).fit(rgb, y[:200])
                print("image_shape_", clf.image_shape_)
            """),
            api,
        ),
        (
            "ONNX label of a NaN row",
            [],
            _script("""
                import numpy as np, onnxruntime as ort, skmnist
                X, y = skmnist.load_mnist(source="embedded", return_X_y=True)
                clf = skmnist.KerasLogistic(max_iter=2, random_state=0)
                clf.fit(X[:500], y[:500])
                session = ort.InferenceSession(skmnist.to_onnx(clf).SerializeToString())
                row = X[:2].astype(np.float32); row[0, 3] = np.nan
                label, proba = session.run(None, {"input": row})
                print("label", label.tolist(), "proba", proba[0, :3].tolist())
                try:
                    clf.predict(row)
                    print("predict: accepted NaN")
                except ValueError as error:
                    print("predict: ValueError", str(error)[:80])
            """),
            api,
        ),
        *[
            (
                f"compare, SIGINT {moment}",
                [
                    "compare",
                    "--models",
                    "logistic,mlp",
                    *TINY,
                    "--max-iter",
                    "30",
                    "--no-figures",
                    "--out",
                    out,
                ],
                None,
                {"signal": when, "fresh_report": True},
            )
            for moment, when in (
                ("at start-up (0.5 s)", 0.5),
                ("4 s in", 4.0),
                ("at the first epoch", "epoch"),
                ("at the second model", "[2/"),
            )
        ],
        (
            "tune --n-jobs 2 (threads), SIGINT after a fit",
            [
                "tune",
                "--model",
                "mlp",
                "--param",
                "alpha=1e-4,1e-2",
                "--cv",
                "2",
                "--n-jobs",
                "2",
                *TINY,
                "--max-iter",
                "30",
                "--out",
                out,
            ],
            None,
            {"signal": "done, ", "fresh_report": True},
        ),
        (
            "compare, SIGINT inside a GC callback",
            [],
            _script(f"""
                import gc, signal, sys
                import skmnist.comparison
                real = skmnist.comparison.compare

                def compare(*args, **kwargs):
                    def callback(phase, info):
                        if phase == "start":
                            signal.raise_signal(signal.SIGINT)
                            for _ in range(1000):
                                pass
                    gc.callbacks.append(callback)
                    gc.collect()
                    gc.callbacks.remove(callback)
                    return real(*args, **kwargs)

                skmnist.comparison.compare = compare
                from skmnist.cli import main
                args = ["compare", "--models", "logistic", *{TINY!r}]
                sys.exit(main(args + ["--no-figures", "--out", {str(out)!r}]))
            """),
            {"fresh_report": True, "report_check": True},
        ),
    ]


def build(folder, python_path):
    hostile.png_bomb(folder / "rgba.png", 9400, mode="RGBA")
    hostile.png_bomb(folder / "grey16.png", 9400, mode="I;16")
    hostile.png_bomb(folder / "rgba8192.png", 8192, mode="RGBA")
    hostile.jpeg_of_size(folder / "photo.jpg", 8160, 6120)
    hostile.npz_bomb(folder / "bomb.npz", 10**8)
    hostile.npz_bomb(folder / "mnist70k.npz", 70_000 * 784, dtype="<f8")
    for name in ("fifo.png", "fifo.npy", "fifo"):
        hostile.fifo(folder / name)
    (folder / "home-file").write_text("not a folder\n")
    made = hostile.run_skmnist(
        [],
        script=_script(f"""
            import skmnist
            X, y = skmnist.load_mnist(source="embedded", return_X_y=True)
            model = skmnist.make_baseline().fit(X, y)
            skmnist.save(model, {str(folder / "baseline.skmnist")!r})
        """),
        env=dict(os.environ, PYTHONPATH=python_path),
    )
    assert made.status == 0, made


def _old_report(out):
    out.mkdir(exist_ok=True)
    (out / ".skmnist-report").write_text("old\n")
    (out / "report.md").write_text("the previous report\n")


def _report_kept(out):
    return (out / "report.md").exists() and (out / "report.md").read_text() == (
        "the previous report\n"
    )


def measure(name, args, script, options, folder, python_path, timeout, ceiling):
    env = dict(os.environ, PYTHONPATH=python_path, SKMNIST_DATA=str(folder / "cache"))
    out = folder / "report"
    if options.get("fresh_report"):
        import shutil

        shutil.rmtree(out, ignore_errors=True)
        _old_report(out)
    outcome = hostile.run_skmnist(
        args,
        script=script,
        timeout=options.get("timeout", timeout),
        ceiling_mb=ceiling,
        env=env,
        interrupt_at=options.get("signal"),
    )
    lines = [line for line in outcome.err.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if "Traceback" in outcome.err:
        last = "Traceback: " + last
    if options.get("API") and outcome.out.strip():
        printed = " / ".join(outcome.out.strip().splitlines())
        last = printed + (f" / {last}" if last else "")
    if "signal" in options or "report_check" in options:
        last += " (old report kept)" if _report_kept(out) else " (REPORT REPLACED)"
    status = (
        outcome.status if outcome.status is not None else f"killed ({outcome.killed})"
    )
    peak = (
        f"{outcome.peak_mb:,.0f}"
        if outcome.peak_mb
        else f"> {ceiling:,}"
        if outcome.killed == "memory"
        else "?"
    )
    return f"| {name} | {status} | {peak} | {outcome.seconds:.1f} | {last[:160]} |"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skmnist", default=str(HERE.parent))
    parser.add_argument(
        "--only", default=None, help="comma-separated substrings of case names"
    )
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--ceiling-mb", type=float, default=3500)
    args = parser.parse_args()
    python_path = os.path.abspath(args.skmnist)
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        folder = Path(tmp)
        build(folder, python_path)
        print(f"skmnist from {python_path}\n")
        print("| case | exit | peak RSS (MB) | seconds | last line |")
        print("|---|---|---|---|---|")
        for name, argv, script, options in cases(folder):
            if args.only and not any(part in name for part in args.only.split(",")):
                continue
            print(
                measure(
                    name,
                    argv,
                    script,
                    options,
                    folder,
                    python_path,
                    args.timeout,
                    args.ceiling_mb,
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
