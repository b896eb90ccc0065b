"""One first fit in a fresh process, for row 1 of benchmarks/run.py.

Usage: ``python _first_fit.py SIDE TRAIN.npz EPOCHS``, SIDE ``ours``
(``KerasMLP``, 128 hidden units) or ``reference`` (``MLPClassifier`` of the
same shape on pixels / 255). The parent times the whole process, from its
start to its exit: importing the libraries, reading the data, compiling
(ours) and fitting, as a user's first fit in a new notebook or command does.
Prints the fit's own seconds as JSON.
"""

import json
import sys
import time
import warnings


def main(side, path, epochs):
    import numpy as np

    warnings.filterwarnings("ignore")
    with np.load(path) as data:
        X, y = data["X"], data["y"]
    if side == "ours":
        from skmnist import KerasMLP

        model = KerasMLP(max_iter=epochs, n_iter_no_change=epochs + 1, random_state=0)
    else:
        from sklearn.neural_network import MLPClassifier

        X = X / 255.0
        model = MLPClassifier(
            hidden_layer_sizes=(128,),
            max_iter=epochs,
            n_iter_no_change=epochs + 1,
            random_state=0,
        )
    start = time.perf_counter()
    model.fit(X, y)
    print(json.dumps({"fit_seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
