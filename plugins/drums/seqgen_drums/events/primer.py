"""Drum primers read from MIDI files.

Only notes marked as drums (MIDI channel 10) are kept, so a drum part can be taken from a whole song.
Tempo changes are followed: every note is placed on the song's own beat grid and the primer plays at
the first tempo. The bar length comes from the first time signature (3/4, 6/8, ... all work).
The primer runs in whole bars, from the bar holding the first drum hit to the bar holding the last.
The file is read with pretty_midi and quantized as note_seq would, so the light install reads primers
(and ``seqgen render`` draws its pictures) without note-seq.
"""

import os

from seqgen.errors import SeqgenError
from seqgen.tracks import MidiPrimer

DEFAULT_QPM = 120.0
#: The longest primer read from a file, in steps (over three hours at 120 qpm and 4 steps per quarter note):
#: a note far away in a damaged or odd file would otherwise make a list of millions of empty steps.
MAX_STEPS = 100_000


def tempo_map(midi) -> list:
    """``[(time, qpm)]`` sorted, starting at time 0 (MIDI's implicit 120 qpm before any tempo event)."""
    times, qpms = midi.get_tempo_changes()
    tempos = sorted((float(time), float(qpm)) for time, qpm in zip(times, qpms) if qpm > 0)
    if not tempos or tempos[0][0] > 0:
        tempos.insert(0, (0.0, DEFAULT_QPM))
    return tempos


def quarters(time: float, tempos: list) -> float:
    """Quarter notes elapsed from the start of the song to ``time`` seconds, through every tempo change."""
    quarters = 0.0
    for i, (start, qpm) in enumerate(tempos):
        end = tempos[i + 1][0] if i + 1 < len(tempos) else float("inf")
        if time <= start:
            break
        quarters += (min(time, end) - start) * qpm / 60.0
    return quarters


def read_midi(path):
    """The file as a ``pretty_midi.PrettyMIDI`` (no note-seq needed: the light install reads primers too)."""
    import pretty_midi

    from seqgen.midi_reader import describe_error, read_midi

    if os.path.isdir(path):
        raise SeqgenError(f"primer MIDI file {path} is a directory; give a MIDI file")
    if not os.path.isfile(path):
        raise SeqgenError(f"primer MIDI file {path} does not exist")
    with open(path, "rb") as stream:
        data = stream.read()
    try:
        return pretty_midi.PrettyMIDI(mido_object=read_midi(data))
    except Exception as error:  # mido's and pretty_midi's many kinds on bad files
        raise SeqgenError(
            f"cannot read primer MIDI file {path}: not a valid MIDI file ({describe_error(error)}); "
            f"give a Standard MIDI File (.mid)"
        ) from None


def grid_position(time: float, tempos: list, qpm: float, steps_per_quarter: int) -> float:
    """Where ``time`` seconds falls on the step grid of the first tempo ``qpm``, in steps (through every tempo
    change); its step is :func:`nearest_step` of it."""
    return quarters(time, tempos) * (60.0 / qpm) * (steps_per_quarter * qpm / 60.0)


def nearest_step(position: float) -> int:
    """The step a grid position falls on: the nearest, halves rounded up (note_seq's quantization)."""
    return int(position + 0.5)


def primer_from_midi(path, steps_per_quarter: int) -> MidiPrimer:
    """The drum part of a MIDI file as a primer of frozensets of pitches, one per step."""
    midi = read_midi(path)
    drums = [
        note for instrument in midi.instruments if instrument.is_drum for note in instrument.notes if note.velocity > 0
    ]
    if not drums:
        others = sum(len(instrument.notes) for instrument in midi.instruments if not instrument.is_drum)
        found = f"it has {others} notes on other channels" if others else "it has no notes at all"
        raise SeqgenError(f"primer MIDI file {path} has no drums: drums must be on MIDI channel 10 ({found})")

    notices = []
    tempos = tempo_map(midi)
    qpm = tempos[0][1]
    if len({round(q, 3) for _, q in tempos}) > 1:
        notices.append(
            f"tempo changes from {qpm:g} to {tempos[-1][1]:g} qpm; the drums keep their place "
            f"on the beat and the primer plays at {qpm:g} qpm"
        )
    signatures = sorted((ts.time, ts.numerator, ts.denominator) for ts in midi.time_signature_changes)
    _, numerator, denominator = signatures[0] if signatures else (0.0, 4, 4)
    if len({(n, d) for _, n, d in signatures}) > 1:
        notices.append(f"meter changes after {numerator}/{denominator}; bars are counted in {numerator}/{denominator}")
    if numerator == 0 or denominator < 1 or denominator & (denominator - 1):
        raise SeqgenError(f"primer MIDI file {path} has an unusable time signature {numerator}/{denominator}")
    steps_per_bar = steps_per_quarter * (4.0 / denominator) * numerator
    if steps_per_bar % 1:
        raise SeqgenError(
            f"primer MIDI file {path} is in {numerator}/{denominator}, which is not a whole "
            f"number of steps per bar at {steps_per_quarter} steps per quarter note"
        )
    steps_per_bar = int(steps_per_bar)

    # Every note moved onto the first tempo's clock, then onto the step grid.
    hits = []
    for note in drums:
        start = nearest_step(grid_position(note.start, tempos, qpm, steps_per_quarter))
        end = nearest_step(grid_position(note.end, tempos, qpm, steps_per_quarter))
        hits.append((note.pitch, start, max(end, start + 1)))

    first = min(start for _, start, _ in hits)
    start = first - first % steps_per_bar
    end = max(hit_end for _, _, hit_end in hits)
    end = -(-end // steps_per_bar) * steps_per_bar
    if end - start > MAX_STEPS:
        raise SeqgenError(
            f"primer MIDI file {path} spans {end - start} steps from its first drum hit to its last, "
            f"more than a primer may ({MAX_STEPS}); is a note misplaced? Cut the part you want in a "
            f"MIDI editor"
        )
    steps = [set() for _ in range(end - start)]
    for pitch, hit_start, _ in hits:
        steps[hit_start - start].add(pitch)
    return MidiPrimer(
        events=[frozenset(step) for step in steps], qpm=qpm, steps_per_bar=steps_per_bar, notice="; ".join(notices)
    )
