"""What ``seqgen evaluate_drumify`` measures of drumify models and baselines on groove records: how well the
drums they play to a performance's rhythm match the performance, and how closely they follow the rhythm.

Each performance is collapsed to its rhythm (a tap at every step with a hit, the loudest hit's velocity
and offset: what the models are given); its hits are the truth. Reported per drum class: the onset F1 of
the output's hits against the performance's (the same step and drum class), over all performances; the
F1 over all classes together; and the share of the output's onsets within 20 ms of a tap (at each
performance's tempo). Baselines: a kick on every tap (with the tap's timing), and the most common one-bar
pattern of the training performances, repeated on the grid whatever the rhythm.
"""

import collections

import attrs
import numpy as np

from seqgen_drums.events.groove import NUM_DRUMS, STEPS_PER_BAR
from seqgen_drums.events.rhythm import Rhythm, collapse

#: Onsets this close to a tap follow it.
FOLLOW_MS = 20.0


def rhythm_of(performance) -> Rhythm:
    """The rhythm a performance collapses to (GrooVAE's Tap2Drum input)."""
    taps, velocities, offsets = collapse(performance.hits, performance.velocities, performance.offsets)
    return Rhythm(np.where(taps, np.maximum(velocities, 1 / 127), 0.0), offsets, performance.qpm)


class KickOnTaps:
    """A kick on every tap, at the tap's velocity and timing."""

    name = "a kick on every tap"

    def play(self, rhythm) -> tuple:
        hits = np.zeros((len(rhythm), NUM_DRUMS), bool)
        hits[:, 0] = rhythm.taps
        return hits, np.repeat(rhythm.offsets[:, None], NUM_DRUMS, 1)


class CommonPattern:
    """The most common one-bar pattern (16 drum_kit classes) of the training performances, repeated on the
    grid for the length of the rhythm."""

    name = "most common bar of the train split"

    def __init__(self, performances):
        bars = collections.Counter(
            tuple(p.classes[start : start + STEPS_PER_BAR])
            for p in performances
            for start in range(0, len(p.classes) - STEPS_PER_BAR + 1, STEPS_PER_BAR)
        )
        self.pattern = np.array(bars.most_common(1)[0][0], np.int64)

    def play(self, rhythm) -> tuple:
        from seqgen_drums.events.groove import hits_of_classes

        classes = np.resize(self.pattern, len(rhythm))
        return hits_of_classes(classes).astype(bool), np.zeros((len(rhythm), NUM_DRUMS), np.float32)


class ModelPlayer:
    """A trained drumify model, sampled at ``temperature`` with ``seed`` (0: the likely drums at their means)."""

    def __init__(self, model, name=None, temperature: float = 1.0, seed=0):
        self.model, self.name, self.temperature, self.seed = model, name or model.source, temperature, seed

    def play_all(self, rhythms) -> list:
        from seqgen_drums.families.groove.inference import predict, rhythm_features, sample_drums

        parts = predict(self.model, [rhythm_features(rhythm) for rhythm in rhythms])
        rng = np.random.default_rng(self.seed)
        found = []
        for rhythm, track_parts in zip(rhythms, parts):
            hits, _, offsets = sample_drums(track_parts, rhythm.taps, self.model.config.hparams, self.temperature, rng)
            found.append((hits, offsets))
        return found


@attrs.frozen
class Following:
    """Onset F1 per drum class (nan where neither side has a hit), over all classes, and the share of onsets
    within FOLLOW_MS of a tap."""

    name: str
    f1: tuple
    overall_f1: float
    onsets: int
    near_taps: float


def _f1(true_positives, predicted, actual) -> float:
    return 2.0 * true_positives / (predicted + actual) if predicted + actual else float("nan")


def following(name, performances, rhythms, outputs) -> Following:
    """How ``outputs`` ([(hits [T, 9] bool, offsets [T, 9] steps)]) match the performances and follow their rhythms."""
    true_positives, predicted, actual = np.zeros(NUM_DRUMS), np.zeros(NUM_DRUMS), np.zeros(NUM_DRUMS)
    onsets = near = 0
    for performance, rhythm, (hits, offsets) in zip(performances, rhythms, outputs):
        truth = performance.hits
        true_positives += (hits & truth).sum(0)
        predicted += hits.sum(0)
        actual += truth.sum(0)
        step_ms = 1000.0 * 60.0 / rhythm.qpm / 4.0
        taps = np.flatnonzero(rhythm.taps)
        tap_times = np.sort((taps + rhythm.offsets[taps]) * step_ms)
        steps, drums = np.nonzero(hits)
        times = (steps + offsets[steps, drums]) * step_ms
        if len(times) and len(tap_times):
            index = np.clip(np.searchsorted(tap_times, times), 1, len(tap_times) - 1) if len(tap_times) > 1 else None
            gaps = (
                np.abs(times - tap_times[0])
                if index is None
                else np.minimum(np.abs(times - tap_times[index - 1]), np.abs(times - tap_times[index]))
            )
            near += int((gaps <= FOLLOW_MS).sum())
        onsets += len(times)
    return Following(
        name,
        tuple(_f1(t, p, a) for t, p, a in zip(true_positives, predicted, actual)),
        _f1(true_positives.sum(), predicted.sum(), actual.sum()),
        onsets,
        near / max(onsets, 1),
    )


def evaluate(performances, train_performances=None, models=()) -> list:
    """A :class:`Following` row for each model and baseline (the common pattern needs ``train_performances``)."""
    rhythms = [rhythm_of(p) for p in performances]
    players = [(model.name, model.play_all(rhythms)) for model in models]
    baselines = [KickOnTaps()] + ([CommonPattern(train_performances)] if train_performances else [])
    players += [(b.name, [b.play(rhythm) for rhythm in rhythms]) for b in baselines]
    return [following(name, performances, rhythms, outputs) for name, outputs in players]


def table(rows) -> str:
    """A Markdown table of :class:`Following` rows."""
    from seqgen_drums.events.encoding import DRUM_KIT_NAMES

    lines = [
        "| model | " + " | ".join(f"{name} F1" for name in DRUM_KIT_NAMES) + " | all F1 | onsets | within "
        f"{FOLLOW_MS:g} ms of a tap |",
        "|---" * (NUM_DRUMS + 5) + "|",
    ]
    lines += [
        f"| {r.name} | " + " | ".join(f"{f:.3f}" for f in r.f1) + f" | {r.overall_f1:.3f} | {r.onsets:,} | "
        f"{100 * r.near_taps:.1f}% |"
        for r in rows
    ]
    return "\n".join(lines)
