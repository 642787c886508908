"""When each beat falls: a tempo and an anchor (a beat at a moment of ``time.perf_counter``), set by the
player's own tempo or by a MIDI clock it follows (24 clocks per quarter note, Start, Stop, Continue, Song
Position Pointer)."""

import collections
import threading
import time

#: MIDI clocks per quarter note, and per Song Position Pointer unit (a sixteenth note).
CLOCKS_PER_BEAT = 24
CLOCKS_PER_SIXTEENTH = 6
#: A master whose clocks stop arriving for this long (seconds) without a Stop counts as stopped.
SILENCE = 1.0
#: Clocks a tempo is fitted through at the least (before, the last tempo holds).
MIN_FIT = 6


class Clock:
    """Beats (quarter notes) as moments: ``time_of(beat)``; ``running`` is set while the beat moves."""

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


class MidiClock(Clock):
    """A :class:`Clock` that follows MIDI clock messages (mido messages given to :meth:`receive` with their
    arrival times): the beat is the count of clocks since Start (or the Song Position), placed on a straight
    line fitted through the last beat's clocks, whose slope is the tempo: a change is followed within a beat."""

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
            slope = (sum((n - mean_n) * (t - mean_t) for n, t in self._recent)
                     / sum((n - mean_n) ** 2 for n, _ in self._recent))  # seconds per clock
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
