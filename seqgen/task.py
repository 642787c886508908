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
        lambda s: tf.size(s), boundaries, [batch_size] * (len(boundaries) + 1), padding_values=-1,
        drop_remainder=True)
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
        return metrics.batch_sums(network(inputs, training=training), labels, mask,
                                  config.encoding.no_event_class)

    def summarize(self, sums):
        from seqgen import metrics

        return metrics.summarize(sums)


NEXT_EVENT = NextEvent()
