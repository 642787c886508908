"""XLA (``jit_compile=True``) against TensorFlow's graph for one training step of a family's network.

Usage (records from `seqgen create_dataset`, as for bench/train.py):
    python bench/train_xla.py --config drum_kit_transformer --records DATASET/training_drum_tracks.tfrecord

Two copies of the network start from the same weights and take the same batches, each padded to
``--length`` steps so XLA compiles one shape (padding is masked: the loss is the same): one step's
forward pass, backward pass, global-norm clipping and Adam update, as a ``tf.function`` with and without
``jit_compile``. The two alternate step by step, so both see the same load. Prints the median seconds per
step of each (after ``--warmup`` steps, compilation included there) and both loss curves; with dropout off
(``--hparams dropout=0``) the curves agree to float32 rounding when XLA keeps the maths.
"""

import argparse
import json
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="drum_kit_transformer")
    parser.add_argument("--hparams", default="")
    parser.add_argument("--records", required=True, nargs="+")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--length", type=int, default=528)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from seqgen import plugins, training

    config = plugins.get_config(args.config).with_hparams(args.hparams)
    task = config.family.task

    def make(jit):
        keras.utils.set_random_seed(0)
        model = config.family.build(config)
        optimizer = keras.optimizers.Adam(learning_rate=config.family.learning_rate(config.hparams))
        optimizer.build(model.trainable_variables)

        @tf.function(jit_compile=jit)
        def step(*batch):
            with tf.GradientTape() as tape:
                sums = task.batch_sums(config, model, batch, training=True)
                loss = sums["loss_sum"] / tf.maximum(task.loss_count(batch), 1.0)
            grads = training.clip_by_global_norm(
                tape.gradient(loss, model.trainable_variables), config.hparams.clip_norm
            )
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss

        return step

    steps = {"graph": make(False), "xla": make(True)}
    dataset = task.batches(config, task.dataset(config, args.records), args.batch_size, training=True, seed=0)

    def padded(batch):
        return tuple(
            tf.pad(x, [[0, 0], [0, args.length - tf.shape(x)[1]]] + [[0, 0]] * (len(x.shape) - 2)) for x in batch
        )

    fits = dataset.filter(lambda *batch: tf.shape(batch[0])[1] <= args.length)  # prompt tokens lengthen streams
    batches = iter(fits.map(lambda *batch: padded(batch)))
    seconds = {name: [] for name in steps}
    losses = {name: [] for name in steps}
    for index in range(args.warmup + args.steps):
        batch = next(batches)
        for name, step in steps.items():
            start = time.perf_counter()
            loss = float(step(*batch))
            if index >= args.warmup:
                seconds[name].append(time.perf_counter() - start)
            losses[name].append(round(loss, 5))
    print(
        json.dumps(
            {
                "config": args.config,
                "hparams": config.hparams.to_dict(),
                "batch": [args.batch_size, args.length],
                "device": training.describe_devices(tf.distribute.get_strategy(), config.hparams.precision),
                **{f"{name}_seconds_per_step": statistics.median(times) for name, times in seconds.items()},
                **{f"{name}_step_seconds": [round(s, 3) for s in times] for name, times in seconds.items()},
                **{f"{name}_losses": curve for name, curve in losses.items()},
                "largest_loss_difference": max(abs(a - b) for a, b in zip(*losses.values())),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
