"""Tracks: a plugin's bridge between music (NoteSequences, MIDI) and its lists of events.

A plugin says which notes its events play (:meth:`Tracks.notes`); MIDI files (pretty_midi, no note-seq
needed) and note_seq NoteSequences are both made from those notes.
"""

import abc
from typing import TYPE_CHECKING

import attrs

from seqgen.errors import SeqgenError

if TYPE_CHECKING:
    import pretty_midi


@attrs.frozen
class MidiPrimer:
    """A primer read from a MIDI file (what :meth:`Tracks.primer_from_midi` returns).

    Attributes:
        events: The track's events, one per step, in the plugin's own kind of event.
        qpm: The tempo to play on with, in quarter notes per minute (the file's first tempo).
        steps_per_bar: The bar's length in steps (from the file's time signature).
        notice: What was done to make the file usable (tempo or meter changes); empty when nothing was needed.
    """

    events: list
    qpm: float
    steps_per_bar: int
    notice: str = ""


@attrs.frozen
class Note:
    """One played note (what :meth:`Tracks.notes` returns; MIDI files and NoteSequences are made from them).

    Attributes:
        pitch: The MIDI pitch, 0-127.
        start: When it starts, in seconds from the track's first step.
        end: When it ends, in seconds.
        velocity: The MIDI velocity, 1-127.
        program: The General MIDI program, 0-based (0: Acoustic Grand Piano, 32: Acoustic Bass), as in MIDI
            files and note_seq; ignored for drums.
        is_drum: Whether it is written on the drum channel (MIDI channel 10), where the pitch names the drum.
    """

    pitch: int
    start: float
    end: float
    velocity: int = 100
    program: int = 0
    is_drum: bool = False


@attrs.frozen
class GenerateOption:
    """A switch a plugin offers for generating (the ``generate_options`` hook), which pages such as seqgen studio
    show as a tick box.

    Attributes:
        flag: The ``seqgen generate`` flag it stands for (e.g. ``--humanize``), added by the plugin's
            ``extend_command`` hook and applied by its ``postprocess_tracks`` hook.
        label: The switch's name on a page.
        help: One line a page shows beside it.
        unavailable: Why this model cannot use it; empty when it can.
    """

    flag: str
    label: str
    help: str
    unavailable: str = ""


@attrs.frozen
class Arrangement:
    """What a plugin's tracks play at a song's sections (the ``song_arrangement`` hook, :mod:`seqgen.song`):
    ``fill``, the controls that ask a bar for a fill (e.g. ``{"fill": "yes"}``); ``beat``, those of the other
    bars (``{"fill": "no"}``; a section's own controls win); ``section_start(event)``, the event a section's
    first step plays instead of ``event`` (drums: a crash with the kick), or None to keep it."""

    fill: dict = attrs.field(factory=dict)
    beat: dict = attrs.field(factory=dict)
    section_start: object = None


@attrs.frozen
class MarkedMidi:
    """A ``pretty_midi.PrettyMIDI`` written with marker meta events (``(seconds, text)``, e.g. a song's section
    names, which a DAW shows) and ending exactly at ``end`` seconds (or at its last note, if later)."""

    midi: "pretty_midi.PrettyMIDI"
    markers: tuple = ()
    end: float = 0.0

    def write(self, path) -> None:
        import io

        import mido

        buffer = io.BytesIO()
        self.midi.write(buffer)
        buffer.seek(0)
        song = mido.MidiFile(file=buffer)
        end = self.midi.time_to_tick(self.end)
        for index, track in enumerate(song.tracks):
            absolute, tick = [], 0
            for message in track:
                tick += message.time
                if message.type != "end_of_track":
                    absolute.append((tick, message))
            if index == 0:
                absolute += [
                    (self.midi.time_to_tick(seconds), mido.MetaMessage("marker", text=text))
                    for seconds, text in self.markers
                ]
                absolute.sort(key=lambda pair: pair[0])  # stable: a marker after the tempo at its tick
            last = max([end] + [tick for tick, _ in absolute])
            track.clear()
            tick = 0
            for when, message in absolute + [(last, mido.MetaMessage("end_of_track"))]:
                track.append(message.copy(time=when - tick))
                tick = when
        song.save(path)


def seconds_per_step(steps_per_quarter: int, qpm: float) -> float:
    return 60.0 / qpm / steps_per_quarter


class Tracks(abc.ABC):
    """Extracts event tracks from music and turns events back into music."""

    #: The name of one track in messages ("drum track").
    noun = "track"
    #: The name of several, in messages and record file names ("drum tracks": ``training_drum_tracks.tfrecord``).
    #: A plugin that sets :attr:`noun` sets this too (the registry refuses one without the other).
    plural = "tracks"
    #: Primer text used when a command is given none (``parse_primer`` reads it); None: a primer is required.
    default_primer = None

    def count(self, number: int) -> str:
        """``number`` tracks in words: "1 drum track", "3 drum tracks"."""
        return f"{number} {self.noun if number == 1 else self.plural}"

    @abc.abstractmethod
    def extract(self, quantized_sequence, extraction) -> tuple:
        """Tracks of a quantized NoteSequence: ``(list of event lists, dict of named counts)``.

        ``quantized_sequence`` is a note_seq ``NoteSequence`` protobuf of one piece of one MIDI file, already
        split at tempo and time-signature changes and quantized at the config's ``steps_per_quarter``:
        each of its ``notes`` has ``pitch``, ``velocity``, ``program``, ``instrument``, ``is_drum`` and
        ``quantized_start_step`` / ``quantized_end_step`` (steps from the start of the piece); its
        ``time_signatures`` and ``quantization_info.steps_per_quarter`` say how long a bar is
        (``seqgen.noteseq.sequences_lib.steps_per_bar_in_quantized_sequence``). ``extraction`` is the
        config's :class:`seqgen.config.Extraction` (min_bars, max_steps, gap_bars, ...), to apply as the
        plugin sees fit. Each track is a list of events, one per step, each one the config's encoding can
        encode. The counts (e.g. ``{"melodies_discarded_too_short": 2}``) are summed over the input and
        printed by ``create_dataset``; :meth:`empty_output_hint` reads them when nothing came out.
        """

    @abc.abstractmethod
    def notes(self, events, steps_per_quarter: int, qpm: float) -> list:
        """The :class:`Note` s that ``events`` (one per step) play at ``qpm``."""

    def to_midi(self, events, steps_per_quarter: int, qpm: float):
        """A 4/4 ``pretty_midi.PrettyMIDI`` at ``qpm`` that plays ``events``."""
        import pretty_midi

        midi = pretty_midi.PrettyMIDI(resolution=220, initial_tempo=qpm)
        midi.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0.0))
        instruments = {}
        for note in self.notes(events, steps_per_quarter, qpm):
            key = (note.program, note.is_drum)
            if key not in instruments:
                instruments[key] = pretty_midi.Instrument(program=note.program, is_drum=note.is_drum)
                midi.instruments.append(instruments[key])
            instruments[key].notes.append(
                pretty_midi.Note(velocity=note.velocity, pitch=note.pitch, start=note.start, end=note.end)
            )
        return midi

    def to_note_sequence(self, events, steps_per_quarter: int, qpm: float):
        """A 4/4 note_seq NoteSequence at ``qpm`` that plays ``events`` (needs note-seq)."""
        from seqgen.noteseq import music_pb2

        sequence = music_pb2.NoteSequence(ticks_per_quarter=220)
        sequence.tempos.add(qpm=qpm)
        sequence.time_signatures.add(numerator=4, denominator=4)
        for note in self.notes(events, steps_per_quarter, qpm):
            sequence.notes.add(
                pitch=note.pitch,
                velocity=note.velocity,
                program=note.program,
                instrument=9 if note.is_drum else 0,
                is_drum=note.is_drum,
                start_time=note.start,
                end_time=note.end,
            )
        sequence.total_time = len(events) * seconds_per_step(steps_per_quarter, qpm)
        return sequence

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
        """The primer in a MIDI file, quantized at ``config.steps_per_quarter``; SeqgenError when unusable.

        Optional: what reads MIDI files needs it (``generate --primer_midi``, ``infill``, ``vary``,
        ``score --midi``, ``render``'s pictures, the studio's dropped files)."""
        raise SeqgenError(
            f"{config.id} cannot read MIDI files: its plugin's Tracks does not implement primer_from_midi"
        )

    def grid_rows(self, config) -> list:
        """``[(label, pitches)]``: the rows of a step grid (e.g. seqgen studio's), bottom row first, when events are
        sets of MIDI pitches (the first pitch of a row is the one written); empty when the events have no grid."""
        return []

    def draw(self, events, steps_per_quarter: int, path, steps_per_bar: int | None = None) -> None:
        """Write a PNG picture of ``events`` to ``path`` (optional: without it, rendering makes no picture)."""
        raise SeqgenError("this plugin draws no pictures")
