"""The Keras events RNN: Magenta's math and variable names, checked against the NumPy engine (on the toy plugin's
toy_rnn, with and without position features) and Magenta's own outputs for its trained drum bundles."""

import json

import attrs
import numpy as np
import pytest

from seqgen.families.events_rnn import EventsRNNFamily
from seqgen import bundle
from seqgen.families.events_rnn import network
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn.inference import EventsRNN, random_weights

from support import MAGENTA
from toy_plugin import TOY_RNN, OnsetEncoding

EVENTS_RNN = EventsRNNFamily()
BARE = attrs.evolve(TOY_RNN, encoding=OnsetEncoding(position_bits=0))  # the bare one-hot input

SHAPES = [
    (TOY_RNN, "rnn_layer_sizes=[16,12],attn_length=5"),
    (BARE, "rnn_layer_sizes=[8,12,12]"),
    (TOY_RNN, "rnn_layer_sizes=[16,16,8],attn_length=3,residual_connections=true"),
    (BARE, "rnn_layer_sizes=[8,8],residual_connections=true"),
]


@pytest.mark.parametrize("config,overrides", SHAPES)
def test_forward_pass_equals_the_numpy_engine(config, overrides):
    config = config.with_hparams(overrides)
    model = network.build_model(config)
    weights = random_weights(config, seed=3, scale=0.5)
    assert {k: tuple(v.shape) for k, v in weights.items()} == network.variable_shapes(config)
    EVENTS_RNN.load_weights(model, weights)
    classes = np.random.default_rng(0).integers(0, config.encoding.num_classes, (3, 40))
    expected = EventsRNN(weights, config.encoding, config.hparams).logits(classes)
    got = model(classes, training=False).numpy()
    np.testing.assert_allclose(got, expected, atol=2e-5, rtol=1e-4)


REFERENCE = json.loads((MAGENTA / "reference_logits.json").read_text())
SOFTMAX = {b["bundle_file"]: b for b in json.loads((MAGENTA / "reference_softmax_full.json").read_text())["bundles"]}


@pytest.mark.parametrize("ref", REFERENCE["bundles"], ids=lambda b: b["generator_id"])
def test_magenta_weights_give_magentas_logits(ref):
    loaded = bundle.load(MAGENTA / ref["bundle_file"])
    model = network.build_model(loaded.config)
    EVENTS_RNN.load_weights(model, loaded.weights)
    logits = model(np.array([ref["event_class_indices"]]), training=False).numpy()[0]
    np.testing.assert_allclose(logits, SOFTMAX[ref["bundle_file"]]["logits"], atol=1e-4)
    assert EVENTS_RNN.weights(model).keys() == loaded.weights.keys()


def test_dropout_only_while_training():
    config = BARE.with_hparams("rnn_layer_sizes=[16],dropout_keep_prob=0.5")
    model = network.build_model(config)
    classes = np.ones((2, 20), np.int64)
    first, second = model(classes).numpy(), model(classes).numpy()
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(model(classes, training=True).numpy(), first)


def test_weights_that_do_not_fit_are_refused():
    config = BARE.with_hparams("rnn_layer_sizes=[8]")
    model = network.build_model(config)
    weights = EVENTS_RNN.weights(model)
    with pytest.raises(SeqgenError, match="shape"):
        EVENTS_RNN.load_weights(model, {**weights, "fully_connected/biases": np.zeros(3, np.float32)})
    with pytest.raises(SeqgenError, match="missing"):
        EVENTS_RNN.load_weights(model, {k: v for k, v in weights.items() if k != "fully_connected/biases"})


def test_gradients_reach_every_weight_without_position_features():
    """An input without position features (one_drum's) once made an empty matmul that crashed oneDNN in the backward
    pass."""
    import tensorflow as tf

    config = BARE.with_hparams("rnn_layer_sizes=[8],residual_connections=true")
    model = network.build_model(config)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(np.ones((2, 9), np.int64), training=True) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)


@pytest.mark.parametrize("steps", [7, 2])
def test_written_out_backward_passes_equal_autodiff(steps):
    """The layers' hand-written gradients equal TensorFlow's autodiff through the same forward loops
    (window longer and shorter than the sequence)."""
    import tensorflow as tf

    rng = np.random.default_rng(1)
    batch, size, length = 3, 5, 4

    def tensor(*shape):
        return tf.constant(rng.normal(0.0, 0.7, shape))

    cases = [
        (
            network._lstm_layer,
            lambda *a: network._lstm_forward(*a)[0],
            [tensor(steps, batch, 4 * size), tensor(size, 4 * size)],
        ),
        (
            lambda *a: network._attention_layer(*a, length),
            lambda *a: network._attention_forward(*a, length)[0],
            [
                tensor(steps, batch, 4 * size),
                tensor(2 * size, 5 * size),
                tensor(5 * size),
                tensor(size, size),
                tensor(2 * size, size),
                tensor(size),
                tensor(size),
            ],
        ),
    ]
    for written_out, plain, inputs in cases:
        cotangent = tensor(steps, batch, size)
        grads = []
        for layer in (written_out, plain):
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                loss = tf.reduce_sum(layer(*inputs) * cotangent)
            grads.append(tape.gradient(loss, inputs))
        for got, expected in zip(*grads):
            np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-9, atol=1e-10)
