"""Prompt tokens: a config's controls and fill-in-the-middle sentinels, numbered after its event classes.

A family that takes controls or infills (:meth:`seqgen.family.ModelFamily.takes_controls`,
:meth:`~seqgen.family.ModelFamily.infills`) reads *streams*: token ids with the track step each stands
at (its position features). Token ids below ``num_classes`` are events; then, per control, an "unset"
token and one token per value (category) or bin (number); then the two sentinels ``SUFFIX`` and
``MIDDLE``. A model predicts events only.

- A plain stream: one token per control (unset or a value), then the events at their steps.
- A fill-in-the-middle stream (Bavarian et al. 2022, "Efficient Training of Language Models to Fill in
  the Middle", their "SPM" order: suffix, prefix, middle): controls, ``SUFFIX`` (at step ``end - 1``), the
  events from ``end`` on, ``MIDDLE`` (at step 0), then the events from the first step on, the gap's
  included. So the gap is generated left to right having seen both sides, each event at its own step;
  and the events before the gap lead into it exactly as in a plain stream (relative attention counts
  tokens: the "PSM" order, suffix between prefix and gap, read the prefix worse, docs/models.md).

Labels (the event each token is followed by, -1 where none is scored) make training and scoring agree:
what follows a control or the last event before a sentinel is not scored.
"""

import attrs
import numpy as np

from seqgen.errors import SeqgenError


@attrs.frozen
class Prompt:
    """The token layout of one config for a family that takes controls and/or infills."""

    num_classes: int
    controls: tuple = ()
    infill: bool = False

    @classmethod
    def of(cls, config):
        family = config.family
        return cls(
            config.encoding.num_classes,
            tuple(config.controls) if family.takes_controls(config) else (),
            family.infills(config),
        )

    def _offset(self, index: int) -> int:
        return self.num_classes + sum(c.num_bins + 1 for c in self.controls[:index])

    @property
    def suffix_token(self) -> int:
        return self._offset(len(self.controls))

    @property
    def middle_token(self) -> int:
        return self.suffix_token + 1

    @property
    def num_tokens(self) -> int:
        """Every token id is below this."""
        return self.suffix_token + (2 if self.infill else 0)

    def control_tokens(self, values: dict) -> list:
        """One token per control: its value's (``values`` holds checked values), else its unset token."""
        tokens = []
        for index, control in enumerate(self.controls):
            value = values.get(control.name)
            tokens.append(self._offset(index) + (0 if value is None else 1 + control.bin(value)))
        return tokens

    def blended_tokens(self, values: dict) -> list:
        """``[(weight, tokens)]``: the rows of prompt tokens generation reads ``values`` (checked) as, their
        weights summing to 1: one row, but two for each number between two bins' centres
        (:meth:`seqgen.controls.Control.blend`)."""
        rows = [(1.0, [])]
        for index, control in enumerate(self.controls):
            value = values.get(control.name)
            parts = [(0, 1.0)] if value is None else [(1 + bin_, weight) for bin_, weight in control.blend(value)]
            rows = [
                (weight * part, tokens + [self._offset(index) + token])
                for weight, tokens in rows
                for token, part in parts
            ]
        return rows

    def record_tokens(self, numbers) -> list:
        """:meth:`control_tokens` of the floats a record stores (NaN: unset), in control order."""
        return self.control_tokens(
            {control.name: control.from_record(float(number)) for control, number in zip(self.controls, numbers)}
        )

    def step_controls(self, control_tokens, steps, bar_values=None, steps_per_bar: int = 16):
        """[T, K] int64: the control token each of a stream's T tokens (at ``steps``, the K control tokens
        first) reads at its step (a family's controls at every step), -1 before that control's own token.
        ``bar_values`` ({control index: [value or None per bar]}) replace a set per-bar control's token by
        that of the bar of the event each token predicts (its step + 1); an unset control stays unset."""
        k, count = len(control_tokens), len(steps)
        out = np.tile(np.asarray(control_tokens, np.int64), (count, 1)).reshape(count, k)
        out[np.arange(count)[:, None] < np.arange(k)[None, :]] = -1
        for index, values in (bar_values or {}).items():
            if control_tokens[index] == self._offset(index) or not len(values):  # unset
                continue
            tokens = np.array([self.control_tokens({self.controls[index].name: value})[index] for value in values])
            bars = np.minimum((np.asarray(steps[k:], np.int64) + 1) // steps_per_bar, len(tokens) - 1)
            out[k:, index] = tokens[bars]
        return out

    def plain(self, classes, control_tokens):
        """``(tokens, steps, labels)`` int64 arrays of the plain stream of a track's ``classes``."""
        classes = np.asarray(classes, np.int64)
        k, n = len(control_tokens), len(classes)
        tokens = np.concatenate([np.asarray(control_tokens, np.int64), classes[:-1]])
        steps = np.concatenate([np.zeros(k, np.int64), np.arange(n - 1)])
        labels = np.concatenate([np.full(k, -1, np.int64), classes[1:]])
        return tokens, steps, labels

    def fill_in_middle(self, classes, start: int, end: int, control_tokens):
        """``(tokens, steps, labels)`` of the fill-in-the-middle stream of ``classes`` with the gap
        ``[start, end)`` (0 <= start < end < len(classes)); the gap's last event is only a label."""
        if not self.infill:
            raise SeqgenError("this model cannot fill in the middle")
        classes = np.asarray(classes, np.int64)
        n = len(classes)
        if not 0 <= start < end < n:
            raise ValueError(f"gap [{start}, {end}) must lie inside a track of {n} steps with steps after it")
        k = len(control_tokens)
        tokens = np.concatenate(
            [control_tokens, [self.suffix_token], classes[end:], [self.middle_token], classes[: end - 1]]
        ).astype(np.int64)
        steps = np.concatenate([np.zeros(k), [end - 1], np.arange(end, n), [0], np.arange(end - 1)]).astype(np.int64)
        labels = np.concatenate([np.full(k, -1), classes[end:], [-1], classes[:end]]).astype(np.int64)
        return tokens, steps, labels

    def context_before_gap(self, classes, start: int, end: int, control_tokens):
        """``(tokens, steps)`` fed before the gap's first event is sampled: the fill-in-the-middle stream
        up to the events before the gap (the gap itself is not read)."""
        tokens, steps, _ = self.fill_in_middle(classes, start, end, control_tokens)
        cut = len(control_tokens) + len(classes) - end + 2 + start
        return tokens[:cut], steps[:cut]


def random_gap(num_steps: int, steps_per_bar: int, rng, max_bars: int = 4):
    """A bar-aligned gap ``(start, end)`` of 1..max_bars bars with at least one step after it, or None
    for a track too short to have one."""
    bars = (num_steps - 1) // steps_per_bar
    if bars < 1:
        return None
    length = int(rng.integers(1, min(max_bars, bars) + 1))
    first = int(rng.integers(0, bars - length + 1))
    return first * steps_per_bar, (first + length) * steps_per_bar
