"""The ``groove`` model family: humanize a drum score (GrooVAE's Humanize task), given the whole score.

Input per step: the nine drum hits of the quantized score and the step's position in the bar (one-hot
of 16). A stack of bidirectional GRU layers (non-causal: the whole score is known) reads them, and a
dense layer gives for each step and drum a velocity (sigmoid, 0-1) and an offset (0.5 tanh, in steps).
Only the outputs of hits are used and trained (:class:`seqgen_drums.groove.GrooveTask`).

The family does not generate (no stepper); a loaded model offers ``model.humanize(track)`` and
``model.humanize_tracks(tracks)``, run here in NumPy without TensorFlow, a whole track at once. The
Keras network for training is in :mod:`seqgen_drums.groove_network`.

GRU as Keras' and cuDNN's (``reset_after``): with ``x W + b_x = [x_z, x_r, x_n]`` and ``h U + b_h =
[h_z, h_r, h_n]``: ``z = sigmoid(x_z + h_z)``, ``r = sigmoid(x_r + h_r)``, ``n = tanh(x_n + r h_n)``,
``h' = z h + (1 - z) n``. The backward direction reads each track from its own last step.
"""

import contextlib

import attrs
import numpy as np

from seqgen.family import ModelFamily
from seqgen.hparams import HParams, architecture, positive, positive_sizes, probability

from seqgen_drums.groove import GROOVE_TASK, NUM_DRUMS, STEPS_PER_BAR, check_track, hits_of_classes

NUM_INPUTS = NUM_DRUMS + STEPS_PER_BAR
DIRECTIONS = ("forward", "backward")


@attrs.frozen
class GrooveHParams(HParams):
    """Hyperparameters of the groove family."""

    batch_size: int = attrs.field(default=64, validator=positive)
    learning_rate: float = attrs.field(default=0.002, converter=float, validator=positive)
    #: Units of each bidirectional GRU layer, per direction.
    rnn_layer_sizes: tuple = architecture(default=(128, 128), converter=tuple, validator=positive_sizes)
    dropout_keep_prob: float = attrs.field(default=0.8, converter=float, validator=probability)
    #: Training windows, in steps (tracks are cut into windows of this many steps, every half window).
    train_window: int = attrs.field(default=128, validator=positive)


def variable_shapes(hparams) -> dict:
    """Variable names and shapes in a fixed order."""
    shapes, previous = {}, NUM_INPUTS
    for k, size in enumerate(hparams.rnn_layer_sizes):
        for direction in DIRECTIONS:
            scope = f"bigru_{k}/{direction}"
            shapes[f"{scope}/kernel"] = (previous, 3 * size)
            shapes[f"{scope}/recurrent_kernel"] = (size, 3 * size)
            shapes[f"{scope}/input_bias"] = (3 * size,)
            shapes[f"{scope}/recurrent_bias"] = (3 * size,)
        previous = 2 * size
    shapes["output/kernel"] = (previous, 2 * NUM_DRUMS)
    shapes["output/bias"] = (2 * NUM_DRUMS,)
    return shapes


def position_features(num_steps: int) -> np.ndarray:
    """One-hot position in the bar [T, 16]: step t is at t mod 16 (tracks start on a bar line)."""
    return np.eye(STEPS_PER_BAR, dtype=np.float32)[np.arange(num_steps) % STEPS_PER_BAR]


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _gru(inputs, lengths, kernel, recurrent_kernel, input_bias, recurrent_bias, reverse):
    """One GRU direction over time-major ``inputs`` [T, B, n]; outputs [T, B, size], zero past each length."""
    num_steps, batch, _ = inputs.shape
    size = recurrent_kernel.shape[0]
    projected = inputs @ kernel + input_bias
    h = np.zeros((batch, size), np.float32)
    out = np.zeros((num_steps, batch, size), np.float32)
    order = range(num_steps - 1, -1, -1) if reverse else range(num_steps)
    for t in order:
        live = (t < lengths)[:, None]
        x_z, x_r, x_n = np.split(projected[t], 3, axis=1)
        h_z, h_r, h_n = np.split(h @ recurrent_kernel + recurrent_bias, 3, axis=1)
        z = _sigmoid(x_z + h_z)
        r = _sigmoid(x_r + h_r)
        n = np.tanh(x_n + r * h_n)
        h = np.where(live, z * h + (1.0 - z) * n, h)  # the backward pass starts at each track's own end
        out[t] = np.where(live, h, 0.0)
    return out


def _one_blas_thread():
    """One BLAS thread while the GRU runs (when threadpoolctl is there): its products are small, one per
    step, and a second thread stalls every step when another process holds a core (15x slower, measured)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def predict(weights: dict, hparams, classes) -> tuple:
    """``(velocities 0-1, offsets in steps)``, each float32 [B, T, 9], of drum_kit classes [B, T] (-1: padding)."""
    with _one_blas_thread():
        return _predict(weights, hparams, classes)


def _predict(weights, hparams, classes):
    classes = np.asarray(classes, np.int64)
    lengths = (classes >= 0).sum(axis=1)
    inputs = np.concatenate([hits_of_classes(classes),
                             np.broadcast_to(position_features(classes.shape[1]), classes.shape + (STEPS_PER_BAR,))],
                            axis=-1).transpose(1, 0, 2)
    w = {name: np.asarray(value, np.float32) for name, value in weights.items()}
    for k in range(len(hparams.rnn_layer_sizes)):
        inputs = np.concatenate([_gru(inputs, lengths, *(w[f"bigru_{k}/{d}/{part}"] for part in (
            "kernel", "recurrent_kernel", "input_bias", "recurrent_bias")), reverse=d == "backward")
            for d in DIRECTIONS], axis=-1)
    out = (inputs @ w["output/kernel"] + w["output/bias"]).transpose(1, 0, 2)
    return _sigmoid(out[..., :NUM_DRUMS]), 0.5 * np.tanh(out[..., NUM_DRUMS:])


def _events(track, config) -> tuple:
    """(events, qpm) of a Track, a MidiPrimer-like object, a list of events or drum primer text."""
    if isinstance(track, str):
        track = config.tracks.parse_primer(track)
    events = list(getattr(track, "events", track))
    check_track(events)
    return events, float(getattr(track, "qpm", 120.0))


def humanize_tracks(model, tracks, batch_size: int = 64) -> list:
    """Played versions of ``tracks`` (Tracks, lists of drum events or primer text): every hit kept, each given the
    velocity and offset the model predicts; returned as Tracks of the groove config at each track's qpm."""
    from seqgen.model import Track

    from seqgen_drums.groove import apply_groove

    config = model.config
    inputs = [_events(track, config) for track in tracks]
    out = [None] * len(inputs)
    order = sorted(range(len(inputs)), key=lambda i: len(inputs[i][0]))
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        width = max(len(inputs[i][0]) for i in rows)
        classes = np.full((len(rows), width), -1, np.int64)
        for row, i in enumerate(rows):
            classes[row, :len(inputs[i][0])] = config.encoding.events_to_classes(inputs[i][0])
        velocities, offsets = predict(model.weights, config.hparams, classes)
        for row, i in enumerate(rows):
            events, qpm = inputs[i]
            out[i] = Track(apply_groove(events, velocities[row], offsets[row], config.encoding), config, qpm)
    return out


def humanize(model, track):
    """The played version of one drum track (see :func:`humanize_tracks`)."""
    return humanize_tracks(model, [track])[0]


class GrooveFamily(ModelFamily):
    name = "groove"
    hparams_class = GrooveHParams
    task = GROOVE_TASK
    generative = False

    def build(self, config):
        from seqgen_drums import groove_network

        return groove_network.build_model(config)

    def variable_shapes(self, config):
        return variable_shapes(config.hparams)

    def operations(self):
        return {"humanize": humanize, "humanize_tracks": humanize_tracks}

    def activation_values(self, hparams) -> int:
        # Per step and direction: the GRU's input projections, gates and state.
        return 2 * 8 * sum(hparams.rnn_layer_sizes)
