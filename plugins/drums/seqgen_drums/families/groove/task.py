"""What the shared training loop trains the groove and drumify families on (:class:`seqgen.task.Task`).

Both read the groove records of ``create_dataset --config groove`` (or ``drumify``, the same records):
the drum_kit class of each step and ``values`` [T, 18] (velocities 0-1 of the nine drums, then their
offsets in steps), with the tempo as context ``qpm``. Batches are ``(classes [B, T], -1 where padded;
targets [B, T, 18]; mask [B, T])``; training cuts tracks into windows of the hparam ``train_window``
steps (every half window, whole bars apart).

- :class:`GrooveTask`: the score (hits) in, the velocity and offset of every hit out. Models with bins:
  the cross-entropy of the velocity's bin plus the offset's bin, per hit; models without: the squared
  velocity error plus the squared offset error (offsets doubled, to -1..1, as GrooVAE's tanh).
- :class:`DrumifyTask`: each performance collapsed to its rhythm (GrooVAE's Tap2Drum: a tap at every
  step with a hit, the loudest hit's velocity and offset) in, the performance out: the binary
  cross-entropy of each drum sounding at each tap, plus the groove loss of the hits.

The metrics are the mean absolute errors of the predicted means (velocity in MIDI units, offsets in
steps), and for Drumify the F1 of its likely hits against the performance's.
"""

import math

import numpy as np

from seqgen.task import Task

from seqgen_drums.events.groove import NUM_DRUMS, STEPS_PER_BAR, VALUE_WIDTH
from seqgen_drums.families.groove.heads import OFFSET_RANGE, VELOCITY_RANGE, binned, layout


def _hits(classes):
    """Float hits [B, T, 9] of drum_kit classes [B, T]; padding (-1) hits nothing."""
    import tensorflow as tf

    bits = tf.bitwise.right_shift(tf.maximum(classes, 0)[..., None], tf.range(NUM_DRUMS, dtype=classes.dtype))
    return tf.cast(tf.bitwise.bitwise_and(bits, 1), tf.float32)


def _with_positions(features):
    import tensorflow as tf

    positions = tf.one_hot(tf.range(tf.shape(features)[1]) % STEPS_PER_BAR, STEPS_PER_BAR)
    batch = tf.shape(features)[:1]
    return tf.concat([features, tf.broadcast_to(positions, tf.concat([batch, tf.shape(positions)], 0))], -1)


def collapse(hits, velocities, offsets):
    """The rhythm [B, T, 3] of performances (TensorFlow): per step a tap where any drum sounds, the loudest
    hit's velocity and its offset doubled (as :func:`seqgen_drums.events.rhythm.collapse`)."""
    import tensorflow as tf

    loudness = velocities * hits
    tap = tf.reduce_max(hits, -1)
    loudest = tf.argmax(loudness + hits, -1)  # a hit at velocity 0 still beats no hit
    offset = tf.gather(offsets, loudest, batch_dims=2)
    return tf.stack([tap, tf.reduce_max(loudness, -1), 2.0 * offset * tap], -1)


def _parts(out, hparams, with_hits):
    import tensorflow as tf

    batch_time = tf.shape(out)[:2]
    return {
        name: tf.reshape(out[..., start:stop], tf.concat([batch_time, shape], 0))
        for name, start, stop, shape in layout(hparams, with_hits)
    }


def _bin_centers(bins, value_range):
    low, high = value_range
    return (low + (np.arange(bins) + 0.5) * (high - low) / bins).astype(np.float32)


def _groove_sums(hparams, parts, targets, hits) -> dict:
    """The loss and absolute-error sums of the velocities and offsets of ``hits``."""
    import tensorflow as tf

    velocity, offset = targets[..., :NUM_DRUMS], targets[..., NUM_DRUMS:]
    if not binned(hparams):
        velocity_error = (tf.sigmoid(parts["velocity"]) - velocity) * hits
        offset_error = (0.5 * tf.tanh(parts["offset"]) - offset) * hits
        loss = tf.reduce_sum(tf.square(velocity_error)) + 4.0 * tf.reduce_sum(tf.square(offset_error))
        return {
            "loss_sum": loss,
            "velocity_abs_sum": tf.reduce_sum(tf.abs(velocity_error)),
            "offset_abs_sum": tf.reduce_sum(tf.abs(offset_error)),
        }
    sums = {"loss_sum": 0.0}
    for name, target, bins, value_range in (
        ("velocity", velocity, hparams.velocity_bins, VELOCITY_RANGE),
        ("offset", offset, hparams.offset_bins, OFFSET_RANGE),
    ):
        low, high = value_range
        labels = tf.cast(tf.clip_by_value(tf.floor((target - low) / (high - low) * bins), 0, bins - 1), tf.int32)
        logits = parts[name]
        cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        sums["loss_sum"] += tf.reduce_sum(cross_entropy * hits)
        mean = tf.reduce_sum(tf.nn.softmax(logits) * _bin_centers(bins, value_range), -1)
        sums[f"{name}_abs_sum"] = tf.reduce_sum(tf.abs(mean - target) * hits)
    return sums


class GrooveTask(Task):
    """Learn the velocity and offset of every hit from the score (the hits) of a track."""

    sum_keys = ("loss_sum", "tokens", "hits", "velocity_abs_sum", "offset_abs_sum")

    def encode(self, config, track):
        from seqgen import records
        from seqgen_drums.events.groove import groove_arrays

        _, velocities, offsets = groove_arrays(track, config.encoding)
        values = np.concatenate([velocities, offsets], axis=1)
        return records.encode_example(
            config.encoding.events_to_classes(track), values, {"qpm": getattr(track, "qpm", 120.0)}
        )

    def dataset(self, config, files):
        from seqgen import records

        return records.values_dataset(files, config.encoding.num_classes, VALUE_WIDTH, ("qpm",))

    def batches(self, config, dataset, batch_size, training, seed=None):
        import tensorflow as tf

        def pair(classes, values, context):
            return classes, values

        def with_mask(classes, values):
            return classes, values, tf.cast(classes >= 0, tf.float32)

        dataset = dataset.map(pair)
        shapes = ([None], [None, VALUE_WIDTH])
        if not training:
            return dataset.padded_batch(batch_size, shapes, (-1, 0.0)).map(with_mask)
        window = config.hparams.train_window
        hop = max(STEPS_PER_BAR, window // 2 // STEPS_PER_BAR * STEPS_PER_BAR)

        def windows(classes, values):
            length = tf.shape(classes)[0]
            # The last window reaches the track's end (padded when shorter); a short track is one window.
            starts = tf.range(0, tf.maximum(length - window, 0) + hop, hop)
            return tf.data.Dataset.from_tensor_slices(starts).map(
                lambda s: (classes[s : s + window], values[s : s + window])
            )

        dataset = dataset.cache().flat_map(windows).shuffle(8192, seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.repeat().padded_batch(
            batch_size, ([window], [window, VALUE_WIDTH]), (-1, 0.0), drop_remainder=True
        )
        return dataset.map(with_mask).prefetch(2)

    def loss_count(self, batch):
        import tensorflow as tf

        return tf.reduce_sum(_hits(batch[0]))

    def batch_sums(self, config, network, batch, training):
        import tensorflow as tf

        classes, targets, mask = batch
        hits = _hits(classes)
        out = network((_with_positions(hits), mask), training=training)
        sums = _groove_sums(config.hparams, _parts(out, config.hparams, False), targets, hits)
        return dict(sums, tokens=tf.reduce_sum(mask), hits=tf.reduce_sum(hits))

    def summarize(self, sums):
        hits = sums["hits"]

        def ratio(value):
            return value / hits if hits else math.nan

        return {
            "loss": ratio(sums["loss_sum"]),
            "metrics/velocity_mae": 127.0 * ratio(sums["velocity_abs_sum"]),
            "metrics/offset_mae": ratio(sums["offset_abs_sum"]),
        }


class DrumifyTask(GrooveTask):
    """Learn a performance from its rhythm (the performance collapsed to one voice)."""

    sum_keys = GrooveTask.sum_keys + ("hit_loss_sum", "true_hits", "likely_hits")

    def batch_sums(self, config, network, batch, training):
        import tensorflow as tf

        classes, targets, mask = batch
        hits = _hits(classes)
        rhythm = collapse(hits, targets[..., :NUM_DRUMS], targets[..., NUM_DRUMS:])
        out = network((_with_positions(rhythm), mask), training=training)
        parts = _parts(out, config.hparams, True)
        sums = _groove_sums(config.hparams, parts, targets, hits)
        taps = rhythm[..., :1]  # drums sound only at taps: the other steps are not trained on
        hit_loss = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=hits, logits=parts["hit"]) * taps)
        likely = tf.cast(parts["hit"] > 0, tf.float32) * taps
        return dict(
            sums,
            loss_sum=sums["loss_sum"] + hit_loss,
            hit_loss_sum=hit_loss,
            tokens=tf.reduce_sum(mask),
            hits=tf.reduce_sum(hits),
            true_hits=tf.reduce_sum(likely * hits),
            likely_hits=tf.reduce_sum(likely),
        )

    def summarize(self, sums):
        found = super().summarize(sums)
        hits = sums["hits"]
        found["metrics/hit_loss"] = sums["hit_loss_sum"] / hits if hits else math.nan
        both = hits + sums["likely_hits"]
        found["metrics/hit_f1"] = 2.0 * sums["true_hits"] / both if both else math.nan
        return found


GROOVE_TASK = GrooveTask()
DRUMIFY_TASK = DrumifyTask()
