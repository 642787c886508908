"""Drum primers read from MIDI files.

Only notes marked as drums (MIDI channel 10) are kept, so a drum part can be taken from a whole song.
Tempo changes are followed: every note is placed on the song's own beat grid and the primer plays at
the first tempo. The bar length comes from the first time signature (3/4, 6/8, ... all work).
The primer runs in whole bars, from the bar holding the first drum hit to the bar holding the last.
"""

import os

from seqgen.errors import SeqgenError
from seqgen.tracks import MidiPrimer

DEFAULT_QPM = 120.0
#: The longest primer read from a file, in steps (over three hours at 120 qpm and 4 steps per quarter note):
#: a note far away in a damaged or odd file would otherwise make a list of millions of empty steps.
MAX_STEPS = 100_000


def tempo_map(sequence) -> list:
    """``[(time, qpm)]`` sorted, starting at time 0 (MIDI's implicit 120 qpm before any tempo event)."""
    tempos = sorted((t.time, t.qpm) for t in sequence.tempos if t.qpm > 0)
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


def read_sequence(path):
    from seqgen.noteseq import midi_io

    if os.path.isdir(path):
        raise SeqgenError(f"primer MIDI file {path} is a directory; give a MIDI file")
    if not os.path.isfile(path):
        raise SeqgenError(f"primer MIDI file {path} does not exist")
    try:
        return midi_io.midi_file_to_note_sequence(path)
    except Exception as error:  # note_seq's MIDIConversionError, and what pretty_midi lets through
        from seqgen.midi_reader import describe_error

        raise SeqgenError(f"cannot read primer MIDI file {path}: not a valid MIDI file ({describe_error(error)}); "
                          f"give a Standard MIDI File (.mid)") from None


def primer_from_midi(path, steps_per_quarter: int) -> MidiPrimer:
    """The drum part of a MIDI file as a primer of frozensets of pitches, one per step."""
    from seqgen.noteseq import music_pb2, sequences_lib

    sequence = read_sequence(path)
    drums = [note for note in sequence.notes if note.is_drum and note.velocity > 0]
    if not drums:
        others = sum(1 for note in sequence.notes if not note.is_drum)
        found = f"it has {others} notes on other channels" if others else "it has no notes at all"
        raise SeqgenError(f"primer MIDI file {path} has no drums: drums must be on MIDI channel 10 ({found})")

    notices = []
    tempos = tempo_map(sequence)
    qpm = tempos[0][1]
    if len({round(q, 3) for _, q in tempos}) > 1:
        notices.append(f"tempo changes from {qpm:g} to {tempos[-1][1]:g} qpm; the drums keep their place "
                       f"on the beat and the primer plays at {qpm:g} qpm")
    signatures = sorted((ts.time, ts.numerator, ts.denominator) for ts in sequence.time_signatures)
    _, numerator, denominator = signatures[0] if signatures else (0.0, 4, 4)
    if len({(n, d) for _, n, d in signatures}) > 1:
        notices.append(f"meter changes after {numerator}/{denominator}; bars are counted in "
                       f"{numerator}/{denominator}")

    # One tempo and one meter, times moved onto the first tempo's clock: note_seq can quantize that.
    flat = music_pb2.NoteSequence(ticks_per_quarter=sequence.ticks_per_quarter)
    flat.tempos.add(time=0.0, qpm=qpm)
    flat.time_signatures.add(time=0.0, numerator=numerator, denominator=denominator)
    seconds_per_quarter = 60.0 / qpm
    for note in drums:
        flat.notes.add(pitch=note.pitch, velocity=note.velocity, is_drum=True, instrument=note.instrument,
                       start_time=quarters(note.start_time, tempos) * seconds_per_quarter,
                       end_time=quarters(note.end_time, tempos) * seconds_per_quarter)
    flat.total_time = max(note.end_time for note in flat.notes)
    try:
        quantized = sequences_lib.quantize_note_sequence(flat, steps_per_quarter)
    except sequences_lib.BadTimeSignatureError:
        raise SeqgenError(f"primer MIDI file {path} has an unusable time signature "
                          f"{numerator}/{denominator}") from None
    steps_per_bar = sequences_lib.steps_per_bar_in_quantized_sequence(quantized)
    if steps_per_bar % 1:
        raise SeqgenError(f"primer MIDI file {path} is in {numerator}/{denominator}, which is not a whole "
                          f"number of steps per bar at {steps_per_quarter} steps per quarter note")
    steps_per_bar = int(steps_per_bar)

    first = min(note.quantized_start_step for note in quantized.notes)
    start = first - first % steps_per_bar
    end = max(max(note.quantized_end_step, note.quantized_start_step + 1) for note in quantized.notes)
    end = -(-end // steps_per_bar) * steps_per_bar
    if end - start > MAX_STEPS:
        raise SeqgenError(f"primer MIDI file {path} spans {end - start} steps from its first drum hit to its last, "
                          f"more than a primer may ({MAX_STEPS}); is a note misplaced? Cut the part you want in a "
                          f"MIDI editor")
    steps = [set() for _ in range(end - start)]
    for note in quantized.notes:
        steps[note.quantized_start_step - start].add(note.pitch)
    return MidiPrimer(events=[frozenset(step) for step in steps], qpm=qpm, steps_per_bar=steps_per_bar,
                      notice="; ".join(notices))
