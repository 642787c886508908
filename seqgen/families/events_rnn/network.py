"""Magenta's events RNN as a Keras 3 model (TensorFlow backend), with Magenta's variable names.

The math follows Magenta exactly (see ``docs/architecture.md``): TF1 BasicLSTMCell
layers (gates i, j, f, o; forget bias 1.0 added at run time), Magenta's attention wrapper on layer 0
when ``attn_length > 0``, dropout on each layer's output while training, optional residual
connections (an input projection where the size changes) and a dense layer to the logits.

For speed the network runs layer by layer: everything that does not depend on the recurrent state
(the one-hot input, which is a row gather, the position features and the input half of each LSTM
kernel) is computed for all time steps in one batched matmul, and only ``h @ W_h`` (plus the
attention) stays inside the time loop. The products of weight matrices are taken once per call, so
the result equals Magenta's up to float rounding.

Both recurrent layers have written-out backward passes (checked against autodiff in the tests):
autodiff through the time loop would keep every step's intermediates, the attention window and its
tanh included; these keep a few [batch, size] vectors per step, take each window back from the
stacked outputs, and compute weight gradients as one matmul over all steps.

Under a mixed-precision policy (hparam ``precision``) the layers compute in bfloat16 or float16 from
float32 variables; the logits, the attention window's math and the sums that make the one-hot input's
gradient are float32.
"""

import keras
import numpy as np
import tensorflow as tf

from seqgen.families.events_rnn.inference import CELLS, variable_shapes
from seqgen.families.keras_network import NamedWeightsNetwork


FORGET_BIAS = 1.0


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


def _lstm_step(z, c):
    """TF1 BasicLSTMCell's update from pre-activations ``z`` (gates i, j, f, o): c, h and the gates
    [sigmoid(i), tanh(j), sigmoid(f + 1), sigmoid(o)] concatenated."""
    i, j, f, o = tf.split(z, 4, axis=-1)
    i, j, f, o = tf.sigmoid(i), tf.tanh(j), tf.sigmoid(f + FORGET_BIAS), tf.sigmoid(o)
    c = c * f + i * j
    return c, tf.tanh(c) * o, tf.concat([i, j, f, o], -1)


def _lstm_step_backward(dh, dc, c_prev, c, gates):
    """Gradients of one LSTM step: (d pre-activations, d c_prev) from d h and d c (beyond h's path)."""
    i, j, f, o = tf.split(gates, 4, axis=-1)
    tanh_c = tf.tanh(c)
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
    dz = tf.concat(
        [dc * j * i * (1.0 - i), dc * i * (1.0 - j * j), dc * c_prev * f * (1.0 - f), dh * tanh_c * o * (1.0 - o)], -1
    )
    return dz, dc * f


@tf.custom_gradient
def _gather_rows(table, indices):
    """``tf.gather(table, indices)`` for time-major ``indices`` [T, B], whose gradient (the sum of the rows'
    gradients per index) is added up in float32: under mixed_bfloat16, bfloat16 sums of the thousands of steps
    that share a class lost a third of the first layer's gradient, more the more tracks a slice held. The sums
    go 32 steps at a time, so that no float32 copy of the whole gradient is made."""

    def grad(rows):
        count, chunk = tf.shape(indices)[0], 32

        def add(start, sums):
            part = tf.cast(rows[start : start + chunk], tf.float32)
            sums += tf.math.unsorted_segment_sum(part, indices[start : start + chunk], table.shape[0])
            return start + chunk, sums

        zeros = tf.zeros(table.shape, tf.float32)
        _, sums = tf.while_loop(lambda start, _: start < count, add, (tf.constant(0), zeros))
        return tf.cast(sums, table.dtype), None

    return tf.gather(table, indices), grad


def _previous(stack, t):
    """``stack[t - 1]``, zeros for t = 0 (the initial state)."""
    return stack[tf.maximum(t - 1, 0)] * tf.cast(t > 0, stack.dtype)


def _flat_matmul(x, y):
    """``sum over time and batch of x^T y`` for time-major x [T, B, m], y [T, B, n]."""
    return tf.matmul(tf.reshape(x, [-1, x.shape[-1]]), tf.reshape(y, [-1, y.shape[-1]]), transpose_a=True)


def _blocks(rows, columns):
    """``concat(rows, -1)^T concat(columns, -1)`` summed over time and batch, without the big concats."""
    return tf.concat([tf.concat([_flat_matmul(x, y) for y in columns], 1) for x in rows], 0)


def _loop(count, body, state, outputs, reverse=False):
    """Run ``body(t, *state) -> (state, outputs)`` for t in 0..count-1 (or back); returns state and stacks."""
    arrays = [tf.TensorArray(dtype, size=count, element_shape=shape) for dtype, shape in outputs]

    def step(k, state, arrays):
        t = count - 1 - k if reverse else k
        state, values = body(t, *state)
        return k + 1, state, [a.write(t, v) for a, v in zip(arrays, values)]

    _, state, arrays = tf.while_loop(lambda k, *_: k < count, step, (tf.constant(0), state, arrays))
    return state, [a.stack() for a in arrays]


def _lstm_forward(pre, w_h):
    """A plain LSTM layer over time-major pre-activations ``pre`` [T, B, 4H]: h, c and gates per step."""
    count, batch, size = tf.shape(pre)[0], tf.shape(pre)[1], w_h.shape[0]
    zeros = tf.zeros([batch, size], pre.dtype)

    def step(t, c, h):
        c, h, gates = _lstm_step(pre[t] + tf.matmul(h, w_h), c)
        return (c, h), (h, c, gates)

    spec = [(pre.dtype, [None, size])] * 2 + [(pre.dtype, [None, 4 * size])]
    return _loop(count, step, (zeros, zeros), spec)[1]


@tf.custom_gradient
def _lstm_layer(pre, w_h):
    """:func:`_lstm_forward`'s h [T, B, H], with a written-out backward pass that keeps only h, c
    and the gates of each step and takes the weight gradient in one matmul over all steps."""
    hs, cs, gates = _lstm_forward(pre, w_h)

    def grad(dhs):
        count, batch, size = tf.shape(hs)[0], tf.shape(hs)[1], w_h.shape[0]
        zeros = tf.zeros([batch, size], pre.dtype)

        def back(t, dh_next, dc_next):
            dz, dc = _lstm_step_backward(dhs[t] + dh_next, dc_next, _previous(cs, t), cs[t], gates[t])
            return (tf.matmul(dz, w_h, transpose_b=True), dc), (dz,)

        _, (dz,) = _loop(count, back, (zeros, zeros), [(pre.dtype, [None, 4 * size])], reverse=True)
        return dz, _flat_matmul(hs[:-1], dz[1:])  # h_t fed step t + 1

    return hs, grad


def _window_dtype(dtype):
    """The attention window's dtype: float32 for a 16-bit compute dtype (the window's element-wise math, tanh
    most of all, runs 2-3x slower in bfloat16 on a CPU, and its sums keep float32's precision), else ``dtype``."""
    return tf.float32 if dtype in (tf.bfloat16, tf.float16) else dtype


def _scores(window, y, v):
    """The attention scores [L, B]: ``tanh(window + y) @ v`` as one matrix-vector product."""
    tanh = tf.tanh(window + y)
    return tf.reshape(tf.matmul(tf.reshape(tanh, [-1, v.shape[0]]), v[:, None]), tf.shape(tanh)[:2])


def _attention_forward(pre, m, m_bias, attn_w, k, k_bias, v, length):
    """Layer 0 with Magenta's attention wrapper over time-major pre-activations ``pre`` [T, B, 4H].

    ``m`` = [W_rec | P] maps ``[h, attns]`` both to the next step's recurrent pre-activations (the
    wrapper kernel folded into the LSTM kernel) and, plus ``m_bias``, to the layer's output ``out``
    (attn_output_projection). The window of the last ``length`` outputs and their features
    ``out @ attn_w`` are [L, B, H]; a slot's features are computed once, as it enters the window.
    Returns the outputs [T, B, H] and what the backward pass needs: c, h, attns, attention weights
    [T, L, B] and gates, per step. The window and its math are in :func:`_window_dtype`.
    """
    count, batch, size = tf.shape(pre)[0], tf.shape(pre)[1], v.shape[0]
    wide = _window_dtype(pre.dtype)
    zeros = tf.zeros([batch, size], pre.dtype)
    window = tf.zeros([length, batch, size], wide)
    v = tf.cast(v, wide)

    def step(t, c, r, hidden, features):
        c, h, gates = _lstm_step(pre[t] + r, c)
        y = tf.cast(tf.matmul(tf.concat([c, h], 1), k) + k_bias, wide)
        weights = tf.nn.softmax(_scores(features, y, v), axis=0)
        attns = tf.cast(tf.reduce_sum(weights[:, :, None] * hidden, 0), pre.dtype)
        r, out = tf.split(tf.matmul(tf.concat([h, attns], 1), m) + m_bias, [4 * size, size], 1)
        feature = tf.matmul(out, attn_w)
        hidden = tf.concat([hidden[1:], tf.cast(out, wide)[None]], 0)
        features = tf.concat([features[1:], tf.cast(feature, wide)[None]], 0)
        return (c, r, hidden, features), (out, c, h, attns, weights, gates)

    vector = (pre.dtype, [None, size])
    spec = [vector] * 4 + [(wide, [length, None]), (pre.dtype, [None, 4 * size])]
    initial = (zeros, tf.zeros([batch, 4 * size], pre.dtype), window, window)
    return _loop(count, step, initial, spec)[1]


def _attention_gradients(outs, cs, hs, attns, dz, d_out, d_feature, dy, dv):
    """The gradients of :func:`_attention_layer`'s inputs (pre, m, m_bias, attn_w, k, k_bias, v) from the
    per-step ones of its backward pass: each weight's is one matmul over all steps."""
    # [h_t, attns_t] fed r_t (used by step t + 1) and out_t.
    d_m = tf.concat([_blocks([hs[:-1], attns[:-1]], [dz[1:]]), _blocks([hs, attns], [d_out])], 1)
    d_m_bias = tf.concat([tf.reduce_sum(dz[1:], [0, 1]), tf.reduce_sum(d_out, [0, 1])], 0)
    return (
        dz,
        d_m,
        d_m_bias,
        _flat_matmul(outs, d_feature),
        _blocks([cs, hs], [dy]),
        tf.reduce_sum(dy, [0, 1]),
        dv,
    )


def _attention_layer(pre, m, m_bias, attn_w, k, k_bias, v, length):
    """:func:`_attention_forward`'s outputs [T, B, H], with a written-out backward pass.

    Autodiff would keep the window and its tanh at every step; this keeps per-step vectors only and
    takes each window back from the stacked outputs. Weight gradients are one matmul over all steps.
    """

    @tf.custom_gradient
    def layer(pre, m, m_bias, attn_w, k, k_bias, v):
        outs, cs, hs, attns, weights, gates = _attention_forward(pre, m, m_bias, attn_w, k, k_bias, v, length)

        def grad(douts):
            count, batch, size = tf.shape(outs)[0], tf.shape(outs)[1], v.shape[0]
            wide, narrow = _window_dtype(pre.dtype), pre.dtype
            hidden_all = tf.concat([tf.zeros([length, batch, size], narrow), outs], 0)  # step t's window: [t, t + L)
            features_all = tf.reshape(tf.matmul(tf.reshape(hidden_all, [-1, size]), attn_w), tf.shape(hidden_all))
            hidden_all, features_all, v_wide = tf.cast(hidden_all, wide), tf.cast(features_all, wide), tf.cast(v, wide)
            zero_slot = tf.zeros([1, batch, size], wide)

            def back(t, dr, dc_next, d_hidden, d_features, dv):
                d_feature = tf.cast(d_features[-1], narrow)
                d_out = douts[t] + tf.cast(d_hidden[-1], narrow) + tf.matmul(d_feature, attn_w, transpose_b=True)
                dh, d_attns = tf.split(tf.matmul(tf.concat([dr, d_out], 1), m, transpose_b=True), 2, 1)
                d_attns = tf.cast(d_attns, wide)
                hidden, w = hidden_all[t : t + length], weights[t]
                d_w = tf.reduce_sum(hidden * d_attns, -1)
                d_scores = w * (d_w - tf.reduce_sum(w * d_w, 0))
                y = tf.cast(tf.matmul(tf.concat([cs[t], hs[t]], 1), k) + k_bias, wide)
                tanh = tf.tanh(features_all[t : t + length] + y)
                d_pre_tanh = d_scores[:, :, None] * v_wide * (1.0 - tanh * tanh)
                dy = tf.cast(tf.reduce_sum(d_pre_tanh, 0), narrow)
                dc_y, dh_y = tf.split(tf.matmul(dy, k, transpose_b=True), 2, 1)
                dz, dc = _lstm_step_backward(dh + dh_y, dc_next + dc_y, _previous(cs, t), cs[t], gates[t])
                d_hidden = tf.concat([zero_slot, d_hidden[:-1]], 0) + w[:, :, None] * d_attns
                d_features = tf.concat([zero_slot, d_features[:-1]], 0) + d_pre_tanh
                dv += tf.reshape(tf.matmul(tf.reshape(d_scores, [1, -1]), tf.reshape(tanh, [-1, size])), [size])
                return (dz, dc, d_hidden, d_features, dv), (dz, d_out, d_feature, dy)

            window = tf.zeros([length, batch, size], wide)
            initial = (
                tf.zeros([batch, 4 * size], narrow),
                tf.zeros([batch, size], narrow),
                window,
                window,
                tf.zeros_like(v_wide),
            )
            vector = (narrow, [None, size])
            state, (dz, d_out, d_feature, dy) = _loop(
                count, back, initial, [(narrow, [None, 4 * size]), vector, vector, vector], reverse=True
            )
            dv = tf.cast(state[-1], v.dtype)
            return _attention_gradients(outs, cs, hs, attns, dz, d_out, d_feature, dy, dv)

        return outs, grad

    # Tensors, not variables: the gradient goes to the variables through the ops that read them.
    return layer(*[tf.convert_to_tensor(x) for x in (pre, m, m_bias, attn_w, k, k_bias, v)])


class EventsRnn(NamedWeightsNetwork):
    """Class indices [batch, time] in, logits [batch, time, num_classes] out."""

    def __init__(self, config, **kwargs):
        super().__init__(config, variable_shapes(config), _initializer, **kwargs)
        self.num_classes = config.encoding.num_classes

    @staticmethod
    def _linear(positions, matrix):
        """``positions @ matrix``; zero without position features (oneDNN refuses empty products)."""
        if positions.shape[1] == 0:
            return tf.zeros([1, matrix.shape[1]], matrix.dtype)
        return tf.matmul(positions, matrix)

    def call(self, classes, training=False):
        v = self.compute_weights()
        hparams = self.hparams
        classes = tf.convert_to_tensor(classes)
        positions = self._positions(classes)
        classes = tf.transpose(classes)  # time-major from here on
        keep = hparams.dropout_keep_prob if training else 1.0
        layer_input = None  # [T, B, size] for layers after the first
        for k, size in enumerate(hparams.rnn_layer_sizes):
            scope, projection, attention = self._layer_scope(v, k)
            kernel, bias = v[f"{scope}/basic_lstm_cell/kernel"], v[f"{scope}/basic_lstm_cell/bias"]
            in_size = kernel.shape[0] - size
            total, offset = self._input_map(v, scope, projection, attention, kernel[:in_size], bias)
            if k == 0:
                pre, residual = self._first_input(classes, positions, total, offset, projection)
            else:
                pre = tf.einsum("tbi,ig->tbg", layer_input, total) + offset
                residual = None
                if hparams.residual_connections:
                    residual = (
                        layer_input
                        if projection is None
                        else (tf.einsum("tbi,ih->tbh", layer_input, projection[0]) + projection[1])
                    )
            outputs = self._recurrence(v, scope, pre, kernel[in_size:], kernel[:in_size], size, attention)
            if residual is not None:
                outputs = outputs + residual
            if keep < 1.0:
                outputs = tf.nn.dropout(outputs, rate=1.0 - keep)
            layer_input = outputs
        # The logits in float32 whatever the compute dtype (mixed precision's usual last layer).
        weights = self.variables_by_name()
        return (
            tf.einsum("tbh,hc->btc", tf.cast(layer_input, tf.float32), weights["fully_connected/weights"])
            + weights["fully_connected/biases"]
        )

    def _layer_scope(self, v, k) -> tuple:
        """``(scope, projection, attention)`` of layer ``k``: the scope of its wrapped LSTM cell's weights, its
        input projection's (kernel, bias) or None, and whether it is the attention layer."""
        scope = f"{CELLS}/cell_{k}"
        projection = None
        if f"{scope}/input_projection_wrapper/kernel" in v:
            projection = (v[f"{scope}/input_projection_wrapper/kernel"], v[f"{scope}/input_projection_wrapper/bias"])
            scope += "/input_projection_wrapper"
        attention = k == 0 and self.hparams.attn_length > 0
        if attention:
            scope += "/attention_cell_wrapper"
        return scope, projection, attention

    @staticmethod
    def _input_map(v, scope, projection, attention, input_kernel, bias) -> tuple:
        """x_proj(x) = x @ A + a: every linear map applied to a layer's input before its LSTM kernel
        (``input_kernel``, the kernel's input rows), as one matrix on the one-hot / position / dense parts:
        ``(A, a)``."""
        maps = []
        if projection is not None:
            maps.append(projection)
        if attention:
            wrapper_kernel, wrapper_bias = v[f"{scope}/kernel"], v[f"{scope}/bias"]
            in_size = wrapper_kernel.shape[1]
            maps.append((wrapper_kernel[:in_size], wrapper_bias))
        maps.append((input_kernel, bias))
        total, offset = maps[0]
        for matrix, shift in maps[1:]:
            total, offset = tf.matmul(total, matrix), tf.linalg.matvec(matrix, offset, transpose_a=True) + shift
        return total, offset

    def _first_input(self, classes, positions, total, offset, projection) -> tuple:
        """``(pre, residual)`` of the first layer: its input map applied to the one-hot classes (a gather)
        and the position features, and the input projection of the same as its residual (None without)."""
        one_hot_part = total[: self.num_classes]
        position_part = self._linear(positions, total[self.num_classes :]) + offset
        pre = _gather_rows(one_hot_part, classes) + position_part[:, None]
        residual = None
        if projection is not None:
            proj_k, proj_b = projection
            residual = (
                _gather_rows(proj_k[: self.num_classes], classes)
                + (self._linear(positions, proj_k[self.num_classes :]) + proj_b)[:, None]
            )
        return pre, residual

    def _recurrence(self, v, scope, pre, w_h, input_kernel, size, attention):
        """The layer's outputs [T, B, size] from ``pre``: an LSTM whose recurrent kernel is ``w_h``, with
        attention where ``attention``."""
        if not attention:
            return _lstm_layer(pre, tf.convert_to_tensor(w_h))
        wrapper_attn_rows = v[f"{scope}/kernel"][v[f"{scope}/kernel"].shape[1] :]
        # attns enter through the wrapper kernel, then through the LSTM input kernel (after
        # any input projection, which acts on x only).
        w_attn = tf.matmul(wrapper_attn_rows, input_kernel)
        m = tf.concat([tf.concat([w_h, w_attn], 0), v[f"{scope}/attn_output_projection/kernel"]], 1)
        m_bias = tf.concat([tf.zeros([4 * size], pre.dtype), v[f"{scope}/attn_output_projection/bias"]], 0)
        return _attention_layer(
            pre,
            m,
            m_bias,
            tf.reshape(v[f"{scope}/attention/attn_w"], [size, size]),
            v[f"{scope}/attention/kernel"],
            v[f"{scope}/attention/bias"],
            v[f"{scope}/attention/attn_v"],
            self.hparams.attn_length,
        )


def build_model(config) -> EventsRnn:
    """A built :class:`EventsRnn` for ``config`` (variables created)."""
    model = EventsRnn(config)
    model(tf.zeros([1, 1], tf.int32))
    return model
