"""When each beat falls: a tempo and an anchor (a beat at a moment of ``time.perf_counter``), set by the
player's own tempo, by a MIDI clock it follows (24 clocks per quarter note, Start, Stop, Continue, Song
Position Pointer) or by an Ableton Link session it joins (tempo and beat phase; the LinkPython-extern
binding, the link extra)."""

import collections
import threading
import time

from seqgen.errors import SeqgenError
from seqgen.version import DISTRIBUTION

#: MIDI clocks per quarter note, and per Song Position Pointer unit (a sixteenth note).
CLOCKS_PER_BEAT = 24
CLOCKS_PER_SIXTEENTH = 6
#: A master whose clocks stop arriving for this long (seconds) without a Stop counts as stopped.
SILENCE = 1.0
#: Clocks a tempo is fitted through at the least (before, the last tempo holds).
MIN_FIT = 6


class Clock:
    """Beats (quarter notes) as moments: ``time_of(beat)``; ``running`` is set while the beat moves."""

    name = "its own clock"

    def __init__(self, bpm: float):
        self._lock = threading.Lock()
        self.bpm = float(bpm)
        self._beat, self._time = 0.0, time.perf_counter()
        self.running = threading.Event()

    def start(self, at: float, beat: float = 0.0) -> None:
        """Beat ``beat`` falls at ``at``; the clock runs."""
        self.anchor(beat, at)
        self.running.set()

    def anchor(self, beat: float, at: float, bpm: float = None) -> None:
        with self._lock:
            self._beat, self._time = beat, at
            if bpm:
                self.bpm = float(bpm)

    def time_of(self, beat: float) -> float:
        with self._lock:
            return self._time + (beat - self._beat) * 60.0 / self.bpm

    def beat_at(self, moment: float) -> float:
        with self._lock:
            return self._beat + (moment - self._time) * self.bpm / 60.0

    def stalled(self, now: float) -> bool:
        """Whether the beat has stopped moving (a clock of its own never stalls)."""
        return not self.running.is_set()

    def jumped(self) -> bool:
        """Whether the beat has jumped since this was last asked (a clock of its own never jumps)."""
        return False


class MidiClock(Clock):
    """A :class:`Clock` that follows MIDI clock messages (mido messages given to :meth:`receive` with their
    arrival times): the beat is the count of clocks since Start (or the Song Position), placed on a straight
    line fitted through the last beat's clocks, whose slope is the tempo: a change is followed within a beat."""

    name = "the MIDI clock"

    def __init__(self, bpm: float = 120.0):
        super().__init__(bpm)
        self._guard = threading.Lock()
        self._clocks = 0  # the number of the next clock
        self._recent = collections.deque(maxlen=CLOCKS_PER_BEAT + 1)  # (clock number, arrival)
        self._stopped = False  # a Stop came (a master may go on sending clocks while stopped)
        self._last = None

    def receive(self, message, at: float) -> None:
        with self._guard:
            kind = message.type
            if kind in ("start", "continue", "songpos"):
                self._stopped = False
                self._recent.clear()
                if kind == "start":
                    self._clocks = 0
                elif kind == "songpos":
                    self._clocks = message.pos * CLOCKS_PER_SIXTEENTH
            elif kind == "stop":
                self._stopped = True
                self.running.clear()
            elif kind == "clock" and not self._stopped:
                self._recent.append((self._clocks, at))
                self._last = at
                self._clocks += 1
                self._fit()

    def _fit(self) -> None:
        count = len(self._recent)
        mean_n = sum(n for n, _ in self._recent) / count
        mean_t = sum(t for _, t in self._recent) / count
        bpm = None
        if count >= MIN_FIT:
            slope = sum((n - mean_n) * (t - mean_t) for n, t in self._recent) / sum(
                (n - mean_n) ** 2 for n, _ in self._recent
            )  # seconds per clock
            if slope > 0:
                bpm = 60.0 / (slope * CLOCKS_PER_BEAT)
        self.anchor(mean_n / CLOCKS_PER_BEAT, mean_t, bpm)
        self.running.set()

    def stalled(self, now: float) -> bool:
        with self._guard:
            if self.running.is_set() and self._last is not None and now - self._last > SILENCE:
                self.running.clear()
                self._recent.clear()
            return not self.running.is_set()


#: Beats per bar in a Link session (its quantum): bar lines fall where the session's phase is 0.
QUANTUM = 4
#: How far (beats) a session's beat may move from where its tempo took it before it counts as a jump.
JUMP = 0.01
#: Seconds a peer's tempo change may take to reach this one (the beat moves by as much at the difference).
CHANGE_DELAY = 0.25
#: Seconds that reading Link's clock may take for the reading to set how it maps to ``time.perf_counter``.
READING = 0.0005
LINK_INSTALL = f'pip install "{DISTRIBUTION}[link]"'


class LinkClock(Clock):
    """A :class:`Clock` in an Ableton Link session: its beats are the session's (quantum :data:`QUANTUM`, so a
    bar line of the player is one of the session's), its tempo the session's, read again each time the player
    looks (:meth:`stalled`). A beat that jumps (when this peer joins another session) is reported once by
    :meth:`jumped`. ``bpm`` is the tempo of a session of its own; :meth:`propose` asks the session for one."""

    name = "the Link session"

    def __init__(self, bpm: float):
        try:
            import link
        except ImportError:
            raise SeqgenError(
                f"--link needs Ableton Link's binding LinkPython-extern, which is not installed; "
                f"install it with: {LINK_INSTALL}"
            ) from None
        super().__init__(bpm)
        self._link = link.Link(float(bpm))
        self._link.enabled = True
        self._clock = self._link.clock()
        self._offset = None  # Link's clock (seconds) less time.perf_counter
        self._last = None  # (Link micros, beat, tempo) of the last reading
        self._jumped = False
        self.refresh()
        self.running.set()

    def peers(self) -> int:
        """The other peers in the session."""
        return self._link.numPeers()

    def propose(self, bpm: float) -> None:
        """Ask the session for this tempo from now (its other peers follow it, as this one follows theirs)."""
        state = self._link.captureSessionState()
        state.setTempo(float(bpm), self._clock.micros())
        self._link.commitSessionState(state)

    def refresh(self) -> None:
        """Read the session's tempo and beat now, and the moment of Link's clock on ``time.perf_counter``."""
        before = time.perf_counter()
        micros = self._clock.micros()
        after = time.perf_counter()
        if self._offset is None or after - before < READING:
            self._offset = micros / 1e6 - (before + after) / 2
        state = self._link.captureSessionState()
        beat, tempo = state.beatAtTime(micros, QUANTUM), state.tempo()
        if self._last is not None:  # between two readings the beat moves at the old tempo, or the new from a change
            then, last_beat, last_tempo = self._last
            moved = [last_beat + (micros - then) / 1e6 * bpm / 60.0 for bpm in (last_tempo, tempo)]
            # A peer's change reaches this one late: from its moment the beat moved at the new tempo already.
            slack = JUMP + abs(tempo - last_tempo) / 60.0 * CHANGE_DELAY
            if not min(moved) - slack <= beat <= max(moved) + slack:
                self._jumped = True
        self._last = (micros, beat, tempo)
        self.anchor(beat, micros / 1e6 - self._offset, tempo)

    def stalled(self, now: float) -> bool:
        """A Link session's beat never stops; the tempo and beat are read again."""
        self.refresh()
        return False

    def jumped(self) -> bool:
        jumped, self._jumped = self._jumped, False
        return jumped

    def close(self) -> None:
        """Leave the session."""
        self._link.enabled = False
