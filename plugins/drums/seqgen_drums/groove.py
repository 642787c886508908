"""Played drums: the velocity and timing of every hit, as GrooVAE's hits / velocities / offsets.

A *played event* (:class:`PlayedEvent`) is a drum event (a frozenset of MIDI pitches sounding at one
16th-note step) that also knows how each pitch was played: its MIDI velocity (1-127) and its onset's
offset from the step, in fractions of a step (-0.5 to 0.5; negative is early). Plain frozensets are
the quantized score: velocity 100, on the grid.

Per step and per drum class (the nine classes of ``drum_kit``), :func:`groove_arrays` gives GrooVAE's
representation (Gillick et al. 2019): a hit (0/1), its velocity (MIDI / 127) and its offset. When two
notes of one class fall in one step (a flam, or a kick on 35 and 36), the loudest is kept.

:class:`GrooveTracks` extracts played tracks from the *unquantized* notes of a performance (the
quantized NoteSequence keeps each note's real start time beside its step), writes them back as MIDI
with their velocities and shifted onsets, reads them from MIDI files and draws them (velocity as shade,
timing as the position of a tick within the cell). :class:`GrooveTask` is what the ``groove`` family
trains on: records with the classes of the score and the velocities and offsets as per-step values.
"""

import collections
import math

import attrs
import numpy as np

from seqgen.errors import SeqgenError
from seqgen.task import Task
from seqgen.tracks import MidiPrimer, Note, seconds_per_step

from seqgen_drums.encoding import DRUM_KIT_PITCHES, DrumEncoding
from seqgen_drums.tracks import DrumTracks

NUM_DRUMS = len(DRUM_KIT_PITCHES)
#: Steps per bar of the groove representation (4/4 at 4 steps per quarter note), as GrooVAE.
STEPS_PER_BAR = 16
DEFAULT_VELOCITY = 100
#: Per-step values of a groove record: the velocities (0-1) of the nine drums, then their offsets.
VALUE_WIDTH = 2 * NUM_DRUMS
KIT = DrumEncoding(DRUM_KIT_PITCHES)


class PlayedEvent(frozenset):
    """A drum event (frozenset of pitches) with ``notes``: ``{pitch: (velocity 1-127, offset in steps)}``."""

    def __new__(cls, notes):
        event = super().__new__(cls, notes)
        event.notes = {int(pitch): (int(velocity), float(offset)) for pitch, (velocity, offset) in dict(notes).items()}
        return event

    def __reduce__(self):
        return PlayedEvent, (self.notes,)

    def __repr__(self):
        return "PlayedEvent({" + ", ".join(f"{p}: ({v}, {o:+.3f})" for p, (v, o) in sorted(self.notes.items())) + "})"

    def velocity(self, pitch) -> int:
        return self.notes[pitch][0]

    def offset(self, pitch) -> float:
        return self.notes[pitch][1]


def played(event, pitch) -> tuple:
    """``(velocity, offset)`` of ``pitch`` in ``event``: a PlayedEvent's, else (100, 0.0)."""
    notes = getattr(event, "notes", None)
    return notes[pitch] if notes and pitch in notes else (DEFAULT_VELOCITY, 0.0)


class PlayedTrack(list):
    """A list of events that also records the tempo it was played at (``qpm``)."""

    def __init__(self, events=(), qpm: float = 120.0):
        super().__init__(events)
        self.qpm = float(qpm)


def groove_arrays(events, encoding=KIT) -> tuple:
    """GrooVAE's ``(hits, velocities, offsets)``, each float32 [T, 9]: per step and drum class, whether
    it is hit, its velocity / 127 and its offset in steps (the loudest note of the class in the step)."""
    num_steps = len(events)
    hits = np.zeros((num_steps, NUM_DRUMS), np.float32)
    velocities = np.zeros((num_steps, NUM_DRUMS), np.float32)
    offsets = np.zeros((num_steps, NUM_DRUMS), np.float32)
    for step, event in enumerate(events):
        for pitch in event:
            drum = encoding.drum_type(pitch)
            if drum is None:
                continue
            velocity, offset = played(event, pitch)
            if not hits[step, drum] or velocity / 127.0 > velocities[step, drum]:
                hits[step, drum] = 1.0
                velocities[step, drum] = velocity / 127.0
                offsets[step, drum] = offset
    return hits, velocities, offsets


def hits_of_classes(classes) -> np.ndarray:
    """Float32 hits [..., 9] of drum_kit classes (bit k: drum k sounds); negative classes (padding) hit nothing."""
    classes = np.asarray(classes, np.int64)
    return ((np.maximum(classes, 0)[..., None] >> np.arange(NUM_DRUMS)) & 1).astype(np.float32)


def apply_groove(events, velocities, offsets, encoding=KIT) -> list:
    """PlayedEvents: each pitch of ``events`` with the velocity (0-1, to MIDI 1-127) and offset (steps) of
    its drum class at its step; pitches outside the kit stay at velocity 100 on the grid."""
    out = []
    for step, event in enumerate(events):
        notes = {}
        for pitch in event:
            drum = encoding.drum_type(pitch)
            if drum is None:
                notes[pitch] = (DEFAULT_VELOCITY, 0.0)
            else:
                velocity = int(np.clip(round(float(velocities[step, drum]) * 127.0), 1, 127))
                notes[pitch] = (velocity, float(np.clip(offsets[step, drum], -0.5, 0.5)))
        out.append(PlayedEvent(notes) if notes else frozenset())
    return out


# -- extraction from performances ---------------------------------------------------------------------

def _played_by_step(quantized_sequence, ignore_is_drum) -> tuple:
    """Sorted steps and their PlayedEvents; each pitch keeps its loudest note of the step."""
    from seqgen.noteseq import sequences_lib

    qpm = quantized_sequence.tempos[0].qpm if quantized_sequence.tempos else 120.0
    steps_per_second = sequences_lib.steps_per_quarter_to_steps_per_second(
        quantized_sequence.quantization_info.steps_per_quarter, qpm)
    notes = collections.defaultdict(dict)
    for note in quantized_sequence.notes:
        if not (note.is_drum or ignore_is_drum) or not note.velocity:
            continue
        step = note.quantized_start_step
        offset = min(0.5, max(-0.5, note.start_time * steps_per_second - step))
        known = notes[step].get(note.pitch)
        if known is None or note.velocity > known[0]:
            notes[step][note.pitch] = (note.velocity, offset)
    steps = sorted(notes)
    return steps, [PlayedEvent(notes[s]) for s in steps], qpm


def extract_played_tracks(quantized_sequence, extraction) -> tuple:
    """``(list of PlayedTracks, counts)``: drum tracks cut as :func:`seqgen_drums.extraction.extract_drum_tracks`
    cuts them (same starts, gaps, min_bars, max_steps and windows), each event a PlayedEvent. Only 4/4
    (16 steps per bar at 4 steps per quarter note) is kept, as GrooVAE."""
    from seqgen.noteseq import sequences_lib
    from seqgen_drums.extraction import cut_tracks

    counts = collections.Counter()
    steps_per_bar = sequences_lib.steps_per_bar_in_quantized_sequence(quantized_sequence)
    if steps_per_bar != STEPS_PER_BAR:
        counts["groove_sequences_discarded_not_16_steps_per_bar"] += 1
        return [], counts
    steps, events, qpm = _played_by_step(quantized_sequence, extraction.ignore_is_drum)
    if not steps and any(note.velocity for note in quantized_sequence.notes):
        counts["sequences_without_drum_notes"] += 1
    tracks = cut_tracks(steps, events, STEPS_PER_BAR, extraction, counts)
    return [PlayedTrack(track, qpm) for track in tracks], counts


# -- MIDI files ----------------------------------------------------------------------------------------

def _quarters(time: float, tempos: list) -> float:
    """Quarter notes from the start to ``time`` seconds through the tempo map ``[(time, qpm)]``."""
    quarters = 0.0
    for i, (start, qpm) in enumerate(tempos):
        end = tempos[i + 1][0] if i + 1 < len(tempos) else math.inf
        if time <= start:
            break
        quarters += (min(time, end) - start) * qpm / 60.0
    return quarters


def played_from_midi(path, steps_per_quarter: int = 4) -> MidiPrimer:
    """The drum part of a MIDI file as PlayedEvents on its own grid (events, qpm and bar length as
    :func:`seqgen_drums.primer.primer_from_midi` reads them, which also checks the file)."""
    import pretty_midi

    from seqgen_drums import primer

    found = primer.primer_from_midi(path, steps_per_quarter)
    midi = pretty_midi.PrettyMIDI(str(path))
    times, qpms = midi.get_tempo_changes()
    tempos = sorted((float(t), float(q)) for t, q in zip(times, qpms) if q > 0)
    if not tempos or tempos[0][0] > 0:
        tempos.insert(0, (0.0, 120.0))
    notes = collections.defaultdict(dict)
    for note in (n for instrument in midi.instruments if instrument.is_drum for n in instrument.notes):
        if note.velocity > 0:
            position = _quarters(note.start, tempos) * steps_per_quarter
            step = int(position + 0.5)
            known = notes[step].get(note.pitch)
            if known is None or note.velocity > known[0]:
                notes[step][note.pitch] = (note.velocity, min(0.5, max(-0.5, position - step)))
    first = min(notes)
    start = first - first % found.steps_per_bar
    events = []
    for index, event in enumerate(found.events):
        played_notes = {pitch: notes.get(start + index, {}).get(pitch, (DEFAULT_VELOCITY, 0.0)) for pitch in event}
        events.append(PlayedEvent(played_notes) if played_notes else frozenset())
    return attrs.evolve(found, events=PlayedTrack(events, found.qpm))


class GrooveTracks(DrumTracks):
    """Drum tracks that keep how they were played: extraction keeps velocities and timing, MIDI output
    plays them, MIDI input reads them, and pictures show them."""

    def extract(self, quantized_sequence, extraction):
        return extract_played_tracks(quantized_sequence, extraction)

    def notes(self, events, steps_per_quarter, qpm):
        step_seconds = seconds_per_step(steps_per_quarter, qpm)
        found = []
        for step, event in enumerate(events):
            for pitch in sorted(event):
                velocity, offset = played(event, pitch)
                start = max(0.0, (step + offset) * step_seconds)
                found.append(Note(pitch, start, start + step_seconds, velocity=velocity, is_drum=True))
        return found

    def primer_from_midi(self, path, config):
        return played_from_midi(path, config.steps_per_quarter)


# -- the training task ---------------------------------------------------------------------------------

class GrooveTask(Task):
    """Learn the velocity and offset of every hit from the score (the hits) of a track.

    Records: the drum_kit class of each step and ``values`` [T, 18] (velocities 0-1 of the nine drums,
    then their offsets in steps), with the tempo as context ``qpm``. Batches are ``(classes [B, T], -1
    where padded; targets [B, T, 18]; mask [B, T])``; training cuts tracks into windows of the hparam
    ``train_window`` steps (every half window, whole bars apart). The loss is the mean over hits of the
    squared velocity error plus the squared offset error (offsets doubled, to -1..1, as GrooVAE's tanh).
    """

    sum_keys = ("loss_sum", "tokens", "hits", "velocity_abs_sum", "offset_abs_sum")

    def encode(self, config, track):
        from seqgen import records

        _, velocities, offsets = groove_arrays(track, config.encoding)
        values = np.concatenate([velocities, offsets], axis=1)
        return records.encode_example(config.encoding.events_to_classes(track), values,
                                      {"qpm": getattr(track, "qpm", 120.0)})

    def dataset(self, config, files):
        from seqgen import records

        return records.values_dataset(files, config.encoding.num_classes, VALUE_WIDTH, ("qpm",))

    def batches(self, config, dataset, batch_size, training, seed=None):
        import tensorflow as tf

        def pair(classes, values, context):
            return classes, values

        def with_mask(classes, values):
            return classes, values, tf.cast(classes >= 0, tf.float32)

        dataset = dataset.map(pair)
        shapes = ([None], [None, VALUE_WIDTH])
        if not training:
            return dataset.padded_batch(batch_size, shapes, (-1, 0.0)).map(with_mask)
        window = config.hparams.train_window
        hop = max(STEPS_PER_BAR, window // 2 // STEPS_PER_BAR * STEPS_PER_BAR)

        def windows(classes, values):
            length = tf.shape(classes)[0]
            # The last window reaches the track's end (padded when shorter); a short track is one window.
            starts = tf.range(0, tf.maximum(length - window, 0) + hop, hop)
            return tf.data.Dataset.from_tensor_slices(starts).map(
                lambda s: (classes[s:s + window], values[s:s + window]))

        dataset = dataset.cache().flat_map(windows).shuffle(8192, seed=seed, reshuffle_each_iteration=True)
        dataset = dataset.repeat().padded_batch(batch_size, ([window], [window, VALUE_WIDTH]), (-1, 0.0),
                                                drop_remainder=True)
        return dataset.map(with_mask).prefetch(2)

    def loss_count(self, batch):
        import tensorflow as tf

        classes = batch[0]
        return tf.reduce_sum(_hits(classes))

    def batch_sums(self, config, network, batch, training):
        import tensorflow as tf

        classes, targets, mask = batch
        hits = _hits(classes)
        predicted = network(classes, training=training)
        velocity_error = (predicted[..., :NUM_DRUMS] - targets[..., :NUM_DRUMS]) * hits
        offset_error = (predicted[..., NUM_DRUMS:] - targets[..., NUM_DRUMS:]) * hits
        return {
            "loss_sum": tf.reduce_sum(tf.square(velocity_error)) + 4.0 * tf.reduce_sum(tf.square(offset_error)),
            "tokens": tf.reduce_sum(mask),
            "hits": tf.reduce_sum(hits),
            "velocity_abs_sum": tf.reduce_sum(tf.abs(velocity_error)),
            "offset_abs_sum": tf.reduce_sum(tf.abs(offset_error)),
        }

    def summarize(self, sums):
        hits = sums["hits"]

        def ratio(value):
            return value / hits if hits else math.nan

        return {"loss": ratio(sums["loss_sum"]),
                "metrics/velocity_mae": 127.0 * ratio(sums["velocity_abs_sum"]),
                "metrics/offset_mae": ratio(sums["offset_abs_sum"])}


def _hits(classes):
    """Float hits [B, T, 9] of drum_kit classes [B, T]; padding (-1) hits nothing."""
    import tensorflow as tf

    bits = tf.bitwise.right_shift(tf.maximum(classes, 0)[..., None], tf.range(NUM_DRUMS, dtype=classes.dtype))
    return tf.cast(tf.bitwise.bitwise_and(bits, 1), tf.float32)


GROOVE_TASK = GrooveTask()


def check_track(events) -> None:
    """SeqgenError when ``events`` is no drum track (for humanize's inputs)."""
    if not len(events):
        raise SeqgenError("the drum track is empty; nothing to humanize")
    for step, event in enumerate(events):
        if not isinstance(event, (set, frozenset)) or not all(isinstance(p, (int, np.integer)) for p in event):
            raise SeqgenError(f"step {step} of the drum track is {event!r}, not a set of MIDI pitches")
