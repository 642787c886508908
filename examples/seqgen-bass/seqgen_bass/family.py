"""``bass_gru``: a model family the seqgen core has never seen, one GRU layer over learned embeddings.

It brings its own hparams and Keras network and nothing else: with no stepper of its own, seqgen
generates from it through the core's fallback, which runs the network over the whole prefix each step.
"""

import attrs

from seqgen.plugin import HParams, ModelFamily, architecture, positive


@attrs.frozen
class BassGRUHParams(HParams):
    embedding_size: int = architecture(default=16, validator=positive)
    gru_size: int = architecture(default=32, validator=positive)


class BassGRUFamily(ModelFamily):
    name = "bass_gru"
    hparams_class = BassGRUHParams

    def build(self, config):
        import keras
        import tensorflow as tf

        encoding, hparams = config.encoding, config.hparams

        class BassGRU(keras.Model):
            """Class indices [B, T] -> logits [B, T, C]: embedding + position features -> GRU -> dense."""

            def __init__(self):
                super().__init__()
                self.embedding = keras.layers.Embedding(encoding.num_classes, hparams.embedding_size)
                self.gru = keras.layers.GRU(hparams.gru_size, return_sequences=True)
                self.logits = keras.layers.Dense(encoding.num_classes)

            def call(self, classes, training=False):
                positions = tf.numpy_function(
                    lambda n: encoding.position_features(int(n)), [tf.shape(classes)[1]], tf.float32, stateful=False
                )
                # In the compute dtype, like the embedding's output (bfloat16 under mixed precision).
                positions = tf.cast(
                    tf.ensure_shape(positions, [None, encoding.num_position_features]), self.compute_dtype
                )
                shape = tf.concat([tf.shape(classes), [encoding.num_position_features]], 0)
                steps = tf.concat([self.embedding(classes), tf.broadcast_to(positions[None], shape)], -1)
                return self.logits(self.gru(steps, training=training))

            def variables_by_name(self):
                return {
                    "embedding": self.embedding.embeddings,
                    "gru/kernel": self.gru.cell.kernel,
                    "gru/recurrent_kernel": self.gru.cell.recurrent_kernel,
                    "gru/bias": self.gru.cell.bias,
                    "logits/kernel": self.logits.kernel,
                    "logits/bias": self.logits.bias,
                }

        network = BassGRU()
        network(tf.zeros([1, 1], tf.int32))
        return network

    def activation_values(self, hparams) -> int:
        return 4 * hparams.gru_size
