"""Plugin discovery, the config registry, and the plugins / configs commands."""

import json
import os
import subprocess
import sys

import attrs
import numpy as np
import pytest

from seqgen import hparams as training_hparams
from seqgen import plugins
from seqgen.cli import main
from seqgen.config import Config
from seqgen.errors import SeqgenError
from seqgen.family import ModelFamily
from seqgen.hookspecs import hookimpl
from seqgen.families.events_rnn import EventsRNNHParams as HParams
from seqgen_drums.encoding import DrumEncoding
from seqgen_drums.tracks import DrumTracks

TOMS = Config(id="toms", description="Three toms, nothing else.",
              encoding=DrumEncoding(((45,), (48,), (50,))), tracks=DrumTracks(),
              hparams=HParams(batch_size=8, rnn_layer_sizes=(16,)), steps_per_quarter=4)


class TomsPlugin:
    __version__ = "9.9"

    @hookimpl
    def register_configs(self, register):
        register(TOMS)


def run_seqgen(*args, env=None):
    return subprocess.run([sys.executable, "-m", "seqgen", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def test_plugins_json_lists_drums_with_both_configs_without_tensorflow():
    code = ("import sys; from seqgen.cli import main; main(['plugins', '--json']); "
            "assert 'tensorflow' not in sys.modules, 'seqgen plugins imported TensorFlow'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    drums = next(p for p in listed if p["name"] == "drums")
    assert drums["configs"] == ["drum_kit", "drum_kit_transformer", "drum_style", "drumify", "groove", "one_drum"]
    assert drums["models"] == ["drumify", "groove", "style_classifier"]
    assert drums["commands"] == ["drumify", "evaluate_drumify", "evaluate_groove", "humanize"]
    assert drums["version"] == "0.2.0"
    core = next(p for p in listed if p["name"] == "seqgen")
    assert core["models"] == ["events_rnn", "transformer"] and {"train", "generate", "score", "evaluate"} <= set(core["commands"])


def test_help_does_not_import_tensorflow():
    code = ("import sys\nfrom seqgen.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "assert 'tensorflow' not in sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "plugins" in result.stdout and "configs" in result.stdout


def test_an_outside_plugin_appears_in_configs_without_core_changes(registered, capsys):
    registered(TomsPlugin(), "toms")
    assert main(["configs", "--plugin", "toms", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["id"] == "toms" and listed["plugin"] == "toms"
    assert listed["num_classes"] == 8 and listed["hparams"]["rnn_layer_sizes"] == [16]
    assert main(["plugins", "--json"]) == 0
    assert {"name": "toms", "version": "9.9", "models": [], "configs": ["toms"], "commands": [], "error": None, "controls": {}} in json.loads(
        capsys.readouterr().out)
    assert plugins.get_config("toms").plugin == "toms"


def test_unregistered_plugin_is_gone():
    plugins.register(TomsPlugin(), "toms")
    assert "toms" in plugins.configs()
    plugins.unregister("toms")
    assert "toms" not in plugins.configs() and "toms" not in plugins.plugin_names()


def test_duplicate_plugin_name_is_refused(registered):
    registered(TomsPlugin(), "toms")
    with pytest.raises(SeqgenError, match="a plugin named 'toms' is already registered"):
        plugins.register(TomsPlugin(), "toms")


def test_duplicate_config_id_is_refused(registered):
    registered(TomsPlugin(), "toms")
    registered(TomsPlugin(), "toms-again")
    with pytest.raises(SeqgenError, match="config 'toms' is registered twice, by plugins 'toms' and 'toms-again'"):
        plugins.configs()


def test_unknown_names_list_the_valid_ones(capsys):
    with pytest.raises(SeqgenError, match="unknown config 'drumkit'; valid configs: drum_kit, drum_kit_transformer, "
                                          "drum_style, drumify, groove, one_drum"):
        plugins.get_config("drumkit")
    with pytest.raises(SeqgenError, match="unknown plugin 'drum'; installed plugins: drums"):
        plugins.get_config("drum_kit", plugin="drum")
    assert main(["configs", "--config", "drumkit"]) == 1
    assert "valid configs: drum_kit, drum_kit_transformer, drum_style, drumify, groove, one_drum" in capsys.readouterr().err


def test_seqgen_load_plugins_limits_what_loads():
    none = run_seqgen("plugins", "--json", env={"SEQGEN_LOAD_PLUGINS": ""})
    assert none.returncode == 0 and [p["name"] for p in json.loads(none.stdout)] == ["seqgen"]
    drums = run_seqgen("plugins", "--json", env={"SEQGEN_LOAD_PLUGINS": "drums"})
    assert [p["name"] for p in json.loads(drums.stdout)] == ["drums", "seqgen"]
    unknown = run_seqgen("plugins", env={"SEQGEN_LOAD_PLUGINS": "drums,bass"})
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    assert "SEQGEN_LOAD_PLUGINS names unknown plugin 'bass'; installed plugins:" in unknown.stderr


def test_configs_lists_defaults(capsys):
    assert main(["configs"]) == 0
    out = capsys.readouterr().out
    assert "drum_kit (drums)" in out and "rnn_layer_sizes=[256,256,256]" in out
    assert "one_drum (drums)" in out and "input_size=2 num_classes=2" in out


def test_a_reader_that_stops_early_gets_no_traceback():
    reader_gone = subprocess.Popen([sys.executable, "-m", "seqgen", "configs", "--json"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reader_gone.stdout.close()  # like `| head` exiting before seqgen writes
    stderr = reader_gone.stderr.read()
    assert reader_gone.wait() != 0
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


class CumulativeMeanFamily(ModelFamily):
    """A family the core has never seen: the mean of the embeddings so far, then a dense layer."""

    name = "cumulative_mean"

    @attrs.frozen
    class hparams_class(training_hparams.HParams):
        embedding_size: int = training_hparams.architecture(default=8, validator=training_hparams.positive)

    def build(self, config):
        import keras
        import tensorflow as tf

        classes_count, size = config.encoding.num_classes, config.hparams.embedding_size

        class Network(keras.Model):
            def __init__(self):
                super().__init__()
                self.table = self.add_weight(shape=(classes_count, size), name="table")
                self.out = self.add_weight(shape=(size, classes_count), name="out")

            def call(self, classes, training=False):
                steps = tf.cast(tf.range(1, tf.shape(classes)[1] + 1), tf.float32)[None, :, None]
                return tf.cumsum(tf.gather(self.table, classes), axis=1) / steps @ self.out

            def variables_by_name(self):
                return {"table": self.table, "out": self.out}

        network = Network()
        network(tf.zeros([1, 1], tf.int32))
        return network


class MeanPlugin:
    @hookimpl
    def register_models(self, register):
        register(CumulativeMeanFamily())

    @hookimpl
    def register_configs(self, register):
        register(Config(id="toms_mean", description="Toms, averaged.", encoding=TOMS.encoding, tracks=TOMS.tracks,
                        model="cumulative_mean", hparams=CumulativeMeanFamily.hparams_class(batch_size=2),
                        steps_per_quarter=4))


def test_registries_are_filled_through_pluggy_hook_calls(registered):
    called = []
    undo = plugins.manager().add_hookcall_monitoring(lambda name, impls, kwargs: called.append(name),
                                                     lambda *args: None)
    try:
        registered(MeanPlugin(), "mean")
        assert "toms_mean" in plugins.configs() and "cumulative_mean" in plugins.families()
    finally:
        undo()
    assert {"register_models", "register_configs", "register_commands"} <= set(called)


def test_a_family_registered_in_process_is_listed_trains_and_generates(registered, tmp_path, capsys):
    import seqgen
    from seqgen import records, training

    registered(MeanPlugin(), "mean")
    assert main(["plugins", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["mean"]["models"] == ["cumulative_mean"] and listed["mean"]["configs"] == ["toms_mean"]
    config = plugins.get_config("toms_mean")
    tracks = [np.array([1, 0, 2, 0] * 8) for _ in range(4)]
    records.write_class_records(tmp_path / "toms.tfrecord", tracks)
    trainer = training.train(config, str(tmp_path / "run"), [str(tmp_path / "toms.tfrecord")],
                             training.TrainOptions(num_training_steps=3, save_checkpoint_secs=0, seed=1),
                             log=lambda line: None)
    assert trainer.step == 3
    model = seqgen.load(tmp_path / "run")
    assert model.config.model == "cumulative_mean" and set(model.weights) == {"table", "out"}
    [track] = model.generate(num_outputs=1, num_steps=12, primer=[(45,)], seed=2)
    assert len(track.events) == 12 and track.events[0] == (45,)
    score = model.score(track)
    assert len(score.probabilities) == 11 and score.log_likelihood < 0

    # Its network mixes its own float32 tensors with Keras's 16-bit ones: mixed precision is refused in one line.
    assert main(["train", "--config", "toms_mean", "--run_dir", str(tmp_path / "mixed"), "--hparams",
                 "precision=mixed_bfloat16", "--sequence_example_file", str(tmp_path / "toms.tfrecord")]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and error.endswith("train it in float32 (--hparams precision=float32)")
    assert "the cumulative_mean model family cannot build its network in mixed_bfloat16 (" in error


def test_duplicate_family_names_are_refused_and_unknown_ones_listed(registered):
    registered(MeanPlugin(), "mean")
    registered(type("Again", (), {"register_models": hookimpl(lambda self, register: register(
        CumulativeMeanFamily()))})(), "mean-again")
    with pytest.raises(SeqgenError, match="model family 'cumulative_mean' is registered twice, by plugins "
                                          "'mean' and 'mean-again'"):
        plugins.families()
    plugins.unregister("mean-again")
    with pytest.raises(SeqgenError, match="unknown model family 'gru'; installed families: cumulative_mean, drumify, "
                                          "events_rnn, groove, style_classifier, transformer"):
        plugins.get_family("gru")


def test_a_config_of_a_missing_family_is_refused(registered):
    registered(type("Orphan", (), {"register_configs": hookimpl(lambda self, register: register(
        attrs.evolve(TOMS, id="orphan", model="wavenet")))})(), "orphan")
    with pytest.raises(SeqgenError, match="config 'orphan' of plugin 'orphan' needs model family 'wavenet', which "
                                          "no installed plugin provides"):
        plugins.configs()
