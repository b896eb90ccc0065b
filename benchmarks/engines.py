"""Training engines side by side: raw Keras on TensorFlow and on JAX, and sklearn.

Usage::

    python benchmarks/engines.py [--quick] [--repeats 3] [--only NAME,...]

The Keras backend is fixed per process, so every engine runs in its own worker
process (one per backend, kept warm) and the driver interleaves them round by
round: round 1 runs every engine once, then round 2, ... and the best of the
rounds is reported. Every engine runs the same number of optimizer steps
(counted, not assumed) on the same data: the 60,000 shifted embedded images for
10 epochs, and the 4,000 embedded training images for 30 epochs, batch 200,
Adam 1e-3, MLP with 128 ReLU units, L2 alpha=1e-4 scaled as MLPClassifier does.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

BATCH = 200
ALPHA = 1e-4
LEARNING_RATE = 1e-3

# name -> (process, description)
ENGINES = {
    "sklearn": ("sklearn", "MLPClassifier on X / 255 (float64)"),
    "tf-fit": ("tensorflow", "Keras on TensorFlow, model.fit(float32 arrays)"),
    "tf-skmnist": ("tensorflow", "KerasMLP (skmnist) on TensorFlow"),
    "jax-fit": ("jax", "Keras on JAX, model.fit(float32 arrays)"),
    "jax-fit-spe": ("jax", "Keras on JAX, model.fit, steps_per_execution=20"),
    "jax-epoch": (
        "jax",
        "Keras on JAX, one jitted lax.scan per epoch, "
        "uint8 on device, padded fixed-shape batches",
    ),
    "jax-engine": (
        "jax",
        "skmnist._engine._jax_engine.fit on the same compiled model, uint8 in",
    ),
    "jax-skmnist": ("jax", "KerasMLP (skmnist) on JAX"),
}


def workloads(quick):
    from _workloads import make_dataset

    from skmnist import load_mnist

    n_full = 3000 if quick else 60000
    X, y, X_test, y_test, _ = make_dataset(None, n_full)
    Xe, ye = load_mnist(source="embedded", subset="train", return_X_y=True)
    return {
        "full": (X, y, X_test, y_test, 2 if quick else 10),
        "embedded": (Xe, ye, X_test, y_test, 3 if quick else 30),
    }


# -- Keras pieces (imported in the workers only) ---------------------------------


def keras_model(keras, seed):
    layers = keras.layers
    l2 = keras.regularizers.L2(ALPHA / (2 * BATCH))
    inputs = keras.Input(shape=(784,), dtype="float32")
    x = layers.Rescaling(1 / 255)(inputs)
    x = layers.Dense(
        128,
        activation="relu",
        kernel_regularizer=l2,
        kernel_initializer=keras.initializers.GlorotUniform(seed),
    )(x)
    logits = layers.Dense(
        10,
        kernel_regularizer=l2,
        kernel_initializer=keras.initializers.GlorotUniform(seed + 1),
    )(x)
    return keras.Model(inputs, logits)


def keras_fit(keras, X, y, epochs, steps_per_execution):
    model = keras_model(keras, 0)
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    model.fit(
        X.astype(np.float32),
        y.astype(np.float32),
        batch_size=BATCH,
        epochs=epochs,
        shuffle=True,
        verbose=0,
    )
    return model, int(model.optimizer.iterations.numpy())


def jax_epoch_fit(keras, X, y, epochs, seed=0):
    """Whole epochs compiled as one ``lax.scan`` over fixed-shape batches."""
    import jax
    import jax.numpy as jnp

    model = keras_model(keras, seed)
    optimizer = keras.optimizers.Adam(LEARNING_RATE)
    optimizer.build(model.trainable_variables)
    n = X.shape[0]
    n_steps = -(-n // BATCH)
    X_dev = jnp.asarray(X)  # uint8 stays uint8 on the device
    y_dev = jnp.asarray(y.astype(np.int32))

    def loss_fn(trainable, non_trainable, xb, yb, wb):
        logits, non_trainable, losses = model.stateless_call(
            trainable, non_trainable, xb, training=True, return_losses=True
        )
        log_p = jax.nn.log_softmax(logits)
        nll = -jnp.take_along_axis(log_p, yb[:, None], axis=1)[:, 0]
        data_loss = jnp.sum(nll * wb) / jnp.sum(wb)
        correct = jnp.sum((jnp.argmax(logits, 1) == yb) * wb)
        return data_loss + sum(losses), (non_trainable, data_loss, correct)

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def step(state, batch):
        trainable, non_trainable, opt_vars = state
        rows, wb = batch
        xb = X_dev[rows].astype(jnp.float32)
        yb = y_dev[rows]
        (loss, (non_trainable, _, correct)), grads = grad_fn(
            trainable, non_trainable, xb, yb, wb
        )
        trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
        return (trainable, non_trainable, opt_vars), (loss, correct)

    @jax.jit
    def run_epoch(state, rows, weights):
        state, (losses, correct) = jax.lax.scan(step, state, (rows, weights))
        return state, losses, correct

    state = (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
        [v.value for v in optimizer.variables],
    )
    rng = np.random.default_rng(seed)
    pad = n_steps * BATCH - n
    weights = np.ones(n_steps * BATCH, np.float32)
    if pad:
        weights[n:] = 0.0
    weights = jnp.asarray(weights.reshape(n_steps, BATCH))
    for _ in range(epochs):
        order = rng.permutation(n).astype(np.int32)
        rows = np.concatenate([order, np.zeros(pad, np.int32)]).reshape(n_steps, BATCH)
        state, losses, correct = run_epoch(state, rows, weights)
    losses.block_until_ready()
    trainable, non_trainable, opt_vars = state
    for variable, value in zip(model.trainable_variables, trainable):
        variable.assign(value)
    for variable, value in zip(optimizer.variables, opt_vars):
        variable.assign(value)
    return model, int(np.asarray(optimizer.iterations.value))


def accuracy_of(model, X_test, y_test):
    logits = np.asarray(model(X_test.astype(np.float32), training=False))
    return float(np.mean(np.argmax(logits, 1) == y_test))


def run_engine(name, data):
    X, y, X_test, y_test, epochs = data
    start = time.perf_counter()
    if name == "sklearn":
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        clf = MLPClassifier(
            hidden_layer_sizes=(128,),
            max_iter=epochs,
            n_iter_no_change=epochs + 1,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X / 255.0, y)
        seconds = time.perf_counter() - start
        steps = clf.n_iter_ * -(-len(y) // BATCH)  # gen_batches keeps the rest
        return seconds, clf.score(X_test / 255.0, y_test), int(steps)
    import keras

    if name.endswith("skmnist"):
        from skmnist import KerasMLP

        clf = KerasMLP(
            max_iter=epochs, n_iter_no_change=epochs + 1, random_state=0
        ).fit(X, y)
        seconds = time.perf_counter() - start
        return (
            seconds,
            clf.score(X_test, y_test),
            int(np.asarray(clf.model_.optimizer.iterations.value)),
        )
    if name == "jax-epoch":
        model, steps = jax_epoch_fit(keras, X, y, epochs)
    elif name == "jax-engine":
        from skmnist._engine import _jax_engine

        model = keras_model(keras, 0)
        model.compile(
            optimizer=keras.optimizers.Adam(LEARNING_RATE),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        _jax_engine.fit(
            model,
            X,
            y.astype(np.float32),
            None,
            multiclass=True,
            batch_size=BATCH,
            epochs=epochs,
            initial_epoch=0,
            seed=0,
            callbacks=None,
            validation=None,
            verbose=0,
        )
        steps = int(np.asarray(model.optimizer.iterations.value))
    else:
        model, steps = keras_fit(keras, X, y, epochs, 20 if name.endswith("spe") else 1)
    seconds = time.perf_counter() - start
    return seconds, accuracy_of(model, X_test, y_test), steps


def worker(quick):
    data = workloads(quick)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        name, workload = json.loads(line)
        seconds, accuracy, steps = run_engine(name, data[workload])
        print(
            json.dumps({"seconds": seconds, "accuracy": accuracy, "steps": steps}),
            flush=True,
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", help="comma-separated engine names")
    parser.add_argument("--workloads", default="full,embedded")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.quick)
        return 0
    names = args.only.split(",") if args.only else list(ENGINES)
    processes = {}
    for name in names:
        kind = ENGINES[name][0]
        if kind not in processes:
            env = dict(
                os.environ, KERAS_BACKEND=kind if kind != "sklearn" else "tensorflow"
            )
            command = [sys.executable, __file__, "--worker", kind]
            if args.quick:
                command.append("--quick")
            processes[kind] = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
    for process in processes.values():
        json.loads(process.stdout.readline())

    def ask(name, workload):
        process = processes[ENGINES[name][0]]
        process.stdin.write(json.dumps([name, workload]) + "\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    results = {}
    for workload in args.workloads.split(","):
        for name in names:  # warm-up: compiles, first-call costs
            if name != "sklearn":
                ask(name, workload)
        for _ in range(args.repeats):
            for name in names:
                result = ask(name, workload)
                best = results.setdefault((workload, name), result)
                if result["seconds"] < best["seconds"]:
                    results[(workload, name)] = result
                print(f"  {workload} {name}: {result}", file=sys.stderr)
    for process in processes.values():
        process.stdin.close()
        process.wait()
    print(
        f"| workload | engine | best of {args.repeats} s | / sklearn | "
        "test acc | optimizer steps |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for (workload, name), result in results.items():
        reference = results.get((workload, "sklearn"), result)["seconds"]
        print(
            f"| {workload} | {name}: {ENGINES[name][1]} | "
            f"{result['seconds']:.2f} | {result['seconds'] / reference:.2f} | "
            f"{result['accuracy']:.4f} | {result['steps']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
