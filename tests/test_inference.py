"""The NumPy events RNN: batching, step-by-step use, residual layers and mismatched hparams; on the toy plugin's
toy_rnn (toy_plugin.py), with and without position features."""

import attrs
import numpy as np
import pytest

from seqgen.errors import SeqgenError
from seqgen.families.events_rnn.inference import EventsRNN, layer_sizes, random_weights
from toy_plugin import TOY_RNN, OnsetEncoding

BARE = attrs.evolve(TOY_RNN, encoding=OnsetEncoding(position_bits=0))  # the bare one-hot input


def model(config, overrides, seed=0):
    config = config.with_hparams(overrides)
    return config, EventsRNN(random_weights(config, seed, scale=0.5), config.encoding, config.hparams)


@pytest.mark.parametrize(
    "config,overrides",
    [
        (TOY_RNN, "rnn_layer_sizes=[16,12],attn_length=3"),
        (BARE, "rnn_layer_sizes=[8,8,8]"),
        (TOY_RNN, "rnn_layer_sizes=[16,16,8],attn_length=4,residual_connections=true"),
    ],
)
def test_batch_rows_are_independent_and_steps_match_the_whole_sequence(config, overrides):
    config, rnn = model(config, overrides)
    classes = np.random.default_rng(0).integers(0, config.encoding.num_classes, (3, 40))  # longer than attn
    whole = rnn.logits(classes)
    assert whole.shape == (3, 40, config.encoding.num_classes)
    np.testing.assert_allclose(rnn.logits(classes[1:2])[0], whole[1], rtol=1e-5, atol=1e-5)
    state = rnn.initial_state(3)
    for t in range(40):
        logits, state = rnn.step(classes[:, t], t, state)
        np.testing.assert_array_equal(logits, whole[:, t])


def test_select_reorders_and_repeats_sequences():
    config, rnn = model(TOY_RNN, "rnn_layer_sizes=[8,8],attn_length=2")
    classes = np.array([[1, 2, 3], [3, 0, 2]])
    state = rnn.initial_state(2)
    for t in range(3):
        _, state = rnn.step(classes[:, t], t, state)
    picked = rnn.reorder(state, np.array([1, 1, 0]))
    logits, _ = rnn.step(np.array([1, 1, 1]), 3, picked)
    expected = rnn.logits(np.array([[3, 0, 2, 1], [3, 0, 2, 1], [1, 2, 3, 1]]))[:, -1]
    np.testing.assert_allclose(logits, expected, atol=1e-6)


def test_position_features_reach_the_network():
    _, rnn = model(TOY_RNN, "rnn_layer_sizes=[8],attn_length=0")
    first, _ = rnn.step(np.array([2]), 0, rnn.initial_state(1))
    later, _ = rnn.step(np.array([2]), 1, rnn.initial_state(1))
    assert not np.allclose(first, later)


def test_layer_sizes_come_from_the_weights():
    config = TOY_RNN.with_hparams("rnn_layer_sizes=[8,16,4],attn_length=2")
    assert layer_sizes(random_weights(config)) == [8, 16, 4]


@pytest.mark.parametrize(
    "trained,given,message",
    [
        (
            "rnn_layer_sizes=[8,8],attn_length=2",
            "rnn_layer_sizes=[8,16],attn_length=2",
            r"rnn_layer_sizes=\[8, 8\] but the hparams say \[8, 16\]",
        ),
        ("rnn_layer_sizes=[8,8],attn_length=2", "rnn_layer_sizes=[8,8],attn_length=0", "attention layer"),
        ("rnn_layer_sizes=[8,8],attn_length=0", "rnn_layer_sizes=[8,8],attn_length=4", "no attention"),
    ],
)
def test_hparams_that_do_not_fit_the_weights_are_named(trained, given, message):
    config = TOY_RNN
    weights = random_weights(config.with_hparams(trained))
    with pytest.raises(SeqgenError, match=message):
        EventsRNN(weights, config.encoding, config.with_hparams(given).hparams)


def test_weights_of_another_config_are_refused():
    weights = random_weights(BARE.with_hparams("rnn_layer_sizes=[8]"))
    toy = TOY_RNN.with_hparams("rnn_layer_sizes=[8],attn_length=0")
    with pytest.raises(SeqgenError, match="another config"):
        EventsRNN(weights, toy.encoding, toy.hparams)
