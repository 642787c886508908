"""Mixed-precision training (the ``precision`` hparam) for both model families on toy tracks (toy_plugin.py) of a
slice of the Groove data:
it learns, its checkpoints hold float32 weights that load for float32 inference (Keras and the NumPy
steppers), and a run may resume in another precision."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf

import seqgen
from groove_slice import copy_slice
from seqgen import convert, pipeline, plugins, run_dir, training
from seqgen.errors import SeqgenError
from seqgen.generator import log_softmax

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out

HPARAMS = {
    "events_rnn": (
        "toy_rnn",
        "batch_size=4,rnn_layer_sizes=[32],attn_length=4,dropout_keep_prob=1.0,learning_rate=0.01",
    ),
    "transformer": (
        "toy_transformer",
        "batch_size=4,num_layers=1,d_model=32,num_heads=2,d_ff=64,dropout=0.0,warmup_steps=0,learning_rate=0.003",
    ),
}


@pytest.fixture(scope="module")
def FAMILIES(toy):
    """A small config of the toy plugin for each family."""
    return {
        family: plugins.get_config(config_id).with_hparams(hparams) for family, (config_id, hparams) in HPARAMS.items()
    }


@pytest.fixture(scope="module")
def records(tmp_path_factory, FAMILIES):
    base = tmp_path_factory.mktemp("mixed_data")
    convert.convert_directory(copy_slice(base / "groove"), base / "ns.tfrecord", recursive=True)
    _, paths = pipeline.create_dataset(
        base / "ns.tfrecord", base / "dataset", FAMILIES["events_rnn"], pipeline.SplitOptions(eval_ratio=0.0), workers=1
    )
    return str(paths["training"])


def _options(steps):
    return training.TrainOptions(num_training_steps=steps, summary_frequency=5, save_checkpoint_secs=0, seed=1)


def _losses(lines):
    return [float(m.group(1)) for m in (re.search(r"loss = ([\d.]+)", line) for line in lines) if m]


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("family", sorted(HPARAMS))
def test_mixed_precision_learns_and_its_checkpoint_loads_for_float32_inference(
    records, FAMILIES, tmp_path, family, precision
):
    config = FAMILIES[family].with_hparams(f"precision={precision}")
    run, lines = str(tmp_path / "run"), []
    trainer = training.train(config, run, [records], _options(30), log=lines.append)
    assert lines[1] == f"Training on the CPU ({os.cpu_count()} cores; no GPU found), {precision} precision."
    # A note for float16 on a CPU (and for bfloat16 on a CPU without bfloat16 instructions).
    notice = training.precision_notice(precision, False, training.cpu_flags())
    assert (lines[2] == notice) if notice else not lines[2].startswith("Note:")
    compute = {"mixed_bfloat16": tf.bfloat16, "mixed_float16": tf.float16}[precision]
    assert trainer.model.compute_dtype == compute.name
    losses = _losses(lines)
    assert len(losses) == 6 and np.all(np.isfinite(losses))
    assert np.mean(losses[-2:]) < losses[0] - 0.3, losses

    # The checkpoint holds float32 weights; a float32 network built from them computes what the
    # mixed-precision network learned, and the NumPy stepper (generation, scoring) agrees with it.
    loaded_config, weights = run_dir.load_weights(run_dir=run)
    assert loaded_config.hparams.precision == precision
    assert all(w.dtype == np.float32 and np.all(np.isfinite(w)) for w in weights.values())
    float32_network = config.family.build(config)
    assert float32_network.compute_dtype == "float32"
    config.family.load_weights(float32_network, weights)
    classes = np.array([[3, 0, 1, 0, 2, 0, 0, 1, 0, 0, 3, 0]], np.int32)
    float32_logits = float32_network(classes).numpy()
    mixed_logits = trainer.model(classes).numpy()
    assert mixed_logits.dtype == np.float32
    np.testing.assert_allclose(log_softmax(mixed_logits), log_softmax(float32_logits), atol=0.15)
    stepper = config.family.stepper(config, weights)
    np.testing.assert_allclose(stepper.logits(classes), float32_logits, rtol=1e-4, atol=1e-4)

    model = seqgen.load(run)
    assert model.config.hparams.precision == precision
    tracks = model.generate(num_outputs=2, num_steps=32, seed=0)
    assert len(tracks) == 2 and all(len(track.events) == 32 for track in tracks)


def test_a_run_resumes_in_another_precision(records, FAMILIES, tmp_path):
    run, lines = str(tmp_path / "run"), []
    training.train(FAMILIES["events_rnn"], run, [records], _options(10), log=lines.append)
    mixed = FAMILIES["events_rnn"].with_hparams("precision=mixed_bfloat16")
    lines = []
    trainer = training.train(mixed, run, [records], _options(15), log=lines.append)
    assert any("continues with changed hparams precision" in line for line in lines), lines
    assert "mixed_bfloat16 precision" in "\n".join(lines)
    assert trainer.step == 15
    back, lines = FAMILIES["events_rnn"], []
    assert training.train(back, run, [records], _options(20), log=lines.append).step == 20


def test_an_unknown_precision_is_refused_with_the_valid_ones(FAMILIES):
    expected = "precision must be one of auto, float32, mixed_bfloat16, mixed_float16, got 'float64'"
    with pytest.raises(SeqgenError, match=expected):
        FAMILIES["transformer"].with_hparams("precision=float64")


def test_auto_precision_trains_the_transformer_in_bfloat16_where_the_cpu_has_bfloat16_units(FAMILIES):
    assert plugins.get_config("drum_kit_transformer").hparams.precision == "auto"  # the transformer's default
    fast = bool(training.cpu_flags() & {"avx512_bf16", "amx_bf16"})
    trainer = training.Trainer(FAMILIES["transformer"].with_hparams("precision=auto"))
    assert trainer.config.hparams.precision == ("mixed_bfloat16" if fast else "float32")
    assert trainer.model.compute_dtype == ("bfloat16" if fast else "float32")
    assert training.resolve_precision("mixed_float16") == "mixed_float16"  # a precision named is kept


def test_a_precision_that_does_not_suit_the_device_gets_a_note():
    assert "fpu" in training.cpu_flags()  # read from /proc/cpuinfo
    assert training.precision_notice("mixed_bfloat16", False, {"avx2", "avx512_bf16"}) == ""
    assert training.precision_notice("mixed_bfloat16", False, {"avx2", "amx_bf16"}) == ""
    assert "no bfloat16 instructions" in training.precision_notice("mixed_bfloat16", False, {"avx2", "fma"})
    assert "meant for GPUs" in training.precision_notice("mixed_float16", False, {"avx512_bf16"})
    assert training.precision_notice("mixed_float16", True, set()) == ""
    assert training.precision_notice("float32", False, {"avx2"}) == ""


@pytest.mark.parametrize("family", sorted(HPARAMS))
def test_mixed_bfloat16_gradients_are_float32s_on_long_batches_of_a_common_class(FAMILIES, family):
    """The gradient of a class's input row sums over every step that holds the class: thousands in a real
    batch. Summed in bfloat16 it lost a third of the events RNN's first-layer gradient; every variable's
    gradient must be float32's to within 10%."""
    config = FAMILIES[family]
    rng = np.random.default_rng(0)
    classes = np.where(rng.random((16, 400)) < 0.8, 0, rng.integers(1, config.encoding.num_classes, (16, 400)))
    inputs, labels = tf.constant(classes[:, :-1], tf.int32), tf.constant(classes[:, 1:], tf.int32)

    def gradients(network):
        with tf.GradientTape() as tape:
            logits = network(inputs, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        return [tf.convert_to_tensor(g).numpy().ravel() for g in tape.gradient(loss, network.trainable_variables)]

    float32_network = config.family.build(config)
    with training.dtype_policy("mixed_bfloat16"):
        mixed_network = config.family.build(config.with_hparams("precision=mixed_bfloat16"))
    for source, target in zip(float32_network.trainable_variables, mixed_network.trainable_variables):
        target.assign(source)
    exact, mixed = gradients(float32_network), gradients(mixed_network)
    largest = max(np.linalg.norm(g) for g in exact)
    for variable, e, m in zip(float32_network.trainable_variables, exact, mixed):
        if np.linalg.norm(e) > 1e-3 * largest:  # smaller gradients are rounding (a key bias's is exactly 0)
            assert np.linalg.norm(m - e) < 0.1 * np.linalg.norm(e), variable.path
