"""The style_classifier family's Keras network (TensorFlow backend): the math of
:func:`seqgen_drums.families.style.inference.logits`.

``model(classes [B, T] int, -1 where padded) -> [B, styles]`` logits.
"""

import keras
import tensorflow as tf

from seqgen_drums.events.groove import NUM_DRUMS, STEPS_PER_BAR
from seqgen_drums.families.style.inference import variable_shapes


def step_features(classes, dtype):
    """[B, T, 9 + 16] of drum_kit classes [B, T]: each step's nine drum hits (none where padded, -1) and
    its position in the bar (one-hot)."""
    bits = tf.bitwise.right_shift(tf.maximum(classes, 0)[..., None], tf.range(NUM_DRUMS, dtype=classes.dtype))
    hits = tf.cast(tf.bitwise.bitwise_and(bits, 1), tf.float32)
    positions = tf.one_hot(tf.range(tf.shape(classes)[1]) % STEPS_PER_BAR, STEPS_PER_BAR)
    x = tf.concat([hits, tf.broadcast_to(positions, tf.concat([tf.shape(hits)[:1], tf.shape(positions)], 0))], -1)
    return tf.cast(x, dtype)


class StyleNetwork(keras.Model):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.hparams = config.hparams
        self.names = list(variable_shapes(config.hparams))
        self.style_variables = [
            self.add_weight(
                shape=shape,
                initializer="zeros" if name.endswith("bias") else "glorot_uniform",
                name=f"v{i}_" + name.replace("/", "_"),
            )
            for i, (name, shape) in enumerate(variable_shapes(config.hparams).items())
        ]

    def variables_by_name(self) -> dict:
        return dict(zip(self.names, self.style_variables))

    @staticmethod
    def _causal_conv(x, kernel, bias, dilation):
        size = kernel.shape[0]
        padded = tf.pad(x, [[0, 0], [(size - 1) * dilation, 0], [0, 0]])
        steps = tf.shape(x)[1]
        out = bias
        for j in range(size):
            out = out + tf.einsum("btn,nf->btf", padded[:, j * dilation : j * dilation + steps], kernel[j])
        return out

    def call(self, classes, training=False):
        v = self.variables_by_name()
        classes = tf.convert_to_tensor(classes)
        mask = tf.cast(classes >= 0, self.compute_dtype)[..., None]
        x = step_features(classes, self.compute_dtype)
        for k in range(len(self.hparams.filters)):
            x = tf.nn.relu(
                self._causal_conv(x, v[f"conv_{k}/kernel"], v[f"conv_{k}/bias"], self.hparams.kernel_size**k)
            )
        pooled = tf.reduce_sum(x * mask, 1) / tf.maximum(tf.reduce_sum(mask, 1), 1.0)
        keep = self.hparams.dropout_keep_prob if training else 1.0
        if keep < 1.0:
            pooled = tf.nn.dropout(pooled, rate=1.0 - keep)
        return tf.cast(tf.matmul(pooled, v["output/kernel"]) + v["output/bias"], tf.float32)


def build_model(config) -> StyleNetwork:
    model = StyleNetwork(config)
    model(tf.zeros([1, 1], tf.int32))
    return model
