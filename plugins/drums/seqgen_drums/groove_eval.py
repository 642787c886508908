"""Evaluate groove models and baselines on groove records: how far the velocities and timing they give the
hits of real performances are from the drummer's.

Input: the performances' scores (their hits, quantized); truth: the velocity and the offset from the grid
of every hit as played. Reported over all hits: the mean absolute error of the velocity (MIDI units,
0-127) and of the timing offset (in fractions of a 16th-note step and in milliseconds at each
performance's tempo). Baselines: Magenta's output (velocity 100 on the grid), the per-drum means of
the training hits, and the per-drum means at each of the 16 positions in the bar.
"""

import attrs
import numpy as np

from seqgen_drums.groove import NUM_DRUMS, STEPS_PER_BAR, hits_of_classes


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
    from seqgen_drums.groove import VALUE_WIDTH

    from seqgen import records

    found = []
    for classes, values, context in records.values_dataset(files, config.encoding.num_classes, VALUE_WIDTH,
                                                           ("qpm",)).as_numpy_iterator():
        found.append(Performance(classes.astype(np.int64), values[:, :NUM_DRUMS], values[:, NUM_DRUMS:],
                                 float(context[0])))
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
            for array, values in ((count, hits), (velocity, performance.velocities * hits),
                                  (offset, performance.offsets * hits)):
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


class ModelPredictor:
    """A trained groove model, run in NumPy over batches of whole performances."""

    def __init__(self, model, name=None):
        self.model = model
        self.name = name or (model.source or "groove model")

    def predict_all(self, performances, batch_size: int = 32) -> list:
        from seqgen_drums.groove_family import predict

        out = [None] * len(performances)
        order = sorted(range(len(performances)), key=lambda i: len(performances[i].classes))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            width = max(len(performances[i].classes) for i in rows)
            classes = np.full((len(rows), width), -1, np.int64)
            for row, i in enumerate(rows):
                classes[row, :len(performances[i].classes)] = performances[i].classes
            velocities, offsets = predict(self.model.weights, self.model.config.hparams, classes)
            for row, i in enumerate(rows):
                length = len(performances[i].classes)
                out[i] = velocities[row, :length], offsets[row, :length]
        return out


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


def evaluate(performances, train_performances=None, models=()) -> list:
    """Errors of each model and of the baselines (the per-drum ones need ``train_performances``)."""
    baselines = [Constant()]
    if train_performances is not None:
        baselines += [PerDrumMeans(train_performances), PerDrumMeans(train_performances, by_position=True)]
    rows = [errors(model.name, performances, model.predict_all(performances)) for model in models]
    rows += [errors(b.name, performances, [b.predict(p.classes) for p in performances]) for b in baselines]
    return rows


def table(rows) -> str:
    """A Markdown table of :class:`Errors` rows."""
    lines = ["| model | hits | velocity MAE (0-127) | timing MAE (ms) | timing MAE (steps) |", "|---|---|---|---|---|"]
    lines += [f"| {r.name} | {r.hits:,} | {r.velocity:.2f} | {r.offset_ms:.2f} | {r.offset_steps:.4f} |" for r in rows]
    return "\n".join(lines)
