"""Drum tracks: extraction from NoteSequences, primers, and the notes events play."""

import ast

from seqgen.errors import SeqgenError
from seqgen.tracks import Note, Tracks, seconds_per_step

PRIMER_EXAMPLE = '"[(36, 42), (), (42,)]"'
#: What a song's section starts with (:func:`section_start`): a crash cymbal with the kick.
KICK, CRASH = 36, 49


def section_start(event) -> frozenset:
    """The first step of a song's section: ``event`` with a crash and the kick."""
    return frozenset(event) | {KICK, CRASH}


class DrumTracks(Tracks):
    """A drum track is a list of frozensets of MIDI pitches, one per step."""

    noun = "drum track"
    plural = "drum tracks"
    default_primer = "[(36,)]"

    def extract(self, quantized_sequence, extraction):
        from seqgen_drums.events.extraction import extract_drum_tracks

        return extract_drum_tracks(quantized_sequence, extraction)

    def empty_output_hint(self, counts):
        if counts.get("sequences_without_drum_notes"):
            return (
                f"{counts['sequences_without_drum_notes']} sequences have notes but none marked as a drum: "
                f"drums must be on MIDI channel 10; --ignore_is_drum treats every note as a drum"
            )
        return ""

    def notes(self, events, steps_per_quarter, qpm):
        step_seconds = seconds_per_step(steps_per_quarter, qpm)
        return [
            Note(pitch, step * step_seconds, (step + 1) * step_seconds, is_drum=True)
            for step, event in enumerate(events)
            for pitch in sorted(event)
        ]

    def parse_primer(self, text):
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            raise SeqgenError(
                f"malformed drum primer {text!r}: expected a list of pitch tuples such as {PRIMER_EXAMPLE}"
            ) from None
        if not isinstance(value, (list, tuple)) or not value:
            raise SeqgenError(
                f"malformed drum primer {text!r}: expected a non-empty list of pitch tuples such as {PRIMER_EXAMPLE}"
            )
        events = []
        for step, event in enumerate(value):
            if isinstance(event, int) and not isinstance(event, bool):
                event = (event,)
            if not isinstance(event, (list, tuple)) or not all(
                isinstance(p, int) and not isinstance(p, bool) for p in event
            ):
                raise SeqgenError(
                    f"malformed drum primer: step {step} is {event!r}, expected a tuple of MIDI "
                    f"pitches such as (36, 42) or () for silence"
                )
            bad = [p for p in event if not 0 <= p <= 127]
            if bad:
                raise SeqgenError(f"drum primer step {step} has pitch {bad[0]}, outside the MIDI range 0-127")
            events.append(frozenset(event))
        return events

    def format_events(self, events):
        return "[" + ", ".join(repr(tuple(sorted(event))) for event in events) + "]"

    def primer_from_midi(self, path, config):
        from seqgen_drums.events import primer

        return primer.primer_from_midi(path, config.steps_per_quarter)

    def grid_rows(self, config):
        """One row per drum type of the encoding, named after its first pitch's General MIDI sound."""
        import re

        import pretty_midi

        return [
            (re.sub(r" 1$", "", pretty_midi.note_number_to_drum_name(pitches[0])), tuple(pitches))
            for pitches in config.encoding.drum_type_pitches
        ]

    def draw(self, events, steps_per_quarter, path, steps_per_bar=None):
        from seqgen_drums.events import grid

        grid.write_png(events, path, steps_per_bar or 4 * steps_per_quarter, steps_per_quarter)
