"""The transformer family in plain NumPy: B sequences at once, one step at a time, with a key/value cache.

No TensorFlow. Each step feeds one class per sequence; every layer appends its key and value of the
new step to the cache and attends from the new step's query over all cached steps. The relative term of
key j at step t is ``q_t . E[min(t - j, R)]``: the query's products with the R + 1 relative embeddings,
read back to front (a view, no gather or skewing), the clipped far part broadcast.

The cache is preallocated and doubles when full, so a step copies nothing of size T except in
:meth:`TransformerStepper.reorder` with rows other than ``0..B-1`` (beam search keeping some beams and
dropping others), which copies each kept row's filled part into the memory of a cache no state uses any
more (a fresh allocation of that size costs three times the copy in page faults).
"""

import threading
import weakref

import numpy as np

from seqgen.errors import SeqgenError
from seqgen.family import Stepper

LAYER_NORM_EPSILON = 1e-5
_INITIAL_CAPACITY = 64
#: :meth:`TransformerStepper.feed` reads at most this many attention scores (16 MB) at once.
FEED_SCORES = 2**22
_GELU = np.float32(np.sqrt(2.0 / np.pi))


def variable_shapes(encoding, hparams, num_tokens=None) -> dict:
    """The network's variable names and shapes for an encoding and hparams, in creation order;
    ``num_tokens`` (the classes, by default) is the class embedding's rows (prompt tokens included)."""
    d, ff, heads = hparams.d_model, hparams.d_ff, hparams.num_heads
    num_tokens = num_tokens or encoding.num_classes
    shapes = {"input/class_embedding": (num_tokens, d)}
    controls = num_control_tokens(encoding, hparams, num_tokens)
    if hparams.control_every_step and controls:
        shapes["input/control_embedding"] = (controls, d)
    if encoding.num_position_features:
        shapes["input/position_kernel"] = (encoding.num_position_features, d)
    shapes["input/bias"] = (d,)
    for k in range(hparams.num_layers):
        scope = f"layer_{k}"
        shapes[f"{scope}/attention/norm/gamma"] = (d,)
        shapes[f"{scope}/attention/norm/beta"] = (d,)
        for part in ("query", "key", "value"):
            shapes[f"{scope}/attention/{part}/kernel"] = (d, d)
            shapes[f"{scope}/attention/{part}/bias"] = (d,)
        shapes[f"{scope}/attention/relative_embedding"] = (heads, hparams.max_relative_distance + 1, d // heads)
        shapes[f"{scope}/attention/output/kernel"] = (d, d)
        shapes[f"{scope}/attention/output/bias"] = (d,)
        shapes[f"{scope}/ffn/norm/gamma"] = (d,)
        shapes[f"{scope}/ffn/norm/beta"] = (d,)
        shapes[f"{scope}/ffn/hidden/kernel"] = (d, ff)
        shapes[f"{scope}/ffn/hidden/bias"] = (ff,)
        shapes[f"{scope}/ffn/output/kernel"] = (ff, d)
        shapes[f"{scope}/ffn/output/bias"] = (d,)
    shapes["final_norm/gamma"] = (d,)
    shapes["final_norm/beta"] = (d,)
    shapes["output/kernel"] = (d, encoding.num_classes)
    shapes["output/bias"] = (encoding.num_classes,)
    return shapes


def num_control_tokens(encoding, hparams, num_tokens) -> int:
    """How many of the ``num_tokens`` token ids are control tokens (seqgen.prompt: classes, controls, sentinels)."""
    return num_tokens - encoding.num_classes - (2 if hparams.infill else 0)


def control_table(control_embedding, num_classes: int, num_tokens: int):
    """[num_tokens, d]: the control tokens' rows of ``control_embedding``, zeros for every other token."""
    before, after = num_classes, num_tokens - num_classes - len(control_embedding)
    return np.pad(control_embedding, [(before, after), (0, 0)])


def random_weights(config, seed=0, scale=0.3) -> dict:
    """A weights dict of the shapes ``config`` calls for, every weight (layer norms included) random around
    its usual initial value (for tests and benchmarks; training starts from the Keras initializers)."""
    rng = np.random.default_rng(seed)
    weights = {}
    from seqgen.families.transformer import num_tokens

    for name, shape in variable_shapes(config.encoding, config.hparams, num_tokens(config)).items():
        value = rng.normal(0.0, scale, shape)
        if name.endswith("gamma"):
            value += 1.0
        weights[name] = value.astype(np.float32)
    return weights


def _layer_norm(x, gamma, beta):
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    variance = np.square(centered).mean(axis=-1, keepdims=True)
    return centered / np.sqrt(variance + LAYER_NORM_EPSILON) * gamma + beta


def _gelu(x):
    """tanh-approximated GELU, as ``tf.nn.gelu(approximate=True)``."""
    return 0.5 * x * (1.0 + np.tanh(_GELU * (x + 0.044715 * x * x * x)))


def _check_weights(weights, encoding, hparams, num_tokens):
    """A one-line SeqgenError naming the first way ``weights`` do not fit the encoding and hparams."""
    if "input/class_embedding" not in weights or "output/kernel" not in weights:
        raise SeqgenError("the weights are not a transformer: no input/class_embedding or output/kernel")
    layers = 0
    while f"layer_{layers}/attention/relative_embedding" in weights:
        layers += 1
    found = {"num_layers": layers, "d_model": weights["input/class_embedding"].shape[1]}
    if layers:
        heads, distances, size = weights["layer_0/attention/relative_embedding"].shape
        found.update(
            num_heads=heads, max_relative_distance=distances - 1, d_ff=weights["layer_0/ffn/hidden/bias"].shape[0]
        )
    for name, value in found.items():
        if value != getattr(hparams, name):
            raise SeqgenError(
                f"the weights have {name}={value} but the hparams say {getattr(hparams, name)}; "
                f"pass the hparams the model was trained with"
            )
    classes = weights["input/class_embedding"].shape[0]
    features = weights["input/position_kernel"].shape[0] if "input/position_kernel" in weights else 0
    if (classes, features) != (num_tokens, encoding.num_position_features):
        raise SeqgenError(
            f"the weights expect {classes} classes and prompt tokens and {features} position "
            f"features but the config has {num_tokens} and {encoding.num_position_features}; "
            f"is this a model of another config?"
        )
    expected = variable_shapes(encoding, hparams, num_tokens)
    for name, shape in expected.items():
        if name not in weights:
            raise SeqgenError(f"the transformer weights lack {name}")
        if tuple(weights[name].shape) != tuple(shape):
            raise SeqgenError(
                f"weight {name} has shape {list(weights[name].shape)}, the hparams call for {list(shape)}"
            )
    extra = sorted(set(weights) - set(expected))
    if extra:
        raise SeqgenError(f"unexpected weights for this transformer: {extra[:3]}")


class _Cache:
    """Keys and values of every layer, ``kv`` [B, layers, 2 (key, value), H, capacity, head_size].

    ``written`` is how many steps hold keys: a state of length n may append in place only when
    ``written == n``; otherwise another state sharing the cache has gone ahead and it copies first.
    Each row's steps ``:n`` are 2 x layers x H contiguous blocks, so copying a row is a few memcpys.
    """

    __slots__ = ("kv", "written", "__weakref__")

    def __init__(self, kv, written):
        self.kv, self.written = kv, written

    @property
    def capacity(self) -> int:
        return self.kv.shape[-2]

    def copy_into(self, new, rows, length):
        """Fill cache ``new`` with rows ``rows`` (all rows when None) of the first ``length`` steps."""
        kv, new.written = self.kv, length
        if rows is None:
            new.kv[..., :length, :] = kv[..., :length, :]
        elif length:
            # Row by row: a fancy-indexed copy of the filled part is 2-3 times slower (strided, buffered).
            for target, source in enumerate(rows):
                new.kv[target, ..., :length, :] = kv[source, ..., :length, :]
        return new


class CacheState:
    """The stepper's state: a key/value cache (possibly shared with other states), how many steps of it
    are this state's, and (``control_every_step``) the sum [B, d] of the control embeddings read so far."""

    __slots__ = ("cache", "length", "controls")

    def __init__(self, cache, length, controls=None):
        self.cache, self.length, self.controls = cache, length, controls

    @property
    def batch(self) -> int:
        return self.cache.kv.shape[0]


class _Layer:
    def __init__(self, w, scope, hparams, scale):
        a, f = f"{scope}/attention/", f"{scope}/ffn/"
        self.norm1 = w[a + "norm/gamma"], w[a + "norm/beta"]
        # The query's 1 / sqrt(head_size) is folded into its kernel and bias.
        self.qkv_kernel = np.concatenate([w[a + "query/kernel"] * scale, w[a + "key/kernel"], w[a + "value/kernel"]], 1)
        self.qkv_bias = np.concatenate([w[a + "query/bias"] * scale, w[a + "key/bias"], w[a + "value/bias"]])
        # [H, head_size, R + 1]: q [H, B, size] @ this = q . E[r] for every distance r.
        self.relative = np.ascontiguousarray(np.swapaxes(w[a + "relative_embedding"], 1, 2))
        self.out_kernel, self.out_bias = w[a + "output/kernel"], w[a + "output/bias"]
        self.norm2 = w[f + "norm/gamma"], w[f + "norm/beta"]
        self.hidden_kernel, self.hidden_bias = w[f + "hidden/kernel"], w[f + "hidden/bias"]
        self.ffn_kernel, self.ffn_bias = w[f + "output/kernel"], w[f + "output/bias"]


def _by_key(by_distance, length: int, far: int):
    """[B, H, T, length + T]: for new token i (index length + i) and key j, ``by_distance[..., i, r]`` at
    r = min(length + i - j, far), for j <= length + i (later keys: any value, they are masked).

    A view: each token's row is one gather of distances laid out along the keys (the same for every row,
    shifted by one key per row), read with a stride one element short of the row's length, so that row i
    starts i elements later. Cheaper than gathering by a [T, length + T] index (half the time of a feed)."""
    batch, heads, count, _ = by_distance.shape
    total = length + count
    # Row i of ``laid`` holds, at column m, the term of distance length + count - 1 - m (clipped to 0..far).
    laid = np.take(by_distance, np.clip(length + count - 1 - np.arange(total + count - 1), 0, far), axis=-1)
    strides = laid.strides
    return np.lib.stride_tricks.as_strided(
        laid[..., count - 1 :],
        (batch, heads, count, total),
        (strides[0], strides[1], strides[2] - strides[3], strides[3]),
        writeable=False,
    )


class TransformerStepper(Stepper):
    """The transformer of one config, batched, with a key/value cache per layer (see :class:`CacheState`)."""

    def __init__(self, weights: dict, encoding, hparams, num_tokens=None):
        weights = {name: np.asarray(value, np.float32) for name, value in weights.items()}
        _check_weights(weights, encoding, hparams, num_tokens or encoding.num_classes)
        self.encoding = encoding
        self.hparams = hparams
        self.num_classes = encoding.num_classes
        self.heads, self.head_size = hparams.num_heads, hparams.head_size
        self.max_distance = hparams.max_relative_distance
        self.gelu = hparams.activation == "gelu"
        scale = np.float32(self.head_size**-0.5)
        self.layers = [_Layer(weights, f"layer_{k}", hparams, scale) for k in range(hparams.num_layers)]
        self.class_table = weights["input/class_embedding"]
        self.control_table = None
        if "input/control_embedding" in weights:
            self.control_table = control_table(
                weights["input/control_embedding"], self.num_classes, len(self.class_table)
            )
        self.input_bias = weights["input/bias"]
        self.position_kernel = weights.get("input/position_kernel")
        self.final_norm = weights["final_norm/gamma"], weights["final_norm/beta"]
        self.out_kernel, self.out_bias = weights["output/kernel"], weights["output/bias"]
        self._positions = np.zeros((0, hparams.d_model), np.float32)
        self._spares = []  # the memory of at most two caches no state uses any more
        self._lock = threading.RLock()

    def initial_state(self, batch: int) -> CacheState:
        controls = None if self.control_table is None else np.zeros((batch, self.control_table.shape[1]), np.float32)
        return CacheState(self._new_cache(batch, _INITIAL_CAPACITY), 0, controls)

    def _new_cache(self, batch, capacity) -> _Cache:
        """An empty cache, in the memory of a cache no state uses any more when one of that shape is spare.

        Beam search replaces its whole cache every step: reusing the memory avoids page-faulting tens of
        megabytes per step (three times slower than the copy itself).
        """
        shape = (batch, len(self.layers), 2, self.heads, capacity, self.head_size)
        with self._lock:  # a cache may be collected in another thread, or while this runs
            spares, self._spares = self._spares, []
            fits = [kv for kv in spares if kv.shape == shape]
            kv = fits[0] if fits else np.empty(shape, np.float32)
            self._spares = [other for other in spares if other is not kv] + self._spares
        cache = _Cache(kv, 0)
        weakref.finalize(cache, self._recycle, kv).atexit = False
        return cache

    def _recycle(self, kv):
        """Called when the cache that held ``kv`` is garbage: keep its memory (and one other) for reuse."""
        with self._lock:
            self._spares = self._spares[-1:] + [kv]

    def reorder(self, state: CacheState, rows) -> CacheState:
        rows = np.asarray(rows, np.int64)
        if len(rows) == state.batch and np.array_equal(rows, np.arange(state.batch)):
            return CacheState(state.cache, state.length, state.controls)  # shared; the first to step appends
        new = self._new_cache(len(rows), state.cache.capacity)
        controls = None if state.controls is None else state.controls[rows]
        return CacheState(state.cache.copy_into(new, rows, state.length), state.length, controls)

    def _position_term(self, position: int):
        """Input bias plus the position features' contribution at ``position`` [d]."""
        if position >= len(self._positions):
            rows = self.input_bias[None, :].repeat(max(2 * position, 64), 0)
            if self.position_kernel is not None:
                rows = rows + self.encoding.position_features(len(rows)) @ self.position_kernel
            self._positions = rows
        return self._positions[position]

    def _writable(self, state: CacheState, steps: int = 1) -> _Cache:
        """The state's cache, copied when another state went ahead in it, grown (doubled) until ``steps``
        more fit."""
        cache, length = state.cache, state.length
        capacity = cache.capacity
        while length + steps > capacity:
            capacity *= 2
        if cache.written != length or capacity != cache.capacity:
            cache = cache.copy_into(self._new_cache(state.batch, capacity), None, length)
        return cache

    def step(self, classes, position: int, state: CacheState):
        """Feed token ``classes[b]`` (an event class or a prompt token) standing at track step ``position``
        to every sequence b: (logits [B, C] float32, new state). Relative attention counts the tokens
        fed (a prompt stream's steps need not rise, see seqgen.prompt)."""
        classes = np.asarray(classes, np.int64)
        batch, heads, size, reach = len(classes), self.heads, self.head_size, self.max_distance + 1
        cache = self._writable(state)
        index = state.length
        t = index + 1
        near = min(t, reach)  # the last `near` keys have distances near - 1, ..., 0; earlier ones clip to R
        x = self.class_table[classes] + self._position_term(position)
        controls = state.controls
        if controls is not None:
            controls = controls + self.control_table[classes]
            x += controls
        for k, layer in enumerate(self.layers):
            h = _layer_norm(x, *layer.norm1)
            qkv = h @ layer.qkv_kernel + layer.qkv_bias
            q = qkv[:, : heads * size].reshape(batch, heads, size)
            kv = cache.kv[:, k]  # [B, 2, H, capacity, size]
            kv[:, :, :, index] = qkv[:, heads * size :].reshape(batch, 2, heads, size)
            scores = (q[:, :, None, :] @ kv[:, 0, :, :t].swapaxes(-1, -2))[:, :, 0]  # [B, H, t]
            # q . E[r] for every distance r: one [B, size] x [size, R + 1] product per head.
            by_distance = (q.swapaxes(0, 1) @ layer.relative).swapaxes(0, 1)  # [B, H, R + 1]
            scores[..., t - near :] += by_distance[..., near - 1 :: -1]
            if t > near:
                scores[..., : t - near] += by_distance[..., reach - 1 :]
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            attended = (scores[:, :, None, :] @ kv[:, 1, :, :t]).reshape(batch, heads * size)
            x = x + (attended @ layer.out_kernel + layer.out_bias)
            h = _layer_norm(x, *layer.norm2)
            hidden = h @ layer.hidden_kernel + layer.hidden_bias
            hidden = _gelu(hidden) if self.gelu else np.maximum(hidden, 0.0, out=hidden)
            x = x + (hidden @ layer.ffn_kernel + layer.ffn_bias)
        cache.written = t
        logits = _layer_norm(x, *self.final_norm) @ self.out_kernel + self.out_bias
        return logits.astype(np.float32, copy=False), CacheState(cache, t, controls)

    def feed(self, classes, positions, state: CacheState):
        """:meth:`step` for each of ``classes`` [B, T] (at track steps ``positions`` [T]) in one pass: every
        layer reads the T new tokens together, attending causally over the cache and them (a prompt, or
        scoring whole sequences, costs a few matrix products rather than T steps)."""
        classes = np.asarray(classes, np.int64)
        positions = np.asarray(positions, np.int64)
        batch, count = classes.shape
        if count == 0:
            return np.zeros((batch, 0, self.num_classes), np.float32), state
        chunk = max(1, FEED_SCORES // (batch * self.heads * (state.length + count)))
        if count > chunk:  # in pieces, each attending over the cache and the pieces before it
            pieces = []
            for begin in range(0, count, chunk):
                piece, state = self.feed(classes[:, begin : begin + chunk], positions[begin : begin + chunk], state)
                pieces.append(piece)
            return np.concatenate(pieces, 1), state
        heads, size, far = self.heads, self.head_size, self.max_distance
        cache = self._writable(state, count)
        length = state.length
        total = length + count
        self._position_term(int(positions.max()))  # grows the table of position terms to cover them
        x = self.class_table[classes] + self._positions[positions]  # [B, T, d]
        controls = state.controls
        if controls is not None:
            running = controls[:, None] + np.cumsum(self.control_table[classes], axis=1)
            x += running
            controls = running[:, -1]
        # Keys after new token i (index length + i) are masked.
        future = np.where(np.arange(total)[None, :] > length + np.arange(count)[:, None], -np.inf, 0.0)
        future = future.astype(np.float32)
        for k, layer in enumerate(self.layers):
            qkv = _layer_norm(x, *layer.norm1) @ layer.qkv_kernel + layer.qkv_bias  # [B, T, 3d]
            qkv = qkv.reshape(batch, count, 3, heads, size).transpose(2, 0, 3, 1, 4)  # [3, B, H, T, size]
            kv = cache.kv[:, k]  # [B, 2, H, capacity, size]
            kv[:, :, :, length:total] = qkv[1:].swapaxes(0, 1)
            q = qkv[0]
            scores = q @ kv[:, 0, :, :total].swapaxes(-1, -2)  # [B, H, T, total]
            by_distance = q @ layer.relative  # [B, H, T, R + 1]
            scores += _by_key(by_distance, length, far)
            scores += future
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            attended = (scores @ kv[:, 1, :, :total]).transpose(0, 2, 1, 3).reshape(batch, count, heads * size)
            x = x + (attended @ layer.out_kernel + layer.out_bias)
            hidden = _layer_norm(x, *layer.norm2) @ layer.hidden_kernel + layer.hidden_bias
            hidden = _gelu(hidden) if self.gelu else np.maximum(hidden, 0.0, out=hidden)
            x = x + (hidden @ layer.ffn_kernel + layer.ffn_bias)
        cache.written = total
        logits = _layer_norm(x, *self.final_norm) @ self.out_kernel + self.out_bias
        return logits.astype(np.float32, copy=False), CacheState(cache, total, controls)
