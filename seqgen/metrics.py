"""Magenta's training and eval metrics over padded batches, padding masked out.

Each batch gives sums (so batches and replicas can be added up); :func:`summarize` turns sums into
Magenta's summaries: loss (mean cross-entropy per label), perplexity = exp(loss), accuracy,
event_accuracy (accuracy where the label is not the no-event class), no_event_accuracy, loss_per_step
and perplexity_per_step. With one event per step (drums) loss_per_step equals loss.
"""

import math

import tensorflow as tf

SUM_KEYS = ("loss_sum", "tokens", "correct", "event_correct", "events", "no_event_correct", "no_events")


def batch_sums(logits, labels, mask, no_event_class) -> dict:
    """Float32 sums over the unmasked positions of one batch (the softmax in float32 whatever the logits')."""
    mask = tf.cast(mask, tf.float32)
    logits = tf.cast(logits, tf.float32)
    cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    correct = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=labels.dtype), labels), tf.float32) * mask
    no_event = tf.cast(tf.equal(labels, no_event_class), tf.float32) * mask
    event = mask - no_event
    return {
        "loss_sum": tf.reduce_sum(cross_entropy * mask),
        "tokens": tf.reduce_sum(mask),
        "correct": tf.reduce_sum(correct),
        "event_correct": tf.reduce_sum(correct * event),
        "events": tf.reduce_sum(event),
        "no_event_correct": tf.reduce_sum(correct * no_event),
        "no_events": tf.reduce_sum(no_event),
    }


def summarize(sums: dict) -> dict:
    """Magenta's summary values from (Python float) sums."""

    def ratio(a, b):
        return a / b if b else float("nan")

    loss = ratio(sums["loss_sum"], sums["tokens"])
    return {
        "loss": loss,
        "metrics/perplexity": math.exp(min(loss, 700.0)),
        "metrics/accuracy": ratio(sums["correct"], sums["tokens"]),
        "metrics/event_accuracy": ratio(sums["event_correct"], sums["events"]),
        "metrics/no_event_accuracy": ratio(sums["no_event_correct"], sums["no_events"]),
        "metrics/loss_per_step": loss,
        "metrics/perplexity_per_step": math.exp(min(loss, 700.0)),
    }
