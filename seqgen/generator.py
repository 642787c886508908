"""Generation and scoring over any model family's stepper: batched sampling and Magenta's beam search.

Beam search as Magenta's ``beam_search``: every output starts as ``beam_size`` copies of the primer;
each iteration extends every beam by ``branch_factor`` sampled continuations of
``steps_per_iteration`` steps (the first iteration takes the remainder, so the steps add up) and
keeps the ``beam_size`` most likely; the most likely beam is the output. Plain sampling is the case
``beam_size = branch_factor = 1``. All outputs and beams advance together, one batch per step.
"""

import numpy as np

from seqgen.errors import SeqgenError


def _check_positive(**values):
    for name, value in values.items():
        if not (0 < value < float("inf")):
            raise SeqgenError(f"--{name} must be a positive finite number, got {value}")


def log_softmax(logits, temperature: float = 1.0):
    scaled = np.asarray(logits, np.float64) / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    return scaled - np.log(np.exp(scaled).sum(axis=-1, keepdims=True))


class Generator:
    """Extends primers into new event sequences, and scores sequences, with a family's stepper."""

    def __init__(self, config, stepper):
        self.config = config
        self.stepper = stepper

    def _classes(self, events) -> np.ndarray:
        return self.config.encoding.events_to_classes(list(events))

    def generate(self, primer, num_steps, num_outputs=1, temperature=1.0, beam_size=1, branch_factor=1,
                 steps_per_iteration=1, seed=None, on_step=None) -> list:
        """``num_outputs`` event lists of exactly ``num_steps`` events, each starting with ``primer``.

        ``on_step()``, when given, is called after each generated step (for progress bars).
        """
        primer = list(primer)
        if not primer:
            raise SeqgenError("the primer is empty; give at least one event")
        if num_steps < len(primer):
            raise SeqgenError(f"--num_steps {num_steps} is shorter than the primer ({len(primer)} steps); "
                              f"ask for at least {len(primer)} steps")
        if seed is not None and not 0 <= seed < 2**63:
            raise SeqgenError(f"--seed must be a non-negative integer, got {seed}")
        _check_positive(num_outputs=num_outputs, temperature=temperature, beam_size=beam_size,
                        branch_factor=branch_factor, steps_per_iteration=steps_per_iteration)
        generated = self._search(self._classes(primer), num_steps - len(primer), num_outputs, temperature,
                                 beam_size, branch_factor, steps_per_iteration, np.random.default_rng(seed),
                                 on_step or (lambda: None))
        decode = self.config.encoding.class_to_event
        return [primer + [decode(int(c)) for c in row] for row in generated]

    def _search(self, primer, num_new, num_outputs, temperature, beam_size, branch_factor,
                steps_per_iteration, rng, on_step) -> np.ndarray:
        """Classes [num_outputs, num_new] continuing the primer classes."""
        state = self.stepper.initial_state(1)
        for position, cls in enumerate(primer):
            logits, state = self.stepper.step(np.array([cls]), position, state)
        if num_new == 0:
            return np.zeros((num_outputs, 0), np.int64)
        rows = np.zeros(num_outputs * beam_size, np.int64)
        state, logits = self.stepper.reorder(state, rows), logits[rows]
        scores = np.zeros(len(rows))
        out = np.zeros((len(rows), num_new), np.int64)
        first = (num_new - 1) % steps_per_iteration + 1
        lengths = [first] + [steps_per_iteration] * ((num_new - first) // steps_per_iteration)
        done = 0
        for iteration, length in enumerate(lengths):
            if iteration:
                rows = _best(scores, num_outputs, beam_size)
            else:
                rows = np.arange(len(scores))
            rows = _branch(rows, num_outputs, branch_factor)
            state, logits, scores, out = self.stepper.reorder(state, rows), logits[rows], scores[rows], out[rows]
            for _ in range(length):
                log_probs = log_softmax(logits, temperature)
                cdf = np.cumsum(np.exp(log_probs), axis=1)
                draws = rng.random(len(cdf))[:, None] * cdf[:, -1:]
                chosen = np.minimum((cdf < draws).sum(axis=1), cdf.shape[1] - 1)
                scores += log_probs[np.arange(len(chosen)), chosen]
                out[:, done] = chosen
                done += 1
                on_step()
                if done < num_new:
                    logits, state = self.stepper.step(chosen, len(primer) + done - 1, state)
        return out[_best(scores, num_outputs, 1)]

    def log_likelihood(self, events):
        """Magenta's ``drum_track_log_likelihood``: (sum of log P(event t | events before t) for t >= 1,
        the per-step probabilities P(event t | events before t) for t >= 1)."""
        classes = self._classes(events)
        if len(classes) < 2:
            return 0.0, np.zeros(0)
        log_probs = log_softmax(self.stepper.logits(classes[None, :-1])[0])
        scored = log_probs[np.arange(len(classes) - 1), classes[1:]]
        return float(scored.sum()), np.exp(scored)


def _branch(rows, num_outputs, branch_factor):
    """Each output's beams repeated ``branch_factor`` times (Magenta's ``beam * branch_factor``)."""
    return np.tile(rows.reshape(num_outputs, -1), (1, branch_factor)).reshape(-1)


def _best(scores, num_outputs, k):
    """Rows of the ``k`` highest scores of each output, best first."""
    grouped = scores.reshape(num_outputs, -1)
    order = np.argsort(-grouped, axis=1, kind="stable")[:, :k]
    return (order + np.arange(num_outputs)[:, None] * grouped.shape[1]).reshape(-1)
