"""Beam search's bookkeeping over rows of sequences grouped by output (Magenta's beam search):
branching each output's beams and keeping the best of them."""

import numpy as np


def branch(rows, num_outputs, branch_factor):
    """Each output's beams repeated ``branch_factor`` times (Magenta's ``beam * branch_factor``)."""
    return np.tile(rows.reshape(num_outputs, -1), (1, branch_factor)).reshape(-1)


def best(scores, num_outputs, k):
    """Rows of the ``k`` highest scores of each output, best first (all of them in place when k covers them)."""
    grouped = scores.reshape(num_outputs, -1)
    if k >= grouped.shape[1]:  # all of them, in place (no reordering of the stepper's state)
        return np.arange(scores.size)
    order = np.argsort(-grouped, axis=1, kind="stable")[:, :k]
    return (order + np.arange(num_outputs)[:, None] * grouped.shape[1]).reshape(-1)
