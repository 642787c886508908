"""The groove and drumify families in NumPy (no TensorFlow): the network, whole tracks at once, and the
operations a loaded model offers: ``humanize`` / ``humanize_tracks`` and ``drumify`` / ``drumify_tracks``.

GRU as Keras' and cuDNN's (``reset_after``): with ``x W + b_x = [x_z, x_r, x_n]`` and ``h U + b_h =
[h_z, h_r, h_n]``: ``z = sigmoid(x_z + h_z)``, ``r = sigmoid(x_r + h_r)``, ``n = tanh(x_n + r h_n)``,
``h' = z h + (1 - z) n``. The backward direction reads each track from its own last step.

Sampling: one ``numpy.random.Generator`` from ``seed`` draws the tracks' values in the order the tracks
are given, so the same seed gives the same output, and a track's output does not depend on how the
tracks are batched.
"""

import contextlib
import math

import numpy as np

from seqgen.errors import SeqgenError

from seqgen_drums.events.groove import (
    NUM_DRUMS,
    STEPS_PER_BAR,
    PlayedEvent,
    apply_groove,
    check_feel,
    check_track,
    hits_of_classes,
)
from seqgen_drums.families.groove.heads import output_width, sample_hits, split, velocities_and_offsets

DIRECTIONS = ("forward", "backward")


def variable_shapes(family, hparams) -> dict:
    """Variable names and shapes of a ``family`` network, in a fixed order."""
    shapes, previous = {}, family.num_inputs
    for k, size in enumerate(hparams.rnn_layer_sizes):
        for direction in DIRECTIONS:
            scope = f"bigru_{k}/{direction}"
            shapes[f"{scope}/kernel"] = (previous, 3 * size)
            shapes[f"{scope}/recurrent_kernel"] = (size, 3 * size)
            shapes[f"{scope}/input_bias"] = (3 * size,)
            shapes[f"{scope}/recurrent_bias"] = (3 * size,)
        previous = 2 * size
    width = output_width(hparams, family.with_hits)
    shapes["output/kernel"] = (previous, width)
    shapes["output/bias"] = (width,)
    return shapes


def position_features(num_steps: int) -> np.ndarray:
    """One-hot position in the bar [T, 16]: step t is at t mod 16 (tracks start on a bar line)."""
    return np.eye(STEPS_PER_BAR, dtype=np.float32)[np.arange(num_steps) % STEPS_PER_BAR]


def score_features(classes) -> np.ndarray:
    """The groove family's inputs [T, 25] of a score's drum_kit classes [T]: hits, then position."""
    return np.concatenate([hits_of_classes(classes), position_features(len(classes))], axis=-1)


def rhythm_features(rhythm) -> np.ndarray:
    """The drumify family's inputs [T, 19] of a Rhythm: tap, velocity, offset doubled, then position."""
    taps = rhythm.taps.astype(np.float32)
    return np.concatenate(
        [np.stack([taps, rhythm.velocities, 2.0 * rhythm.offsets * taps], -1), position_features(len(rhythm))], axis=-1
    )


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


def forward(weights: dict, hparams, features, lengths) -> np.ndarray:
    """The network's raw outputs [B, T, width] (see :mod:`.heads`) of ``features`` [B, T, num_inputs],
    rows real up to ``lengths`` [B]."""
    with _one_blas_thread():
        w = {name: np.asarray(value, np.float32) for name, value in weights.items()}
        inputs = np.asarray(features, np.float32).transpose(1, 0, 2)
        lengths = np.asarray(lengths)
        for k in range(len(hparams.rnn_layer_sizes)):
            inputs = np.concatenate(
                [
                    _gru(
                        inputs,
                        lengths,
                        *(
                            w[f"bigru_{k}/{d}/{part}"]
                            for part in ("kernel", "recurrent_kernel", "input_bias", "recurrent_bias")
                        ),
                        reverse=d == "backward",
                    )
                    for d in DIRECTIONS
                ],
                axis=-1,
            )
        return (inputs @ w["output/kernel"] + w["output/bias"]).transpose(1, 0, 2)


def predict(model, features: list, batch_size: int = 64) -> list:
    """The output parts (:func:`.heads.split`) of each track's features [T, num_inputs], batched by length."""
    out = [None] * len(features)
    order = sorted(range(len(features)), key=lambda i: len(features[i]))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        lengths = np.array([len(features[i]) for i in rows])
        batch = np.zeros((len(rows), lengths.max(), features[rows[0]].shape[-1]), np.float32)
        for row, i in enumerate(rows):
            batch[row, : lengths[row]] = features[i]
        raw = forward(model.weights, model.config.hparams, batch, lengths)
        for row, i in enumerate(rows):
            out[i] = split(raw[row, : lengths[row]], model.config.hparams, model.config.family.with_hits)
    return out


def check_temperature(temperature: float) -> float:
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature >= 0):
        raise SeqgenError(f"the temperature must be a number from 0 (the mean) up, got {temperature!r}")
    return float(temperature)


def _events(track, config) -> tuple:
    """(events, qpm) of a Track, a MidiPrimer-like object, a list of events or drum primer text."""
    if isinstance(track, str):
        track = config.tracks.parse_primer(track)
    events = list(getattr(track, "events", track))
    check_track(events)
    return events, float(getattr(track, "qpm", 120.0))


def humanize_tracks(
    model, tracks, temperature: float = 1.0, seed=None, amount: float = 1.0, swing: float = 0.0
) -> list:
    """Played versions of ``tracks`` (Tracks, lists of drum events or primer text): every hit kept, each given a
    velocity and an offset drawn from the model's distributions at ``temperature`` (0: their means; a
    model that predicts means gives those whatever the temperature), ``amount`` (0..1) of the way from how
    the track has it (its own velocities and timing where its events are played, else velocity 100 on the
    grid), with the off-beat 16ths delayed by ``swing`` steps; Tracks of the model's config at each qpm."""
    from seqgen.model import Track

    check_temperature(temperature)
    check_feel(amount, swing)
    config = model.config
    inputs = [_events(track, config) for track in tracks]
    parts = predict(model, [score_features(config.encoding.events_to_classes(events)) for events, _ in inputs])
    rng = np.random.default_rng(seed)
    out = []
    for (events, qpm), track_parts in zip(inputs, parts):
        velocities, offsets = velocities_and_offsets(track_parts, config.hparams, temperature, rng)
        out.append(Track(apply_groove(events, velocities, offsets, config.encoding, amount, swing), config, qpm))
    return out


def humanize(model, track, temperature: float = 1.0, seed=None, amount: float = 1.0, swing: float = 0.0):
    """The played version of one drum track (see :func:`humanize_tracks`)."""
    return humanize_tracks(model, [track], temperature, seed, amount, swing)[0]


def _rhythm(rhythm):
    from seqgen_drums.events.rhythm import Rhythm, check_rhythm, rhythm_from_events

    if not isinstance(rhythm, Rhythm):
        events = list(getattr(rhythm, "events", rhythm))
        if not all(isinstance(event, (set, frozenset)) for event in events):
            raise SeqgenError(
                "a rhythm must be a Rhythm (seqgen_drums.events.rhythm) or a list of events (sets of pitches)"
            )
        rhythm = rhythm_from_events(events, float(getattr(rhythm, "qpm", 120.0)))
    return check_rhythm(rhythm)


def drum_events(hits, velocities, offsets, encoding) -> list:
    """PlayedEvents of hits [T, 9] (bool) with velocities (0-1) and offsets (steps): each drum as the first
    pitch of its drum type."""
    pitches = [encoding.class_to_event(1 << drum) for drum in range(NUM_DRUMS)]
    out = []
    for step in range(len(hits)):
        notes = {}
        for drum in np.flatnonzero(hits[step]):
            (pitch,) = pitches[drum]
            velocity = int(np.clip(round(float(velocities[step, drum]) * 127.0), 1, 127))
            notes[pitch] = (velocity, float(np.clip(offsets[step, drum], -0.5, 0.5)))
        out.append(PlayedEvent(notes) if notes else frozenset())
    return out


def sample_drums(parts, taps, hparams, temperature, rng) -> tuple:
    """``(hits [T, 9] bool, velocities, offsets)`` drawn from a drumify model's output parts: drums sound
    only at taps, and at least one at each tap (the likeliest when none was drawn)."""
    hits = sample_hits(parts["hit"], temperature, rng) & taps[:, None]
    silent = taps & ~hits.any(axis=1)
    hits[silent, parts["hit"][silent].argmax(axis=1)] = True
    velocities, offsets = velocities_and_offsets(parts, hparams, temperature, rng)
    return hits, velocities, offsets


def drumify_tracks(model, rhythms, temperature: float = 1.0, seed=None) -> list:
    """Drum grooves that follow ``rhythms`` (:class:`seqgen_drums.events.rhythm.Rhythm`, or lists of events whose
    non-empty steps are taps): per tap, the drums, velocities and offsets drawn from the model at
    ``temperature`` (0: the likely drums at their distributions' means). Tracks of the model's config."""
    from seqgen.model import Track

    check_temperature(temperature)
    rhythms = [_rhythm(rhythm) for rhythm in rhythms]
    parts = predict(model, [rhythm_features(rhythm) for rhythm in rhythms])
    rng = np.random.default_rng(seed)
    config = model.config
    return [
        Track(
            drum_events(*sample_drums(track_parts, rhythm.taps, config.hparams, temperature, rng), config.encoding),
            config,
            rhythm.qpm,
        )
        for rhythm, track_parts in zip(rhythms, parts)
    ]


def drumify(model, rhythm, temperature: float = 1.0, seed=None):
    """A drum groove that follows one rhythm (see :func:`drumify_tracks`)."""
    return drumify_tracks(model, [rhythm], temperature, seed)[0]
