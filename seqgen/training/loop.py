"""Training and evaluation of any model family: a custom loop under ``tf.distribute``.

Keras 3's ``model.fit`` fails under MultiWorkerMirroredStrategy (keras-team/keras#20585), so the
loop is written out: Adam at ``learning_rate``, gradients clipped by global norm ``clip_norm``. What is
learned comes from the family's task (:mod:`seqgen.task`): the records read, the batches and the loss,
by default the mean cross-entropy over the non-padding labels of the global batch. Batches group
tracks of similar length so little padding is computed. Checkpoints (model, optimizer, step) go to ``R/train``
through ``tf.train.CheckpointManager``, which writes the files first and only then points the
``checkpoint`` index at them, so an interrupted save leaves the previous checkpoint in force.
"""

import contextlib
import json
import math
import os
import re
import shutil
import time

import attrs

from seqgen.errors import SeqgenError, Terminated
from seqgen.progress import Progress

#: Automatic micro batches keep tracks x steps x the family's ``activation_values`` at or below this many
#: values: drum_kit's defaults (128 tracks x 511 steps x 3 x 256) go in three slices of 43 tracks, about
#: 2.1 GB peak (two slices of 64 peaked at 2.8-2.9 GB, too close to 3 GB; see docs/benchmarks.md).
MICRO_BATCH_VALUES = 20_000_000

#: The same on a GPU, where slices waste its width: drum_kit's defaults go in one slice, 4.3x faster than in
#: three on an H100, at 3.5 GB of GPU memory (docs/benchmarks.md, "The GPU path"); about 6 GB at most.
GPU_MICRO_BATCH_VALUES = 80_000_000


@attrs.frozen
class TrainOptions:
    """How long to train and how often to summarize and checkpoint."""

    num_training_steps: int = 0  # 0: until interrupted
    summary_frequency: int = 10
    save_checkpoint_secs: float = 60.0
    save_checkpoint_steps: int = 0  # 0: by time only
    num_checkpoints: int = 10  # 0: keep all
    seed: int = None
    micro_batch_size: int = 0  # sum gradients over slices of this many tracks; 0: automatic
    warm_start: tuple = None  # (source, weights) of a model a new run starts from (warm_start below)


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
            rows[:value.shape[0]] = value
            variable.assign(rows)
            grown += 1
        else:
            fresh += 1
    return f"Warm start from {source}: {copied} weights copied, {grown} grown (old rows kept), {fresh} new."


def _num_workers() -> int:
    cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def choose_strategy():
    """MultiWorkerMirroredStrategy when TF_CONFIG names several workers, MirroredStrategy on several
    local GPUs, else the default strategy (one GPU if present, else the CPU)."""
    import tensorflow as tf

    if _num_workers() > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def describe_devices(strategy, precision: str = "float32") -> str:
    """One line saying where training runs (the CPU, which GPUs, or how many workers in sync), and in
    which precision when it is not float32."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if _num_workers() > 1:
        where = (f"{_num_workers()} workers ({'GPUs' if gpus else 'CPUs'}), "
                 f"{strategy.num_replicas_in_sync} replicas in sync")
    elif gpus:
        names = [tf.config.experimental.get_device_details(device).get("device_name", device.name)
                 for device in tf.config.list_physical_devices("GPU")]
        where = f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''} ({', '.join(names)})"
        if strategy.num_replicas_in_sync > 1:
            where += f", {strategy.num_replicas_in_sync} replicas in sync"
    else:
        where = f"the CPU ({os.cpu_count()} cores; no GPU found)"
    if precision != "float32":
        where += f", {precision} precision"
    return f"Training on {where}."


def cpu_flags() -> set:
    """The CPU's feature flags from /proc/cpuinfo (Linux); empty where it cannot be read."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next((set(line.split(":", 1)[1].split()) for line in cpuinfo if line.startswith("flags")), set())
    except OSError:
        return set()


def precision_notice(precision: str, on_gpu: bool, flags: set) -> str:
    """A note when ``precision`` does not suit the device (CPU ``flags``), else ""."""
    if on_gpu or precision == "float32":
        return ""
    if precision == "mixed_float16":
        return ("Note: mixed_float16 is meant for GPUs; on a CPU it is slower than float32 "
                "(mixed_bfloat16 suits CPUs with AVX512_BF16 or AMX).")
    if flags and not flags & {"avx512_bf16", "amx_bf16"}:
        return ("Note: this CPU has no bfloat16 instructions (AVX512_BF16, AMX): mixed_bfloat16 is emulated "
                "and may be slower than float32.")
    return ""


@contextlib.contextmanager
def dtype_policy(precision: str):
    """Keras's dtype policy ``precision`` (float32, mixed_bfloat16 or mixed_float16) for the networks
    built inside: their variables are float32, their math in the policy's compute dtype."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def is_chief() -> bool:
    """Whether this process writes checkpoints and summaries (always, outside a TF_CONFIG cluster)."""
    tf_config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = tf_config.get("task", {})
    kind, index = task.get("type", "worker"), task.get("index", 0)
    return kind == "chief" or (kind == "worker" and index == 0 and "chief" not in tf_config.get("cluster", {}))


def clip_by_global_norm(grads, clip_norm):
    """``tf.clip_by_global_norm(grads, clip_norm)[0]``, finite also where the global norm overflows float32.

    An RNN's gradients can explode past 1e19, where the sum of squares is inf and TensorFlow's clipping
    (and Magenta's) turns every gradient into nan, ending the run. Here the norm is taken of the gradients
    divided by their largest magnitude, so such a step is clipped to ``clip_norm`` like any other.
    Gradients that are already inf or nan stay non-finite (the loss scaler skips such a step).
    """
    import tensorflow as tf

    largest = tf.reduce_max(tf.stack([tf.reduce_max(tf.abs(g)) for g in grads]))
    largest = tf.where(largest > 0.0, largest, 1.0)
    unit = [g / largest for g in grads]  # the largest magnitude is 1: no overflow in the norm
    factor = tf.minimum(largest, clip_norm / tf.maximum(tf.linalg.global_norm(unit), 1e-30))
    return [g * factor for g in unit]


def _build(config):
    """The family's network, or a one-line error when it cannot be built in a mixed precision."""
    import tensorflow as tf

    precision = config.hparams.precision
    try:
        return config.family.build(config)
    except (TypeError, ValueError, tf.errors.InvalidArgumentError) as error:
        if precision == "float32":
            raise
        lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", str(error)).splitlines()
                 if line.strip() and not line.startswith("Exception encountered")]
        reason = lines[0][:200] if lines else type(error).__name__
        raise SeqgenError(f"the {config.family.name} model family cannot build its network in {precision} "
                          f"({reason}); train it in float32 (--hparams precision=float32)") from None


def checkpoint_of(model, optimizer=None):
    """A ``tf.train.Checkpoint`` keying the model's variables by their names (``weights/<name>``), so
    :mod:`seqgen.run_dir` reads them by name."""
    import tensorflow as tf

    weights = tf.train.Checkpoint(**model.variables_by_name())
    if optimizer is None:
        return tf.train.Checkpoint(weights=weights)
    return tf.train.Checkpoint(weights=weights, optimizer=optimizer)


class Trainer:
    """The model, optimizer, checkpoint and step functions of one run under one strategy."""

    def __init__(self, config, strategy=None, seed=None, micro_batch_size=0, learning_rate=None):
        import keras
        import tensorflow as tf

        self.config = config
        self.micro_batch_size = micro_batch_size
        self.strategy = strategy or choose_strategy()
        on_gpu = bool(tf.config.list_logical_devices("GPU"))
        self.micro_batch_values = GPU_MICRO_BATCH_VALUES if on_gpu else MICRO_BATCH_VALUES
        if seed is not None:
            keras.utils.set_random_seed(seed)
        with self.strategy.scope(), dtype_policy(config.hparams.precision):
            self.model = _build(config)
            # learning_rate: a constant instead of the family's (seqgen adapt's).
            rate = learning_rate or config.family.learning_rate(config.hparams)
            self.optimizer = keras.optimizers.Adam(learning_rate=rate)
            # float16 gradients under- and overflow: the loss is scaled up and the gradients back down,
            # and a step whose gradients are not finite is skipped (Keras's dynamic loss scaling).
            self.loss_scaler = None
            if config.hparams.precision == "mixed_float16":
                self.loss_scaler = keras.optimizers.LossScaleOptimizer(self.optimizer)
            (self.loss_scaler or self.optimizer).build(self.model.trainable_variables)
        # The loss scale is not checkpointed, so a run may resume in another precision.
        self.checkpoint = checkpoint_of(self.model, self.optimizer)
        self._train_step = None
        self._eval_step = None

    def restore(self, path) -> None:
        """Restore the model and optimizer from checkpoint ``path``, keeping this config's learning rate
        (the checkpoint holds the optimizer's, which a resumed run may change)."""
        import keras
        import tensorflow as tf

        from seqgen.run_dir import damaged_checkpoint

        try:
            self.checkpoint.restore(path).assert_existing_objects_matched()
        except (IndexError, tf.errors.OpError) as error:  # a data file cut short or corrupted
            raise damaged_checkpoint(path, error) from None
        learning_rate = self.config.family.learning_rate(self.config.hparams)
        if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
            self.optimizer.learning_rate = learning_rate

    @property
    def step(self) -> int:
        return int(self.optimizer.iterations.numpy())

    def distribute(self, sequences, training: bool, seed=None):
        """Per-replica batches: the global batch of ``batch_size`` is split over the replicas."""
        import tensorflow as tf

        replicas = self.strategy.num_replicas_in_sync
        per_replica = max(1, self.config.hparams.batch_size // replicas)
        task = self.config.family.task

        def dataset_fn(context):
            data = sequences
            if context.num_input_pipelines > 1:
                data = data.shard(context.num_input_pipelines, context.input_pipeline_id)
            return task.batches(self.config, data, per_replica, training, seed)

        options = tf.distribute.InputOptions(experimental_fetch_to_device=True)
        return self.strategy.distribute_datasets_from_function(dataset_fn, options)

    def _sum_replicas(self, per_replica: dict) -> dict:
        import tensorflow as tf

        return {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in per_replica.items()}

    def _auto_micro_batch(self, batch, steps):
        """Equal slices of the batch, as few as keep tracks x steps x layer widths <= ``micro_batch_values``."""
        import tensorflow as tf

        width = self.config.family.activation_values(self.config.hparams)
        most = tf.maximum(1, self.micro_batch_values // (steps * width))
        slices = (batch + most - 1) // most
        return (batch + slices - 1) // slices

    def train_step(self, batch):
        """One optimizer step on a distributed batch; the batch's metric sums."""
        import tensorflow as tf

        if self._train_step is None:
            model, optimizer, config = self.model, self.optimizer, self.config
            hparams, task = config.hparams, config.family.task
            variables = model.trainable_variables

            def replica_step(*batch):
                context = tf.distribute.get_replica_context()
                scale = self.loss_scaler.scale_loss(1.0) if self.loss_scaler else 1.0
                tokens = tf.maximum(context.all_reduce(tf.distribute.ReduceOp.SUM, task.loss_count(batch)), 1.0)
                # Gradients are summed over slices of at most micro_batch_size tracks, one slice after
                # another (bounding memory), each trimmed to its own longest track.
                mask = batch[-1]
                size = self.micro_batch_size or self._auto_micro_batch(tf.shape(mask)[0], tf.shape(mask)[1])

                def slice_step(index, grads, total):
                    start = index * size
                    length = tf.cast(tf.reduce_max(tf.reduce_sum(mask[start:start + size], 1)), tf.int32)
                    part = tuple(x[start:start + size, :length] for x in batch)
                    with tf.GradientTape() as tape:
                        sums = task.batch_sums(config, model, part, training=True)
                        loss = sums["loss_sum"] / tokens * scale
                    part_grads = tape.gradient(loss, variables)
                    return (index + 1, [a + b for a, b in zip(grads, part_grads)],
                            {k: total[k] + sums[k] for k in total})

                zero_grads = [tf.zeros_like(v) for v in variables]
                zero_sums = {k: tf.constant(0.0) for k in task.sum_keys}
                _, grads, sums = tf.while_loop(
                    lambda index, *_: index * size < tf.shape(mask)[0], slice_step,
                    (tf.constant(0), zero_grads, zero_sums), parallel_iterations=1)
                grads = context.all_reduce(tf.distribute.ReduceOp.SUM, grads)
                # Clipping scaled gradients at the scaled norm is clipping the gradients (scale > 0).
                grads = clip_by_global_norm(grads, hparams.clip_norm * scale)
                # Keras sums the gradients over replicas again: hand it each replica's share.
                replicas = float(context.num_replicas_in_sync)
                (self.loss_scaler or optimizer).apply_gradients(zip([g / replicas for g in grads], variables))
                return sums

            @tf.function(reduce_retracing=True)
            def step(batch):
                return self._sum_replicas(self.strategy.run(replica_step, args=batch))

            self._train_step = step
        return {k: float(v) for k, v in self._train_step(batch).items()}

    def evaluate(self, batches) -> dict:
        """Metric sums over one pass of distributed eval batches."""
        import tensorflow as tf

        task = self.config.family.task
        if self._eval_step is None:
            model, config = self.model, self.config

            def replica_step(*batch):
                return task.batch_sums(config, model, batch, training=False)

            @tf.function(reduce_retracing=True)
            def step(batch):
                return self._sum_replicas(self.strategy.run(replica_step, args=batch))

            self._eval_step = step
        totals = dict.fromkeys(task.sum_keys, 0.0)
        for batch in batches:
            for key, value in self._eval_step(batch).items():
                totals[key] += float(value)
        return totals


def _class_sequences(files, config):
    """The task's dataset of the record ``files`` (class sequences for the events families)."""
    return config.family.task.dataset(config, files)


def _write_summaries(writer, values: dict, step: int) -> None:
    """TensorBoard scalars, written with TensorFlow's own op (TensorBoard need not be installed)."""
    import tensorflow as tf

    metadata = tf.compat.v1.SummaryMetadata(
        plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="scalars"))
    with writer.as_default(step=step):
        for name, value in values.items():
            tf.summary.write(name, tf.constant(value, tf.float32), metadata=metadata)
    writer.flush()


def _format(values: dict) -> str:
    return ", ".join(f"{name.split('/')[-1]} = {value:.4f}" for name, value in values.items())


def _save(manager, step: int, train_dir) -> None:
    """Save the checkpoint of ``step``. On a full disk, remove what was written of it and stop with one line
    naming the checkpoint that is kept."""
    import tensorflow as tf

    from seqgen.files import is_disk_full, size_text

    free = shutil.disk_usage(manager.directory).free if os.path.isdir(manager.directory) else 0
    try:
        manager.save(checkpoint_number=step)
    except (tf.errors.ResourceExhaustedError, tf.errors.UnknownError, OSError) as error:
        if not is_disk_full(error):
            raise
        for path in tf.io.gfile.glob(os.path.join(manager.directory, f"ckpt-{step}[._]*")):
            if path != manager.latest_checkpoint and not path.startswith(f"{manager.latest_checkpoint}."):
                tf.io.gfile.rmtree(path) if os.path.isdir(path) else tf.io.gfile.remove(path)
        kept = (f"the previous checkpoint {manager.latest_checkpoint} is kept: run again to resume from it"
                if manager.latest_checkpoint else "no checkpoint was kept")
        raise SeqgenError(f"no space left on the device while saving the checkpoint of step {step} in {train_dir} "
                          f"(it filled the {size_text(free)} that were free); the unfinished checkpoint was removed "
                          f"and {kept}; free some space (or keep fewer with --num_checkpoints)") from None


def train(config, run_dir, files, options: TrainOptions, log=print) -> "Trainer":
    """Train ``config`` on record ``files`` in ``run_dir``, resuming from its latest checkpoint.

    Returns the :class:`Trainer`, whose model holds the final weights.
    """
    import tensorflow as tf

    from seqgen import run_dir as runs

    chief = is_chief()
    if chief:
        runs.save_run(run_dir, config, log)
    train_dir = os.path.join(run_dir, "train")
    trainer = Trainer(config, seed=options.seed, micro_batch_size=options.micro_batch_size)
    # Every worker must save; only the chief's checkpoints are kept in R/train.
    directory = train_dir if chief else os.path.join(train_dir, f".worker_{os.getpid()}")
    manager = tf.train.CheckpointManager(trainer.checkpoint, directory,
                                         max_to_keep=options.num_checkpoints or None)
    if chief:  # what a save cut short by kill -9 left (one trainer per run dir: train holds its lock)
        for leftover in tf.io.gfile.glob(os.path.join(train_dir, "ckpt-*_temp")):
            tf.io.gfile.rmtree(leftover)
    latest = runs.newest_checkpoint(train_dir)
    if latest:
        trainer.restore(latest)
        log(f"Resuming from checkpoint {latest} at step {trainer.step}.")
    else:
        log(f"Starting a new run in {run_dir}.")
        if options.warm_start:
            log(warm_start(trainer.model, options.warm_start[1], options.warm_start[0]))
    log(describe_devices(trainer.strategy, config.hparams.precision))
    notice = precision_notice(config.hparams.precision, bool(tf.config.list_logical_devices("GPU")), cpu_flags())
    if notice:
        log(notice)
    sequences = _class_sequences(files, config)
    batches = iter(trainer.distribute(sequences, training=True, seed=options.seed))
    writer = tf.summary.create_file_writer(train_dir) if chief else None
    last_save, last_saved_step = time.monotonic(), trainer.step
    totals, window_start, window_steps = None, time.monotonic(), 0
    remaining = max(0, options.num_training_steps - trainer.step) if options.num_training_steps else 0
    progress = Progress(remaining, "train", unit="step", interval=None)  # a bar on a terminal only
    try:
        while not options.num_training_steps or trainer.step < options.num_training_steps:
            sums = trainer.train_step(next(batches))
            if not math.isfinite(sums["loss_sum"]):
                where = f"resume from {manager.latest_checkpoint}" if manager.latest_checkpoint else "start again"
                raise SeqgenError(
                    f"training diverged at step {trainer.step}: the loss is {sums['loss_sum']}, and this step was "
                    f"not saved; {where} with a lower learning_rate than {config.hparams.learning_rate:g} "
                    f"(--hparams learning_rate=...)")
            progress.update()
            totals = sums if totals is None else {k: totals[k] + sums[k] for k in sums}
            window_steps += 1
            step = trainer.step
            if step % options.summary_frequency == 0:
                elapsed = time.monotonic() - window_start
                values = config.family.task.summarize(sums)
                if writer is not None:
                    _write_summaries(writer, values, step)
                log(f"Step {step}: {_format(values)} ({window_steps / elapsed:.3f} steps/sec, "
                    f"{totals['tokens'] / elapsed:.0f} tokens/sec)")
                totals, window_start, window_steps = None, time.monotonic(), 0
            due = (options.save_checkpoint_steps and step - last_saved_step >= options.save_checkpoint_steps) or (
                options.save_checkpoint_secs and time.monotonic() - last_save >= options.save_checkpoint_secs)
            if due:
                _save(manager, step, train_dir)
                last_save, last_saved_step = time.monotonic(), step
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (seqgen.errors.Terminated)
        log(f"{'Stopped by SIGTERM' if isinstance(stop, Terminated) else 'Interrupted'}; saving a checkpoint.")
        _save(manager, trainer.step, train_dir)
        raise
    finally:
        progress.close()
    if trainer.step != last_saved_step or not manager.latest_checkpoint:
        _save(manager, trainer.step, train_dir)
    if not chief:
        tf.io.gfile.rmtree(directory)
    log(f"Training done at step {trainer.step}; checkpoints in {train_dir}.")
    return trainer


def evaluate(config, run_dir, files, num_eval_examples=0, timeout_secs=300.0, poll_secs=2.0,
             log=print) -> int:
    """Evaluate each new checkpoint in ``R/train`` as it appears; summaries go to ``R/eval``.

    Stops after ``timeout_secs`` without a new checkpoint. Returns the number of checkpoints evaluated.
    """
    import tensorflow as tf

    train_dir, eval_dir = os.path.join(run_dir, "train"), os.path.join(run_dir, "eval")
    trainer = Trainer(config, strategy=tf.distribute.get_strategy())
    sequences = _class_sequences(files, config)
    if num_eval_examples:
        sequences = sequences.take(num_eval_examples)
    sequences = sequences.cache()
    batches = trainer.distribute(sequences, training=False)
    writer = tf.summary.create_file_writer(eval_dir)
    evaluated = 0
    for path in tf.train.checkpoints_iterator(train_dir, min_interval_secs=poll_secs, timeout=timeout_secs):
        trainer.checkpoint.restore(path).expect_partial()
        totals = trainer.evaluate(batches)
        if not totals["tokens"]:
            raise SeqgenError(f"the eval records {files} hold no track of two or more steps")
        values = config.family.task.summarize(totals)
        _write_summaries(writer, values, trainer.step)
        log(f"Eval of {os.path.basename(path)} at step {trainer.step} on {int(totals['tokens'])} labels: "
            f"{_format(values)}")
        evaluated += 1
    log(f"No new checkpoint in {train_dir} for {timeout_secs:g} seconds; eval stops.")
    return evaluated
