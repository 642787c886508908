"""Training speed: steady-state seconds per step, useful (non-padding) tokens/s and peak memory.

Usage (records from `seqgen create_dataset` on the Groove data):
    python bench/train.py --config drum_kit --records DATASET/training_drum_tracks.tfrecord
    python bench/train.py --config drum_kit --hparams "batch_size=64,rnn_layer_sizes=[64,64]" --records ...
    python bench/train.py --config one_drum --records ONE_DRUM_DATASET/training_drum_tracks.tfrecord

Runs ``--warmup`` steps (tracing, first buckets), then times ``--steps`` steps one by one and prints
the median. Peak memory is the process's ru_maxrss, and on a GPU also the GPU's peak allocation. Run
each setting in its own process.
"""

import argparse
import glob
import json
import os
import resource
import statistics
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="drum_kit")
    parser.add_argument("--hparams", default="")
    parser.add_argument("--records", required=True, nargs="+")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--micro_batch_size",
        type=int,
        default=0,
        help="sum gradients over slices of this many tracks (bounds memory); 0: automatic",
    )
    args = parser.parse_args()
    missing = [path for path in args.records if not os.path.isfile(path) and not glob.glob(path)]
    if missing:
        sys.exit(
            f"bench/train.py: no record file matches {missing[0]}: make one from the Groove MIDI Dataset with "
            "`seqgen convert` and `seqgen create_dataset` (docs/models.md) and pass it as --records FILE"
        )

    import tensorflow as tf

    from seqgen import plugins, training

    config = plugins.get_config(args.config).with_hparams(args.hparams)
    trainer = training.Trainer(config, seed=args.seed, micro_batch_size=args.micro_batch_size)
    sequences = config.family.task.dataset(config, args.records)  # each family's own reading (controls, prompts)
    batches = iter(trainer.distribute(sequences, training=True, seed=args.seed))
    losses = []  # each step's mean loss, warm-up included: the loss curve (same --seed, same batches)
    for _ in range(args.warmup):
        sums = trainer.train_step(next(batches))
        losses.append(sums["loss_sum"] / sums["tokens"])
    seconds, cpu_seconds, tokens = [], [], []
    for _ in range(args.steps):
        batch = next(batches)
        start, cpu_start = time.perf_counter(), time.process_time()
        sums = trainer.train_step(batch)
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)
        tokens.append(sums["tokens"])
        losses.append(sums["loss_sum"] / sums["tokens"])
    result = {
        "config": args.config,
        "hparams": trainer.config.hparams.to_dict(),  # precision=auto resolved
        "micro_batch_size": args.micro_batch_size,
        "seconds_per_step": statistics.median(seconds),
        "useful_tokens_per_second": sum(tokens) / sum(seconds),
        "useful_tokens_per_step": statistics.median(tokens),
        # CPU time is less sensitive than wall time to other jobs on the machine.
        "useful_tokens_per_cpu_second": sum(tokens) / sum(cpu_seconds),
        "peak_memory_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
        "device": training.describe_devices(trainer.strategy, trainer.config.hparams.precision),
        "step_seconds": [round(s, 3) for s in seconds],
        "losses": [round(loss, 4) for loss in losses],
    }
    if tf.config.list_logical_devices("GPU"):
        result["gpu_peak_memory_gb"] = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 1e9
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
