"""What the groove family's networks output per step, and how it becomes velocities, offsets and hits.

A network's last dense layer gives per step a flat vector, cut into named parts in this order:

- ``hit`` [9] (Drumify models only): the logit that each drum sounds at the step;
- with ``velocity_bins`` and ``offset_bins`` (models that sample): ``velocity`` [9, velocity_bins] and
  ``offset`` [9, offset_bins], the logits of a categorical distribution per drum over equal bins of the
  velocity (0-1, MIDI / 127) and of the offset (-0.5..0.5 steps);
- without bins (the first groove model, trained on squared error): ``velocity`` [9] (through a sigmoid,
  0-1) and ``offset`` [9] (0.5 tanh, in steps): the predicted means.

NumPy only; :mod:`.task` does the same with TensorFlow for training.
"""

import numpy as np

from seqgen_drums.events.groove import NUM_DRUMS

VELOCITY_RANGE = (0.0, 1.0)
OFFSET_RANGE = (-0.5, 0.5)


def binned(hparams) -> bool:
    """Whether the model predicts distributions (bins) rather than means."""
    return hparams.velocity_bins > 0


def layout(hparams, with_hits: bool) -> list:
    """``[(name, start, stop, shape of the part per step)]`` of the network's output vector."""
    parts = [("hit", (NUM_DRUMS,))] if with_hits else []
    if binned(hparams):
        parts += [("velocity", (NUM_DRUMS, hparams.velocity_bins)), ("offset", (NUM_DRUMS, hparams.offset_bins))]
    else:
        parts += [("velocity", (NUM_DRUMS,)), ("offset", (NUM_DRUMS,))]
    found, start = [], 0
    for name, shape in parts:
        stop = start + int(np.prod(shape))
        found.append((name, start, stop, shape))
        start = stop
    return found


def output_width(hparams, with_hits: bool) -> int:
    return layout(hparams, with_hits)[-1][2]


def split(out: np.ndarray, hparams, with_hits: bool) -> dict:
    """The named parts of network outputs [..., width]."""
    return {
        name: out[..., start:stop].reshape(out.shape[:-1] + shape)
        for name, start, stop, shape in layout(hparams, with_hits)
    }


def bin_edges(bins: int, value_range) -> np.ndarray:
    low, high = value_range
    return np.linspace(low, high, bins + 1, dtype=np.float32)


def _softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=-1, keepdims=True)


def sample_bins(logits: np.ndarray, value_range, temperature: float, rng) -> np.ndarray:
    """Values [...] drawn from categorical ``logits`` [..., bins]: a bin drawn with the logits divided by
    ``temperature``, then a point drawn uniformly within it. Temperature 0: the distribution's mean."""
    edges = bin_edges(logits.shape[-1], value_range)
    centers = (edges[:-1] + edges[1:]) / 2
    if temperature == 0:
        return (_softmax(logits.astype(np.float64)) @ centers).astype(np.float32)
    probabilities = _softmax(logits.astype(np.float64) / temperature)
    cumulative = np.cumsum(probabilities, axis=-1)
    draws = rng.random(logits.shape[:-1] + (1,))
    index = np.minimum((draws > cumulative).sum(axis=-1), logits.shape[-1] - 1)
    width = edges[1] - edges[0]
    return (edges[index] + width * rng.random(index.shape)).astype(np.float32)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def velocities_and_offsets(parts: dict, hparams, temperature: float = 0.0, rng=None) -> tuple:
    """``(velocities 0-1, offsets in steps)`` [..., 9] from the parts of :func:`split`: sampled (the
    distributions' means at temperature 0), or a mean model's means whatever the temperature."""
    if not binned(hparams):
        return _sigmoid(parts["velocity"]), 0.5 * np.tanh(parts["offset"])
    return (
        sample_bins(parts["velocity"], VELOCITY_RANGE, temperature, rng),
        sample_bins(parts["offset"], OFFSET_RANGE, temperature, rng),
    )


def sample_hits(logits: np.ndarray, temperature: float, rng) -> np.ndarray:
    """Bool hits [..., 9] drawn from hit ``logits`` divided by ``temperature`` (temperature 0: the likely ones)."""
    if temperature == 0:
        return logits > 0
    return rng.random(logits.shape) < _sigmoid(logits / temperature)
