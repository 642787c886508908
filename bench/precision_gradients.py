"""How far a mixed-precision gradient is from float32's: one batch, the same weights, per variable.

Usage:
    python bench/precision_gradients.py --config drum_kit --records DATASET/training_drum_tracks.tfrecord
    python bench/precision_gradients.py --config drum_kit_transformer --records ... --slices 64 32

Builds the config's network from ``--seed`` in float32, takes the first batch of the records (dropout off, so
the passes are deterministic), and computes the gradient of the mean loss over the whole batch in float32;
then, with the same weights under ``--precision``, the same gradient summed over slices of each of
``--slices`` tracks, as the shared loop sums micro batches. Prints, per slice size, each variable's cosine
with float32's gradient and its norm against float32's, as JSON.
"""

import argparse
import json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="drum_kit")
    parser.add_argument("--records", required=True, nargs="+")
    parser.add_argument("--precision", default="mixed_bfloat16")
    parser.add_argument("--slices", type=int, nargs="+", default=[128, 64, 43])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    from seqgen import plugins, training

    config = plugins.get_config(args.config)
    off = {"dropout_keep_prob": "1.0"} if hasattr(config.hparams, "dropout_keep_prob") else {"dropout": "0.0"}
    config = config.with_hparams(",".join(f"{k}={v}" for k, v in off.items()))
    task = config.family.task
    exact = training.Trainer(config.with_hparams("precision=float32"), seed=args.seed)
    sequences = task.dataset(config, args.records)
    batch = next(iter(task.batches(exact.config, sequences, config.hparams.batch_size, True, args.seed)))
    mask = batch[-1]
    tokens = tf.reduce_sum(tf.cast(mask, tf.float32))

    def gradient(trainer, size):
        total = [tf.zeros_like(v) for v in trainer.model.trainable_variables]
        for start in range(0, int(tf.shape(mask)[0]), size):
            length = int(tf.reduce_max(tf.reduce_sum(mask[start : start + size], 1)))
            part = tuple(x[start : start + size, :length] for x in batch)
            with tf.GradientTape() as tape:
                loss = task.batch_sums(trainer.config, trainer.model, part, training=True)["loss_sum"] / tokens
            grads = tape.gradient(loss, trainer.model.trainable_variables)
            total = [a + tf.convert_to_tensor(b) for a, b in zip(total, grads)]
        return [g.numpy().ravel() for g in total]

    reference = gradient(exact, int(tf.shape(mask)[0]))
    mixed = training.Trainer(config.with_hparams(f"precision={args.precision}"), seed=args.seed)
    for source, target in zip(exact.model.trainable_variables, mixed.model.trainable_variables):
        target.assign(source)
    result = {"config": args.config, "precision": args.precision, "tracks": int(tf.shape(mask)[0]), "slices": {}}
    with training.dtype_policy(args.precision):
        for size in args.slices:
            rows = {}
            for variable, e, m in zip(exact.model.trainable_variables, reference, gradient(mixed, size)):
                norm = float(np.linalg.norm(e))
                rows[variable.path] = {
                    "cosine": round(float(e @ m / max(norm * np.linalg.norm(m), 1e-30)), 4),
                    "norm": f"{np.linalg.norm(m):.4g} / {norm:.4g}",
                }
            result["slices"][size] = rows
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
