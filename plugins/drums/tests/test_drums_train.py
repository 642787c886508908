"""Training the drum configs through the shared loop: one_drum's bare one-hot input, drum_kit's slices of a batch
(on a GPU, and in mixed precision)."""

import re

import numpy as np
import tensorflow as tf

from groove_slice import copy_slice
from seqgen import convert, pipeline, plugins, training


def test_one_drum_trains_without_position_features(tmp_path):
    """one_drum's input is the bare 2-way one-hot (no position features); it once crashed oneDNN."""
    config = plugins.get_config("one_drum").with_hparams("batch_size=4,rnn_layer_sizes=[16,16],learning_rate=0.05")
    assert config.encoding.num_position_features == 0
    convert.convert_directory(copy_slice(tmp_path / "groove"), tmp_path / "ns.tfrecord", recursive=True)
    _, paths = pipeline.create_dataset(
        tmp_path / "ns.tfrecord", tmp_path / "one_drum", config, pipeline.SplitOptions(eval_ratio=0.0), workers=1
    )
    lines = []
    trainer = training.train(
        config,
        str(tmp_path / "run"),
        [str(paths["training"])],
        training.TrainOptions(num_training_steps=10, summary_frequency=5, save_checkpoint_secs=0, seed=1),
        log=lines.append,
    )
    losses = [float(m.group(1)) for m in (re.search(r"loss = ([\d.]+)", line) for line in lines) if m]
    assert trainer.step == 10 and len(losses) == 2
    assert losses[-1] < np.log(2), losses  # below an untrained guess between hit and rest


def test_on_a_gpu_drum_kit_trains_in_one_slice():
    """Automatic slices are sized for 3 GB on a CPU; a GPU takes drum_kit's whole batch (docs/benchmarks.md)."""
    trainer = training.Trainer(plugins.get_config("drum_kit"))
    assert trainer.micro_batch_values == training.MICRO_BATCH_VALUES  # this machine has no GPU
    trainer.micro_batch_values = training.GPU_MICRO_BATCH_VALUES
    assert int(trainer._auto_micro_batch(tf.constant(128), tf.constant(511))) == 128


def test_mixed_precision_events_rnn_trains_in_bigger_slices():
    """16-bit stacks take half the memory: drum_kit's defaults train in one slice of 128 tracks, not 3 of 43."""
    sizes = {}
    for precision in ("float32", "mixed_bfloat16"):
        trainer = training.Trainer(plugins.get_config("drum_kit").with_hparams(f"precision={precision}"))
        sizes[precision] = int(trainer._auto_micro_batch(tf.constant(128), tf.constant(511)))
    assert sizes == {"float32": 43, "mixed_bfloat16": 128}


def test_drum_kit_trains_in_the_devices_fastest_precision():
    """mixed_bfloat16 and the whole batch in one slice on a CPU with bfloat16 units; float32 in 3 slices elsewhere."""
    assert plugins.get_config("drum_kit").hparams.precision == "auto"
    fast = bool(training.cpu_flags() & {"avx512_bf16", "amx_bf16"})
    trainer = training.Trainer(plugins.get_config("drum_kit"))
    assert trainer.config.hparams.precision == ("mixed_bfloat16" if fast else "float32")
    assert int(trainer._auto_micro_batch(tf.constant(128), tf.constant(511))) == (128 if fast else 43)
