"""The transformer family's Keras 3 network (TensorFlow backend) and its learning-rate schedule.

Relative attention is Music Transformer's memory-efficient "skewing" (Huang et al. 2018, section 3.4.1):
the relative logits of query i and key j are ``q_i . E[i - j]``, with ``E`` a learned [R + 1, head_size]
table per layer and head (distances clipped at R = max_relative_distance). For a length-T sequence the
table is laid out from distance T - 1 down to 0 (clipped), preceded by a zero row standing for the
paper's padding column, so ``Q @ table^T`` is [T, T + 1]; reshaped to [T + 1, T] and without its first
row it is the [T, T] matrix of ``q_i . E[i - j]`` for j <= i (the rest is masked). Nothing of size
T x T x head_size is ever formed.

Attention tensors are laid out [heads, batch, time, ...] so that the relative term is one plain matmul
of [H, B * T, head_size] by [H, head_size, T + 1].

Causal attention is computed in :data:`QUERY_BLOCKS` blocks of queries, each against the keys up to its own
last query, so the blocks above the diagonal (masked anyway) are never formed: for 4 blocks, 5/8 of the
T x T work, the same maths. The skewing works on a block of rows as on the whole (:func:`relative_logits`).
"""

import keras
import tensorflow as tf

from seqgen.families.keras_network import NamedWeightsNetwork
from seqgen.families.transformer.inference import variable_shapes

LAYER_NORM_EPSILON = 1e-5
_MASKED = -1e9


def _initializer(name, shape):
    if name.endswith(("bias", "beta")):
        return "zeros"
    if name.endswith("gamma"):
        return "ones"
    if name.endswith("control_embedding"):
        return "zeros"  # a model warm-started without it starts as it was
    if name.endswith("class_embedding"):
        # Unit-norm rows on average, like the d_model-wide output of a layer norm scaled by 1 / sqrt(d).
        return keras.initializers.RandomNormal(stddev=shape[1] ** -0.5)
    if name.endswith("position_kernel"):
        # Position features are +-1: the sum over them then has about the class embedding's scale.
        return keras.initializers.RandomNormal(stddev=(shape[0] * shape[1]) ** -0.5)
    if name.endswith("relative_embedding"):
        return keras.initializers.RandomNormal(stddev=shape[-1] ** -0.5)
    return "glorot_uniform"


def layer_norm(x, gamma, beta):
    """Layer normalization of the rows of ``x`` [N, d], with its gradient written out: autodiff through
    tf.nn.moments takes about twice the operations (tests/test_transformer.py ties the two)."""
    return _layer_norm(x, tf.convert_to_tensor(gamma), tf.convert_to_tensor(beta))  # variables read outside


@tf.custom_gradient
def _layer_norm(x, gamma, beta):
    centred = x - tf.reduce_mean(x, -1, keepdims=True)
    inverse = tf.math.rsqrt(tf.reduce_mean(tf.square(centred), -1, keepdims=True) + LAYER_NORM_EPSILON)
    normed = centred * inverse

    def gradient(d_out):
        d_normed = d_out * gamma
        mean_d = tf.reduce_mean(d_normed, -1, keepdims=True)
        along = tf.reduce_mean(d_normed * normed, -1, keepdims=True)
        d_x = inverse * (d_normed - mean_d - normed * along)
        return d_x, tf.reduce_sum(d_out * normed, 0), tf.reduce_sum(d_out, 0)

    return normed * gamma + beta, gradient


def _keep_mask(shape, rate, bits=16):
    """A random boolean tensor of ``shape``, True with probability 1 - rate (rate rounded to 1 / 2**bits), and
    1 / that probability. ``bits`` (8 or 16) random bits per element, where tf.nn.dropout draws a float32:
    on the [H, B, T, T] attention weights that drawing alone took a quarter of a training step (8 bits
    there), and on the residual stream tf.nn.dropout's forward and backward took 1.6x these (16 bits: rate
    0.1 is 0.10001)."""
    levels = 2**bits
    threshold = min(levels - 1, max(1, round(rate * levels)))
    count = tf.reduce_prod(tf.cast(shape, tf.int64))
    per_word = 32 // bits
    seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32)
    words = tf.random.stateless_uniform(
        [(count + per_word - 1) // per_word], seed=seed, minval=None, maxval=None, dtype=tf.int32
    )
    values = tf.reshape(tf.bitcast(words, tf.uint8 if bits == 8 else tf.uint16), [-1])[:count]
    return tf.reshape(values >= threshold, shape), levels / (levels - threshold)


def dropout(x, rate):
    """``x`` with each value zeroed at chance ``rate`` (to 1/65536) and the rest scaled by 1 / (1 - rate)."""
    keep, scale = _keep_mask(tf.shape(x), rate)
    return tf.where(keep, x * scale, tf.zeros([], x.dtype))


def relative_table(embedding, length):
    """[H, T + 1, head_size]: a zero row, then the embeddings of distances T - 1, ..., 1, 0 (clipped)."""
    distances = tf.minimum(tf.range(length - 1, -1, -1), embedding.shape[1] - 1)
    table = tf.gather(embedding, distances, axis=1)
    return tf.pad(table, [[0, 0], [1, 0], [0, 0]])


def relative_logits(q, embedding, start, end):
    """``q_i . E[min(i - j, R)]`` [H, B, end - start, end] for the queries ``q`` [H, B, end - start, head_size]
    of steps start .. end - 1 against the keys of steps 0 .. end - 1 (meaningful for j <= i), by skewing:
    row i of ``q @ table^T`` [rows, end + 1], read flat from its (end - start)-th value as [rows, end]."""
    heads, batch, rows, size = tf.unstack(tf.shape(q))
    table = relative_table(embedding, end)
    flat = tf.matmul(tf.reshape(q, [heads, batch * rows, size]), table, transpose_b=True)  # [H, B*rows, end+1]
    flat = tf.reshape(flat, [heads, batch, rows * (end + 1)])
    # tf.slice, not strided slicing: StridedSlice and its gradient are about 5x slower here on CPU.
    return tf.reshape(tf.slice(flat, [0, 0, rows], [-1, -1, rows * end]), [heads, batch, rows, end])


def causal_mask(start, end, dtype):
    """[end - start, end]: 0 where key j <= query i (steps start .. end - 1), -1e9 elsewhere."""
    later = tf.range(end)[None, :] > tf.range(start, end)[:, None]
    return tf.cast(tf.where(later, _MASKED, 0.0), dtype)  # float16: -inf where later, never 0 * -inf


#: Query blocks of the causal attention (module docstring).
QUERY_BLOCKS = 4


class Transformer(NamedWeightsNetwork):
    """Class indices [batch, time] in, logits [batch, time, num_classes] out."""

    def __init__(self, config, **kwargs):
        from seqgen.families.transformer import num_tokens

        super().__init__(
            config, variable_shapes(config.encoding, config.hparams, num_tokens(config)), _initializer, **kwargs
        )
        # Position features of steps 0 .. POSITION_TABLE_STEPS - 1, for tokens given with their steps.
        self.position_table = tf.constant(config.encoding.position_features(POSITION_TABLE_STEPS), tf.float32)

    def _attention(self, x, v, scope, training, batch, length):
        """The causal relative self-attention sublayer's output [B * T, d] for normalized inputs x [B * T, d]."""
        hparams = self.hparams
        heads, size = hparams.num_heads, hparams.head_size
        kernel = tf.concat([v[f"{scope}/{part}/kernel"] for part in ("query", "key", "value")], 1)
        bias = tf.concat([v[f"{scope}/{part}/bias"] for part in ("query", "key", "value")], 0)
        qkv = tf.reshape(tf.matmul(x, kernel) + bias, [batch, length, 3, heads, size])
        qkv = tf.transpose(qkv, [2, 3, 0, 1, 4])  # [3, H, B, T, size]
        q, k, values = tf.unstack(qkv)
        q *= size**-0.5
        block = (length + QUERY_BLOCKS - 1) // QUERY_BLOCKS
        out = tf.concat(
            [
                self._attend(q, k, values, v[f"{scope}/relative_embedding"], start, end, training)
                for start, end in (
                    (tf.minimum(index * block, length), tf.minimum((index + 1) * block, length))
                    for index in range(QUERY_BLOCKS)
                )
            ],
            axis=2,
        )
        out = tf.transpose(out, [1, 2, 0, 3])  # [B, T, H, size]
        out = tf.reshape(out, [batch * length, heads * size])
        return tf.matmul(out, v[f"{scope}/output/kernel"]) + v[f"{scope}/output/bias"]

    def _attend(self, q, k, values, embedding, start, end, training):
        """[H, B, end - start, size]: what the queries of steps start .. end - 1 read from steps 0 .. end - 1."""
        q = tf.slice(q, [0, 0, start, 0], [-1, -1, end - start, -1])
        k = tf.slice(k, [0, 0, 0, 0], [-1, -1, end, -1])
        values = tf.slice(values, [0, 0, 0, 0], [-1, -1, end, -1])
        logits = tf.matmul(q, k, transpose_b=True) + relative_logits(q, embedding, start, end)
        weights = tf.nn.softmax(logits + causal_mask(start, end, logits.dtype), axis=-1)
        scale = 1.0
        rate = self.hparams.attention_dropout
        if training and rate:
            keep, scale = _keep_mask(tf.shape(weights), rate, bits=8)
            weights = tf.where(keep, weights, tf.zeros([], weights.dtype))
        out = tf.matmul(weights, values)
        return out * scale if scale != 1.0 else out  # dropout's 1 / keep probability, on [H, B, rows, size]

    def _ffn(self, x, v, scope):
        hidden = tf.matmul(x, v[f"{scope}/hidden/kernel"]) + v[f"{scope}/hidden/bias"]
        hidden = tf.nn.relu(hidden) if self.hparams.activation == "relu" else tf.nn.gelu(hidden, approximate=True)
        return tf.matmul(hidden, v[f"{scope}/output/kernel"]) + v[f"{scope}/output/bias"]

    def call(self, classes, training=False, steps=None, controls=None):
        """Logits [B, T, C] of tokens ``classes`` [B, T]; ``steps`` [B, T], the track step of each token (its
        position features), defaults to its index (a plain stream, see seqgen.prompt); ``controls`` [B, T, K],
        the control tokens each token reads at every step (-1: none; ``Prompt.step_controls``), default the
        stream's control tokens read so far (as the NumPy stepper reads them)."""
        # Under mixed precision the sublayers compute in bfloat16 or float16 (``v``); the residual stream,
        # the layer norms and the logits stay float32 (``f``).
        f, v = self.variables_by_name(), self.compute_weights()
        hparams = self.hparams
        rate = hparams.dropout if training else 0.0
        classes = tf.convert_to_tensor(classes)
        x = tf.gather(f["input/class_embedding"], classes) + f["input/bias"]
        if "input/control_embedding" in f:
            # The control tokens read so far, summed, added to every token (inference.control_table).
            table = f["input/control_embedding"]
            before, tokens = self.config.encoding.num_classes, f["input/class_embedding"].shape[0]
            table = tf.pad(table, [[before, tokens - before - table.shape[0] + 1], [0, 0]])  # a zero row last
            if controls is None:
                x += tf.cumsum(tf.gather(table, classes), axis=1)
            else:
                controls = tf.convert_to_tensor(controls)
                x += tf.reduce_sum(tf.gather(table, tf.where(controls < 0, tokens, controls)), axis=2)
        if "input/position_kernel" in f:
            if steps is None:
                positions = self._positions(classes)
            else:
                positions = tf.gather(self.position_table, tf.convert_to_tensor(steps))
            x += tf.matmul(tf.cast(positions, tf.float32), f["input/position_kernel"])
        if rate:
            x = dropout(x, rate)
        # The residual stream as [B * T, d]: each dense layer is one plain matrix product (and its weights'
        # gradient one more), not a batch of B products summed afterwards.
        batch, length = tf.shape(classes)[0], tf.shape(classes)[1]
        x = tf.reshape(x, [batch * length, hparams.d_model])
        for k in range(hparams.num_layers):
            for sublayer in ("attention", "ffn"):
                scope = f"layer_{k}/{sublayer}"
                normed = tf.cast(layer_norm(x, f[f"{scope}/norm/gamma"], f[f"{scope}/norm/beta"]), self.compute_dtype)
                if sublayer == "attention":
                    out = self._attention(normed, v, scope, training, batch, length)
                else:
                    out = self._ffn(normed, v, scope)
                if rate:
                    out = dropout(out, rate)
                x += tf.cast(out, tf.float32)
        x = layer_norm(x, f["final_norm/gamma"], f["final_norm/beta"])
        logits = tf.matmul(x, f["output/kernel"]) + f["output/bias"]
        return tf.reshape(logits, [batch, length, f["output/kernel"].shape[1]])


#: Prompt streams' steps reach at most this (tracks are cut at 512 steps for training).
POSITION_TABLE_STEPS = 8192


class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak`` over ``warmup_steps`` optimizer steps, then ``peak * sqrt(warmup / step)``
    (:func:`seqgen.families.transformer.learning_rate_at` in TensorFlow)."""

    def __init__(self, peak, warmup_steps):
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        step = tf.cast(step, tf.float32) + 1.0
        if not self.warmup_steps:
            return tf.constant(self.peak, tf.float32) + 0.0 * step
        warmup = float(self.warmup_steps)
        return self.peak * tf.minimum(step / warmup, tf.sqrt(warmup / step))

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps}


def build_model(config) -> Transformer:
    """A built :class:`Transformer` for ``config`` (variables created)."""
    model = Transformer(config)
    model(tf.zeros([1, 1], tf.int32))
    return model
