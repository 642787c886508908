"""Magenta .mag bundles: the two reference bundles give Magenta's own outputs; other shapes load too."""

import json
import subprocess
import sys

import numpy as np
import pytest

from seqgen import bundle, plugins
from seqgen.cli import main
from seqgen.families.events_rnn.inference import EventsRNN, random_weights
from seqgen.generator import log_softmax
from seqgen.families.events_rnn.magenta import ATTENTION_STATE

from support import MAGENTA

REFERENCE = json.loads((MAGENTA / "reference_logits.json").read_text())
SOFTMAX = {b["bundle_file"]: b for b in json.loads((MAGENTA / "reference_softmax_full.json").read_text())["bundles"]}
CASES = [(b, SOFTMAX[b["bundle_file"]]) for b in REFERENCE["bundles"]]
IDS = [b["generator_id"] for b in REFERENCE["bundles"]]
HPARAMS = {"drum_kit": ((64, 64), 32), "one_drum": ((128, 128), 0)}


def reference_drums():
    steps = REFERENCE["primer"] + REFERENCE["fixed_16_steps"]
    return "[" + ", ".join(repr(tuple(step)) for step in steps) + "]"


@pytest.fixture(scope="module")
def loaded():
    return {b["bundle_file"]: bundle.load(MAGENTA / b["bundle_file"]) for b in REFERENCE["bundles"]}


@pytest.mark.parametrize("ref,full", CASES, ids=IDS)
def test_hparams_follow_from_the_checkpoint(loaded, ref, full):
    model = loaded[ref["bundle_file"]]
    assert model.config.id == ref["generator_id"]
    sizes, attn_length = HPARAMS[model.config.id]
    assert model.config.hparams.rnn_layer_sizes == sizes
    assert model.config.hparams.attn_length == attn_length


@pytest.mark.parametrize("ref,full", CASES, ids=IDS)
def test_softmax_rows_match_magenta(loaded, ref, full):
    model = loaded[ref["bundle_file"]]
    rnn = EventsRNN(model.weights, model.config.encoding, model.config.hparams)
    logits = rnn.logits(np.array([ref["event_class_indices"]]))[0]
    np.testing.assert_allclose(np.exp(log_softmax(logits)), full["softmax"], atol=1e-5)
    np.testing.assert_allclose(logits, full["logits"], atol=1e-4)


@pytest.mark.parametrize("ref,full", CASES, ids=IDS)
def test_score_gives_magentas_log_likelihood(ref, full, capsys):
    assert (
        main(["score", "--bundle_file", str(MAGENTA / ref["bundle_file"]), "--drums", reference_drums(), "--json"]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert abs(result["log_likelihood"] - ref["magenta_drum_track_log_likelihood"]) < 1e-4
    classes = ref["event_class_indices"]
    expected = [full["softmax"][t][classes[t + 1]] for t in range(len(classes) - 1)]
    np.testing.assert_allclose(result["probabilities"], expected, atol=1e-5)


def test_imported_bundle_scores_the_same_without_tensorflow(tmp_path):
    ref = REFERENCE["bundles"][0]
    target = tmp_path / "drum_kit.seqgen"
    assert main(["import_bundle", "--mag_file", str(MAGENTA / ref["bundle_file"]), "--bundle_file", str(target)]) == 0
    assert bundle.load(target).description.startswith("drums_rnn drum_kit")
    code = (
        "import json, sys; from seqgen.cli import main; "
        f"main(['score', '--bundle_file', {str(target)!r}, '--drums', {reference_drums()!r}, '--json']); "
        "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert abs(result["log_likelihood"] - ref["magenta_drum_track_log_likelihood"]) < 1e-4


def test_import_refuses_to_overwrite(tmp_path, capsys):
    target = tmp_path / "x.seqgen"
    target.write_bytes(b"mine")
    assert (
        main(["import_bundle", "--mag_file", str(MAGENTA / CASES[0][0]["bundle_file"]), "--bundle_file", str(target)])
        == 1
    )
    assert "already exists" in capsys.readouterr().err
    assert target.read_bytes() == b"mine"


@pytest.mark.parametrize("damage", ["random", "truncated", "empty"])
def test_damaged_mag_files_get_a_clear_error(tmp_path, capsys, damage):
    data = (MAGENTA / CASES[1][0]["bundle_file"]).read_bytes()
    content = {"random": np.random.default_rng(0).bytes(5000), "truncated": data[: len(data) // 2], "empty": b""}[
        damage
    ]
    path = tmp_path / "broken.mag"
    path.write_bytes(content)
    assert main(["score", "--bundle_file", str(path), "--drums", "[(36,), (42,)]"]) == 1
    err = capsys.readouterr().err
    assert "truncated" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def write_mag(path, config, weights, attn_length):
    """A .mag the way Magenta writes one: GeneratorBundle with a V1 checkpoint and a metagraph."""
    import tempfile

    import tensorflow as tf

    from seqgen.magenta_bundle import _generator_pb2

    tf1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default(), tempfile.TemporaryDirectory() as tmp:
        for name, value in weights.items():
            tf1.get_variable(name, initializer=value)
        sizes = config.hparams.rnn_layer_sizes
        states = [
            (ATTENTION_STATE if attn_length else "BasicLSTMCellZeroState/") + f"zeros_{i}"
            for i in range(4 if attn_length else 2)
        ]
        widths = [sizes[0]] * 3 + [sizes[0] * attn_length] if attn_length else [sizes[0]] * 2
        for name, width in zip(states, widths):
            tf1.add_to_collection("initial_state", tf1.zeros([1, width], name="MultiRNNCellZeroState/" + name))
        saver = tf1.train.Saver(write_version=tf1.train.SaverDef.V1)
        with tf1.Session() as session:
            session.run(tf1.global_variables_initializer())
            saver.save(session, f"{tmp}/model.ckpt", write_meta_graph=False)
        message = _generator_pb2().GeneratorBundle()
        message.generator_details.id = config.id
        message.checkpoint_file.append(open(f"{tmp}/model.ckpt", "rb").read())
        message.metagraph_file = saver.export_meta_graph().SerializeToString()
    path.write_bytes(message.SerializeToString())


@pytest.mark.parametrize(
    "config_id,overrides",
    [("drum_kit", "rnn_layer_sizes=[24,32,16],attn_length=5"), ("one_drum", "rnn_layer_sizes=[8,12,8,4]")],
)
def test_other_layer_counts_and_sizes_load(tmp_path, config_id, overrides):
    config = plugins.get_config(config_id).with_hparams(overrides)
    weights = random_weights(config, scale=0.5)
    write_mag(tmp_path / "other.mag", config, weights, config.hparams.attn_length)
    model = bundle.load(tmp_path / "other.mag")
    assert model.config.hparams.rnn_layer_sizes == config.hparams.rnn_layer_sizes
    assert model.config.hparams.attn_length == config.hparams.attn_length
    classes = np.random.default_rng(1).integers(0, config.encoding.num_classes, (2, 9))
    expected = EventsRNN(weights, config.encoding, config.hparams).logits(classes)
    got = EventsRNN(model.weights, model.config.encoding, model.config.hparams).logits(classes)
    np.testing.assert_array_equal(got, expected)
