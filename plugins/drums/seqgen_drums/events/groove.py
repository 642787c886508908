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
timing as the position of a tick within the cell). The groove family's training task
(:mod:`seqgen_drums.families.groove.task`) reads them as records: the classes of the score with the
velocities and offsets as per-step values.
"""

import collections

import attrs
import numpy as np

from seqgen.errors import SeqgenError
from seqgen.tracks import MidiPrimer, Note, seconds_per_step

from seqgen_drums.events.encoding import DRUM_KIT_PITCHES, DrumEncoding
from seqgen_drums.events.tracks import DrumTracks

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


def apply_groove(events, velocities, offsets, encoding=KIT, amount: float = 1.0, swing: float = 0.0) -> list:
    """PlayedEvents: each pitch of ``events`` moved ``amount`` of the way from how it is written (a PlayedEvent's
    own velocity and offset, else velocity 100 on the grid) to the velocity (0-1, to MIDI 1-127) and offset
    (steps) of its drum class at its step, then the off-beat 16ths (odd steps) delayed by ``swing`` steps;
    pitches outside the kit stay as written."""
    check_feel(amount, swing)
    out = []
    for step, event in enumerate(events):
        notes = {}
        for pitch in event:
            velocity, offset = played(event, pitch)
            drum = encoding.drum_type(pitch)
            if drum is not None:
                velocity = (1.0 - amount) * velocity + amount * float(velocities[step, drum]) * 127.0
                offset = (1.0 - amount) * offset + amount * float(offsets[step, drum]) + (swing if step % 2 else 0.0)
            notes[pitch] = (int(np.clip(round(velocity), 1, 127)), float(np.clip(offset, -0.5, 0.5)))
        out.append(PlayedEvent(notes) if notes else frozenset())
    return out


#: The most swing: the off-beat 16ths delayed by half a step.
MAX_SWING = 0.5


def check_feel(amount: float, swing: float) -> None:
    """SeqgenError unless ``amount`` is in 0..1 and ``swing`` in 0..MAX_SWING."""
    if not 0.0 <= amount <= 1.0:
        raise SeqgenError(
            f"the humanize amount must be in 0..1 (0: the score as written, 1: fully played), got {amount}"
        )
    if not 0.0 <= swing <= MAX_SWING:
        raise SeqgenError(
            f"swing must be in 0..{MAX_SWING} (the share of a step the off-beat 16ths are delayed), got {swing}"
        )


# -- extraction from performances ---------------------------------------------------------------------


def _played_by_step(quantized_sequence, ignore_is_drum) -> tuple:
    """Sorted steps and their PlayedEvents; each pitch keeps its loudest note of the step."""
    from seqgen.noteseq import sequences_lib

    qpm = quantized_sequence.tempos[0].qpm if quantized_sequence.tempos else 120.0
    steps_per_second = sequences_lib.steps_per_quarter_to_steps_per_second(
        quantized_sequence.quantization_info.steps_per_quarter, qpm
    )
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
    """``(list of PlayedTracks, counts)``: drum tracks cut as :func:`seqgen_drums.events.extraction.extract_drum_tracks`
    cuts them (same starts, gaps, min_bars, max_steps and windows), each event a PlayedEvent. Only 4/4
    (16 steps per bar at 4 steps per quarter note) is kept, as GrooVAE."""
    from seqgen.noteseq import sequences_lib
    from seqgen_drums.events.extraction import cut_tracks

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


def played_from_midi(path, steps_per_quarter: int = 4) -> MidiPrimer:
    """The drum part of a MIDI file as PlayedEvents on its own grid (events, qpm and bar length as
    :func:`seqgen_drums.events.primer.primer_from_midi` reads them, which also checks the file)."""
    import pretty_midi

    from seqgen_drums.events import primer

    found = primer.primer_from_midi(path, steps_per_quarter)
    midi = pretty_midi.PrettyMIDI(str(path))
    times, qpms = midi.get_tempo_changes()
    tempos = sorted((float(t), float(q)) for t, q in zip(times, qpms) if q > 0)
    if not tempos or tempos[0][0] > 0:
        tempos.insert(0, (0.0, 120.0))
    notes = collections.defaultdict(dict)
    for note in (n for instrument in midi.instruments if instrument.is_drum for n in instrument.notes):
        if note.velocity > 0:
            position = primer.grid_position(note.start, tempos, found.qpm, steps_per_quarter)
            step = primer.nearest_step(position)
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


def check_track(events) -> None:
    """SeqgenError when ``events`` is no drum track (for humanize's inputs)."""
    if not len(events):
        raise SeqgenError("the drum track is empty; nothing to humanize")
    for step, event in enumerate(events):
        if not isinstance(event, (set, frozenset)) or not all(isinstance(p, (int, np.integer)) for p in event):
            raise SeqgenError(f"step {step} of the drum track is {event!r}, not a set of MIDI pitches")
