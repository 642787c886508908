"""Magenta's events RNN as a Keras 3 model (TensorFlow backend), with Magenta's variable names.

The math follows Magenta exactly (see ``../shared/reference/magenta/README.md``): TF1 BasicLSTMCell
layers (gates i, j, f, o; forget bias 1.0 added at run time), Magenta's attention wrapper on layer 0
when ``attn_length > 0``, dropout on each layer's output while training, optional residual
connections (an input projection where the size changes) and a dense layer to the logits.

For speed the network runs layer by layer: everything that does not depend on the recurrent state
(the one-hot input, which is a row gather, the position features and the input half of each LSTM
kernel) is computed for all time steps in one batched matmul, and only ``h @ W_h`` (plus the
attention) stays inside the time loop. The products of weight matrices are taken once per call, so
the result equals Magenta's up to float rounding.
"""

import keras
import numpy as np
import tensorflow as tf

from seqgen.model import Model

FORGET_BIAS = 1.0
_CELLS = "rnn/multi_rnn_cell"


def variable_shapes(config) -> dict:
    """Magenta's variable names and shapes for ``config``'s encoding and hparams, in creation order."""
    hparams = config.hparams
    input_size = config.encoding.input_size
    shapes = {}
    previous = input_size
    for k, size in enumerate(hparams.rnn_layer_sizes):
        scope = f"{_CELLS}/cell_{k}"
        layer_input = previous
        if hparams.residual_connections and (k == 0 or size != previous):
            shapes[f"{scope}/input_projection_wrapper/kernel"] = (previous, size)
            shapes[f"{scope}/input_projection_wrapper/bias"] = (size,)
            scope += "/input_projection_wrapper"
            layer_input = size
        if k == 0 and hparams.attn_length:
            scope += "/attention_cell_wrapper"
            shapes[f"{scope}/kernel"] = (layer_input + size, layer_input)
            shapes[f"{scope}/bias"] = (layer_input,)
        shapes[f"{scope}/basic_lstm_cell/kernel"] = (layer_input + size, 4 * size)
        shapes[f"{scope}/basic_lstm_cell/bias"] = (4 * size,)
        if k == 0 and hparams.attn_length:
            shapes[f"{scope}/attention/attn_w"] = (1, 1, size, size)
            shapes[f"{scope}/attention/attn_v"] = (size,)
            shapes[f"{scope}/attention/kernel"] = (2 * size, size)
            shapes[f"{scope}/attention/bias"] = (size,)
            shapes[f"{scope}/attn_output_projection/kernel"] = (2 * size, size)
            shapes[f"{scope}/attn_output_projection/bias"] = (size,)
        previous = size
    shapes["fully_connected/weights"] = (previous, config.encoding.num_classes)
    shapes["fully_connected/biases"] = (config.encoding.num_classes,)
    return shapes


def _initializer(name, shape):
    if name.endswith(("bias", "biases")):
        return "zeros"
    if name.endswith("attn_w"):
        # Glorot over the 1x1 convolution's fan-in and fan-out.
        limit = np.sqrt(6.0 / (2 * shape[-1]))
        return keras.initializers.RandomUniform(-limit, limit)
    if name.endswith("attn_v"):
        limit = np.sqrt(3.0 / shape[0])
        return keras.initializers.RandomUniform(-limit, limit)
    return "glorot_uniform"


def _lstm_gates(z, c):
    """TF1 BasicLSTMCell's state update from the pre-activations ``z`` (gates i, j, f, o)."""
    i, j, f, o = tf.split(z, 4, axis=-1)
    c = c * tf.sigmoid(f + FORGET_BIAS) + tf.sigmoid(i) * tf.tanh(j)
    return c, tf.tanh(c) * tf.sigmoid(o)


def _time_major(x):
    return tf.transpose(x, [1, 0, 2])


def _run_lstm(pre, w_h):
    """A plain LSTM layer over time-major pre-activations ``pre`` [T, B, 4H]; returns h [T, B, H]."""
    size = w_h.shape[0]
    batch = tf.shape(pre)[1]
    zeros = tf.zeros([batch, size], pre.dtype)

    def step(state, z_x):
        c, h = state
        return _lstm_gates(z_x + tf.matmul(h, w_h), c)

    _, outputs = tf.scan(step, pre, initializer=(zeros, zeros))
    return outputs


def _run_attention_lstm(pre, w_rec, att, length):
    """Layer 0 with Magenta's attention wrapper over time-major pre-activations [T, B, 4H].

    ``w_rec`` maps ``[h, attns]`` to LSTM pre-activations (the wrapper kernel folded into the LSTM
    kernel). Each slot's ``hidden @ attn_w`` is computed once, when the slot enters the window.
    Returns the layer's outputs [T, B, H].
    """
    size = att["attn_v"].shape[0]
    batch = tf.shape(pre)[1]
    zeros = tf.zeros([batch, size], pre.dtype)
    window = tf.zeros([batch, length, size], pre.dtype)
    attn_w = tf.reshape(att["attn_w"], [size, size])

    def step(state, z_x):
        c, h, attns, hidden, features, _ = state
        c, h = _lstm_gates(z_x + tf.matmul(tf.concat([h, attns], 1), w_rec), c)
        y = tf.matmul(tf.concat([c, h], 1), att["kernel"]) + att["bias"]
        scores = tf.reduce_sum(att["attn_v"] * tf.tanh(features + y[:, None, :]), axis=2)
        weights = tf.nn.softmax(scores)
        attns = tf.einsum("bl,blh->bh", weights, hidden)
        out = tf.matmul(tf.concat([h, attns], 1), att["out_kernel"]) + att["out_bias"]
        hidden = tf.concat([hidden[:, 1:], out[:, None, :]], axis=1)
        features = tf.concat([features[:, 1:], tf.matmul(out, attn_w)[:, None, :]], axis=1)
        return c, h, attns, hidden, features, out

    initial = (zeros, zeros, zeros, window, window, zeros)
    return tf.scan(step, pre, initializer=initial)[-1]


class EventsRnn(keras.Model):
    """Class indices [batch, time] in, logits [batch, time, num_classes] out."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.hparams = config.hparams
        self.num_classes = config.encoding.num_classes
        self.names = list(variable_shapes(config))
        self.magenta_variables = []
        for index, (name, shape) in enumerate(variable_shapes(config).items()):
            self.magenta_variables.append(self.add_weight(
                shape=shape, initializer=_initializer(name, shape), name=f"v{index}_" + name.split("/")[-1]))

    def variables_by_name(self) -> dict:
        return dict(zip(self.names, self.magenta_variables))

    def _positions(self, classes):
        """Position features [T, P]: a constant when T is known while tracing (as under XLA)."""
        encoding = self.config.encoding
        if classes.shape[1] is not None:
            return tf.constant(encoding.position_features(classes.shape[1]))
        positions = tf.numpy_function(lambda n: encoding.position_features(int(n)), [tf.shape(classes)[1]],
                                      tf.float32, stateful=False)
        positions.set_shape([None, encoding.num_position_features])
        return positions

    @staticmethod
    def _linear(positions, matrix):
        """``positions @ matrix``; zero without position features (oneDNN refuses empty products)."""
        if positions.shape[1] == 0:
            return tf.zeros([1, matrix.shape[1]], matrix.dtype)
        return tf.matmul(positions, matrix)

    def call(self, classes, training=False):
        v = self.variables_by_name()
        hparams = self.hparams
        classes = tf.convert_to_tensor(classes)
        positions = self._positions(classes)
        keep = hparams.dropout_keep_prob if training else 1.0
        layer_input = None  # [B, T, size] for layers after the first
        for k, size in enumerate(hparams.rnn_layer_sizes):
            scope = f"{_CELLS}/cell_{k}"
            projection = None
            if f"{scope}/input_projection_wrapper/kernel" in v:
                projection = (v[f"{scope}/input_projection_wrapper/kernel"],
                              v[f"{scope}/input_projection_wrapper/bias"])
                scope += "/input_projection_wrapper"
            attention = k == 0 and hparams.attn_length > 0
            if attention:
                scope += "/attention_cell_wrapper"
            kernel, bias = v[f"{scope}/basic_lstm_cell/kernel"], v[f"{scope}/basic_lstm_cell/bias"]

            # x_proj(x) = x @ A + a: every linear map applied to this layer's input before its LSTM
            # kernel, as a matrix on the one-hot / position / dense parts.
            maps = []
            if projection is not None:
                maps.append(projection)
            if attention:
                wrapper_kernel, wrapper_bias = v[f"{scope}/kernel"], v[f"{scope}/bias"]
                in_size = wrapper_kernel.shape[1]
                maps.append((wrapper_kernel[:in_size], wrapper_bias))
            in_size = kernel.shape[0] - size
            maps.append((kernel[:in_size], bias))
            total, offset = maps[0]
            for matrix, shift in maps[1:]:
                total, offset = tf.matmul(total, matrix), tf.linalg.matvec(matrix, offset, transpose_a=True) + shift

            if k == 0:
                one_hot_part = total[:self.num_classes]
                pre = tf.gather(one_hot_part, classes) + (self._linear(positions, total[self.num_classes:]) + offset)
                residual = None
                if projection is not None:
                    proj_k, proj_b = projection
                    residual = (tf.gather(proj_k[:self.num_classes], classes)
                                + self._linear(positions, proj_k[self.num_classes:]) + proj_b)
            else:
                pre = tf.einsum("bti,ig->btg", layer_input, total) + offset
                residual = None
                if hparams.residual_connections:
                    residual = layer_input if projection is None else (
                        tf.einsum("bti,ih->bth", layer_input, projection[0]) + projection[1])

            w_h = kernel[in_size:]
            if attention:
                wrapper_attn_rows = v[f"{scope}/kernel"][v[f"{scope}/kernel"].shape[1]:]
                # attns enter through the wrapper kernel, then through the LSTM input kernel (after
                # any input projection, which acts on x only).
                w_attn = tf.matmul(wrapper_attn_rows, kernel[:in_size])
                att = {"attn_w": v[f"{scope}/attention/attn_w"], "attn_v": v[f"{scope}/attention/attn_v"],
                       "kernel": v[f"{scope}/attention/kernel"], "bias": v[f"{scope}/attention/bias"],
                       "out_kernel": v[f"{scope}/attn_output_projection/kernel"],
                       "out_bias": v[f"{scope}/attn_output_projection/bias"]}
                outputs = _run_attention_lstm(_time_major(pre), tf.concat([w_h, w_attn], 0), att,
                                              hparams.attn_length)
            else:
                outputs = _run_lstm(_time_major(pre), w_h)
            outputs = _time_major(outputs)
            if residual is not None:
                outputs = outputs + residual
            if keep < 1.0:
                outputs = tf.nn.dropout(outputs, rate=1.0 - keep)
            layer_input = outputs
        return tf.einsum("bth,hc->btc", layer_input, v["fully_connected/weights"]) + v["fully_connected/biases"]


class EventsRnnModel(Model):
    """The seqgen Model for Magenta's events RNN."""

    def build(self):
        model = EventsRnn(self.config)
        model(tf.zeros([1, 1], tf.int32))
        return model


def build_model(config) -> EventsRnn:
    """A built :class:`EventsRnn` for ``config`` (variables created)."""
    return EventsRnnModel(config).build()


def weights_dict(model) -> dict:
    """The model's weights as float32 NumPy arrays keyed by Magenta's variable names."""
    return {name: np.asarray(var.numpy(), np.float32) for name, var in model.variables_by_name().items()}


def load_weights_dict(model, weights: dict) -> None:
    """Set the model's variables from a Magenta-named weights dict; names and shapes must match exactly."""
    from seqgen.errors import SeqgenError

    expected = model.variables_by_name()
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        raise SeqgenError(f"weights do not fit this model's hparams: missing {missing[:3]}, unexpected {extra[:3]}")
    for name, var in expected.items():
        value = np.asarray(weights[name], np.float32)
        if tuple(value.shape) != tuple(var.shape):
            raise SeqgenError(f"weight {name} has shape {list(value.shape)}, the model expects {list(var.shape)}")
        var.assign(value)
