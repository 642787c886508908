"""Magenta's metrics of a model, or of a unigram baseline, on whole record files (NumPy inference)."""

import numpy as np

from seqgen.generator import log_softmax

SUM_KEYS = ("loss_sum", "tokens", "correct", "event_correct", "events", "no_event_correct", "no_events")


def read_class_sequences(paths, num_classes: int) -> list:
    """Every class sequence (int64 arrays) in seqgen or Magenta record files."""
    from seqgen.records import class_dataset

    return [np.asarray(s, np.int64) for s in class_dataset(paths, num_classes).as_numpy_iterator()]


def _add_sums(sums: dict, log_probs, labels, no_event_class) -> None:
    """Add one sequence's (or one masked batch's, flattened) contribution to the metric sums."""
    predicted = log_probs.argmax(axis=-1)
    correct = predicted == labels
    no_event = labels == no_event_class
    sums["loss_sum"] -= float(np.take_along_axis(log_probs, labels[:, None], axis=-1).sum())
    sums["tokens"] += len(labels)
    sums["correct"] += int(correct.sum())
    sums["event_correct"] += int((correct & ~no_event).sum())
    sums["events"] += int((~no_event).sum())
    sums["no_event_correct"] += int((correct & no_event).sum())
    sums["no_events"] += int(no_event.sum())


def read_controls(paths, config) -> list:
    """The control values ({name: value}, unset ones left out) of every record, in the order of
    :func:`read_class_sequences`."""
    from seqgen.records import control_dataset

    names = [c.name for c in config.controls]
    out = []
    for _, numbers in control_dataset(paths, config.encoding.num_classes, names).as_numpy_iterator():
        values = {c.name: c.from_record(float(n)) for c, n in zip(config.controls, numbers)}
        out.append({name: value for name, value in values.items() if value is not None})
    return out


def model_sums(config, weights: dict, sequences, batch_size: int = 32, controls=None, calibration=None) -> dict:
    """Metric sums of a model over ``sequences`` (each event after the first is predicted), given each
    sequence's ``controls`` (a list of {name: value}; unset by default), with its ``calibration``
    (:mod:`seqgen.calibration`), if it has one."""
    from seqgen.calibration import stepper_of
    from seqgen.generator import Generator

    generator = Generator(config, stepper_of(config, weights, calibration))
    sums = dict.fromkeys(SUM_KEYS, 0.0)
    controls = controls or [{}] * len(sequences)
    ordered = sorted((pair for pair in zip(sequences, controls) if len(pair[0]) > 1), key=lambda p: len(p[0]))
    for start in range(0, len(ordered), batch_size):
        batch = [sequence for sequence, _ in ordered[start : start + batch_size]]
        prompts = [generator.control_tokens(c) for _, c in ordered[start : start + batch_size]]
        width = max(len(s) for s in batch) - 1
        inputs = np.zeros((len(batch), width), np.int64)
        for row, sequence in enumerate(batch):
            inputs[row, : len(sequence) - 1] = sequence[:-1]
        log_probs = log_softmax(generator.logits(inputs, prompts if prompts[0] else None))
        for row, sequence in enumerate(batch):
            _add_sums(sums, log_probs[row, : len(sequence) - 1], sequence[1:], config.encoding.no_event_class)
    return sums


def unigram_log_probs(train_sequences, num_classes: int) -> np.ndarray:
    """Log-probabilities of each class in the training sequences, add-one smoothed."""
    counts = np.ones(num_classes)
    for sequence in train_sequences:
        counts += np.bincount(sequence[1:], minlength=num_classes)
    return np.log(counts / counts.sum())


def unigram_sums(log_probs: np.ndarray, sequences, no_event_class: int) -> dict:
    """Metric sums of a model that predicts every step with the same class distribution."""
    sums = dict.fromkeys(SUM_KEYS, 0.0)
    for sequence in sequences:
        labels = sequence[1:]
        _add_sums(sums, np.broadcast_to(log_probs, (len(labels), len(log_probs))), labels, no_event_class)
    return sums
