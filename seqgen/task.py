"""Training tasks: what the shared training loop (:mod:`seqgen.training`) trains a family's network on.

A :class:`Task` owns the path from a track to a loss: the record a track becomes in ``create_dataset``,
the ``tf.data`` elements read back from record files, how they are padded into batches, and the loss
and metric sums of a batch. A model family names its task with ``ModelFamily.task``; the default,
:class:`NextEvent`, is the events families' task (predict the class of the next event, Magenta's
cross-entropy and metrics). A family that learns something else (the drums plugin's ``groove``
family regresses velocities and timing) brings its own task and keeps the shared loop: optimizer,
gradient clipping, micro batches, tf.distribute, checkpoints, summaries and resuming.

The batch contract: a batch is a tuple of tensors with leading dimensions [batch, time], the last of
which is the float mask [batch, time] of real (not padding) steps. The loop slices batches along both
dimensions (micro batches, each trimmed to its longest track), so every tensor must have both.
Nothing here imports TensorFlow until a method that needs it is called.
"""

import math

#: Tracks are grouped by length into buckets this many steps wide before batching.
BUCKET_WIDTH = 64


class Task:
    """How records become batches, and a batch a loss. Subclass it to train a network on other targets."""

    #: The keys of :meth:`batch_sums`; "loss_sum" (the summed loss) and "tokens" (the real steps) are required.
    sum_keys = ("loss_sum", "tokens")

    def encode(self, config, track) -> bytes:
        """The serialized record of one extracted track (``create_dataset``; no TensorFlow)."""
        from seqgen import records

        return records.encode_classes(config.encoding.events_to_classes(track))

    def dataset(self, config, files):
        """A ``tf.data.Dataset`` with one element per track of the record ``files``."""
        raise NotImplementedError

    def batches(self, config, dataset, batch_size: int, training: bool, seed=None):
        """Padded batches of ``dataset``: tuples of tensors [B, T, ...], the last the mask [B, T]. Training
        batches repeat forever, shuffled; eval batches cover the data once."""
        raise NotImplementedError

    def loss_count(self, batch):
        """What the summed loss is divided by (before summing over replicas): the real steps by default."""
        import tensorflow as tf

        return tf.reduce_sum(batch[-1])

    def batch_sums(self, config, network, batch, training: bool) -> dict:
        """Float32 scalar sums over one (slice of a) batch, one per key of :attr:`sum_keys`."""
        raise NotImplementedError

    def summarize(self, sums: dict) -> dict:
        """The values logged and written as summaries, from sums over batches (Python floats)."""
        return {"loss": sums["loss_sum"] / sums["tokens"] if sums["tokens"] else math.nan}


def padded_batches(sequences, batch_size: int, training: bool, seed=None):
    """(inputs, labels, mask) int32/int32/float32 [B, T] batches from a dataset of class sequences.

    Training batches repeat the data forever, shuffled, from length buckets; eval batches cover the
    data once (the last batch may be smaller, so a set smaller than one batch works).
    """
    import tensorflow as tf

    sequences = sequences.filter(lambda s: tf.size(s) >= 2)

    def split(batch):
        lengths = tf.reduce_sum(tf.cast(batch >= 0, tf.int32), axis=1) - 1
        inputs = tf.maximum(batch[:, :-1], 0)
        labels = tf.maximum(batch[:, 1:], 0)
        mask = tf.sequence_mask(lengths, tf.shape(inputs)[1], tf.float32)
        return inputs, labels, mask

    if not training:
        return sequences.padded_batch(batch_size, padding_values=-1).map(split)
    sequences = sequences.cache().shuffle(4096, seed=seed, reshuffle_each_iteration=True).repeat()
    boundaries = [BUCKET_WIDTH * (k + 1) + 1 for k in range(64)]
    batches = sequences.bucket_by_sequence_length(
        lambda s: tf.size(s), boundaries, [batch_size] * (len(boundaries) + 1), padding_values=-1, drop_remainder=True
    )
    return batches.map(split).prefetch(2)


class NextEvent(Task):
    """Predict the class of each next event (the events families): seqgen's and Magenta's records, the
    mean cross-entropy over the non-padding labels, and Magenta's metrics (see :mod:`seqgen.metrics`)."""

    sum_keys = ("loss_sum", "tokens", "correct", "event_correct", "events", "no_event_correct", "no_events")

    def dataset(self, config, files):
        from seqgen import records

        return records.class_dataset(files, config.encoding.num_classes)

    def batches(self, config, dataset, batch_size, training, seed=None):
        return padded_batches(dataset, batch_size, training, seed)

    def batch_sums(self, config, network, batch, training):
        from seqgen import metrics

        inputs, labels, mask = batch
        return metrics.batch_sums(network(inputs, training=training), labels, mask, config.encoding.no_event_class)

    def summarize(self, sums):
        from seqgen import metrics

        return metrics.summarize(sums)


NEXT_EVENT = NextEvent()


class PromptedNextEvent(NextEvent):
    """Next-event prediction on prompt streams (:mod:`seqgen.prompt`), for a family that takes controls
    and/or infills: each training track is read with its controls (each unset at random, so unset controls
    generate well), and as a fill-in-the-middle stream of a random gap of 1-4 bars at the family's
    ``infill_rate``. Eval batches are plain streams with every control unset, so their metrics compare
    with a plain model's. The network is called as ``network(tokens, steps=steps, training=...)``.

    Batches: (tokens, steps, labels, weights, mask) [B, T]; ``weights`` marks the scored labels and ``mask``
    the real (not padding) tokens. A family that reads its controls at every step (``control_every_step``)
    gets, before the mask, the control tokens each token reads [B, T, K] (``Prompt.step_controls``: per-bar
    controls measured on each bar), as ``network(..., controls=...)``."""

    def dataset(self, config, files):
        from seqgen import records

        return records.control_dataset(files, config.encoding.num_classes, [c.name for c in config.controls])

    def streams(self, config, training: bool, seed=None):
        """A NumPy function (classes, control floats) -> (tokens, steps, labels) building the streams."""
        import hashlib

        import numpy as np

        from seqgen.prompt import Prompt, random_gap

        prompt, hparams = Prompt.of(config), config.hparams
        rng = np.random.default_rng(seed)
        steps_per_bar = config.steps_per_quarter * 4
        every_step = self.every_step(config)
        per_bar = [index for index, control in enumerate(prompt.controls) if control.per_bar]
        kept = [(index, control) for index, control in enumerate(prompt.controls) if control.kept]
        decode = config.encoding.class_to_event

        measured = {}  # a track's per-bar values, measured once: each epoch reads them again

        def bar_values(classes):
            key = hashlib.blake2b(classes.tobytes(), digest_size=16).digest()
            if key not in measured:
                bars = [
                    [decode(int(c)) for c in classes[start : start + steps_per_bar]]
                    for start in range(0, len(classes), steps_per_bar)
                ]
                measured[key] = {index: [prompt.controls[index].measure(bar, {}) for bar in bars] for index in per_bar}
            return measured[key]

        def with_step_controls(stream, classes, controls):
            values = bar_values(classes) if per_bar else {}
            return (*stream, prompt.step_controls(controls, stream[1], values, steps_per_bar))

        def build(classes, numbers):
            numbers = np.array(numbers, np.float64)
            if not training:
                numbers[:] = np.nan
            elif prompt.controls:
                given = numbers.copy()
                if getattr(hparams, "uniform_control_sets", False):
                    count = len(prompt.controls)
                    numbers[rng.permutation(count)[rng.integers(count + 1) :]] = np.nan
                elif rng.random() < hparams.control_dropout:
                    numbers[:] = np.nan
                else:
                    numbers[rng.random(len(numbers)) < hparams.control_dropout] = np.nan
                for index, control in kept:  # values never dropped (Control.kept)
                    if control.from_record(given[index]) in control.kept:
                        numbers[index] = given[index]
            controls = prompt.record_tokens(numbers[: len(prompt.controls)])
            gap = random_gap(len(classes), steps_per_bar, rng) if training and prompt.infill else None
            if gap is not None and rng.random() < hparams.infill_rate:
                stream = prompt.fill_in_middle(classes, *gap, controls)
            else:
                stream = prompt.plain(classes, controls)
            return with_step_controls(stream, classes, controls) if every_step else stream

        return build

    def every_step(self, config) -> bool:
        """Whether batches carry the control tokens read at every step."""
        return bool(getattr(config.hparams, "control_every_step", False) and config.family.takes_controls(config))

    def batches(self, config, dataset, batch_size, training, seed=None):
        import tensorflow as tf

        build = self.streams(config, training, seed)
        dataset = dataset.filter(lambda classes, numbers: tf.size(classes) >= 2)

        every_step, num_controls = self.every_step(config), len(config.controls)
        outputs = 4 if every_step else 3

        def to_stream(classes, numbers):
            stream = tf.numpy_function(build, [classes, numbers], [tf.int64] * outputs, stateful=True)
            shapes = ([-1], [-1], [-1], [-1, num_controls])
            return tuple(tf.reshape(tf.cast(x, tf.int32), shape) for x, shape in zip(stream, shapes))

        def to_batch(tokens, steps, labels, *controls):
            mask = tf.cast(tokens >= 0, tf.float32)
            weights = tf.cast(labels >= 0, tf.float32)
            return (tf.maximum(tokens, 0), tf.maximum(steps, 0), tf.maximum(labels, 0), weights, *controls, mask)

        padding = (-1,) * outputs
        if not training:
            return dataset.map(to_stream).padded_batch(batch_size, padding_values=padding).map(to_batch)
        dataset = dataset.cache().shuffle(4096, seed=seed, reshuffle_each_iteration=True).repeat().map(to_stream)
        boundaries = [BUCKET_WIDTH * (k + 1) + 1 for k in range(64)]
        batches = dataset.bucket_by_sequence_length(
            lambda tokens, *rest: tf.size(tokens),
            boundaries,
            [batch_size] * (len(boundaries) + 1),
            padding_values=padding,
            drop_remainder=True,
        )
        return batches.map(to_batch).prefetch(2)

    def loss_count(self, batch):
        import tensorflow as tf

        return tf.reduce_sum(batch[3])

    def batch_sums(self, config, network, batch, training):
        from seqgen import metrics

        tokens, steps, labels, weights = batch[:4]
        controls = batch[4] if len(batch) == 6 else None
        return metrics.batch_sums(
            network(tokens, steps=steps, controls=controls, training=training),
            labels,
            weights,
            config.encoding.no_event_class,
        )


PROMPTED_NEXT_EVENT = PromptedNextEvent()
