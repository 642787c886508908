"""Tracks: a plugin's bridge between note_seq NoteSequences and its lists of events."""

import abc

import attrs

from seqgen.errors import SeqgenError


@attrs.frozen
class MidiPrimer:
    """A primer read from a MIDI file: its events, the tempo to play on with, and its bar length."""

    events: list
    qpm: float
    steps_per_bar: int
    # What was done to make the file usable (tempo or meter changes); empty when nothing was needed.
    notice: str = ""


def new_note_sequence(steps_per_quarter: int, qpm: float) -> tuple:
    """An empty 4/4 NoteSequence at ``qpm`` and the length of one step in seconds (for ``to_note_sequence``)."""
    from seqgen.noteseq import music_pb2

    sequence = music_pb2.NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(qpm=qpm)
    sequence.time_signatures.add(numerator=4, denominator=4)
    return sequence, 60.0 / qpm / steps_per_quarter


class Tracks(abc.ABC):
    """Extracts event tracks from music and turns events back into music."""

    #: The name of one track in messages and record file names ("drum track").
    noun = "track"
    #: Primer text used when a command is given none (``parse_primer`` reads it); None: a primer is required.
    default_primer = None

    @abc.abstractmethod
    def extract(self, quantized_sequence, extraction) -> tuple:
        """Tracks of a quantized NoteSequence: ``(list of event lists, dict of named counts)``.

        ``extraction`` is a :class:`seqgen.config.Extraction`.
        """

    @abc.abstractmethod
    def to_note_sequence(self, events, steps_per_quarter: int, qpm: float):
        """A NoteSequence that plays ``events``, one per step."""

    def to_midi(self, events, steps_per_quarter: int, qpm: float):
        """A ``pretty_midi.PrettyMIDI`` that plays ``events`` (by default through the NoteSequence)."""
        from seqgen.noteseq import midi_io

        return midi_io.note_sequence_to_pretty_midi(self.to_note_sequence(events, steps_per_quarter, qpm))

    @abc.abstractmethod
    def parse_primer(self, text: str) -> list:
        """Events from a primer string given on the command line; SeqgenError when malformed."""

    def format_events(self, events) -> str:
        """The primer-string form of ``events`` (inverse of :meth:`parse_primer`)."""
        return repr(list(events))

    def empty_output_hint(self, counts: dict) -> str:
        """Why nothing came out of extraction, judged from the counts; empty when no hint applies."""
        return ""

    def primer_from_midi(self, path, config) -> MidiPrimer:
        """The primer in a MIDI file, quantized at ``config.steps_per_quarter``; SeqgenError when unusable."""
        raise SeqgenError(f"{config.id} cannot take a primer from a MIDI file; give the primer as text")

    def draw(self, events, steps_per_quarter: int, path, steps_per_bar: int = None) -> None:
        """Write a PNG picture of ``events`` to ``path`` (optional: without it, rendering makes no picture)."""
        raise SeqgenError("this plugin draws no pictures")
