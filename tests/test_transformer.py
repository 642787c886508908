"""The transformer family: hparams, causality, the NumPy stepper against the Keras network, weights."""

import subprocess
import sys

import attrs
import numpy as np
import pytest

from seqgen.config import Config
from seqgen.encoding import Encoding
from seqgen.errors import SeqgenError
from seqgen.families.transformer import TransformerFamily, TransformerHParams, learning_rate_at
from seqgen.families.transformer.inference import TransformerStepper, random_weights
from seqgen.generator import Generator


class CounterEncoding(Encoding):
    """``num_classes`` integer events with drum_kit-style binary step counters (+-1 per bit)."""

    def __init__(self, num_classes=12, bits=3):
        self._num_classes = num_classes
        self.num_position_features = bits

    @property
    def num_classes(self):
        return self._num_classes

    @property
    def no_event(self):
        return 0

    def event_to_class(self, event):
        return int(event)

    def class_to_event(self, index):
        return int(index)

    def position_features(self, num_steps):
        bits = (np.arange(1, num_steps + 1)[:, None] >> np.arange(self.num_position_features)[None, :]) & 1
        return np.where(bits == 1, 1.0, -1.0).astype(np.float32)


SMALL = TransformerHParams(num_layers=2, d_model=16, num_heads=2, d_ff=24, max_relative_distance=5, dropout=0.1)


def small_config(encoding=None, **hparams):
    return Config(
        id="tiny_transformer",
        description="test",
        encoding=encoding or CounterEncoding(),
        tracks=None,
        hparams=attrs.evolve(SMALL, **hparams),
        steps_per_quarter=4,
    )


@pytest.fixture(scope="module")
def family():
    return TransformerFamily()


def keras_logits(network, classes):
    return np.asarray(network(np.asarray(classes, np.int32), training=False))


@pytest.mark.parametrize("overrides", [{}, {"activation": "gelu", "num_heads": 4}, {"max_relative_distance": 0}])
def test_stepper_equals_the_network_beyond_the_clipping_distance(family, overrides):
    config = small_config(**overrides)
    network = family.build(config)
    # 23 > 5: clipped; 1, 2 and 6 steps leave some of the network's query blocks empty or uneven.
    for length in (23, 1, 2, 6):
        classes = np.random.default_rng(1).integers(0, config.encoding.num_classes, (3, length))
        for weights in (family.weights(network), random_weights(config, seed=2)):  # initializers, then random
            family.load_weights(network, weights)
            expected = keras_logits(network, classes)
            stepper = family.stepper(config, weights)
            assert isinstance(stepper, TransformerStepper)
            np.testing.assert_allclose(stepper.logits(classes), expected, rtol=1e-5, atol=1e-5)


def test_stepper_without_position_features_and_past_the_initial_cache(family):
    config = small_config(CounterEncoding(num_classes=7, bits=0), max_relative_distance=80)
    network = family.build(config)
    weights = random_weights(config, seed=3, scale=0.2)
    family.load_weights(network, weights)
    classes = np.random.default_rng(4).integers(0, 7, (2, 150))  # the cache doubles twice
    np.testing.assert_allclose(
        family.stepper(config, weights).logits(classes), keras_logits(network, classes), rtol=1e-5, atol=1e-5
    )


def test_changing_an_event_changes_no_earlier_output(family):
    config = small_config()
    network = family.build(config)
    family.load_weights(network, random_weights(config, seed=5))
    classes = np.random.default_rng(6).integers(0, 12, (1, 16))
    before = keras_logits(network, classes)
    for t in (0, 7, 14):
        changed = classes.copy()
        changed[0, t + 1] = (changed[0, t + 1] + 1) % 12
        after = keras_logits(network, changed)
        np.testing.assert_array_equal(after[:, : t + 1], before[:, : t + 1])
        assert not np.allclose(after[:, t + 1], before[:, t + 1])


def test_training_mode_uses_dropout_and_has_gradients(family):
    import tensorflow as tf

    config = small_config(dropout=0.0, attention_dropout=0.5)  # attention dropout alone changes the outputs
    network = family.build(config)
    classes = tf.constant(np.random.default_rng(7).integers(0, 12, (2, 9)), tf.int32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(network(classes, training=True)))
    grads = tape.gradient(loss, list(network.variables_by_name().values()))
    assert all(g is not None for g in grads)
    assert not np.allclose(network(classes, training=True), network(classes, training=False))


@pytest.mark.parametrize(
    "rate, bits, keep",
    [(0.1, 8, 230 / 256), (0.5, 8, 0.5), (0.001, 8, 255 / 256), (0.1, 16, 58982 / 65536), (0.001, 16, 65470 / 65536)],
)
def test_dropout_keeps_each_value_with_the_rounded_probability(rate, bits, keep):
    from seqgen.families.transformer.network import _keep_mask

    mask, scale = _keep_mask([3, 50, 999], rate, bits=bits)
    assert mask.shape == (3, 50, 999) and scale == pytest.approx(1 / keep)
    assert abs(np.mean(mask) - keep) < 0.01


def test_layer_norm_and_its_written_out_gradient_are_autodiffs():
    import tensorflow as tf

    from seqgen.families.transformer.network import LAYER_NORM_EPSILON, layer_norm

    rng = np.random.default_rng(8)
    x, gamma, beta, weights = (tf.constant(rng.normal(size=shape)) for shape in ([37, 16], [16], [16], [37, 16]))

    def autodiff(x, gamma, beta):  # the definition, through TensorFlow's own moments
        mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(variance + LAYER_NORM_EPSILON) * gamma + beta

    results = []
    for norm in (layer_norm, autodiff):
        with tf.GradientTape() as tape:
            tape.watch([x, gamma, beta])
            out = norm(x, gamma, beta)
            loss = tf.reduce_sum(tf.sin(out) * weights)
        results.append([out, *tape.gradient(loss, [x, gamma, beta])])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)


def test_dropout_zeroes_at_its_rate_and_keeps_the_mean():
    import tensorflow as tf

    from seqgen.families.transformer.network import dropout

    dropped = dropout(tf.ones([400, 1000]), 0.1).numpy()
    assert abs(np.mean(dropped == 0) - 0.1) < 0.005
    assert np.allclose(dropped[dropped != 0], 1 / 0.9, rtol=1e-4) and abs(dropped.mean() - 1) < 0.01


def test_weights_round_trip_and_names(family):
    config = small_config()
    first, second = family.build(config), family.build(config)
    names = list(first.variables_by_name())
    assert names[:3] == ["input/class_embedding", "input/position_kernel", "input/bias"]
    assert "layer_1/attention/query/kernel" in names and names[-1] == "output/bias"
    assert first.variables_by_name()["layer_0/attention/relative_embedding"].shape == (2, 6, 8)
    family.load_weights(second, family.weights(first))
    classes = np.arange(12)[None] % 12
    np.testing.assert_array_equal(keras_logits(second, classes), keras_logits(first, classes))
    assert len(first.trainable_variables) == len(names)


def test_reorder_gives_the_logits_of_the_selected_rows_alone(family):
    config = small_config()
    stepper = family.stepper(config, random_weights(config, seed=8))
    classes = np.random.default_rng(9).integers(0, 12, (3, 10))
    state = stepper.initial_state(3)
    for t in range(7):
        _, state = stepper.step(classes[:, t], t, state)
    rows = np.array([2, 0, 2, 1])
    picked = stepper.reorder(state, rows)
    same = stepper.reorder(state, np.arange(3))  # shares the cache with `state`
    for t in range(7, 10):
        logits, picked = stepper.step(classes[rows, t], t, picked)
        alone = stepper.logits(classes[rows, : t + 1])[:, -1]
        np.testing.assert_allclose(logits, alone, rtol=1e-5, atol=1e-5)
    # Two states sharing one cache each step from it as if alone.
    other = np.array([5, 6, 7])
    first, _ = stepper.step(other, 7, same)
    second, _ = stepper.step(classes[:, 7], 7, state)
    np.testing.assert_allclose(
        first, stepper.logits(np.concatenate([classes[:, :7], other[:, None]], 1))[:, -1], rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(second, stepper.logits(classes[:, :8])[:, -1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("activation,scores", [("relu", None), ("gelu", None), ("relu", 1000)])
def test_feeding_many_tokens_at_once_is_stepping_them_one_by_one(family, activation, scores, monkeypatch):
    from seqgen.families.transformer import inference

    if scores:  # fed in pieces of a few tokens
        monkeypatch.setattr(inference, "FEED_SCORES", scores)
    config = small_config(activation=activation)
    stepper = family.stepper(config, random_weights(config, seed=11))
    rng = np.random.default_rng(12)
    first, then = rng.integers(0, 12, (3, 70)), rng.integers(0, 12, (3, 9))  # 70 > the cache's first 64 steps
    positions = rng.permutation(80)[:70]  # any track steps (prompt streams' steps do not rise)
    stepped, state = [], stepper.initial_state(3)
    for t in range(70):
        logits, state = stepper.step(first[:, t], int(positions[t]), state)
        stepped.append(logits)
    fed, fed_state = stepper.feed(first[:, :30], positions[:30], stepper.initial_state(3))
    more, fed_state = stepper.feed(first[:, 30:], positions[30:], fed_state)  # after a state that has steps
    np.testing.assert_allclose(np.concatenate([fed, more], 1), np.stack(stepped, 1), rtol=1e-4, atol=1e-4)
    for t in range(9):  # then stepping on from either state is the same
        a, state = stepper.step(then[:, t], 70 + t, state)
        b, fed_state = stepper.step(then[:, t], 70 + t, fed_state)
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    assert stepper.feed(first[:, :0], [], state)[0].shape == (3, 0, 12)


def test_generator_samples_beams_and_scores(family):
    config = small_config()
    stepper = family.stepper(config, random_weights(config, seed=10))
    generator = Generator(config, stepper)
    tracks = generator.generate([1, 2, 3], 40, num_outputs=3, seed=0)
    assert [len(t) for t in tracks] == [40] * 3 and all(t[:3] == [1, 2, 3] for t in tracks)
    assert generator.generate([1, 2, 3], 40, num_outputs=3, seed=0) == tracks
    beams = generator.generate([1], 20, num_outputs=2, beam_size=3, branch_factor=2, steps_per_iteration=4, seed=1)
    assert [len(t) for t in beams] == [20, 20]
    total, probabilities = generator.log_likelihood(tracks[0])
    assert probabilities.shape == (39,) and np.isclose(total, np.log(probabilities).sum())


def test_controls_at_every_step_are_read_alike_and_start_as_the_model_warm_started_from(family):
    """control_every_step: the control tokens read so far, embedded and summed, are added to every token; the
    NumPy stepper (stepping, feeding, reordering) reads them as the Keras network does; a warm start from a
    model without them (the new embedding starts at zero) computes exactly what that model did."""
    from seqgen.controls import Control
    from seqgen.prompt import Prompt
    from seqgen.training import warm_start

    controls = (Control("busy", "more hits", values=("no", "yes")), Control("speed", "bpm", edges=(60, 120, 180)))
    config = attrs.evolve(
        small_config(controls=True, control_every_step=True, max_relative_distance=2),
        controls=controls,
        model="transformer",
    )
    prompt = Prompt.of(config)
    weights = random_weights(config, seed=21)
    assert weights["input/control_embedding"].shape == (1 + 2 + 1 + 2, 16)  # unset + values/bins per control
    network = family.build(config)
    family.load_weights(network, weights)
    stepper = family.stepper(config, weights)
    events = np.random.default_rng(22).integers(0, 12, 20)
    streams = [
        prompt.plain(events, prompt.control_tokens(values))[:2]
        for values in ({"busy": "yes", "speed": 100}, {"busy": "no"}, {})
    ]
    tokens, steps = (np.stack([s[k] for s in streams]) for k in (0, 1))
    expected = np.asarray(network(tokens, steps=steps))
    stepped, state = [], stepper.initial_state(3)
    for t in range(tokens.shape[1]):
        logits, state = stepper.step(tokens[:, t], int(steps[0, t]), state)
        stepped.append(logits)
        if t == 5:  # beam search's reordering carries each row's controls
            state = stepper.reorder(stepper.reorder(state, [2, 0, 1]), [1, 2, 0])
    np.testing.assert_allclose(np.stack(stepped, 1), expected, atol=1e-4)
    np.testing.assert_allclose(stepper.feed(tokens, steps[0], stepper.initial_state(3))[0], expected, atol=1e-4)
    assert not np.allclose(expected[0, -1], expected[1, -1], atol=1e-3)  # the controls reach the last step
    # Training passes the tokens each step reads: the stream's own controls are what the stepper reads.
    read = np.stack([prompt.step_controls(stream[0][:2], stream[1]) for stream in streams])
    np.testing.assert_allclose(np.asarray(network(tokens, steps=steps, controls=read)), expected, atol=1e-5)
    read[0, 10:, 1] = read[1, 10:, 1]  # another "speed" from step 10 on changes the logits from there only
    changed = np.asarray(network(tokens, steps=steps, controls=read))
    np.testing.assert_allclose(changed[:, :10], expected[:, :10], atol=1e-5)
    assert not np.allclose(changed[0, 10:], expected[0, 10:], atol=1e-3)

    old_config = attrs.evolve(config, hparams=attrs.evolve(config.hparams, control_every_step=False))
    old_weights = {k: v for k, v in weights.items() if k != "input/control_embedding"}
    old_network = family.build(old_config)
    family.load_weights(old_network, old_weights)
    fresh = family.build(config)
    assert warm_start(fresh, old_weights, "old").endswith("1 new.")
    np.testing.assert_allclose(
        np.asarray(fresh(tokens, steps=steps)), np.asarray(old_network(tokens, steps=steps)), atol=1e-5
    )


def test_a_per_bar_control_is_read_at_every_step_as_its_own_bars_value():
    from seqgen.controls import Control
    from seqgen.prompt import Prompt

    hits = Control(
        "hits", "events per bar", edges=(0, 2, 4, 8), measure=lambda events, metadata: float(len(events)), per_bar=True
    )
    prompt = Prompt(num_classes=12, controls=(Control("busy", values=("no", "yes")), hits))
    controls = prompt.control_tokens({"busy": "yes", "hits": 5.0})
    tokens, steps, _ = prompt.plain(np.arange(10), controls)  # steps 0..8 after the two control tokens
    assert list(steps) == [0, 0] + list(range(9))
    plain = prompt.step_controls(controls, steps)
    assert plain[0].tolist() == [controls[0], -1] and (plain[1:] == controls).all()  # read once seen
    # Bars of 4 steps: hits 1, 3 and 5 in bars 0, 1 and 2; each event reads the bar of the event it predicts
    # (the control tokens read the track's value).
    per_bar = prompt.step_controls(controls, steps, {1: [1.0, 3.0, 5.0]}, steps_per_bar=4)
    bins = [prompt.control_tokens({"hits": value})[1] for value in (1.0, 3.0, 5.0)]
    assert per_bar[:, 0].tolist() == plain[:, 0].tolist()
    assert per_bar[:, 1].tolist() == [-1, controls[1]] + [bins[0]] * 3 + [bins[1]] * 4 + [bins[2]] * 2
    unset = prompt.control_tokens({"busy": "yes"})
    assert (prompt.step_controls(unset, steps, {1: [1.0, 3.0, 5.0]}, 4) == prompt.step_controls(unset, steps)).all()
    with pytest.raises(SeqgenError, match="control hits is per_bar, so it needs a measure"):
        Control("hits", edges=(0, 8), per_bar=True)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"d_model": 30, "num_heads": 4}, "d_model (30) must be divisible by num_heads (4)"),
        ({"num_layers": 0}, "num_layers must be positive, got 0"),
        ({"d_ff": -8}, "d_ff must be positive"),
        ({"num_heads": 0}, "num_heads must be positive"),
        ({"dropout": 1.0}, "dropout must be in [0, 1), got 1.0"),
        ({"dropout": -0.1}, "dropout must be in [0, 1)"),
        ({"attention_dropout": 1.5}, "attention_dropout must be in [0, 1), got 1.5"),
        ({"max_relative_distance": -1}, "max_relative_distance must not be negative"),
        ({"warmup_steps": -5}, "warmup_steps must not be negative"),
        ({"activation": "tanh"}, "activation must be one of relu, gelu, got 'tanh'"),
        ({"learning_rate": 0}, "learning_rate must be positive"),
    ],
)
def test_bad_hparams_give_one_line_errors(values, message):
    with pytest.raises(SeqgenError) as error:
        TransformerHParams(**values)
    assert message in str(error.value) and "\n" not in str(error.value)
    text = ",".join(f"{name}={value}" for name, value in values.items())
    with pytest.raises(SeqgenError, match="must"):
        TransformerHParams().override(text)


def test_hparams_parse_and_architecture_names():
    hparams = TransformerHParams().override("num_layers=2,d_model=64,activation=gelu,dropout=0,warmup_steps=0")
    assert (hparams.num_layers, hparams.d_model, hparams.activation, hparams.dropout) == (2, 64, "gelu", 0.0)
    assert TransformerHParams.from_dict(hparams.to_dict()) == hparams
    assert set(TransformerHParams.architecture_names()) == {
        "num_layers",
        "d_model",
        "num_heads",
        "d_ff",
        "max_relative_distance",
        "activation",
        "controls",
        "control_every_step",
        "infill",
    }
    with pytest.raises(SeqgenError, match="unknown hparam 'rnn_layer_sizes'"):
        TransformerHParams().override("rnn_layer_sizes=[64]")


def test_weights_that_do_not_fit_are_named(family):
    config = small_config()
    weights = random_weights(config)
    with pytest.raises(SeqgenError, match="num_layers=2 but the hparams say 3"):
        family.stepper(small_config(num_layers=3), weights)
    with pytest.raises(SeqgenError, match="max_relative_distance=5 but the hparams say 6"):
        family.stepper(small_config(max_relative_distance=6), weights)
    with pytest.raises(SeqgenError, match="another config"):
        family.stepper(small_config(CounterEncoding(num_classes=9)), weights)
    with pytest.raises(SeqgenError, match="not a transformer"):
        family.stepper(config, {"fully_connected/weights": np.zeros((2, 2))})


def test_learning_rate_warms_up_then_decays(family):
    hparams = TransformerHParams(learning_rate=1e-3, warmup_steps=100)
    rates = [learning_rate_at(hparams, step) for step in (0, 49, 99, 399)]
    np.testing.assert_allclose(rates, [1e-5, 5e-4, 1e-3, 5e-4])
    schedule = family.learning_rate(hparams)
    np.testing.assert_allclose([float(schedule(step)) for step in (0, 49, 99, 399)], rates, rtol=1e-6)
    assert learning_rate_at(attrs.evolve(hparams, warmup_steps=0), 5000) == 1e-3
    assert float(family.learning_rate(attrs.evolve(hparams, warmup_steps=0))(5000)) == pytest.approx(1e-3)


def test_activation_values_grow_with_the_network():
    small, default = (
        TransformerFamily().activation_values(SMALL),
        TransformerFamily().activation_values(TransformerHParams()),
    )
    assert 0 < small < default


def test_the_stepper_does_not_import_tensorflow():
    code = (
        "import sys, numpy as np; sys.path.insert(0, 'tests'); import test_transformer as t; "
        "c = t.small_config(); s = t.TransformerFamily().stepper(c, t.random_weights(c)); "
        "s.logits(np.zeros((1, 3), int)); "
        "assert not [m for m in sys.modules if m.startswith(('tensorflow', 'keras'))], 'TensorFlow imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[1]))
