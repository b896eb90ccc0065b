"""Peak RSS increase of one KerasMLP fit, run in a fresh process by run.py."""

import json
import sys


def rss_kb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def main(n_samples, epochs):
    from _workloads import make_dataset

    from skmnist import KerasMLP

    X, y, *_ = make_dataset(None, n_samples)
    # Warm up TensorFlow on a few rows so its one-off start-up memory is not
    # charged to the fit being measured.
    KerasMLP(max_iter=1).fit(X[:400], y[:400])
    before = rss_kb("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset the high-water mark (VmHWM) to the current RSS
    model = KerasMLP(max_iter=epochs, random_state=0).fit(X, y).model_
    increase_mb = (rss_kb("VmHWM") - before) / 1024
    data_mb = X.nbytes / 2**20
    model_mb = model.count_params() * 4 / 2**20
    print(
        json.dumps(
            {
                "peak_increase_mb": increase_mb,
                "data_mb": data_mb,
                "model_mb": model_mb,
                "ratio": increase_mb / (data_mb + model_mb),
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
