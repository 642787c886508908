"""What the registry refuses or survives at start-up: broken plugins, misspelled hooks, bad names."""

import json
import subprocess
import sys

import attrs
import pytest

import toy_plugin
from seqgen import bundle, plugins
from seqgen.cli import main
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn import EventsRNNFamily
from seqgen.families.events_rnn.inference import random_weights
from seqgen.hookspecs import hookimpl
from seqgen.tracks import Tracks
from support import installed_plugin
from toy_plugin import TOY_RNN, OnsetTracks


def run_seqgen(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "seqgen", *map(str, args)], env=env, capture_output=True, text=True, timeout=300
    )


def test_a_plugin_that_fails_to_import_is_listed_as_broken_and_stops_nothing_else(tmp_path, registered):
    registered(toy_plugin, "toy")
    config = plugins.get_config("toy_rnn")
    bundle.save(tmp_path / "toy.seqgen", config, random_weights(config), "a toy model")
    installed_plugin(tmp_path, "toy")
    env = installed_plugin(tmp_path, "melody", "import a_module_nobody_installed\n")
    listed = run_seqgen(env, "plugins")
    assert listed.returncode == 0, listed.stderr
    assert (
        "melody 1.0: broken, fails to import (ModuleNotFoundError: No module named "
        "'a_module_nobody_installed'); reinstall or uninstall it"
    ) in listed.stdout
    assert "toy 1.0: configs toy_rnn, toy_transformer" in listed.stdout
    as_json = {plugin["name"]: plugin for plugin in json.loads(run_seqgen(env, "plugins", "--json").stdout)}
    assert as_json["melody"]["error"] == "ModuleNotFoundError: No module named 'a_module_nobody_installed'"
    assert as_json["melody"]["configs"] == [] and as_json["toy"]["error"] is None

    made = run_seqgen(
        env,
        "generate",
        "--bundle_file",
        tmp_path / "toy.seqgen",
        "--output_dir",
        tmp_path / "out",
        "--num_outputs",
        2,
        "--num_steps",
        16,
        "--seed",
        1,
    )
    assert made.returncode == 0, made.stderr
    assert "wrote 2 toy tracks of 16 steps" in made.stdout and len(list((tmp_path / "out").iterdir())) == 2
    asked = run_seqgen(env, "configs", "--plugin", "melody")
    assert asked.returncode == 1 and "Traceback" not in asked.stderr
    assert "the seqgen plugin 'melody' fails to import (ModuleNotFoundError" in asked.stderr


def test_a_misspelled_hook_is_refused_in_one_line_at_start_up(tmp_path):
    env = installed_plugin(
        tmp_path,
        "melody",
        "from seqgen.hookspecs import hookimpl\n\n@hookimpl\ndef register_config(register):\n    pass\n",
    )
    done = run_seqgen(env, "plugins")
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert (
        "the seqgen plugin 'melody' implements register_config, which is no seqgen hook (misspelled?); the "
        "hooks are extend_command, generate_options, postprocess_tracks, register_commands, register_configs, "
        "register_models, rhythm_models, song_arrangement" in done.stderr
    )


def test_a_hook_with_unknown_arguments_is_refused(registered):
    class Wrong:
        @hookimpl
        def register_configs(self, register, config):
            pass

    with pytest.raises(SeqgenError, match="the seqgen plugin 'wrong' has a hook with arguments the hook does not take"):
        registered(Wrong(), "wrong")
    assert "wrong" not in plugins.plugin_names()


def plugin_registering(hook: str, item):
    class Plugin:
        pass

    setattr(Plugin, hook, hookimpl(lambda self, register: register(item), specname=hook))
    return Plugin()


class NamedFamily(EventsRNNFamily):
    def __init__(self, name):
        self.name = name


@pytest.mark.parametrize(
    "hook, item, message",
    [
        ("register_models", NamedFamily(""), "registered a model family named ''; a model family name is a letter"),
        ("register_models", NamedFamily("my family"), "registered a model family named 'my family'"),
        ("register_configs", attrs.evolve(TOY_RNN, id=""), "registered a config named ''"),
        ("register_configs", attrs.evolve(TOY_RNN, id="toy/2"), "registered a config named 'toy/2'"),
        ("register_configs", {"id": "toy"}, "registered a dict as a config; register a seqgen.config.Config"),
        (
            "register_models",
            type("Bare", (NamedFamily,), {"hparams_class": None})("bare"),
            "registered model family 'bare' without an hparams_class",
        ),
    ],
)
def test_empty_or_invalid_names_and_wrong_kinds_are_refused(registered, capsys, hook, item, message):
    registered(plugin_registering(hook, item), "odd")
    with pytest.raises(SeqgenError, match="the seqgen plugin 'odd' " + message):
        plugins.configs()
    assert main(["plugins"]) == 1
    assert capsys.readouterr().err.count("\n") == 1


class Melodies(OnsetTracks):
    noun = "melody"


def test_tracks_that_name_one_track_must_name_several(registered):
    registered(plugin_registering("register_configs", attrs.evolve(TOY_RNN, tracks=Melodies())), "melodic")
    with pytest.raises(SeqgenError, match=r"Melodies sets noun = 'melody' but not plural .*set plural"):
        plugins.configs()


def test_tracks_count_in_the_plugins_words():
    assert [OnsetTracks().count(n) for n in (1, 3)] == ["1 toy track", "3 toy tracks"]
    assert Tracks.plural == "tracks"
