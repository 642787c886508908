"""Plugin discovery, the config registry, and the plugins / configs commands, on the toy plugin (toy_plugin.py)."""

import json
import os
import subprocess
import sys

import attrs
import numpy as np
import pytest

import toy_plugin
from seqgen import hparams as training_hparams
from seqgen import plugins
from seqgen.cli import main
from seqgen.config import Config
from seqgen.errors import SeqgenError
from seqgen.family import ModelFamily
from seqgen.hookspecs import hookimpl
from support import installed_plugin

TOY = toy_plugin.TOY_RNN
TOY_CONFIGS = ["toy_rnn", "toy_transformer"]


def another_toy():
    """A second plugin object registering the toy plugin's configs."""
    return type("AnotherToy", (), {"register_configs": staticmethod(toy_plugin.register_configs)})()


def run_seqgen(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "seqgen", *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


def test_plugins_json_lists_an_installed_plugin_with_its_configs_without_tensorflow(tmp_path):
    code = (
        "import sys; from seqgen.cli import main; main(['plugins', '--json']); "
        "assert 'tensorflow' not in sys.modules, 'seqgen plugins imported TensorFlow'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=installed_plugin(tmp_path, "toy")
    )
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    toy = next(p for p in listed if p["name"] == "toy")
    assert toy["configs"] == TOY_CONFIGS and toy["models"] == [] and toy["commands"] == []
    assert toy["version"] == "1.0"  # the installed distribution's
    core = next(p for p in listed if p["name"] == "seqgen")
    assert core["models"] == ["events_rnn", "transformer"]
    assert {"train", "generate", "score", "evaluate"} <= set(core["commands"])


def test_help_does_not_import_tensorflow():
    code = (
        "import sys\nfrom seqgen.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'tensorflow' not in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "plugins" in result.stdout and "configs" in result.stdout


def test_an_outside_plugin_appears_in_configs_without_core_changes(registered, capsys):
    registered(toy_plugin, "toy")
    assert main(["configs", "--plugin", "toy", "--json"]) == 0
    listed, _ = json.loads(capsys.readouterr().out)
    assert listed["id"] == "toy_rnn" and listed["plugin"] == "toy"
    assert listed["num_classes"] == 4 and listed["hparams"]["rnn_layer_sizes"] == [8]
    assert main(["plugins", "--json"]) == 0
    assert {
        "name": "toy",
        "version": "0.1",
        "models": [],
        "configs": TOY_CONFIGS,
        "commands": [],
        "error": None,
        "controls": {},
    } in json.loads(capsys.readouterr().out)
    assert plugins.get_config("toy_rnn").plugin == "toy"


def test_unregistered_plugin_is_gone():
    plugins.register(toy_plugin, "toy")
    assert "toy_rnn" in plugins.configs()
    plugins.unregister("toy")
    assert "toy_rnn" not in plugins.configs() and "toy" not in plugins.plugin_names()


def test_duplicate_plugin_name_is_refused(registered):
    registered(toy_plugin, "toy")
    with pytest.raises(SeqgenError, match="a plugin named 'toy' is already registered"):
        plugins.register(another_toy(), "toy")


def test_duplicate_config_id_is_refused(registered):
    registered(toy_plugin, "toy")
    registered(another_toy(), "toy-again")
    with pytest.raises(SeqgenError, match="config 'toy_rnn' is registered twice, by plugins 'toy' and 'toy-again'"):
        plugins.configs()


def test_unknown_names_list_the_valid_ones(registered, capsys):
    registered(toy_plugin, "toy")
    with pytest.raises(
        SeqgenError, match="unknown config 'toyrnn' of plugin 'toy'; valid configs: toy_rnn, toy_transformer$"
    ):
        plugins.get_config("toyrnn", plugin="toy")
    every_config, every_plugin = ", ".join(sorted(plugins.configs())), ", ".join(plugins.plugin_names())
    with pytest.raises(SeqgenError, match=f"unknown config 'toyrnn'; valid configs: {every_config}$"):
        plugins.get_config("toyrnn")
    with pytest.raises(SeqgenError, match=f"unknown plugin 'to'; installed plugins: {every_plugin}$"):
        plugins.get_config("toy_rnn", plugin="to")
    assert "toy" in plugins.plugin_names() and plugins.plugin_names() == sorted(plugins.plugin_names())
    assert main(["configs", "--plugin", "toy", "--config", "toyrnn"]) == 1
    assert "valid configs: toy_rnn, toy_transformer" in capsys.readouterr().err


def test_seqgen_load_plugins_limits_what_loads(tmp_path):
    env = installed_plugin(tmp_path, "toy")
    none = run_seqgen("plugins", "--json", env={**env, "SEQGEN_LOAD_PLUGINS": ""})
    assert none.returncode == 0 and [p["name"] for p in json.loads(none.stdout)] == ["seqgen"]
    toy = run_seqgen("plugins", "--json", env={**env, "SEQGEN_LOAD_PLUGINS": "toy"})
    assert [p["name"] for p in json.loads(toy.stdout)] == ["seqgen", "toy"]
    unknown = run_seqgen("plugins", env={**env, "SEQGEN_LOAD_PLUGINS": "toy,bass"})
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    assert "SEQGEN_LOAD_PLUGINS names unknown plugin 'bass'; installed plugins:" in unknown.stderr


def test_configs_lists_defaults(registered, capsys):
    registered(toy_plugin, "toy")
    assert main(["configs"]) == 0
    out = capsys.readouterr().out
    assert "toy_rnn (toy)" in out and "rnn_layer_sizes=[8]" in out
    assert "toy_transformer (toy)" in out and "input_size=6 num_classes=4" in out


def test_a_reader_that_stops_early_gets_no_traceback():
    reader_gone = subprocess.Popen(
        [sys.executable, "-m", "seqgen", "configs", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
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
        register(
            Config(
                id="toy_mean",
                description="Onsets, averaged.",
                encoding=TOY.encoding,
                tracks=TOY.tracks,
                model="cumulative_mean",
                hparams=CumulativeMeanFamily.hparams_class(batch_size=2),
                steps_per_quarter=4,
            )
        )


def test_registries_are_filled_through_pluggy_hook_calls(registered):
    called = []
    undo = plugins.manager().add_hookcall_monitoring(
        lambda name, impls, kwargs: called.append(name), lambda *args: None
    )
    try:
        registered(MeanPlugin(), "mean")
        assert "toy_mean" in plugins.configs() and "cumulative_mean" in plugins.families()
    finally:
        undo()
    assert {"register_models", "register_configs", "register_commands"} <= set(called)


def test_a_family_registered_in_process_is_listed_trains_and_generates(registered, tmp_path, capsys):
    import seqgen
    from seqgen import records, training

    registered(MeanPlugin(), "mean")
    assert main(["plugins", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["mean"]["models"] == ["cumulative_mean"] and listed["mean"]["configs"] == ["toy_mean"]
    config = plugins.get_config("toy_mean")
    tracks = [np.array([1, 0, 2, 0] * 8) for _ in range(4)]
    records.write_class_records(tmp_path / "toy.tfrecord", tracks)
    trainer = training.train(
        config,
        str(tmp_path / "run"),
        [str(tmp_path / "toy.tfrecord")],
        training.TrainOptions(num_training_steps=3, save_checkpoint_secs=0, seed=1),
        log=lambda line: None,
    )
    assert trainer.step == 3
    model = seqgen.load(tmp_path / "run")
    assert model.config.model == "cumulative_mean" and set(model.weights) == {"table", "out"}
    [track] = model.generate(num_outputs=1, num_steps=12, primer=[3], seed=2)
    assert len(track.events) == 12 and track.events[0] == 3
    score = model.score(track)
    assert len(score.probabilities) == 11 and score.log_likelihood < 0

    # Its network mixes its own float32 tensors with Keras's 16-bit ones: mixed precision is refused in one line.
    assert (
        main(
            [
                "train",
                "--config",
                "toy_mean",
                "--run_dir",
                str(tmp_path / "mixed"),
                "--hparams",
                "precision=mixed_bfloat16",
                "--sequence_example_file",
                str(tmp_path / "toy.tfrecord"),
            ]
        )
        == 1
    )
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and error.endswith("train it in float32 (--hparams precision=float32)")
    assert "the cumulative_mean model family cannot build its network in mixed_bfloat16 (" in error


def test_duplicate_family_names_are_refused_and_unknown_ones_listed(registered):
    registered(MeanPlugin(), "mean")
    registered(
        type("Again", (), {"register_models": hookimpl(lambda self, register: register(CumulativeMeanFamily()))})(),
        "mean-again",
    )
    with pytest.raises(
        SeqgenError, match="model family 'cumulative_mean' is registered twice, by plugins 'mean' and 'mean-again'"
    ):
        plugins.families()
    plugins.unregister("mean-again")
    installed = sorted(plugins.families())
    assert {"cumulative_mean", "events_rnn", "transformer"} <= set(installed)
    with pytest.raises(SeqgenError, match=f"unknown model family 'gru'; installed families: {', '.join(installed)}$"):
        plugins.get_family("gru")


def test_a_config_of_a_missing_family_is_refused(registered):
    registered(
        type(
            "Orphan",
            (),
            {
                "register_configs": hookimpl(
                    lambda self, register: register(attrs.evolve(TOY, id="orphan", model="wavenet"))
                )
            },
        )(),
        "orphan",
    )
    with pytest.raises(
        SeqgenError,
        match="config 'orphan' of plugin 'orphan' needs model family 'wavenet', which no installed plugin provides",
    ):
        plugins.configs()
