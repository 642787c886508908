"""Where the notes go and where steering and clock come from: MIDI ports (mido over python-rtmidi) and OSC
targets (messages built by python-osc, sent over a connected UDP socket so a receiver that goes away is
noticed). Every failure is a one-line :class:`~seqgen.errors.SeqgenError`."""

import contextlib
import os
import socket
import sys
import threading
import time

from seqgen.errors import SeqgenError
from seqgen.version import DISTRIBUTION

INSTALL_HINT = f'pip install "{DISTRIBUTION}[live]"'
#: The name of the virtual output port a DAW records from.
VIRTUAL_NAME = "seqgen"
#: The OSC addresses (docs/live.md has the table).
OSC_NOTE, OSC_BAR, OSC_TEMPO, OSC_SECTION = "/seqgen/note", "/seqgen/bar", "/seqgen/tempo", "/seqgen/section"
#: How often (seconds) a MIDI port opened by name is looked for.
PORT_WATCH = 0.5
#: Time (seconds) given to the MIDI system to deliver the last messages before a port is closed (JACK sends
#: them from its own thread, a period later).
DELIVERY = 0.1
#: How often (seconds) a MIDI input is read: an arrival time is at most this late.
POLL = 0.001


def _mido():
    try:
        import mido
        import rtmidi  # noqa: F401  (mido's backend)
    except ImportError as error:
        raise SeqgenError(
            f"seqgen live needs {error.name}, which is not installed; install it with: {INSTALL_HINT}"
        ) from None
    return mido


def backend_name() -> str:
    """mido's backend: MIDO_BACKEND when set; else python-rtmidi's default system, or JACK on a Linux without
    an ALSA sequencer (containers, servers)."""
    if os.environ.get("MIDO_BACKEND"):
        return os.environ["MIDO_BACKEND"]
    if sys.platform.startswith("linux") and not os.path.exists("/dev/snd/seq"):
        return "mido.backends.rtmidi/UNIX_JACK"
    return "mido.backends.rtmidi"


@contextlib.contextmanager
def _quiet_stderr():
    """The C libraries under rtmidi (ALSA, JACK) print their own lines when they fail: hidden here, since the
    failure is reported in one line of ours."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _midi_call(what: str, call):
    mido = _mido()
    import rtmidi

    backend = mido.Backend(backend_name(), load=True)
    try:
        with _quiet_stderr():
            return call(backend)
    except (rtmidi.RtMidiError, OSError) as error:
        system = backend_name().partition("/")[2] or "the system's MIDI"
        raise SeqgenError(
            f"cannot {what}: {system} is not available ({str(error).strip() or type(error).__name__})"
            f"; start it (on Linux: an ALSA sequencer, or a JACK server such as `jackd -d dummy`), "
            f"or send OSC instead (--osc)"
        ) from None


def port_names() -> tuple:
    """(output names, input names) of the MIDI ports there are."""
    return _midi_call("list MIDI ports", lambda backend: (backend.get_output_names(), backend.get_input_names()))


def _resolve(name: str, names: list, flag: str, kind: str) -> str:
    """The port ``name`` is: exactly one of ``names``, or the one that contains it."""
    if name in names:
        return name
    found = [n for n in names if name.lower() in n.lower()]
    if len(found) == 1:
        return found[0]
    listed = ", ".join(repr(n) for n in names) or "none"
    what = f"{len(found)} MIDI {kind} ports match" if found else f"no MIDI {kind} port is named"
    raise SeqgenError(f"{flag} {name!r}: {what} it; the {kind} ports are: {listed} (seqgen live --list_ports)")


class MidiOut:
    """Notes to a MIDI output port: an existing one by name, or a virtual one (``virtual=True``) a DAW reads."""

    def __init__(self, name: str, virtual: bool = False, flag: str = "--midi_out"):
        self.mido = _mido()
        if virtual:
            self.port = _midi_call(
                f"make the virtual MIDI port {name!r}",
                lambda backend: backend.open_output(name, virtual=True, client_name=VIRTUAL_NAME),
            )
            self.target = None
        else:
            outputs, _ = port_names()
            self.target = _resolve(name, outputs, flag, "output")
            self.port = _midi_call(
                f"open the MIDI port {self.target!r}", lambda backend: backend.open_output(self.target)
            )
        self.name = self.port.name
        self.sounding = set()
        self._gone, self._closed, self._watcher = threading.Event(), threading.Event(), None
        if self.target is not None:
            import rtmidi

            with _quiet_stderr():
                probe = rtmidi.MidiOut(getattr(rtmidi, f"API_{self.port.api}"))
            self._watcher = threading.Thread(
                target=self._watch, args=(probe,), name="seqgen-live-port-watch", daemon=True
            )
            self._watcher.start()

    def _watch(self, probe) -> None:
        """Look every PORT_WATCH seconds (in this thread, so no note waits for it) whether the port is still there."""
        while not self._closed.wait(PORT_WATCH):
            if self.target not in probe.get_ports():
                self._gone.set()
                break
        probe.delete()

    def note(self, pitch: int, velocity: int, channel: int, seconds: float) -> None:
        self.port.send(self.mido.Message("note_on", channel=channel, note=pitch, velocity=velocity))
        self.sounding.add((pitch, channel))

    def note_off(self, pitch: int, channel: int) -> None:
        self.port.send(self.mido.Message("note_off", channel=channel, note=pitch, velocity=0))
        self.sounding.discard((pitch, channel))

    def bar(self, number: int) -> None:
        pass

    def section(self, name: str, number: int) -> None:
        pass

    def tempo(self, bpm: float) -> None:
        pass

    def check(self) -> None:
        """A port opened by name must still be there."""
        if self._gone.is_set():
            self.sounding.clear()
            raise SeqgenError(f"the MIDI port {self.target!r} went away; open it again and rerun seqgen live")

    def silence(self) -> None:
        """Note-offs for every sounding note, then All Notes Off (CC 123) on every channel."""
        for pitch, channel in sorted(self.sounding):
            self.note_off(pitch, channel)
        for channel in range(16):
            self.port.send(self.mido.Message("control_change", channel=channel, control=123, value=0))

    def close(self) -> None:
        time.sleep(DELIVERY)
        self._closed.set()
        if self._watcher is not None:
            self._watcher.join(PORT_WATCH + 1.0)
        self.port.close()


class MidiIn:
    """Messages from a MIDI input port (an existing one by name, or a virtual one), each given as a mido message
    with its arrival time (``time.perf_counter``) to every listener, on a thread of this class's own that reads
    python-rtmidi's queue every :data:`POLL` seconds. No rtmidi callback: JACK would call it from its real-time
    thread, which then waits for Python's interpreter lock (its cycles overrun, and a port closed while a call
    waits deadlocks or frees what the call needs)."""

    def __init__(self, name: str, virtual: bool = False, flag: str = "--midi_in"):
        import rtmidi

        self.listeners = []
        self._parse = _mido().Message.from_bytes
        api = backend_name().partition("/")[2]
        api = getattr(rtmidi, f"API_{api}", rtmidi.API_UNSPECIFIED)
        self._rt = _midi_call("open a MIDI input", lambda backend: rtmidi.MidiIn(api, VIRTUAL_NAME))
        try:
            if virtual:
                _midi_call(f"make the virtual MIDI port {name!r}", lambda backend: self._rt.open_virtual_port(name))
                self.name = name
            else:
                inputs = self._rt.get_ports()
                self.name = _resolve(name, inputs, flag, "input")
                _midi_call(
                    f"open the MIDI port {self.name!r}", lambda backend: self._rt.open_port(inputs.index(self.name))
                )
        except SeqgenError:
            self._rt.delete()
            raise
        self._rt.ignore_types(sysex=True, timing=False, active_sense=True)  # MIDI clock is timing
        self._closed = threading.Event()
        self._reader = threading.Thread(target=self._read, name="seqgen-live-midi-in", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        from seqgen.live.realtime import PLAYER, realtime

        realtime(PLAYER)  # an arrival time is read when this thread runs: as soon as the player's
        while not self._closed.is_set():
            event = self._rt.get_message()
            if event is None:
                self._closed.wait(POLL)
                continue
            at = time.perf_counter()
            try:
                message = self._parse(event[0])
            except ValueError:  # not a whole MIDI message
                continue
            for listener in self.listeners:
                listener(message, at)

    def close(self) -> None:
        self._closed.set()
        self._reader.join()
        self._rt.close_port()
        self._rt.delete()


def osc_target(text: str) -> tuple:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as (host, port); ValueError saying what is wrong."""
    host, colon, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not colon or not host:
        raise ValueError(f"expected HOST:PORT, e.g. 127.0.0.1:9000, got {text!r}")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"expected a port from 1 to 65535 after the host, got {text!r}")
    return host, int(port)


class OscOut:
    """``/seqgen/note`` [pitch, velocity, seconds] at each note-on, ``/seqgen/bar`` [bar from 1] at each bar
    line, ``/seqgen/tempo`` [bpm] when the tempo changes, to one UDP receiver. A receiver that goes away
    (refused) is said once; sending goes on, so it is heard again when it comes back."""

    def __init__(self, host: str, port: int, say=print):
        try:
            from pythonosc.osc_message_builder import OscMessageBuilder
        except ImportError as error:
            raise SeqgenError(
                f"seqgen live --osc needs {error.name}, which is not installed; install it with: {INSTALL_HINT}"
            ) from None
        self._builder = OscMessageBuilder
        try:
            family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        except (socket.gaierror, UnicodeError):
            raise SeqgenError(
                f"--osc host {host!r} does not resolve to an address; give a host name or an IP "
                f"address, e.g. --osc 127.0.0.1:{port}"
            ) from None
        self.socket = socket.socket(family, kind, proto)
        try:
            self.socket.connect(address)
        except OSError as error:
            self.socket.close()
            raise SeqgenError(f"cannot send OSC to {host}:{port}: {error.strerror}; check --osc") from None
        self.name = f"OSC {host}:{port}"
        self._say = say
        self._gone = False

    def _send(self, address: str, *args) -> None:
        builder = self._builder(address)
        for value, kind in args:
            builder.add_arg(value, kind)
        try:
            self.socket.send(builder.build().dgram)
        except OSError as error:  # ECONNREFUSED: nobody listens there (any more)
            if not self._gone:
                self._say(
                    f"seqgen live: the OSC receiver at {self.name[4:]} is not there ({error.strerror}); "
                    f"playing on, it hears the notes again when it is back"
                )
            self._gone = True

    def note(self, pitch: int, velocity: int, channel: int, seconds: float) -> None:
        self._send(OSC_NOTE, (int(pitch), "i"), (int(velocity), "i"), (float(seconds), "f"))

    def note_off(self, pitch: int, channel: int) -> None:
        pass

    def bar(self, number: int) -> None:
        self._send(OSC_BAR, (int(number), "i"))

    def section(self, name: str, number: int) -> None:
        self._send(OSC_SECTION, (str(name), "s"), (int(number), "i"))

    def tempo(self, bpm: float) -> None:
        self._send(OSC_TEMPO, (float(bpm), "f"))

    def check(self) -> None:
        pass

    def silence(self) -> None:
        pass

    def close(self) -> None:
        self.socket.close()
