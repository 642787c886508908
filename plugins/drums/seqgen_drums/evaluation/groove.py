"""What ``seqgen evaluate_groove`` measures of groove models and baselines on groove records: how far the
velocities and timing they give the hits of real performances are from the drummer's.

Input: the performances' scores (their hits, quantized); truth: the velocity and the offset from the grid
of every hit as played. Reported over all hits: the mean absolute error of the velocity (MIDI units,
0-127) and of the timing offset (in fractions of a 16th-note step and in milliseconds at each
performance's tempo). Baselines: Magenta's output (velocity 100 on the grid), the per-drum means of
the training hits, the per-drum means at each of the 16 positions in the bar, and each drum's training
hits drawn at random.

How the outputs vary, per drum class: the ratio of the standard deviation of their velocities and offsets
to the drummers' (1: as varied as the data), and the Wasserstein-1 distance between the two
distributions (the outputs and the truth have the same hits, so it is the mean absolute difference of
their sorted values).
"""

import attrs
import numpy as np

from seqgen_drums.events.groove import NUM_DRUMS, STEPS_PER_BAR, hits_of_classes


@attrs.frozen
class Performance:
    """One groove record: drum_kit classes [T], velocities (0-1) and offsets (steps) [T, 9], tempo."""

    classes: np.ndarray
    velocities: np.ndarray
    offsets: np.ndarray
    qpm: float

    @property
    def hits(self) -> np.ndarray:
        return hits_of_classes(self.classes).astype(bool)


def read_performances(files, config) -> list:
    """Every groove record of ``files`` (seqgen records with per-step values, from ``create_dataset``)."""
    from seqgen_drums.events.groove import VALUE_WIDTH

    from seqgen import records

    found = []
    for classes, values, context in records.values_dataset(
        files, config.encoding.num_classes, VALUE_WIDTH, ("qpm",)
    ).as_numpy_iterator():
        found.append(
            Performance(classes.astype(np.int64), values[:, :NUM_DRUMS], values[:, NUM_DRUMS:], float(context[0]))
        )
    return found


class Baseline:
    """Velocities and offsets of the hits of a score, without a model."""

    name = ""

    def predict(self, classes) -> tuple:
        raise NotImplementedError


class Constant(Baseline):
    """Magenta's drums: velocity 100, every hit on the grid."""

    name = "velocity 100, on the grid (Magenta's output)"

    def predict(self, classes):
        shape = (len(classes), NUM_DRUMS)
        return np.full(shape, 100 / 127, np.float32), np.zeros(shape, np.float32)


class PerDrumMeans(Baseline):
    """Each drum's mean velocity and offset over the training hits; with ``by_position``, at each of the 16
    positions in the bar (the drum's overall mean where training has no hit there)."""

    def __init__(self, performances, by_position=False):
        self.by_position = by_position
        self.name = "per-drum x position-in-bar means (train split)" if by_position else "per-drum means (train split)"
        count = np.zeros((STEPS_PER_BAR, NUM_DRUMS))
        velocity = np.zeros((STEPS_PER_BAR, NUM_DRUMS))
        offset = np.zeros((STEPS_PER_BAR, NUM_DRUMS))
        for performance in performances:
            hits = performance.hits
            position = np.arange(len(hits)) % STEPS_PER_BAR
            for array, values in (
                (count, hits),
                (velocity, performance.velocities * hits),
                (offset, performance.offsets * hits),
            ):
                np.add.at(array, position, values)
        total = np.maximum(count.sum(0), 1)
        overall = velocity.sum(0) / total, offset.sum(0) / total
        if by_position:
            seen = count > 0
            safe = np.maximum(count, 1)
            self.velocity = np.where(seen, velocity / safe, overall[0]).astype(np.float32)
            self.offset = np.where(seen, offset / safe, overall[1]).astype(np.float32)
        else:
            self.velocity = np.tile(overall[0], (STEPS_PER_BAR, 1)).astype(np.float32)
            self.offset = np.tile(overall[1], (STEPS_PER_BAR, 1)).astype(np.float32)

    def predict(self, classes):
        position = np.arange(len(classes)) % STEPS_PER_BAR
        return self.velocity[position], self.offset[position]


class TrainHits(Baseline):
    """Each drum's velocity and offset drawn at random from its hits in the training performances."""

    name = "per-drum training hits drawn at random"

    def __init__(self, performances, seed=0):
        self.rng = np.random.default_rng(seed)
        self.pool = [
            (
                np.concatenate([p.velocities[:, drum][p.hits[:, drum]] for p in performances]),
                np.concatenate([p.offsets[:, drum][p.hits[:, drum]] for p in performances]),
            )
            for drum in range(NUM_DRUMS)
        ]

    def predict(self, classes):
        velocities = np.zeros((len(classes), NUM_DRUMS), np.float32)
        offsets = np.zeros((len(classes), NUM_DRUMS), np.float32)
        for drum, (velocity, offset) in enumerate(self.pool):
            if len(velocity):
                draws = self.rng.integers(0, len(velocity), len(classes))
                velocities[:, drum], offsets[:, drum] = velocity[draws], offset[draws]
        return velocities, offsets


class ModelPredictor:
    """A trained groove model, run in NumPy over whole performances; its velocities and offsets drawn at
    ``temperature`` with ``seed`` (temperature 0: the means)."""

    def __init__(self, model, name=None, temperature: float = 1.0, seed=0):
        self.model = model
        self.name = name or (model.source or "groove model")
        self.temperature = temperature
        self.seed = seed

    def predict_all(self, performances) -> list:
        from seqgen_drums.families.groove.heads import velocities_and_offsets
        from seqgen_drums.families.groove.inference import predict, score_features

        parts = predict(self.model, [score_features(p.classes) for p in performances])
        rng = np.random.default_rng(self.seed)
        return [
            velocities_and_offsets(track_parts, self.model.config.hparams, self.temperature, rng)
            for track_parts in parts
        ]


@attrs.frozen
class Errors:
    """Mean absolute errors over ``hits`` hits."""

    name: str
    hits: int
    velocity: float  # MIDI velocity units
    offset_steps: float  # fractions of a 16th-note step
    offset_ms: float


def errors(name, performances, predictions) -> Errors:
    """The errors of ``predictions`` ([(velocities, offsets)] per performance) on the performances' hits."""
    velocity = offset = milliseconds = 0.0
    count = 0
    for performance, (predicted_velocity, predicted_offset) in zip(performances, predictions):
        hits = performance.hits
        step_ms = 1000.0 * 60.0 / performance.qpm / 4.0
        offset_error = np.abs(predicted_offset - performance.offsets)[hits]
        velocity += float(np.abs(predicted_velocity - performance.velocities)[hits].sum())
        offset += float(offset_error.sum())
        milliseconds += float(offset_error.sum()) * step_ms
        count += int(hits.sum())
    count_or_one = max(count, 1)
    return Errors(name, count, 127.0 * velocity / count_or_one, offset / count_or_one, milliseconds / count_or_one)


@attrs.frozen
class Spread:
    """How one drum class's outputs vary against the drummers', over its ``hits`` hits."""

    name: str
    drum: int
    hits: int
    velocity_ratio: float  # standard deviation of the outputs / of the truth
    offset_ratio: float
    velocity_distance: float  # Wasserstein-1, MIDI velocity units
    offset_distance: float  # Wasserstein-1, fractions of a step


def _ratio(predicted, truth) -> float:
    return float(predicted.std() / truth.std()) if truth.std() else float("nan")


def _distance(predicted, truth) -> float:
    """Wasserstein-1 between two samples of the same size: the mean gap of their sorted values."""
    return float(np.abs(np.sort(predicted) - np.sort(truth)).mean())


def spreads(name, performances, predictions) -> list:
    """A :class:`Spread` per drum class with hits, of ``predictions`` against the performances."""
    found = []
    for drum in range(NUM_DRUMS):
        masks = [p.hits[:, drum] for p in performances]

        def gather(arrays):
            return np.concatenate([array[:, drum][mask] for array, mask in zip(arrays, masks)])

        true_velocity = gather([p.velocities for p in performances])
        true_offset = gather([p.offsets for p in performances])
        if not len(true_velocity):
            continue
        velocity, offset = gather([v for v, _ in predictions]), gather([o for _, o in predictions])
        found.append(
            Spread(
                name,
                drum,
                len(true_velocity),
                _ratio(velocity, true_velocity),
                _ratio(offset, true_offset),
                127.0 * _distance(velocity, true_velocity),
                _distance(offset, true_offset),
            )
        )
    return found


def evaluate(performances, train_performances=None, models=()) -> tuple:
    """``(errors, spreads)``: the :class:`Errors` of each model and of the baselines (the per-drum ones need
    ``train_performances``), and the :class:`Spread` rows of each per drum class."""
    baselines = [Constant()]
    if train_performances is not None:
        baselines += [
            PerDrumMeans(train_performances),
            PerDrumMeans(train_performances, by_position=True),
            TrainHits(train_performances),
        ]
    predictions = [(model.name, model.predict_all(performances)) for model in models]
    predictions += [(b.name, [b.predict(p.classes) for p in performances]) for b in baselines]
    return (
        [errors(name, performances, predicted) for name, predicted in predictions],
        [row for name, predicted in predictions for row in spreads(name, performances, predicted)],
    )


def table(rows) -> str:
    """A Markdown table of :class:`Errors` rows."""
    lines = ["| model | hits | velocity MAE (0-127) | timing MAE (ms) | timing MAE (steps) |", "|---|---|---|---|---|"]
    lines += [f"| {r.name} | {r.hits:,} | {r.velocity:.2f} | {r.offset_ms:.2f} | {r.offset_steps:.4f} |" for r in rows]
    return "\n".join(lines)


def spread_table(rows) -> str:
    """A Markdown table of :class:`Spread` rows."""
    from seqgen_drums.events.encoding import DRUM_KIT_NAMES

    lines = [
        "| model | drum | hits | velocity std ratio | offset std ratio | velocity W1 (0-127) | offset W1 (steps) |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.name} | {DRUM_KIT_NAMES[r.drum]} | {r.hits:,} | {r.velocity_ratio:.2f} | {r.offset_ratio:.2f} "
        f"| {r.velocity_distance:.2f} | {r.offset_distance:.4f} |"
        for r in rows
    ]
    return "\n".join(lines)
