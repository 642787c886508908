"""One-voice rhythms, what Drumify plays drums to: per 16th-note step, a tap or not, its velocity and its
offset from the step.

A rhythm comes from the onsets of a MIDI part (a bass line, a melody, a clap track, or all the file's
notes), from tap times (tapped on a key), from drum or played events, or from a performance by
collapsing it (GrooVAE's Tap2Drum: a tap at every step where a drum sounds, with the loudest hit's
velocity and offset). Rhythms run in 4/4 bars of 16 steps, from the bar of the first onset.
"""

import collections

import attrs
import numpy as np

from seqgen.errors import SeqgenError

from seqgen_drums.events.groove import STEPS_PER_BAR, played

STEPS_PER_QUARTER = 4
#: The longest rhythm, in steps (over three hours at 120 qpm), as the longest drum primer.
MAX_STEPS = 100_000


@attrs.frozen
class Rhythm:
    """``velocities`` [T] (0-1; 0 where there is no tap), ``offsets`` [T] (steps, -0.5..0.5), tempo ``qpm``."""

    velocities: np.ndarray = attrs.field(converter=lambda v: np.asarray(v, np.float32))
    offsets: np.ndarray = attrs.field(converter=lambda v: np.asarray(v, np.float32))
    qpm: float = 120.0

    @property
    def taps(self) -> np.ndarray:
        return self.velocities > 0

    def __len__(self):
        return len(self.velocities)


def collapse(hits, velocities, offsets) -> tuple:
    """``(taps, tap velocities, tap offsets)`` [T] of a performance's arrays [T, 9]: a tap where any drum
    sounds, with the loudest hit's velocity and offset."""
    hits = np.asarray(hits, bool)
    loudness = np.where(hits, velocities, -1.0)
    loudest = loudness.argmax(axis=-1)
    taps = hits.any(axis=-1)
    tap_velocities = np.where(taps, np.take_along_axis(velocities, loudest[..., None], -1)[..., 0], 0.0)
    tap_offsets = np.where(taps, np.take_along_axis(offsets, loudest[..., None], -1)[..., 0], 0.0)
    return taps, tap_velocities.astype(np.float32), tap_offsets.astype(np.float32)


def rhythm_from_events(events, qpm: float = 120.0) -> Rhythm:
    """The rhythm of drum events (sets of pitches; PlayedEvents keep their velocities and offsets): a tap at
    every step with a note, the loudest note's velocity and offset."""
    velocities, offsets = np.zeros(len(events), np.float32), np.zeros(len(events), np.float32)
    for step, event in enumerate(events):
        if event:
            velocity, offset = max(played(event, pitch) for pitch in event)
            velocities[step], offsets[step] = velocity / 127.0, offset
    return Rhythm(velocities, offsets, qpm)


def rhythm_from_onsets(onsets, qpm: float = 120.0) -> Rhythm:
    """The rhythm of ``onsets``: ``[(position in 16th-note steps from the start, MIDI velocity 1-127)]``,
    each on its nearest step (the loudest of a step kept), from the bar of the first to the bar of the last."""
    notes = collections.defaultdict(lambda: (0, 0.0))
    for position, velocity in onsets:
        step = int(np.floor(position + 0.5))
        if velocity > notes[step][0]:
            notes[step] = (int(velocity), float(min(0.5, max(-0.5, position - step))))
    if not notes:
        raise SeqgenError("the rhythm is empty: it has no onsets; tap or play at least one note")
    start = min(notes) - min(notes) % STEPS_PER_BAR
    length = -(-(max(notes) + 1 - start) // STEPS_PER_BAR) * STEPS_PER_BAR
    if length > MAX_STEPS:
        raise SeqgenError(
            f"the rhythm spans {length} steps from its first onset to its last, more than Drumify "
            f"takes ({MAX_STEPS}); is a note misplaced? Cut the part you want"
        )
    velocities, offsets = np.zeros(length, np.float32), np.zeros(length, np.float32)
    for step, (velocity, offset) in notes.items():
        velocities[step - start], offsets[step - start] = min(velocity, 127) / 127.0, offset
    return Rhythm(velocities, offsets, qpm)


def rhythm_from_times(times, qpm: float = 120.0, velocities=None) -> Rhythm:
    """The rhythm of taps at ``times`` (seconds; 0 is the first bar's downbeat) at ``qpm``, each at
    ``velocities`` (MIDI 1-127; default 100). What a studio gets from taps on a key."""
    times = list(times)
    velocities = [100] * len(times) if velocities is None else list(velocities)
    if len(velocities) != len(times):
        raise SeqgenError(f"{len(times)} tap times but {len(velocities)} velocities; give one velocity per tap")
    if not qpm > 0:
        raise SeqgenError(f"the tempo must be positive, got {qpm} qpm")
    if any(t < 0 for t in times):
        raise SeqgenError("tap times must not be negative (0 is the first downbeat)")
    steps_per_second = qpm / 60.0 * STEPS_PER_QUARTER
    return rhythm_from_onsets([(t * steps_per_second, v) for t, v in zip(times, velocities) if v > 0], qpm)


def rhythm_from_midi(path, part=None) -> Rhythm:
    """The rhythm of a MIDI file's notes (every part's, or only part ``part``: 1 is the file's first part
    with notes, in the order of its tracks and channels), through the file's tempo changes, at its first tempo."""
    from seqgen_drums.events import primer

    try:
        midi = primer.read_midi(path)
    except SeqgenError as error:
        raise SeqgenError(str(error).replace("primer MIDI file", "MIDI file")) from None
    parts = [[note for note in instrument.notes if note.velocity > 0] for instrument in midi.instruments]
    parts = [notes for notes in parts if notes]
    if not parts:
        raise SeqgenError(f"MIDI file {path} has no notes; give a file with the rhythm to drum to")
    if part is not None:
        if not 1 <= part <= len(parts):
            raise SeqgenError(
                f"MIDI file {path} has {len(parts)} part{'s' * (len(parts) != 1)} with notes; "
                f"there is no part {part} (give --part 1 to {len(parts)})"
            )
        parts = [parts[part - 1]]
    tempos = primer.tempo_map(midi)
    return rhythm_from_onsets(
        [(primer.quarters(note.start, tempos) * STEPS_PER_QUARTER, note.velocity) for notes in parts for note in notes],
        tempos[0][1],
    )


def check_rhythm(rhythm) -> Rhythm:
    """The rhythm, or SeqgenError when it has no taps."""
    if not isinstance(rhythm, Rhythm):
        raise SeqgenError(f"a rhythm must be a Rhythm (see seqgen_drums.events.rhythm), got {type(rhythm).__name__}")
    if not rhythm.taps.any():
        raise SeqgenError("the rhythm is empty: it has no taps; tap or play at least one note")
    return rhythm
