"""The bars to play, generated one ahead in a background thread: each bar continues the last bars played (a
rolling window as its primer), so the music is a loop with variations, or a song form's sections
(:mod:`seqgen.live.form`), steered by the controls of its moment."""

import queue
import threading

import attrs

#: Bars of what was played that each new bar continues.
WINDOW_BARS = 4
BEATS_PER_BAR = 4


@attrs.frozen
class Bar:
    """One bar: its ``track`` (a :class:`seqgen.model.Track` of one bar's steps, as played), the controls it was
    generated with, and its notes as (start beat, end beat, pitch, velocity, is_drum), beats counted from its
    bar line (a played note may start a little before it); ``section``: the name of the form's section it starts
    (None: it starts none)."""

    number: int
    track: object
    controls: dict
    notes: tuple
    section: str = None


def bar_notes(track) -> tuple:
    """The notes of a one-bar track in beats: its notes at 60 quarter notes a minute, when seconds are beats."""
    config = track.config
    notes = config.tracks.notes(track.events, config.steps_per_quarter, 60.0)
    return tuple(sorted((note.start, note.end, note.pitch, note.velocity, note.is_drum) for note in notes))


class Drummer:
    """Generates bar ``n`` when asked (:meth:`ask`) and hands it over (:meth:`take`), in a thread of its own.

    ``postprocess(track, number)`` may change each bar before it is played (e.g. a plugin's humanizing); with
    ``realtime``, its thread asks for real-time scheduling (:mod:`seqgen.live.realtime`); with
    ``call_and_response`` (:class:`seqgen.live.listening.CallAndResponse`) it listens and answers instead of
    generating; with ``form`` (:class:`seqgen.live.form.Form`) each bar has its section's controls, overridden by
    the steering's. Its :attr:`player` (set by the :class:`~seqgen.live.player.Player`) says when bars fall."""

    def __init__(
        self,
        model,
        steering,
        temperature: float = 1.0,
        seed: int = None,
        postprocess=None,
        window_bars: int = WINDOW_BARS,
        realtime: bool = False,
        call_and_response=None,
        primer=None,
        form=None,
    ):
        self.model, self.steering = model, steering
        self.temperature, self.seed = temperature, seed
        self.postprocess = postprocess
        self.steps_per_bar = model.config.steps_per_quarter * BEATS_PER_BAR
        self.window = window_bars * self.steps_per_bar
        self.history = []  # the events generated so far, bar after bar
        self._asked, self._done = queue.Queue(), queue.Queue()
        self.realtime = realtime
        self.call_and_response = call_and_response
        self.form = form
        self.primer = model.primer(primer)  # the first bar's (a one-line SeqgenError when unusable)
        self.player = None
        self._thread = threading.Thread(target=self._run, name="seqgen-live-drummer", daemon=True)
        self._thread.start()

    def ask(self, number: int) -> None:
        """Start generating bar ``number`` (0 first; asked in order)."""
        self._asked.put(number)

    def take(self, timeout: float = None) -> Bar:
        """The bar asked for first and not yet taken, waiting for it; the generating thread's error raised here."""
        done = self._done.get(timeout=timeout)
        if isinstance(done, BaseException):
            raise done
        return done

    def ready(self) -> bool:
        return not self._done.empty()

    def stop(self) -> None:
        self._asked.put(None)

    def _run(self) -> None:
        if self.realtime:
            from seqgen.live.realtime import DRUMMER, realtime

            realtime(DRUMMER)
        while True:
            number = self._asked.get()
            if number is None:
                return
            try:
                self._done.put(self.generate(number))
            except BaseException as error:  # noqa: BLE001  (handed to the player, which reports it)
                self._done.put(error)
                return

    def generate(self, number: int) -> Bar:
        """Bar ``number``: the first continuing ``primer`` (default: the config's), each next one the window."""
        from seqgen.model import Track

        if self.call_and_response is not None:
            events, config = self.call_and_response.bar(
                number, self.steps_per_bar, self.model.config, self.player.moment_of, self.player.clock.bpm
            )
            track = Track(events, config, 60.0)
            return Bar(number, track, {}, bar_notes(track))
        controls = self.steering.next_bar()
        planned = self.form.bar(number) if self.form is not None else None
        if planned is not None:
            controls = {**planned.controls, **controls}
        seed = None if self.seed is None else (self.seed + number) % 2**63
        if self.history:
            primer = self.history[-self.window :]
            steps = len(primer) + self.steps_per_bar
        else:
            primer = self.primer  # the first bar is the one after the primer's last whole bar
            steps = (len(primer) // self.steps_per_bar + 1) * self.steps_per_bar
        on_step = self.player.hold_off if self.player is not None else None
        events = self.model.generate(1, steps, primer, self.temperature, seed, on_step=on_step, controls=controls)[
            0
        ].events
        events = list(events[-self.steps_per_bar :])
        if planned is not None and planned.first and self.form.start:
            events[0] = self.form.start(events[0])
        self.history = (self.history + events)[-self.window :]
        track = Track(events, self.model.config, 60.0)
        if self.postprocess is not None:
            track = self.postprocess(track, number)
        return Bar(number, track, controls, bar_notes(track), planned.section if planned and planned.first else None)
