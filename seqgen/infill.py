"""Infilling selections: which steps of a track to regenerate (bars counted from 1, as in a DAW, or steps)
and which parts of an event (an encoding's ``parts``, e.g. drums' instruments), checked with one-line
errors. The sampling itself is :meth:`seqgen.generator.Generator.infill`."""

import numpy as np

from seqgen.encoding import Encoding
from seqgen.errors import SeqgenError


def parse_range(text, what: str) -> tuple:
    """``"3-4"``, ``"3"`` or ``(3, 4)`` (counted from 1, both ends included) as ``(first, last)``."""
    if isinstance(text, int):
        first, last = text, text
    elif isinstance(text, (tuple, list)) and len(text) == 2:
        first, last = text
    else:
        first, dash, last = str(text).strip().partition("-")
        last = last if dash else first
    try:
        first, last = int(first), int(last)
    except (TypeError, ValueError):
        raise SeqgenError(
            f"--{what} {text!r} is not a range; write e.g. --{what} 3-4 or --{what} 5 (counted from 1)"
        ) from None
    if first < 1 or last < first:
        raise SeqgenError(f"--{what} {text!r} must count from 1 with the first not after the last, e.g. 3-4")
    return first, last


def selection(num_steps: int, steps_per_bar: int, bars=None, steps=None) -> tuple:
    """The steps ``[start, end)`` that ``bars`` or ``steps`` (counted from 1, inclusive) select in a track
    of ``num_steps`` steps; the whole track when neither is given."""
    if bars is not None and steps is not None:
        raise SeqgenError("give --bars or --steps, not both")
    if bars is None and steps is None:
        return 0, num_steps
    if bars is not None:
        first, last = parse_range(bars, "bars")
        total = -(-num_steps // steps_per_bar)
        if last > total:
            raise SeqgenError(f"--bars {bars} is outside the track, which has {total} bars")
        return (first - 1) * steps_per_bar, min(last * steps_per_bar, num_steps)
    first, last = parse_range(steps, "steps")
    if last > num_steps:
        raise SeqgenError(f"--steps {steps} is outside the track, which has {num_steps} steps")
    return first - 1, last


def check_gap(encoding, classes, start: int, end: int, parts=None) -> tuple:
    """``(start, end, allowed, order)``: the checked gap; per gap step the classes it may take [end - start, C]
    (every class, or with ``parts`` those equal to the kept class on every other part, and of them those the
    encoding's :meth:`~seqgen.encoding.Encoding.may_precede` lets the kept steps around the gap follow); and
    ``order`` (:func:`order`), what the sampler keeps between the steps it draws."""
    num_steps = len(classes)
    if not 0 <= start < end <= num_steps:
        raise SeqgenError(
            f"the steps to regenerate [{start}, {end}) are empty or outside the track of {num_steps} steps"
        )
    if parts:
        if not encoding.parts:
            raise SeqgenError(
                "this model's events have no separate instruments; regenerate whole steps (leave out --instruments)"
            )
        unknown = [p for p in parts if p not in encoding.parts]
        if unknown:
            raise SeqgenError(f"unknown instrument {unknown[0]!r}; valid: {', '.join(encoding.parts)}")
        allowed = np.stack([encoding.agreeing_classes(int(c), parts) for c in classes[start:end]])
        if set(parts) == set(encoding.parts) and (start, end) == (0, num_steps):
            raise SeqgenError("that selects everything; keep some bars or instruments, or use seqgen generate")
    else:
        if (start, end) == (0, num_steps):
            raise SeqgenError(
                "that selects the whole track; keep some bars (or choose --instruments), or use seqgen generate"
            )
        allowed = np.ones((end - start, encoding.num_classes), bool)
    pairs = order(encoding)
    if pairs is not None:
        _keep_meanings(pairs, classes, start, end, allowed)
    return start, end, allowed, pairs


def order(encoding):
    """Bool [C, C], ``[x, y]`` where class x may come right before class y (the encoding's ``may_precede``),
    or None where every order may (the default)."""
    if type(encoding).may_precede is Encoding.may_precede:
        return None  # the default: asking it of every class would take milliseconds per infill
    pairs = np.stack([np.asarray(encoding.may_precede(y), bool) for y in range(encoding.num_classes)], axis=1)
    return None if pairs.all() else pairs


def _keep_meanings(pairs, classes, start: int, end: int, allowed) -> None:
    """Narrow ``allowed`` (in place) so that every class left at a gap step can come after the kept step before
    the gap (or the step before it) and lead on, step by step, to the kept step after the gap; one line
    where no gap can."""
    after = pairs[:, classes[end]] if end < len(classes) else np.ones(len(pairs), bool)
    for t in reversed(range(end - start)):
        allowed[t] &= after
        after = pairs[:, allowed[t]].any(axis=1)  # the classes that may precede one allowed at t
    if start > 0:
        allowed[0] &= pairs[classes[start - 1]]
    if not allowed.any(axis=1).all():
        steps = f"step {end}" if end - start == 1 else f"steps {start + 1}-{end}"
        raise SeqgenError(
            f"no events for {steps} let the kept steps around them keep their meaning (the "
            f"encoding's may_precede allows none); regenerate more steps around them"
        )
