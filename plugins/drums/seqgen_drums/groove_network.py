"""The groove family's Keras network (TensorFlow backend): the math of :func:`seqgen_drums.groove_family.predict`.

``model(classes [B, T] int, -1 where padded) -> [B, T, 18]``: for each step the velocities (0-1) of the
nine drums, then their offsets (-0.5..0.5 steps).
"""

import keras
import numpy as np
import tensorflow as tf

from seqgen_drums.groove import NUM_DRUMS, STEPS_PER_BAR
from seqgen_drums.groove_family import DIRECTIONS, variable_shapes


def _initializer(name, shape):
    if name.endswith("bias"):
        return "zeros"
    if name.endswith("recurrent_kernel"):
        return keras.initializers.Orthogonal()
    return "glorot_uniform"


def step_features(classes, dtype):
    """[B, T, 9 + 16] of drum_kit classes [B, T]: each step's nine drum hits (none where padded, -1) and
    its position in the bar (one-hot)."""
    bits = tf.bitwise.right_shift(tf.maximum(classes, 0)[..., None], tf.range(NUM_DRUMS, dtype=classes.dtype))
    hits = tf.cast(tf.bitwise.bitwise_and(bits, 1), tf.float32)
    positions = tf.one_hot(tf.range(tf.shape(classes)[1]) % STEPS_PER_BAR, STEPS_PER_BAR)
    x = tf.concat([hits, tf.broadcast_to(positions, tf.concat([tf.shape(hits)[:1], tf.shape(positions)], 0))], -1)
    return tf.cast(x, dtype)


class GrooveNetwork(keras.Model):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.hparams = config.hparams
        self.names = list(variable_shapes(config.hparams))
        self.groove_variables = [
            self.add_weight(shape=shape, initializer=_initializer(name, shape), name=f"v{i}_" + name.split("/")[-1])
            for i, (name, shape) in enumerate(variable_shapes(config.hparams).items())]

    def variables_by_name(self) -> dict:
        return dict(zip(self.names, self.groove_variables))

    @staticmethod
    def _gru(inputs, lengths, mask, kernel, recurrent_kernel, input_bias, recurrent_bias, reverse):
        if reverse:
            inputs = tf.reverse_sequence(inputs, lengths, seq_axis=1, batch_axis=0)
        projected = tf.transpose(tf.einsum("btn,ng->btg", inputs, kernel) + input_bias, [1, 0, 2])
        size = recurrent_kernel.shape[0]

        def step(h, x):
            x_z, x_r, x_n = tf.split(x, 3, axis=1)
            h_z, h_r, h_n = tf.split(tf.matmul(h, recurrent_kernel) + recurrent_bias, 3, axis=1)
            z = tf.sigmoid(x_z + h_z)
            r = tf.sigmoid(x_r + h_r)
            n = tf.tanh(x_n + r * h_n)
            return z * h + (1.0 - z) * n

        states = tf.scan(step, projected, initializer=tf.zeros([tf.shape(inputs)[0], size], inputs.dtype))
        states = tf.transpose(states, [1, 0, 2])
        if reverse:
            states = tf.reverse_sequence(states, lengths, seq_axis=1, batch_axis=0)
        return states * mask[..., None]

    def call(self, classes, training=False):
        v = self.variables_by_name()
        classes = tf.convert_to_tensor(classes)
        # Under a mixed-precision policy Keras reads the variables in the compute dtype: so are the inputs.
        mask = tf.cast(classes >= 0, self.compute_dtype)
        lengths = tf.cast(tf.reduce_sum(mask, 1), tf.int64)
        x = step_features(classes, self.compute_dtype)
        keep = self.hparams.dropout_keep_prob if training else 1.0
        for k in range(len(self.hparams.rnn_layer_sizes)):
            x = tf.concat([self._gru(x, lengths, mask, *(v[f"bigru_{k}/{d}/{part}"] for part in (
                "kernel", "recurrent_kernel", "input_bias", "recurrent_bias")), reverse=d == "backward")
                for d in DIRECTIONS], -1)
            if keep < 1.0:
                x = tf.nn.dropout(x, rate=1.0 - keep)
        out = tf.einsum("bth,ho->bto", x, v["output/kernel"]) + v["output/bias"]
        out = tf.cast(out, tf.float32)
        return tf.concat([tf.sigmoid(out[..., :NUM_DRUMS]), 0.5 * tf.tanh(out[..., NUM_DRUMS:])], -1)


def build_model(config) -> GrooveNetwork:
    model = GrooveNetwork(config)
    model(tf.zeros([1, 1], tf.int32))
    return model


def random_weights(config, seed=0) -> dict:
    """Weights of a freshly initialized network (for tests)."""
    keras.utils.set_random_seed(seed)
    return {name: np.asarray(var.numpy(), np.float32) for name, var in build_model(config).variables_by_name().items()}
