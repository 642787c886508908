"""Magenta's own Drums RNN training, timed on this machine: the baseline of the drum_kit speed goal.

Usage (a Python with magenta 2.1.4 installed apart from seqgen, e.g. TensorFlow 2.15.1 and tf_slim 1.1.0 in
their own venv; Magenta's records from its ``drums_rnn_create_dataset --config=drum_kit``):
    python bench/magenta_train.py --python /path/to/magenta-venv/bin/python --records DIR/training_drum_tracks.tfrecord

Runs ``drums_rnn_train --config=drum_kit`` (its defaults: batch 128, 3 x 256, attention 32) for ``--steps``
steps in a fresh run directory and prints the median of the seconds Magenta logs per step (the first step,
graph building, has none).
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile

# tf_slim 1.1.0 predates TensorFlow 2.15's move of IndexedSlices; then Magenta's own entry point.
RUNNER = """
import tensorflow as tf
from tensorflow.python.framework import ops
ops.IndexedSlices = tf.IndexedSlices
from magenta.models.drums_rnn import drums_rnn_train
drums_rnn_train.console_entry_point()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", required=True, help="a Python with magenta installed")
    parser.add_argument("--records", required=True)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as run_dir:
        command = [args.python, "-c", RUNNER, "--config=drum_kit", f"--run_dir={run_dir}"]
        command += [f"--sequence_example_file={args.records}", f"--num_training_steps={args.steps}"]
        command += ["--summary_frequency=1"]
        done = subprocess.run(command, capture_output=True, text=True)
    # Each step is logged twice (absl and TensorFlow's logger): read the "INFO:tensorflow:" lines.
    seconds = [
        float(s) for s in re.findall(r"^INFO:tensorflow:.*Global Step = \d+, .*\(([\d.]+) sec\)", done.stderr, re.M)
    ]
    if done.returncode or not seconds:
        sys.exit(f"bench/magenta_train.py: Magenta's training failed:\n{done.stderr[-2000:]}")
    print(json.dumps({"magenta_seconds_per_step": statistics.median(seconds), "step_seconds": seconds}, indent=2))


if __name__ == "__main__":
    main()
