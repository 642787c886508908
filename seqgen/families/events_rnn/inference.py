"""Magenta's events RNN in plain NumPy, run from the weights dict keyed by Magenta variable names.

The network is TF1's ``MultiRNNCell`` of ``BasicLSTMCell`` layers (forget bias 1.0 added at run time),
an ``AttentionCellWrapper`` on layer 0 when ``attn_length > 0``, optional residual connections (with
Magenta's input projections) and a dense layer to the logits; see ``docs/architecture.md``.
It runs B sequences at once, one step at a time, without TensorFlow.

Each layer splits its work in two: ``linear_input(x)`` is the part of its first pre-activation that is
linear in its input, and ``step(u, state)`` does the rest. Layer 0's input is ``one_hot(class)`` followed
by position features, so its ``linear_input`` becomes a table lookup plus one row per position.
"""

import numpy as np

from seqgen.errors import SeqgenError
from seqgen.family import Stepper

PREFIX = "rnn/multi_rnn_cell/cell_{}/"
FC_WEIGHTS = "fully_connected/weights"
FC_BIASES = "fully_connected/biases"
FORGET_BIAS = 1.0


CELLS = "rnn/multi_rnn_cell"


def variable_shapes(config) -> dict:
    """Magenta's variable names and shapes for ``config``'s encoding and hparams, in creation order."""
    hparams = config.hparams
    input_size = config.encoding.input_size
    shapes = {}
    previous = input_size
    for k, size in enumerate(hparams.rnn_layer_sizes):
        scope = f"{CELLS}/cell_{k}"
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


def _sigmoid(x):
    return 0.5 * np.tanh(0.5 * x) + 0.5  # = 1 / (1 + exp(-x)), without overflow warnings


def _lstm(z, c):
    """TF1 BasicLSTMCell from its pre-activations z = [x, h] @ kernel + bias, gates i, j, f, o."""
    i, j, f, o = np.split(z, 4, axis=-1)
    c = c * _sigmoid(f + FORGET_BIAS) + _sigmoid(i) * np.tanh(j)
    return np.tanh(c) * _sigmoid(o), c


class LSTMLayer:
    """A BasicLSTMCell; state (c, h)."""

    def __init__(self, kernel, bias):
        self.size = bias.shape[0] // 4
        self.input_size = kernel.shape[0] - self.size
        self.kernel_x = kernel[: self.input_size]
        self.kernel_h = kernel[self.input_size :]
        self.bias = bias

    def zero_state(self, batch):
        return (np.zeros((batch, self.size), np.float32),) * 2

    def linear_input(self, x):
        return x @ self.kernel_x

    def step(self, u, state, position):
        c, h = state
        h, c = _lstm(u + h @ self.kernel_h + self.bias, c)
        return h, (c, h)


class AttentionLayer:
    """An AttentionCellWrapper around a BasicLSTMCell.

    State: c, h, attns, the window of the last ``attn_length`` outputs [B, L, H] and the same window
    multiplied by ``attn_w`` (so each output is projected once). Attention does not depend on the order
    of the slots, so the window is a ring: step ``position`` overwrites slot ``position % L``, the
    oldest, in place (no copy of the window per step).
    """

    def __init__(self, weights, prefix, attn_length):
        w = lambda name: weights[prefix + name]  # noqa: E731
        lstm_kernel, lstm_bias = w("basic_lstm_cell/kernel"), w("basic_lstm_cell/bias")
        self.size = lstm_bias.shape[0] // 4
        self.attn_length = attn_length
        wrapper = w("kernel").astype(np.float64)
        self.input_size = wrapper.shape[0] - self.size
        kernel_x = lstm_kernel[: wrapper.shape[1]].astype(np.float64)
        # The wrapper's projection back to the input size feeds the LSTM linearly: fold the two.
        self.fused_x = (wrapper[: self.input_size] @ kernel_x).astype(np.float32)
        self.kernel_ah = np.concatenate(
            [wrapper[self.input_size :] @ kernel_x, lstm_kernel[wrapper.shape[1] :]]
        ).astype(np.float32)
        self.bias = (w("bias").astype(np.float64) @ kernel_x + lstm_bias).astype(np.float32)
        self.attn_w = w("attention/attn_w")[0, 0]
        self.attn_v = w("attention/attn_v")
        self.query_kernel, self.query_bias = w("attention/kernel"), w("attention/bias")
        self.out_kernel = w("attn_output_projection/kernel")
        self.out_bias = w("attn_output_projection/bias")
        self._scratch = np.empty(0, np.float32)  # reused for the [B, L, H] attention scores

    def zero_state(self, batch):
        vector = np.zeros((batch, self.size), np.float32)
        window = (batch, self.attn_length, self.size)
        return vector, vector, vector, np.zeros(window, np.float32), np.zeros(window, np.float32)

    def linear_input(self, x):
        return x @ self.fused_x

    def step(self, u, state, position):
        c, h, attns, window, keys = state
        h, c = _lstm(u + np.concatenate([attns, h], axis=1) @ self.kernel_ah + self.bias, c)
        query = np.concatenate([c, h], axis=1) @ self.query_kernel + self.query_bias
        if self._scratch.shape != keys.shape:
            self._scratch = np.empty_like(keys)
        hidden = np.tanh(np.add(keys, query[:, None, :], out=self._scratch), out=self._scratch)
        scores = (hidden.reshape(-1, self.size) @ self.attn_v).reshape(keys.shape[:2])
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores /= scores.sum(axis=1, keepdims=True)
        attns = (scores[:, None, :] @ window)[:, 0]
        out = np.concatenate([h, attns], axis=1) @ self.out_kernel + self.out_bias
        window[:, position % self.attn_length] = out
        keys[:, position % self.attn_length] = out @ self.attn_w
        return out, (c, h, attns, window, keys)


class ResidualLayer:
    """Magenta's residual connection: output = cell(p) + p, with p = x @ kernel + bias when projected."""

    def __init__(self, cell, kernel=None, bias=None):
        self.cell, self.kernel, self.bias = cell, kernel, bias
        self.size = cell.size
        self.input_size = cell.input_size if kernel is None else kernel.shape[0]

    def zero_state(self, batch):
        return self.cell.zero_state(batch)

    def linear_input(self, x):
        return x if self.kernel is None else x @ self.kernel

    def step(self, u, state, position):
        p = u if self.bias is None else u + self.bias
        out, state = self.cell.step(self.cell.linear_input(p), state, position)
        return out + p, state


def _layer(weights, k, attn_length, residual):
    prefix = PREFIX.format(k)
    keys = [name for name in weights if name.startswith(prefix)]
    projection = prefix + "input_projection_wrapper/"
    inner = projection if projection + "kernel" in weights else prefix
    attention = inner + "attention_cell_wrapper/"
    if any(name.startswith(attention) for name in keys):
        if k or not attn_length:
            raise SeqgenError(
                f"the weights have an attention layer {k} but the hparams say attn_length="
                f"{attn_length}; pass the hparams the model was trained with"
            )
        cell = AttentionLayer(weights, attention, attn_length)
    elif inner + "basic_lstm_cell/kernel" in weights:
        if k == 0 and attn_length:
            raise SeqgenError(
                f"the hparams say attn_length={attn_length} but the weights have no attention "
                f"layer; pass the hparams the model was trained with"
            )
        cell = LSTMLayer(weights[inner + "basic_lstm_cell/kernel"], weights[inner + "basic_lstm_cell/bias"])
    else:
        raise SeqgenError(f"the weights have no LSTM kernel for layer {k} (expected {inner}basic_lstm_cell/kernel)")
    if inner != prefix:
        return ResidualLayer(cell, weights[projection + "kernel"], weights[projection + "bias"])
    return ResidualLayer(cell) if residual else cell


def layer_sizes(weights) -> list:
    """The RNN layer sizes: one per ``rnn/multi_rnn_cell/cell_k/`` prefix, its LSTM bias length // 4."""
    sizes = []
    while any(name.startswith(PREFIX.format(len(sizes))) for name in weights):
        prefix = PREFIX.format(len(sizes))
        biases = [
            value
            for name, value in weights.items()
            if name.startswith(prefix) and name.endswith("basic_lstm_cell/bias")
        ]
        if len(biases) != 1 or biases[0].ndim != 1 or not biases[0].shape[0] or biases[0].shape[0] % 4:
            raise SeqgenError(
                f"layer {len(sizes)} of the checkpoint has no LSTM bias of 4 x its size; it is "
                f"not a Drums RNN style bundle"
            )
        sizes.append(biases[0].shape[0] // 4)
    return sizes


class EventsRNN(Stepper):
    """The network of one config, batched. ``state`` is a list with one tuple of arrays per layer."""

    def __init__(self, weights: dict, encoding, hparams):
        weights = {name: np.asarray(value, np.float32) for name, value in weights.items()}
        missing = [
            name
            for name in (FC_WEIGHTS, FC_BIASES, PREFIX.format(0))
            if not any(key.startswith(name) for key in weights)
        ]
        if missing:
            raise SeqgenError(f"the weights are not an events RNN: nothing named {missing[0]}")
        sizes = layer_sizes(weights)
        if tuple(sizes) != tuple(hparams.rnn_layer_sizes):
            raise SeqgenError(
                f"the weights have rnn_layer_sizes={sizes} but the hparams say "
                f"{list(hparams.rnn_layer_sizes)}; pass the hparams the model was trained with"
            )
        self.layers = [_layer(weights, k, hparams.attn_length, hparams.residual_connections) for k in range(len(sizes))]
        self.encoding = encoding
        self.num_classes = encoding.num_classes
        if self.layers[0].input_size != encoding.input_size:
            raise SeqgenError(
                f"the weights expect inputs of size {self.layers[0].input_size} but the encoding "
                f"gives {encoding.input_size}; is this a model of another config?"
            )
        self.fc_weights, self.fc_biases = weights[FC_WEIGHTS], weights[FC_BIASES]
        if self.fc_biases.shape[0] != self.num_classes:
            raise SeqgenError(
                f"the weights have {self.fc_biases.shape[0]} classes but the encoding has "
                f"{self.num_classes}; is this a model of another config?"
            )
        first = self.layers[0].linear_input(np.eye(encoding.input_size, dtype=np.float32))
        self._class_table = first[: self.num_classes]
        self._position_table = first[self.num_classes :]
        self._positions = np.zeros((0, first.shape[1]), np.float32)

    def initial_state(self, batch: int) -> list:
        return [layer.zero_state(batch) for layer in self.layers]

    def reorder(self, state: list, rows) -> list:
        return [tuple(array[rows] for array in layer_state) for layer_state in state]

    def _position_term(self, position: int):
        if position >= len(self._positions):
            features = self.encoding.position_features(max(2 * position, 64))
            self._positions = features @ self._position_table
        return self._positions[position]

    def step(self, classes, position: int, state: list):
        """Feed class ``classes[b]`` at ``position`` to every sequence b: (logits [B, C], new state).

        ``position`` counts the steps fed since the zero state. The attention window inside ``state`` is
        updated in place: keep a copy with :meth:`reorder` to step from the same state twice.
        """
        out = self._class_table[classes] + self._position_term(position)
        new_state = []
        for k, layer in enumerate(self.layers):
            u = layer.linear_input(out) if k else out
            out, layer_state = layer.step(u, state[k], position)
            new_state.append(layer_state)
        return out @ self.fc_weights + self.fc_biases, new_state


def random_weights(config, seed=0, scale=0.1) -> dict:
    """A weights dict of the shape ``config``'s hparams call for, uniform in [-scale, scale] (for tests
    and benchmarks; training starts from Keras's own initializers)."""
    rng = np.random.default_rng(seed)
    hparams, weights = config.hparams, {}
    previous = config.encoding.input_size
    for k, size in enumerate(hparams.rnn_layer_sizes):
        prefix = PREFIX.format(k)
        if hparams.residual_connections and (k == 0 or size != previous):
            prefix += "input_projection_wrapper/"
            weights[prefix + "kernel"], weights[prefix + "bias"] = (previous, size), (size,)
            previous = size
        if k == 0 and hparams.attn_length:
            prefix += "attention_cell_wrapper/"
            weights.update(
                {
                    prefix + "kernel": (previous + size, previous),
                    prefix + "bias": (previous,),
                    prefix + "attention/attn_w": (1, 1, size, size),
                    prefix + "attention/attn_v": (size,),
                    prefix + "attention/kernel": (2 * size, size),
                    prefix + "attention/bias": (size,),
                    prefix + "attn_output_projection/kernel": (2 * size, size),
                    prefix + "attn_output_projection/bias": (size,),
                }
            )
        weights[prefix + "basic_lstm_cell/kernel"] = (previous + size, 4 * size)
        weights[prefix + "basic_lstm_cell/bias"] = (4 * size,)
        previous = size
    weights[FC_WEIGHTS], weights[FC_BIASES] = (previous, config.encoding.num_classes), (config.encoding.num_classes,)
    return {name: rng.uniform(-scale, scale, shape).astype(np.float32) for name, shape in weights.items()}
