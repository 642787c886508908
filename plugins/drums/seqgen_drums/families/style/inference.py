"""The style_classifier family's NumPy leaf: its variables' names and shapes, the logits of a batch of tracks, and
the probabilities and most likely style of drum tracks, without TensorFlow. The Keras network
(:mod:`.network`) computes the same logits and imports its variables' shapes from here.
"""

import numpy as np

from seqgen.errors import SeqgenError

from seqgen_drums.events.controls import STYLES
from seqgen_drums.events.groove import NUM_DRUMS, STEPS_PER_BAR, hits_of_classes
from seqgen_drums.families.groove.inference import position_features

#: Input features per step: the nine drum hits and the position in the bar (one-hot of 16).
NUM_INPUTS = NUM_DRUMS + STEPS_PER_BAR


def variable_shapes(hparams) -> dict:
    """Variable names and shapes in a fixed order."""
    shapes, previous = {}, NUM_INPUTS
    for k, size in enumerate(hparams.filters):
        shapes[f"conv_{k}/kernel"] = (hparams.kernel_size, previous, size)
        shapes[f"conv_{k}/bias"] = (size,)
        previous = size
    shapes["output/kernel"] = (previous, len(STYLES))
    shapes["output/bias"] = (len(STYLES),)
    return shapes


def _causal_conv(x, kernel, bias, dilation):
    """``y[t] = bias + sum_j x[t - (K - 1 - j) * dilation] @ kernel[j]`` over [B, T, n] (zeros before 0)."""
    size, num_steps = kernel.shape[0], x.shape[1]
    out = np.broadcast_to(bias, x.shape[:2] + bias.shape).copy()
    for j in range(size):
        shift = (size - 1 - j) * dilation
        if shift < num_steps:
            out[:, shift:] += x[:, : num_steps - shift] @ kernel[j]
    return out


def logits(weights: dict, hparams, classes) -> np.ndarray:
    """Style logits [B, styles] of drum_kit classes [B, T] (-1: padding after a track)."""
    classes = np.asarray(classes, np.int64)
    mask = (classes >= 0).astype(np.float32)[..., None]
    x = np.concatenate(
        [
            hits_of_classes(classes),
            np.broadcast_to(position_features(classes.shape[1]), classes.shape + (STEPS_PER_BAR,)),
        ],
        axis=-1,
    )
    w = {name: np.asarray(value, np.float32) for name, value in weights.items()}
    for k in range(len(hparams.filters)):
        x = np.maximum(_causal_conv(x, w[f"conv_{k}/kernel"], w[f"conv_{k}/bias"], hparams.kernel_size**k), 0.0)
    pooled = (x * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)
    return pooled @ w["output/kernel"] + w["output/bias"]


def _events(track, config) -> list:
    """The events of a Track, a list of events or drum primer text; a SeqgenError for an empty one."""
    if isinstance(track, str):
        track = config.tracks.parse_primer(track)
    events = list(getattr(track, "events", track))
    if not events:
        raise SeqgenError("the drum track is empty; nothing to classify")
    return events


def style_probabilities(model, tracks, batch_size: int = 64) -> np.ndarray:
    """Float [N, styles]: the probability of each style (in ``model.styles`` order) for each of ``tracks``
    (Tracks, lists of drum events or primer text), each track read whole."""
    config = model.config
    inputs = [config.encoding.events_to_classes(_events(track, config)) for track in tracks]
    out = np.zeros((len(inputs), len(STYLES)), np.float64)
    for start in range(0, len(inputs), batch_size):
        rows = inputs[start : start + batch_size]
        classes = np.full((len(rows), max(len(row) for row in rows)), -1, np.int64)
        for row, track_classes in enumerate(rows):
            classes[row, : len(track_classes)] = track_classes
        scores = logits(model.weights, config.hparams, classes).astype(np.float64)
        scores -= scores.max(axis=1, keepdims=True)
        out[start : start + len(rows)] = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    return out


def classify_style(model, track) -> str:
    """The most likely style of one drum track (see :func:`style_probabilities`)."""
    return STYLES[int(np.argmax(style_probabilities(model, [track])[0]))]
