"""The player: sends every note of the bars the drummer generates at its moment on the clock.

Bar ``n`` is asked of the drummer at bar line ``n - 1`` (generated while bar ``n - 1`` plays) and taken
:data:`LOOKAHEAD` beats before its bar line (a played note may come early); its notes, their note-offs and
its bar line wait in one queue ordered by beat. The player's beats are the clock's shifted to a bar line: it
starts on the clock's next bar line, and after a master clock stops and comes back (or a Link session's beat
jumps) it goes on at the next.
"""

import heapq
import math
import threading
import time

from seqgen.live.drummer import BEATS_PER_BAR

#: Beats before its bar line that a bar's notes are taken (a played note starts at most this early).
LOOKAHEAD = 0.5
#: Seconds from starting to the moment the first note may be due.
START = 0.05
#: How often (seconds) the player looks at a clock it follows while waiting for a moment.
FOLLOW_POLL = 0.005
#: Seconds around a moment when the drummer pauses between its steps, leaving the interpreter to the player.
GUARD = 0.004
#: A clock that starts or comes back is joined at a bar line at least this many beats ahead.
RESUME_MARGIN = 0.05
DRUM_CHANNEL = 9  # General MIDI's channel 10
_OFF, _LINE, _TAKE, _ON = range(4)  # at the same beat: note-offs first, then the bar line, then note-ons


class Player:
    """Plays ``bars`` bars (None: until stopped) from ``drummer`` to ``outputs`` on ``clock``; :attr:`played`
    holds the bars whose bar line has come, :attr:`timing` (scheduled moment, sent moment, pitch) of every note-on."""

    def __init__(self, clock, drummer, outputs, bars: int = None, say=print, follows: bool = False):
        self.clock, self.drummer, self.outputs = clock, drummer, list(outputs)
        self.bars, self.say, self.follows = bars, say, follows
        self.played = []
        self.timing = []
        self.late_bars = 0
        self._queue = []
        self._count = 0
        self._offset = 0.0  # the clock's beat = the player's beat + offset
        self._tempo_sent = None
        self._stop = threading.Event()
        self._next = None  # the moment (perf_counter) the player waits for
        drummer.player = self

    def moment_of(self, number: int) -> float:
        """When bar ``number``'s bar line falls (``time.perf_counter``), as the clock says now."""
        return self.clock.time_of(number * BEATS_PER_BAR + self._offset)

    def hold_off(self) -> None:
        """Called by the drummer's thread between the steps it generates: while a moment is near, it sleeps (so
        Python's interpreter lock is free when the player wakes; generating holds it in long stretches)."""
        upcoming = self._next
        if upcoming is None:
            return
        left = upcoming - time.perf_counter()
        if -GUARD < left < GUARD:
            time.sleep(left + GUARD)

    def stop(self) -> None:
        """End :meth:`play` (from another thread) at once, every note silenced."""
        self._stop.set()

    def _push(self, beat: float, kind: int, payload=None) -> None:
        self._count += 1
        heapq.heappush(self._queue, (beat, kind, self._count, payload))

    def play(self) -> list:
        """Play until the last bar has sounded; the bars played. Every note is silenced however it ends."""
        try:
            self.drummer.ask(0)
            first = self.drummer.take()
            self._start()
            self._add_bar(first)
            while self._queue and not self._stop.is_set():
                item = heapq.heappop(self._queue)
                if self._wait(item):
                    self._do(item[0], item[1], item[3])
        finally:
            self.drummer.stop()
            for output in self.outputs:
                output.silence()
        return self.played

    def _start(self) -> None:
        if not self.follows:
            # The first bar line a moment from now, after the earliest a played note of it may come.
            self.clock.start(time.perf_counter() + START + LOOKAHEAD * 60.0 / self.clock.bpm)
            return
        self._wait_for_clock()

    def _wait_for_clock(self) -> None:
        """Wait until the clock runs (saying so once), then go on at its next bar line."""
        if self.clock.stalled(time.perf_counter()):
            for output in self.outputs:
                output.silence()
            self.say(f"seqgen live: waiting for {self.clock.name} to " + ("continue" if self.played else "start"))
            while self.clock.stalled(time.perf_counter()) and not self._stop.is_set():
                self.clock.running.wait(0.05)
        self._rejoin()

    def _rejoin(self) -> None:
        """Go on at the clock's next bar line: the player's next bar line moves there, and the notes left of the
        bar the clock stopped or jumped in are dropped."""
        self.clock.jumped()  # a jump before now is behind: the bar lines go by the clock as it is now
        lines = [beat for beat, kind, _, _ in self._queue if kind == _LINE]
        mine = (
            min(lines)
            if lines
            else math.ceil(min((b for b, *_ in self._queue), default=0.0) / BEATS_PER_BAR) * BEATS_PER_BAR
        )
        self._queue = [item for item in self._queue if item[0] >= mine or item[1] == _TAKE]
        heapq.heapify(self._queue)
        now = self.clock.beat_at(time.perf_counter()) + RESUME_MARGIN
        self._offset = math.ceil(now / BEATS_PER_BAR) * BEATS_PER_BAR - mine

    def _wait(self, item) -> bool:
        """Wait for the moment of ``item``; False (and the item back in the queue) when the clock stopped."""
        while True:
            now = time.perf_counter()
            if self.clock.stalled(now):
                if item[1] == _OFF:  # a note-off needs no clock
                    return True
                heapq.heappush(self._queue, item)
                self._wait_for_clock()
                return False
            if self.clock.jumped():  # a Link session's beat, when it joins another session
                heapq.heappush(self._queue, item)
                for output in self.outputs:
                    output.silence()
                self.say(f"seqgen live: {self.clock.name} moved its beat; going on at its next bar line")
                self._rejoin()
                return False
            self._next = self.clock.time_of(item[0] + self._offset)
            left = self._next - now
            if left <= 0:
                return True
            if self._stop.wait(min(left, FOLLOW_POLL) if self.follows else left):
                return False

    def _do(self, beat: float, kind: int, payload) -> None:
        if kind == _ON:
            start, end, pitch, velocity, is_drum = payload
            scheduled = self.clock.time_of(beat + self._offset)
            seconds = (end - start) * 60.0 / self.clock.bpm
            channel = DRUM_CHANNEL if is_drum else 0
            for output in self.outputs:
                output.note(pitch, velocity, channel, seconds)
            self.timing.append((scheduled, time.perf_counter(), pitch))
        elif kind == _OFF:
            for output in self.outputs:
                output.note_off(payload[0], payload[1])
        elif kind == _LINE:
            self._bar_line(payload)
        elif kind == _TAKE:
            if not self.drummer.ready():
                self.late_bars += 1
            self._add_bar(self.drummer.take())

    def _bar_line(self, bar) -> None:
        self.played.append(bar)
        number = bar.number
        for output in self.outputs:
            output.check()
        bpm = round(self.clock.bpm, 2)
        if self._tempo_sent is None or abs(bpm - self._tempo_sent) >= 0.5:
            for output in self.outputs:
                output.tempo(bpm)
            self._tempo_sent = bpm
        for output in self.outputs:
            output.bar(number + 1)
            if bar.section is not None:
                output.section(bar.section, number + 1)
        if self.bars is None or number + 1 < self.bars:
            self.drummer.ask(number + 1)
            self._push((number + 1) * BEATS_PER_BAR - LOOKAHEAD, _TAKE)

    def _add_bar(self, bar) -> None:
        line = bar.number * BEATS_PER_BAR
        self._push(line, _LINE, bar)
        for start, end, pitch, velocity, is_drum in bar.notes:
            self._push(line + start, _ON, (start, end, pitch, velocity, is_drum))
            self._push(line + end, _OFF, (pitch, DRUM_CHANNEL if is_drum else 0))
