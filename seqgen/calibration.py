"""Calibrated rests: how often a model's tracks hold no event on each step of the bar, matched to the data's.

Sampled on its own, one step after another, a model can drift from the data it was trained on: the plain drum
transformer rests on 0.30 of its steps where the drummers rest on 0.25, most of the difference on the 16th-note
off-beats (docs/models.md, "Calibrated rests"). A :class:`Calibration` adds one number per step of the bar to
the logit of the encoding's no-event class there. :func:`fit` finds them by sampling: each round generates
tracks, counts their rests on each step of the bar, and moves each number by half the difference of the log-odds
of the data's rate and the sampled one; the calibration is the mean of the later rounds' numbers.

A bundle keeps it in its manifest (``calibration``: ``{"no_event_offsets": [...]}``); the model's stepper
applies it wherever the model predicts (generation, infilling, scoring), so a calibrated model is one
distribution. Bars are 4/4 and tracks start on a bar, as the records and the generated tracks do.
"""

import attrs
import numpy as np

from seqgen.errors import SeqgenError
from seqgen.family import Stepper


@attrs.frozen
class Calibration:
    """Logit offsets of the no-event class, one per step of the bar (step 0: the downbeat)."""

    no_event_offsets: tuple = attrs.field(converter=lambda values: tuple(float(v) for v in values))

    def manifest(self) -> dict:
        """What a bundle's manifest keeps (:func:`seqgen.bundle.save`'s ``calibration``)."""
        return {"no_event_offsets": list(self.no_event_offsets)}


def stepper_of(config, weights: dict, calibration=None) -> Stepper:
    """The stepper of ``config``'s family over ``weights``, with ``calibration`` applied when there is one."""
    stepper = config.family.stepper(config, weights)
    if calibration is None:
        return stepper
    return CalibratedStepper(stepper, calibration.no_event_offsets, config.encoding.no_event_class)


class CalibratedStepper(Stepper):
    """A stepper whose no-event logit of the event at position ``p`` gains ``offsets[p % len(offsets)]``."""

    def __init__(self, inner: Stepper, offsets, no_event_class: int):
        self.inner, self.offsets, self.no_event_class = inner, np.asarray(offsets, np.float32), no_event_class

    def _shifted(self, logits, predicted_positions):
        logits = np.array(logits, np.float32)
        logits[..., self.no_event_class] += self.offsets[np.asarray(predicted_positions) % len(self.offsets)]
        return logits

    def initial_state(self, batch: int):
        return self.inner.initial_state(batch)

    def reorder(self, state, rows):
        return self.inner.reorder(state, rows)

    def step(self, classes, position: int, state) -> tuple:
        logits, state = self.inner.step(classes, position, state)
        return self._shifted(logits, position + 1), state

    def feed(self, classes, positions, state):
        logits, state = self.inner.feed(classes, positions, state)
        return self._shifted(logits, np.asarray(list(positions), np.int64) + 1), state

    def logits(self, classes) -> np.ndarray:
        return self._shifted(self.inner.logits(classes), np.arange(np.shape(classes)[1]) + 1)


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


def _log_odds(rates):
    rates = np.clip(rates, 1e-3, 1 - 1e-3)
    return np.log(rates / (1 - rates))


def fit(model, tracks, rounds: int = 12, outputs: int = 500, num_steps: int = 128, seed: int = 0, log=None):
    """The :class:`Calibration` of ``model`` (a :class:`seqgen.model.Model`) whose generated tracks rest on each
    step of the bar as often as ``tracks`` (class sequences, e.g. the training records) do: ``rounds`` rounds of
    ``outputs`` tracks of ``num_steps`` steps, from the model's default primer. ``log(round, target, sampled)``
    hears each round's mean rest rates."""
    encoding, steps_per_bar = model.config.encoding, model.config.steps_per_quarter * 4
    target = rest_rates(tracks, encoding.no_event_class, steps_per_bar)
    offsets = np.array(model.calibration.no_event_offsets if model.calibration else np.zeros(steps_per_bar))
    if len(offsets) != steps_per_bar:
        raise SeqgenError(f"the model's calibration has {len(offsets)} steps per bar, not {steps_per_bar}")
    kept = []
    for round_ in range(rounds):
        trial = attrs.evolve(model, calibration=Calibration(offsets))
        generated = trial.generate(num_outputs=outputs, num_steps=num_steps, seed=seed + round_, guidance_base=False)
        sampled = rest_rates(
            [encoding.events_to_classes(track.events) for track in generated], encoding.no_event_class, steps_per_bar
        )
        if log:
            log(round_ + 1, float(target.mean()), float(sampled.mean()))
        offsets = offsets + STEP * (_log_odds(target) - _log_odds(sampled))
        if round_ >= rounds // 2:
            kept.append(offsets)
    return Calibration(np.mean(kept, axis=0))
