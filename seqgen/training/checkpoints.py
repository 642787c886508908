"""A run's checkpoints (model, optimizer, step) in ``R/train``, through ``tf.train.CheckpointManager``,
which writes the files first and only then points the ``checkpoint`` index at them, so an interrupted save
leaves the previous checkpoint in force; and a new run's warm start from another model's weights."""

import os
import shutil

from seqgen.errors import SeqgenError


def checkpoint_of(model, optimizer=None):
    """A ``tf.train.Checkpoint`` keying the model's variables by their names (``weights/<name>``), so
    :mod:`seqgen.run_dir` reads them by name."""
    import tensorflow as tf

    weights = tf.train.Checkpoint(**model.variables_by_name())
    if optimizer is None:
        return tf.train.Checkpoint(weights=weights)
    return tf.train.Checkpoint(weights=weights, optimizer=optimizer)


def checkpoint_manager(checkpoint, train_dir, chief: bool, num_checkpoints: int):
    """The ``tf.train.CheckpointManager`` of ``checkpoint`` keeping ``num_checkpoints`` (0: all). Every worker
    must save; only the chief's checkpoints are kept in ``train_dir``, the others' go to a folder of their own.
    The chief first removes what a save cut short by kill -9 left (one trainer per run dir: train holds its
    lock)."""
    import tensorflow as tf

    directory = train_dir if chief else os.path.join(train_dir, f".worker_{os.getpid()}")
    kept = tf.train.CheckpointManager(checkpoint, directory, max_to_keep=num_checkpoints or None)
    if chief:
        for leftover in tf.io.gfile.glob(os.path.join(train_dir, "ckpt-*_temp")):
            tf.io.gfile.rmtree(leftover)
    return kept


def save(manager, step: int, train_dir) -> None:
    """Save the checkpoint of ``step``. On a full disk, remove what was written of it and stop with one line
    naming the checkpoint that is kept."""
    import tensorflow as tf

    from seqgen.disk_full import is_disk_full, size_text

    free = shutil.disk_usage(manager.directory).free if os.path.isdir(manager.directory) else 0
    try:
        manager.save(checkpoint_number=step)
    except (tf.errors.ResourceExhaustedError, tf.errors.UnknownError, OSError) as error:
        if not is_disk_full(error):
            raise
        for path in tf.io.gfile.glob(os.path.join(manager.directory, f"ckpt-{step}[._]*")):
            if path != manager.latest_checkpoint and not path.startswith(f"{manager.latest_checkpoint}."):
                tf.io.gfile.rmtree(path) if os.path.isdir(path) else tf.io.gfile.remove(path)
        kept = (
            f"the previous checkpoint {manager.latest_checkpoint} is kept: run again to resume from it"
            if manager.latest_checkpoint
            else "no checkpoint was kept"
        )
        raise SeqgenError(
            f"no space left on the device while saving the checkpoint of step {step} in {train_dir} "
            f"(it filled the {size_text(free)} that were free); the unfinished checkpoint was removed "
            f"and {kept}; free some space (or keep fewer with --num_checkpoints)"
        ) from None


def warm_start(network, weights: dict, source: str) -> str:
    """Set ``network``'s variables from ``weights`` (of the model at ``source``) where they fit: the same
    name and shape, or the same name and trailing shape with fewer rows (an embedding that grew keeps its
    old rows). One line saying what was copied."""
    import numpy as np

    copied, grown, fresh = 0, 0, 0
    for name, variable in network.variables_by_name().items():
        value = weights.get(name)
        shape = tuple(variable.shape)
        if value is not None and value.shape == shape:
            variable.assign(value)
            copied += 1
        elif value is not None and value.shape[1:] == shape[1:] and value.shape[0] < shape[0]:
            rows = np.array(variable.numpy())
            rows[: value.shape[0]] = value
            variable.assign(rows)
            grown += 1
        else:
            fresh += 1
    return f"Warm start from {source}: {copied} weights copied, {grown} grown (old rows kept), {fresh} new."
