"""Calibrated sampling: how often a model's tracks rest on each step of the bar, and sound each part, matched to
the data's, alone and with each value of its controls set.

Sampled on its own, one step after another, a model can drift from the data it was trained on: the plain drum
transformer rested on 0.30 of its steps where the drummers rest on 0.25, and guidance towards a style pulls every
drum, not only the ones the style is about (docs/models.md, "Calibrated rests" and "Calibrated controls"). An
:class:`Offsets` adds to the logits of each step: one number per step of the bar to the encoding's no-event class,
and one per part (``Encoding.parts``, e.g. a drum) to every class that sounds it (``Encoding.class_parts``). A
:class:`Calibration` holds the model's own (applied by its stepper, so wherever it predicts: generating, infilling,
scoring) and one per value of each control (a category's, a number's bin), added to what generation draws from
when that value is set: the sum over the set controls, a number between two bins' centres weighing both as the
model reads it (:meth:`seqgen.controls.Control.blend`).

:func:`fit` finds them by sampling: each round generates tracks, counts their rests on each step of the bar and
each part's share of steps, and moves each number by half the difference of the log-odds of the data's rate and
the sampled one; the offsets are the mean of the later rounds'. The weights are unchanged. A bundle keeps them in
its manifest (``calibration``, :meth:`Calibration.manifest`). Bars are 4/4 and tracks start on a bar, as the records
and the generated tracks do.
"""

import math

import attrs
import numpy as np

from seqgen.errors import SeqgenError
from seqgen.family import Stepper


def _numbers(values) -> tuple:
    return tuple(float(v) for v in values)


@attrs.frozen
class Offsets:
    """Logit offsets: the no-event class's on each step of the bar (step 0: the downbeat), and each part's (empty:
    none), which every class that sounds the part gains."""

    no_event: tuple = attrs.field(converter=_numbers)
    parts: tuple = attrs.field(default=(), converter=_numbers)

    def table(self, encoding) -> np.ndarray:
        """[steps per bar, num_classes]: what each class's logit gains on each step of the bar."""
        table = np.zeros((len(self.no_event), encoding.num_classes), np.float32)
        if self.parts:
            table += class_parts(encoding).astype(np.float32) @ np.asarray(self.parts, np.float32)
        table[:, encoding.no_event_class] += np.asarray(self.no_event, np.float32)
        return table

    def manifest(self) -> dict:
        return {"no_event_offsets": list(self.no_event), **({"part_offsets": list(self.parts)} if self.parts else {})}


@attrs.frozen
class Calibration:
    """A model's own :class:`Offsets` (None: uncalibrated alone) and ``controls``: {control name: a tuple of
    Offsets or None, one per value (a category's) or bin (a number's)}."""

    own: Offsets | None = None
    controls: dict = attrs.field(factory=dict)

    def manifest(self) -> dict:
        """What a bundle's manifest keeps (:func:`seqgen.bundle.save`'s ``calibration``)."""
        out = self.own.manifest() if self.own is not None else {}
        if self.controls:
            out["controls"] = {
                name: [None if offsets is None else offsets.manifest() for offsets in by_bin]
                for name, by_bin in self.controls.items()
            }
        return out

    def control_table(self, controls, values: dict, encoding) -> np.ndarray | None:
        """[steps per bar, num_classes]: what generating with ``values`` (checked, of ``controls``) adds to the logits
        it draws from; None when no set value is calibrated."""
        tables = [
            weight * by_bin[index].table(encoding)
            for control in controls
            if control.name in values and (by_bin := self.controls.get(control.name))
            for index, weight in control.blend(values[control.name])
            if by_bin[index] is not None
        ]
        return sum(tables) if tables else None

    def with_control(self, control, index: int, offsets: Offsets) -> "Calibration":
        """This calibration with ``offsets`` for value (or bin) ``index`` of ``control``."""
        by_bin = list(self.controls.get(control.name, (None,) * control.num_bins))
        by_bin[index] = offsets
        return attrs.evolve(self, controls={**self.controls, control.name: tuple(by_bin)})


def class_parts(encoding) -> np.ndarray:
    """Bool [num_classes, parts]: the parts each class sounds (no column for an encoding without parts)."""
    if not encoding.parts:
        return np.zeros((encoding.num_classes, 0), bool)
    return np.asarray(encoding.class_parts(), bool)


def from_manifest(entry, config, source) -> Calibration:
    """The :class:`Calibration` a manifest keeps for ``config``'s model; a one-line SeqgenError naming ``source``
    when it is malformed."""
    steps_per_bar, num_parts = config.steps_per_quarter * 4, len(config.encoding.parts)
    invalid = SeqgenError(
        f"{source} has a manifest whose calibration is malformed (offsets are lists of numbers, one per step of the "
        f"bar and one per part); it is not a valid seqgen bundle"
    )

    def offsets(found):
        if not isinstance(found, dict):
            raise invalid
        no_event, parts = found.get("no_event_offsets"), found.get("part_offsets", [])
        if not (_numbers_of_length(no_event, steps_per_bar) and (parts == [] or _numbers_of_length(parts, num_parts))):
            raise invalid
        return Offsets(no_event, parts)

    if not isinstance(entry, dict):
        raise invalid
    own = offsets(entry) if "no_event_offsets" in entry else None
    by_name, controls = {c.name: c for c in config.controls}, {}
    found = entry.get("controls", {})
    if not isinstance(found, dict):
        raise invalid
    for name, by_bin in found.items():
        control = by_name.get(name)
        if control is None or not isinstance(by_bin, list) or len(by_bin) != control.num_bins:
            raise SeqgenError(
                f"{source} has a manifest whose calibration of control {name} is not one entry per value of a control "
                f"of its config; it is not a valid seqgen bundle"
            )
        controls[name] = tuple(None if item is None else offsets(item) for item in by_bin)
    if own is None and not controls:
        raise invalid
    return Calibration(own, controls)


def _numbers_of_length(values, length: int) -> bool:
    return (
        isinstance(values, list)
        and len(values) == length
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)
    )


def stepper_of(config, weights: dict, calibration=None) -> Stepper:
    """The stepper of ``config``'s family over ``weights``, with ``calibration``'s own offsets applied if it has any."""
    stepper = config.family.stepper(config, weights)
    if calibration is None or calibration.own is None:
        return stepper
    return CalibratedStepper(stepper, calibration.own.table(config.encoding))


class CalibratedStepper(Stepper):
    """A stepper (or anything that steps and reorders, e.g. :class:`seqgen.guidance.Guided`) whose logits of the event
    at position ``p`` gain ``table[p % len(table)]``."""

    def __init__(self, inner, table):
        self.inner, self.table = inner, np.asarray(table, np.float32)

    def shifted(self, logits, predicted_positions):
        return np.asarray(logits, np.float32) + self.table[np.asarray(predicted_positions) % len(self.table)]

    def initial_state(self, batch: int):
        return self.inner.initial_state(batch)

    def reorder(self, state, rows):
        return self.inner.reorder(state, rows)

    def step(self, classes, position: int, state) -> tuple:
        logits, state = self.inner.step(classes, position, state)
        return self.shifted(logits, position + 1), state

    def feed(self, classes, positions, state):
        logits, state = self.inner.feed(classes, positions, state)
        return self.shifted(logits, np.asarray(list(positions), np.int64) + 1), state

    def logits(self, classes) -> np.ndarray:
        return self.shifted(self.inner.logits(classes), np.arange(np.shape(classes)[1]) + 1)


#: How far a round moves the offsets towards the difference it measured: a step of one overshoots, as a rest on one
#: step of the bar changes what the model plays on the next.
STEP = 0.5


def rest_rates(tracks, no_event_class: int, steps_per_bar: int) -> np.ndarray:
    """The share of the tracks' steps on each step of the bar [steps_per_bar] that hold the no-event class."""
    rests, steps = np.zeros(steps_per_bar), np.zeros(steps_per_bar)
    for track in tracks:
        track = np.asarray(track, np.int64)
        where = np.arange(len(track)) % steps_per_bar
        np.add.at(rests, where, track == no_event_class)
        np.add.at(steps, where, 1)
    if not steps.all():
        raise SeqgenError(f"the tracks hold fewer than a bar's {steps_per_bar} steps; give tracks of a bar or more")
    return rests / steps


def part_rates(tracks, encoding) -> np.ndarray:
    """The share of the tracks' steps that sound each part [parts]."""
    parts = class_parts(encoding)
    steps = np.concatenate([np.asarray(track, np.int64) for track in tracks])
    return parts[steps].mean(axis=0) if len(steps) else np.zeros(parts.shape[1])


def _log_odds(rates):
    rates = np.clip(rates, 1e-3, 1 - 1e-3)
    return np.log(rates / (1 - rates))


def fit(model, tracks, controls=None, rounds=12, outputs=500, num_steps=128, seed=0, log=None, parts=True) -> Offsets:
    """The :class:`Offsets` under which ``model`` (a :class:`seqgen.model.Model`) plays, from its default primer,
    tracks that rest on each step of the bar and (with ``parts``) sound each part as often as ``tracks`` (class
    sequences, e.g. the training records) do: alone, or with ``controls`` ({name: value}, one control) set, as
    generating with them draws (anchored on the bundle's guidance base, if it names one). ``rounds`` rounds of
    ``outputs`` tracks of ``num_steps`` steps; ``log(round, target, sampled)`` hears each round's mean rest rates."""
    encoding, steps_per_bar = model.config.encoding, model.config.steps_per_quarter * 4

    def rates(classes) -> tuple:
        rests = rest_rates(classes, encoding.no_event_class, steps_per_bar)
        return rests, part_rates(classes, encoding) if parts else np.zeros(0)

    target = rates(tracks)
    calibration = model.calibration or Calibration()
    control, index = _control_of(model, controls)
    by_bin = calibration.controls.get(control.name) if control is not None else None
    start = calibration.own if control is None else (by_bin[index] if by_bin else None)
    no_event = np.array(start.no_event if start else np.zeros(steps_per_bar))
    part_offsets = np.array(start.parts if start and start.parts else np.zeros(len(target[1])))
    kept = []
    for round_ in range(rounds):
        offsets = Offsets(no_event, part_offsets)
        trial = attrs.evolve(
            model,
            calibration=(
                attrs.evolve(calibration, own=offsets)
                if control is None
                else calibration.with_control(control, index, offsets)
            ),
        )
        generated = trial.generate(
            num_outputs=outputs,
            num_steps=num_steps,
            seed=seed + round_,
            controls=controls or None,
            guidance_base=None if controls else False,
        )
        sampled = rates([encoding.events_to_classes(track.events) for track in generated])
        if log:
            log(round_ + 1, float(target[0].mean()), float(sampled[0].mean()))
        no_event = no_event + STEP * (_log_odds(target[0]) - _log_odds(sampled[0]))
        part_offsets = part_offsets + STEP * (_log_odds(target[1]) - _log_odds(sampled[1]))
        if round_ >= rounds // 2:
            kept.append((no_event, part_offsets))
    return Offsets(*(np.mean(values, axis=0) for values in zip(*kept)))


def _control_of(model, controls) -> tuple:
    """(the control, the index of its value or bin) that ``controls`` set, or (None, None) when unset."""
    if not controls:
        return None, None
    if len(controls) != 1:
        raise SeqgenError("a calibration is fitted for one control's value at a time")
    ((name, value),) = controls.items()
    control = next((c for c in model.controls if c.name == name), None)
    if control is None:
        raise SeqgenError(f"{model.config.id} takes no control {name}")
    return control, control.bin(control.check(value))
