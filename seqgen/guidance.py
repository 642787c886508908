"""Classifier-free guidance (Ho & Salimans 2022): streams of one stepper stepped as one batch, their
log-probabilities mixed.

A model trained with its controls dropped at random predicts with them given and with them unset; the
next event is drawn from ``unset + guidance * (given - unset)``. Anchored on a base model (a model of the
same encoding without controls, e.g. the one the controlled model was fine-tuned from), it is drawn from
``base + guidance * (given - unset)`` instead: the controls' effect, as the controlled model learned it,
added to what the base model plays, so that what a control is not about stays as the base model plays it
(docs/models.md, "Guidance anchored on the plain model").
"""

import numpy as np

from seqgen.errors import SeqgenError

#: Classifier-free guidance when controls are given (unless they say otherwise: ``Control.guidance``), and
#: the most one may ask for.
DEFAULT_GUIDANCE = 3.0
MAX_GUIDANCE = 10.0


def log_softmax(logits, temperature: float = 1.0):
    scaled = np.asarray(logits, np.float64) / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    return scaled - np.log(np.exp(scaled).sum(axis=-1, keepdims=True))


def check_guidance(guidance: float) -> float:
    if not 0 <= guidance <= MAX_GUIDANCE:
        raise SeqgenError(f"--guidance must be a number from 0 to {MAX_GUIDANCE:g}, got {guidance}")
    return guidance


class Guided:
    """Streams of one stepper stepped together as one batch: one per row of prompt tokens the controls are
    read as (:meth:`seqgen.prompt.Prompt.blended_tokens`), with its weight, then (guidance other than 1, or
    anchored) one with every control unset. Their log-probabilities are mixed: ``given = sum of weight *
    log P(row)``, then ``free + guidance * (given - free)``, ``free`` being the unset stream's, or with a
    ``base`` stepper the base model's (fed the events only, ``prompt_length`` tokens fewer). The state is the
    stepper's (sequence ``s * n + b`` being output ``b`` of stream ``s``), the base's, and ``n``."""

    def __init__(self, stepper, weights, guidance: float, streams: int, base=None, prompt_length: int = 0):
        self.stepper, self.weights, self.guidance, self.streams = stepper, np.asarray(weights), guidance, streams
        self.base, self.prompt_length = base, prompt_length

    def start(self, tokens, steps):
        """(mixed logits [1, C], state) after feeding each stream's tokens (rows of ``tokens``) at ``steps``."""
        logits, state = self.stepper.feed(tokens, steps, self.stepper.initial_state(self.streams))
        base_logits, base_state = None, None
        if self.base is not None:
            events, event_steps = tokens[:1, self.prompt_length :], list(steps)[self.prompt_length :]
            base_logits, base_state = self.base.feed(events, event_steps, self.base.initial_state(1))
            base_logits = base_logits[:, -1]
        return self.mix(logits[:, -1], base_logits), (state, base_state, 1)

    def mix(self, logits, base_logits=None):
        """[n, C] mixed log-probabilities of the streams' logits [streams * n, C] (and the base's [n, C])."""
        log_probs = log_softmax(logits).reshape(self.streams, -1, logits.shape[-1])
        given = np.tensordot(self.weights, log_probs[: len(self.weights)], axes=1)
        if base_logits is not None:
            return log_softmax(base_logits) + self.guidance * (given - log_probs[-1])
        if self.guidance == 1.0:
            return given
        return log_probs[-1] + self.guidance * (given - log_probs[-1])

    def step(self, classes, position, state):
        inner, base_state, count = state
        logits, inner = self.stepper.step(np.tile(classes, self.streams), position, inner)
        base_logits = None
        if self.base is not None:
            base_logits, base_state = self.base.step(classes, position, base_state)
        return self.mix(logits, base_logits), (inner, base_state, count)

    def reorder(self, state, rows):
        inner, base_state, count = state
        rows = np.asarray(rows, np.int64)
        every = (np.arange(self.streams)[:, None] * count + rows[None]).reshape(-1)
        if self.base is not None:
            base_state = self.base.reorder(base_state, rows)
        return self.stepper.reorder(inner, every), base_state, len(rows)
