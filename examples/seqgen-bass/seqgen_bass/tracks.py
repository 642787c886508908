"""Bass lines: cut out of quantized NoteSequences, parsed from primers, and played back."""

import ast
import collections

from seqgen.plugin import Note, SeqgenError, Tracks, seconds_per_step

from seqgen_bass.encoding import MAX_PITCH, MIN_PITCH, NO_EVENT, NOTE_OFF

BASS_PROGRAMS = range(32, 40)  # General MIDI's bass family (programs 33-40 counted from 1)
PLAYBACK_PROGRAM = 33  # fingered electric bass
PRIMER_EXAMPLE = '"[40, -2, -2, -1, 43, -2, 45, -1]"'


def _in_range(pitch: int) -> int:
    """The pitch moved by octaves into the encoding's range."""
    while pitch < MIN_PITCH:
        pitch += 12
    while pitch > MAX_PITCH:
        pitch -= 12
    return pitch


def _notes(quantized_sequence) -> list:
    """``[(start, end, pitch)]`` of the bass, monophonic: the lowest note wins, a new note cuts the last."""
    lowest = {}
    for note in quantized_sequence.notes:
        if note.is_drum or not note.velocity or note.program not in BASS_PROGRAMS:
            continue
        start = note.quantized_start_step
        if start not in lowest or note.pitch < lowest[start].pitch:
            lowest[start] = note
    starts = sorted(lowest)
    cuts = starts[1:] + [float("inf")]
    return [
        (start, min(lowest[start].quantized_end_step, cut), _in_range(lowest[start].pitch))
        for start, cut in zip(starts, cuts)
    ]


def _events(notes, start: int) -> list:
    events = [NO_EVENT] * (notes[-1][1] - start)
    for note_start, note_end, pitch in notes:
        events[note_start - start] = pitch
        if note_end - start < len(events) and events[note_end - start] == NO_EVENT:
            events[note_end - start] = NOTE_OFF
    return events


class BassTracks(Tracks):
    """A bass line is a list of ints: a pitch, NOTE_OFF or NO_EVENT per step."""

    noun = "bass line"
    plural = "bass lines"
    default_primer = "[40]"

    def extract(self, quantized_sequence, extraction):
        from seqgen.noteseq import sequences_lib

        counts = collections.Counter()
        steps_per_bar = sequences_lib.steps_per_bar_in_quantized_sequence(quantized_sequence)
        notes = _notes(quantized_sequence)
        if not notes:
            counts["sequences_without_bass_notes"] += 1
            return [], counts
        if steps_per_bar % 1:
            counts["non_integer_steps_per_bar"] += 1
            return [], counts
        steps_per_bar = int(steps_per_bar)
        # A silence of gap_bars bars or more ends a line; the next starts at the bar of its first note.
        groups = [[notes[0]]]
        for note in notes[1:]:
            if note[0] - groups[-1][-1][1] >= extraction.gap_bars * steps_per_bar:
                groups.append([])
            groups[-1].append(note)
        lines = []
        for group in groups:
            events = _events(group, group[0][0] - group[0][0] % steps_per_bar)
            if len(events) < extraction.min_bars * steps_per_bar:
                counts["bass_lines_discarded_too_short"] += 1
            elif len(events) <= extraction.max_steps:
                lines.append(events)
            elif extraction.split_long_tracks:
                counts["bass_lines_split_into_windows"] += 1
                lines += [
                    events[i : i + extraction.max_steps]
                    for i in range(0, len(events), extraction.max_steps)
                    if len(events) - i >= extraction.min_bars * steps_per_bar
                ]
            else:
                counts["bass_lines_truncated"] += 1
                lines.append(events[: extraction.max_steps])
        return lines, counts

    def empty_output_hint(self, counts):
        if counts.get("sequences_without_bass_notes"):
            return (
                f"{counts['sequences_without_bass_notes']} sequences have no bass notes: bass lines must be "
                f"played by a General MIDI bass program (33-40)"
            )
        return ""

    def notes(self, events, steps_per_quarter, qpm):
        step_seconds = seconds_per_step(steps_per_quarter, qpm)
        played, sounding = [], None  # sounding: (pitch, start step)

        def stop(step):
            if sounding is not None:
                played.append(
                    Note(sounding[0], sounding[1] * step_seconds, step * step_seconds, program=PLAYBACK_PROGRAM)
                )

        for step, event in enumerate(events):
            if event != NO_EVENT:
                stop(step)
                sounding = (event, step) if event != NOTE_OFF else None
        stop(len(events))
        return played

    def parse_primer(self, text):
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            value = None
        if (
            not isinstance(value, (list, tuple))
            or not value
            or not all(isinstance(e, int) and not isinstance(e, bool) for e in value)
        ):
            raise SeqgenError(
                f"malformed bass primer {text!r}: expected a list of pitches, -1 (note off) and "
                f"-2 (no event), such as {PRIMER_EXAMPLE}"
            )
        bad = [e for e in value if e not in (NO_EVENT, NOTE_OFF) and not MIN_PITCH <= e <= MAX_PITCH]
        if bad:
            raise SeqgenError(f"bass primer pitch {bad[0]} is outside the bass range {MIN_PITCH}-{MAX_PITCH}")
        return list(value)
