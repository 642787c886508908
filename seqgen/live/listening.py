"""Call and response (``seqgen live --listen``): for some bars the drummer is silent and listens to a pad or a
keyboard (the note-ons of a MIDI input), then for as many bars it answers with drums that follow what was
played, made by a model a plugin offers for tapped rhythms (the ``rhythm_models`` hook, e.g. drums' Drumify),
and listens again.

The answer to a call is made just before it is due (:data:`ANSWER_TIME` before the player takes its first bar),
so a tap in the call's last moments, after that, is heard in the next call instead."""

import threading

from seqgen.errors import SeqgenError

#: Seconds left to make an answer before the player takes its first bar.
ANSWER_TIME = 0.15
#: A tap this many seconds before a call's first bar line counts as on it (a player a little early).
EARLY = 0.05


def answer_models() -> dict:
    """``{name: function(times, velocities, qpm, temperature, seed) -> Track}`` the plugins offer (the first one
    offered is the default)."""
    from seqgen import plugins

    found = {}
    for offered in plugins.manager().hook.rhythm_models()[::-1]:  # the hook answers the last plugin first
        found.update(offered or {})
    return found


def answer_model(name: str = None):
    """The answering model ``name`` (None: the first one offered); a one-line SeqgenError when there is none."""
    found = answer_models()
    if not found:
        raise SeqgenError(
            "--listen answers with a model that plays to a rhythm, and no installed plugin offers one "
            "(the rhythm_models hook; the drums plugin offers drumify_gmd)"
        )
    if name is None:
        return next(iter(found.values()))
    if name not in found:
        raise SeqgenError(f"--answer {name!r} is no model that plays to a rhythm; choose one of {', '.join(found)}")
    return found[name]


class CallAndResponse:
    """Which bars are calls (silent, listening) and which answers, and the answers themselves: ``bars`` bars
    each. :meth:`receive` takes the note-ons of the listened port (on its thread)."""

    def __init__(self, answer, bars: int, temperature: float = 1.0, seed: int = None):
        self.answer, self.bars = answer, bars
        self.temperature, self.seed = temperature, seed
        self._lock = threading.Lock()
        self._taps = []  # (arrival, velocity)
        self._answer = None  # the events of the answer being played, and their config

    def receive(self, message, at: float) -> None:
        if message.type == "note_on" and message.velocity:
            with self._lock:
                self._taps.append((at, message.velocity))

    def is_call(self, number: int) -> bool:
        return (number // self.bars) % 2 == 0

    def bar(self, number: int, steps: int, config, moment_of, bpm: float):
        """Bar ``number``'s events and their config: ``steps`` of nothing in a call; in an answer, its share of the
        answer, made (at the first of its bars) from the taps since the call's first bar line. ``moment_of(bar)``
        is when a bar line falls, ``bpm`` the tempo now."""
        import time

        if self.is_call(number):
            return [config.encoding.no_event] * steps, config
        first = number - number % self.bars
        if number == first:
            start = moment_of(first - self.bars)
            until = moment_of(first) - ANSWER_TIME - 0.5 * 60.0 / bpm  # the player takes a bar half a beat ahead
            time.sleep(max(0.0, until - time.perf_counter()))
            with self._lock:
                heard = [(max(0.0, at - start), velocity) for at, velocity in self._taps if at >= start - EARLY]
                self._taps = []
            self._answer = None
            if heard:
                seed = None if self.seed is None else (self.seed + number) % 2**63
                track = self.answer([t for t, _ in heard], [v for _, v in heard], bpm, self.temperature, seed)
                self._answer = (list(track.events), track.config)
        if self._answer is None:  # nothing was played: silence, then listening again
            return [config.encoding.no_event] * steps, config
        events, answered = self._answer
        length = answered.steps_per_quarter * 4
        part = events[(number - first) * length : (number - first + 1) * length]
        return part + [answered.encoding.no_event] * (length - len(part)), answered
