"""The groove and drumify families' Keras network (TensorFlow backend): the math of
:func:`seqgen_drums.families.groove.inference.forward`.

``model((features [B, T, num_inputs] float, mask [B, T] float), training) -> [B, T, width]``: the raw
outputs per step that :mod:`.heads` names (logits, or a mean model's pre-activation means). The task
builds the features (:mod:`.task`).
"""

import keras
import numpy as np
import tensorflow as tf

from seqgen_drums.families.groove.inference import DIRECTIONS, variable_shapes


def _initializer(name, shape):
    if name.endswith("bias"):
        return "zeros"
    if name.endswith("recurrent_kernel"):
        return keras.initializers.Orthogonal()
    return "glorot_uniform"


class GrooveNetwork(keras.Model):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.hparams = config.hparams
        shapes = variable_shapes(config.family, config.hparams)
        self.names = list(shapes)
        self.groove_variables = [
            self.add_weight(shape=shape, initializer=_initializer(name, shape), name=f"v{i}_" + name.split("/")[-1])
            for i, (name, shape) in enumerate(shapes.items())
        ]

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

    def call(self, inputs, training=False):
        features, mask = inputs
        v = self.variables_by_name()
        # Under a mixed-precision policy Keras reads the variables in the compute dtype: so are the inputs.
        mask = tf.cast(mask, self.compute_dtype)
        lengths = tf.cast(tf.reduce_sum(mask, 1), tf.int64)
        x = tf.cast(features, self.compute_dtype)
        keep = self.hparams.dropout_keep_prob if training else 1.0
        for k in range(len(self.hparams.rnn_layer_sizes)):
            x = tf.concat(
                [
                    self._gru(
                        x,
                        lengths,
                        mask,
                        *(
                            v[f"bigru_{k}/{d}/{part}"]
                            for part in ("kernel", "recurrent_kernel", "input_bias", "recurrent_bias")
                        ),
                        reverse=d == "backward",
                    )
                    for d in DIRECTIONS
                ],
                -1,
            )
            if keep < 1.0:
                x = tf.nn.dropout(x, rate=1.0 - keep)
        out = tf.einsum("bth,ho->bto", x, v["output/kernel"]) + v["output/bias"]
        return tf.cast(out, tf.float32)


def build_model(config) -> GrooveNetwork:
    model = GrooveNetwork(config)
    model((tf.zeros([1, 1, config.family.num_inputs]), tf.ones([1, 1])))
    return model


def random_weights(config, seed=0) -> dict:
    """Weights of a freshly initialized network (for tests)."""
    keras.utils.set_random_seed(seed)
    return {name: np.asarray(var.numpy(), np.float32) for name, var in build_model(config).variables_by_name().items()}
