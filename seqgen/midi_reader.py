"""Fast reading of Standard MIDI Files into the ``mido.MidiFile`` that pretty_midi converts.

mido checks and builds a full message object for every event, which is most of note_seq's conversion
time. This reader follows mido's reading rules (chunk bounds, running status, sysex and meta events,
the same errors on corrupt data) but gives channel messages as light objects with the attributes
pretty_midi reads; meta messages still come from mido itself.
"""

import re
import struct

import mido
from mido.midifiles.meta import KeySignatureError, build_meta_message

_MAX_LENGTH = 1_000_000  # mido's limit on one message's data
_CHANNEL = {
    0x8: ("note_off", 2),
    0x9: ("note_on", 2),
    0xA: ("polytouch", 2),
    0xB: ("control_change", 2),
    0xC: ("program_change", 1),
    0xD: ("aftertouch", 1),
    0xE: ("pitchwheel", 2),
}
_SYSTEM = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0, 0xF8: 0, 0xFA: 0, 0xFB: 0, 0xFC: 0, 0xFE: 0}


class Event:
    """A channel, system or sysex event: ``type``, ``time`` (delta ticks) and mido's attribute names."""

    __slots__ = ("type", "time", "channel", "note", "velocity", "program", "control", "value", "pitch")

    def __init__(self, kind, time, status=0, data=()):
        self.type, self.time, self.channel = kind, time, status & 0x0F
        if kind in ("note_on", "note_off"):
            self.note, self.velocity = data
        elif kind == "control_change":
            self.control, self.value = data
        elif kind == "program_change":
            self.program = data[0]
        elif kind == "pitchwheel":
            self.pitch = data[0] | (data[1] << 7) - 8192
        elif kind == "polytouch":
            self.note, self.value = data
        elif kind == "aftertouch":
            self.value = data[0]


def _take(data, pos, size):
    if size > _MAX_LENGTH:
        raise OSError(f"message length {size} exceeds maximum length {_MAX_LENGTH}")
    if pos + size > len(data):
        raise EOFError("unexpected end of file")
    return data[pos : pos + size], pos + size


def _varint(data, pos):
    value = 0
    while True:
        if pos >= len(data):
            raise EOFError("unexpected end of file")
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos


def _read_track(data, pos):
    header, pos = _take(data, pos, 8)
    name, size = struct.unpack(">4sL", header)
    if name != b"MTrk":
        raise OSError("no MTrk header at start of track")
    end, events, last_status = pos + size, [], None
    while pos != end:
        if pos + 1 < len(data) and data[pos] < 0x80:  # the common one-byte delta
            delta, status, pos = data[pos], data[pos + 1], pos + 2
        else:
            delta, pos = _varint(data, pos)
            status, pos = _take(data, pos, 1)
            status = status[0]
        peek = ()
        if status < 0x80:
            if last_status is None:
                raise OSError("running status without last_status")
            peek, status = (status,), last_status
        elif status != 0xFF:
            last_status = status
        if status == 0xFF:
            meta_type, pos = _take(data, pos, 1)
            length, pos = _varint(data, pos)
            payload, pos = _take(data, pos, length)
            events.append(build_meta_message(meta_type[0], list(payload), delta))
        elif status in (0xF0, 0xF7):
            length, pos = _varint(data, pos)
            _, pos = _take(data, pos, length)
            events.append(Event("sysex", delta))
        else:
            if status >= 0xF0:
                if status not in _SYSTEM:
                    raise OSError(f"undefined status byte 0x{status:02x}")
                kind, length = "system", _SYSTEM[status]
            else:
                kind, length = _CHANNEL[status >> 4]
            if len(peek) > length:
                raise ValueError(f"wrong number of data bytes for status byte 0x{status:02x}")
            rest, pos = _take(data, pos, length - len(peek))
            values = peek + tuple(rest)
            if values and max(values) > 127:
                raise OSError("data byte must be in range 0..127")
            events.append(Event(kind, delta, status, values))
    return events, pos


_WRAPPED = re.compile(r"^Midi decoding error <class '(?:\w+\.)*(\w+)'>: ?(.*)$", re.S)
_KINDS = {
    "EOFError": "the file ends too soon: truncated?",
    "KeySignatureError": "a bad key signature",
    "IndexError": "a damaged event",
    "KeyError": "a damaged event",
}


def describe_error(error) -> str:
    """A short reason for an error reading a MIDI file (mido's, pretty_midi's, or note_seq's wrapping of them)."""
    text = str(error).strip()
    kind = type(error).__name__
    match = _WRAPPED.match(text)
    if match:
        kind, text = match.group(1), match.group(2).strip()
    text = text.splitlines()[0][:200] if text else ""
    return text or _KINDS.get(kind, kind)


def read_midi_file(data: bytes, name="the MIDI file") -> mido.MidiFile:
    """:func:`read_midi`, with every error on bad bytes as one SeqgenError naming ``name``."""
    from seqgen.errors import SeqgenError

    try:
        return read_midi(data)
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, struct.error, KeySignatureError) as error:
        raise SeqgenError(
            f"{name} is not a valid MIDI file ({describe_error(error)}); give a Standard MIDI File (.mid)"
        ) from None


def read_midi(data: bytes) -> mido.MidiFile:
    """A ``mido.MidiFile`` (for ``pretty_midi.PrettyMIDI(mido_object=...)``) from MIDI file bytes."""
    header, pos = _take(data, 0, 8)
    name, size = struct.unpack(">4sL", header)
    if name != b"MThd":
        raise OSError("MThd not found. Probably not a MIDI file")
    fields = data[pos : pos + size]
    if len(fields) < 6:
        raise EOFError("unexpected end of file")
    _, num_tracks, ticks_per_beat = struct.unpack(">hhh", fields[:6])
    pos += size
    tracks = []
    for _ in range(num_tracks):
        track, pos = _read_track(data, pos)
        tracks.append(track)
    return mido.MidiFile(ticks_per_beat=ticks_per_beat, tracks=tracks)
