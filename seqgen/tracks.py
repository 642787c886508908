"""Tracks: a plugin's bridge between note_seq NoteSequences and its lists of events."""

import abc


class Tracks(abc.ABC):
    """Extracts event tracks from music and turns events back into music."""

    #: The name of one track in messages and record file names ("drum track").
    noun = "track"

    @abc.abstractmethod
    def extract(self, quantized_sequence, extraction) -> tuple:
        """Tracks of a quantized NoteSequence: ``(list of event lists, dict of named counts)``.

        ``extraction`` is a :class:`seqgen.config.Extraction`.
        """

    @abc.abstractmethod
    def to_note_sequence(self, events, steps_per_quarter: int, qpm: float):
        """A NoteSequence that plays ``events``, one per step."""

    @abc.abstractmethod
    def parse_primer(self, text: str) -> list:
        """Events from a primer string given on the command line; SeqgenError when malformed."""

    def format_events(self, events) -> str:
        """The primer-string form of ``events`` (inverse of :meth:`parse_primer`)."""
        return repr(list(events))

    def empty_output_hint(self, counts: dict) -> str:
        """Why nothing came out of extraction, judged from the counts; empty when no hint applies."""
        return ""
