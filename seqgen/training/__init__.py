"""Training and evaluation of any model family: a custom loop under ``tf.distribute``.

One module per concern: :mod:`~seqgen.training.devices` (where training runs, mixed precision),
:mod:`~seqgen.training.trainer` (the model, optimizer and step functions), :mod:`~seqgen.training.checkpoints`
(saving, resuming, warm starts), :mod:`~seqgen.training.summaries` (TensorBoard scalars) and
:mod:`~seqgen.training.loop` (``train`` and ``evaluate``). Their public names are importable from here.
TensorFlow is imported only when a function needs it.
"""

from seqgen.training.checkpoints import checkpoint_of, warm_start
from seqgen.training.devices import (
    choose_strategy,
    cpu_flags,
    describe_devices,
    dtype_policy,
    is_chief,
    precision_notice,
    resolve_precision,
)
from seqgen.training.loop import TrainOptions, evaluate, train
from seqgen.training.summaries import format_values, write_summaries
from seqgen.training.trainer import GPU_MICRO_BATCH_VALUES, MICRO_BATCH_VALUES, Trainer, clip_by_global_norm

__all__ = [
    "GPU_MICRO_BATCH_VALUES",
    "MICRO_BATCH_VALUES",
    "TrainOptions",
    "Trainer",
    "checkpoint_of",
    "choose_strategy",
    "clip_by_global_norm",
    "cpu_flags",
    "describe_devices",
    "dtype_policy",
    "evaluate",
    "format_values",
    "is_chief",
    "precision_notice",
    "resolve_precision",
    "train",
    "warm_start",
    "write_summaries",
]
