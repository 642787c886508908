"""The ``style_classifier`` model family: which of the Groove MIDI Dataset's styles a drum track is played in.

It is the judge of the style control (docs/models.md, "Controls: do they steer?"): trained on real Groove
windows, it tells how often a track generated with ``style=funk`` sounds like funk. It does not generate.

Input per step: the nine drum hits (drum_kit's classes) and the step's position in the bar (one-hot of 16),
as the groove family reads them. A stack of causal dilated convolutions (ReLU; layer k has dilation
``kernel_size ** k``, so three layers of width 4 see 64 steps, four bars) reads them; their outputs are
averaged over the track's steps and a dense layer gives the logits of the styles. Causal convolutions make
a step's output independent of the padding after a track, so a track is classified the same alone or in a
batch.

The task (:class:`StyleTask`) reads records that carry the style as the control value ``control/style``
(``seqgen create_dataset`` with a config declaring the style control, such as this family's ``drum_style``
or ``drum_kit_transformer``, from NoteSequences converted with ``--metadata_csv``); tracks without a style
are left out. Tracks are cut into windows of the hparam ``window`` steps (training: every half window;
evaluation: one after another; a track's remainder shorter than a window is left out).

A loaded model offers ``model.classify_style(track)`` (the style's name) and
``model.style_probabilities(tracks)`` (float [N, styles]), in NumPy without TensorFlow
(:mod:`.inference`, the NumPy leaf, which the Keras network, :mod:`.network`, imports). Importing this module
imports neither TensorFlow nor the network.
"""

import math

import attrs
import numpy as np

from seqgen.errors import SeqgenError
from seqgen.family import ModelFamily
from seqgen.hparams import HParams, architecture, non_negative, positive, positive_sizes, probability
from seqgen.task import Task

from seqgen_drums.events.controls import DRUM_CONTROLS, STYLES
from seqgen_drums.events.groove import STEPS_PER_BAR
from seqgen_drums.families.style.inference import NUM_INPUTS, classify_style, style_probabilities, variable_shapes

#: The style control (the label the classifier learns) of the drum configs.
STYLE_CONTROL = next(control for control in DRUM_CONTROLS if control.name == "style")


@attrs.frozen
class StyleClassifierHParams(HParams):
    """Hyperparameters of the style_classifier family."""

    batch_size: int = attrs.field(default=64, validator=positive)
    learning_rate: float = attrs.field(default=0.003, converter=float, validator=positive)
    #: Filters of each convolution layer.
    filters: tuple = architecture(default=(64, 64, 64), converter=tuple, validator=positive_sizes)
    #: Steps each convolution reads (layer k reads every ``kernel_size ** k``-th step).
    kernel_size: int = architecture(default=4, validator=positive)
    dropout_keep_prob: float = attrs.field(default=0.8, converter=float, validator=probability)
    #: Window length in steps that tracks are cut into for training and evaluation (64: four bars of 4/4).
    window: int = attrs.field(default=64, validator=positive)
    #: Training weighs each window by (its style's share of the windows) ** -class_balance: 0 weighs all
    #: alike, 1 makes every style weigh the same in total.
    class_balance: float = attrs.field(default=0.5, converter=float, validator=non_negative)


class StyleTask(Task):
    """Learn a track's style from its windows: records with the style as ``control/style``; batches
    ``(classes [B, W], -1 where padded; style [B, W], the window's style at every step; weight [B, W], the
    window's training weight at every step; mask [B, W])``; the loss is the weighted mean cross-entropy
    over windows, the metric the share of windows classified right (unweighted)."""

    sum_keys = ("loss_sum", "tokens", "weight_sum", "correct")

    def dataset(self, config, files):
        import tensorflow as tf

        from seqgen import records

        labelled = records.control_dataset(files, config.encoding.num_classes, [STYLE_CONTROL.name])
        labelled = labelled.filter(lambda classes, values: tf.math.is_finite(values[0]))
        return labelled.map(lambda classes, values: (classes, tf.cast(values[0], tf.int32)))

    def _windows(self, window: int, hop: int):
        import tensorflow as tf

        def windows(classes, style):
            starts = tf.range(0, tf.shape(classes)[0] - window + 1, hop)
            return tf.data.Dataset.from_tensor_slices(starts).map(lambda s: (classes[s : s + window], style))

        return windows

    def _weights(self, dataset, window, hop, balance):
        """Float [styles]: each style's training weight, (its share of the training windows) ** -balance."""
        import tensorflow as tf

        counts = dataset.flat_map(self._windows(window, hop)).reduce(
            tf.zeros([len(STYLES)], tf.float32), lambda total, item: total + tf.one_hot(item[1], len(STYLES))
        )
        counts = counts.numpy()
        if not counts.sum():
            raise SeqgenError(
                f"the training records hold no track of {window} steps or more with a style; make "
                f"them with `seqgen create_dataset` from NoteSequences converted with --metadata_csv"
            )
        shares = counts / counts.sum()
        return np.where(counts > 0, np.maximum(shares, 1e-12) ** -balance, 0.0).astype(np.float32)

    def batches(self, config, dataset, batch_size, training, seed=None):
        import tensorflow as tf

        window = config.hparams.window
        hop = max(STEPS_PER_BAR, window // 2 // STEPS_PER_BAR * STEPS_PER_BAR) if training else window
        weights = self._weights(dataset, window, hop, config.hparams.class_balance) if training else None

        def to_batch(classes, style):
            steps = tf.shape(classes)[1]
            weight = tf.gather(weights, style) if training else tf.ones_like(style, tf.float32)
            return (
                classes,
                tf.tile(style[:, None], [1, steps]),
                tf.tile(weight[:, None], [1, steps]),
                tf.cast(classes >= 0, tf.float32),
            )

        if not training:
            return dataset.flat_map(self._windows(window, hop)).batch(batch_size).map(to_batch)
        dataset = dataset.cache().flat_map(self._windows(window, hop))
        dataset = dataset.shuffle(8192, seed=seed, reshuffle_each_iteration=True).repeat()
        return dataset.batch(batch_size, drop_remainder=True).map(to_batch).prefetch(2)

    def loss_count(self, batch):
        import tensorflow as tf

        return tf.reduce_sum(batch[2][:, 0])

    def batch_sums(self, config, network, batch, training):
        import tensorflow as tf

        classes, style, weight, _ = batch
        labels, weights = style[:, 0], weight[:, 0]
        scores = network(classes, training=training)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=scores)
        right = tf.cast(tf.equal(tf.argmax(scores, axis=-1, output_type=labels.dtype), labels), tf.float32)
        return {
            "loss_sum": tf.reduce_sum(weights * losses),
            "tokens": tf.cast(tf.size(labels), tf.float32),
            "weight_sum": tf.reduce_sum(weights),
            "correct": tf.reduce_sum(right),
        }

    def summarize(self, sums):
        def ratio(value, count):
            return value / count if count else math.nan

        return {
            "loss": ratio(sums["loss_sum"], sums["weight_sum"]),
            "metrics/accuracy": ratio(sums["correct"], sums["tokens"]),
        }


STYLE_TASK = StyleTask()


class StyleClassifierFamily(ModelFamily):
    name = "style_classifier"
    hparams_class = StyleClassifierHParams
    task = STYLE_TASK
    generative = False

    def build(self, config):
        from seqgen_drums.families.style import network

        return network.build_model(config)

    def variable_shapes(self, config):
        return variable_shapes(config.hparams)

    def operations(self):
        return {"classify_style": classify_style, "style_probabilities": style_probabilities}

    def activation_values(self, hparams) -> int:
        return NUM_INPUTS + 2 * sum(hparams.filters)
