"""One run's model, optimizer and step functions under one ``tf.distribute`` strategy.

Keras 3's ``model.fit`` fails under MultiWorkerMirroredStrategy (keras-team/keras#20585), so the step is
written out: Adam at ``learning_rate``, gradients clipped by global norm ``clip_norm``. What is learned comes
from the family's task (:mod:`seqgen.task`): the batches and the loss, by default the mean cross-entropy over
the non-padding labels of the global batch. A replica's batch is summed in micro batches (slices of tracks)
so its activations stay within :data:`MICRO_BATCH_VALUES`.
"""

import re

from seqgen.errors import SeqgenError
from seqgen.training.checkpoints import checkpoint_of
from seqgen.training.devices import choose_strategy, dtype_policy, has_gpu, resolve_precision

#: Automatic micro batches keep tracks x steps x the family's ``activation_values`` at or below this many
#: values: drum_kit's defaults in float32 (128 tracks x 511 steps x 3 x 256) go in three slices of 43 tracks,
#: about 2.2 GB peak (two slices of 64 peaked at 2.8-2.9 GB, too close to 3 GB); in mixed_bfloat16 in one
#: slice, 2.75-2.9 GB (see docs/benchmarks.md).
MICRO_BATCH_VALUES = 20_000_000

#: The same on a GPU, where slices waste its width: drum_kit's defaults go in one slice, 4.3x faster than in
#: three on an H100, at 3.5 GB of GPU memory (docs/benchmarks.md, "The GPU path"); about 6 GB at most.
GPU_MICRO_BATCH_VALUES = 80_000_000


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
        lines = [
            line.strip()
            for line in re.sub(r"\x1b\[[0-9;]*m", "", str(error)).splitlines()
            if line.strip() and not line.startswith("Exception encountered")
        ]
        reason = lines[0][:200] if lines else type(error).__name__
        raise SeqgenError(
            f"the {config.family.name} model family cannot build its network in {precision} "
            f"({reason}); train it in float32 (--hparams precision=float32)"
        ) from None


class Trainer:
    """The model, optimizer, checkpoint and step functions of one run under one strategy."""

    def __init__(self, config, strategy=None, seed=None, micro_batch_size=0, learning_rate=None):
        import attrs
        import keras

        # precision=auto becomes this device's precision; the config says which from here on.
        config = attrs.evolve(
            config, hparams=attrs.evolve(config.hparams, precision=resolve_precision(config.hparams.precision))
        )
        self.config = config
        self.micro_batch_size = micro_batch_size
        self.strategy = strategy or choose_strategy()
        self.micro_batch_values = GPU_MICRO_BATCH_VALUES if has_gpu() else MICRO_BATCH_VALUES
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
                    length = tf.cast(tf.reduce_max(tf.reduce_sum(mask[start : start + size], 1)), tf.int32)
                    part = tuple(x[start : start + size, :length] for x in batch)
                    with tf.GradientTape() as tape:
                        sums = task.batch_sums(config, model, part, training=True)
                        loss = sums["loss_sum"] / tokens * scale
                    part_grads = tape.gradient(loss, variables)
                    return (
                        index + 1,
                        [a + b for a, b in zip(grads, part_grads)],
                        {k: total[k] + sums[k] for k in total},
                    )

                zero_grads = [tf.zeros_like(v) for v in variables]
                zero_sums = {k: tf.constant(0.0) for k in task.sum_keys}
                _, grads, sums = tf.while_loop(
                    lambda index, *_: index * size < tf.shape(mask)[0],
                    slice_step,
                    (tf.constant(0), zero_grads, zero_sums),
                    parallel_iterations=1,
                )
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
