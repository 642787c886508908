"""What the registry refuses or survives at start-up: broken plugins, misspelled hooks, bad names."""

import json
import os
import subprocess
import sys

import attrs
import pytest

from seqgen import plugins
from seqgen.cli import main
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn import EventsRNNFamily
from seqgen.hookspecs import hookimpl
from seqgen.tracks import Tracks
from seqgen_drums.tracks import DrumTracks
from test_plugins import TOMS


def installed_plugin(folder, name: str, source: str) -> dict:
    """An environment in which an installed distribution registers module ``{name}_plugin`` as plugin ``name``."""
    module = f"{name}_plugin"
    (folder / f"{module}.py").write_text(source)
    info = folder / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[seqgen]\n{name} = {module}\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}


def run_seqgen(env, *args):
    return subprocess.run([sys.executable, "-m", "seqgen", *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_plugin_that_fails_to_import_is_listed_as_broken_and_stops_nothing_else(tmp_path):
    env = installed_plugin(tmp_path, "melody", "import a_module_nobody_installed\n")
    listed = run_seqgen(env, "plugins")
    assert listed.returncode == 0, listed.stderr
    assert ("melody 1.0: broken, fails to import (ModuleNotFoundError: No module named "
            "'a_module_nobody_installed'); reinstall or uninstall it") in listed.stdout
    assert "drums 0.2.0: models drumify, groove, style_classifier" in listed.stdout
    as_json = {plugin["name"]: plugin for plugin in json.loads(run_seqgen(env, "plugins", "--json").stdout)}
    assert as_json["melody"]["error"] == "ModuleNotFoundError: No module named 'a_module_nobody_installed'"
    assert as_json["melody"]["configs"] == [] and as_json["drums"]["error"] is None

    made = run_seqgen(env, "generate", "--output_dir", tmp_path / "out", "--num_outputs", 2, "--num_steps", 16,
                      "--seed", 1)
    assert made.returncode == 0, made.stderr
    assert "wrote 2 drum tracks of 16 steps" in made.stdout and len(list((tmp_path / "out").iterdir())) == 2
    asked = run_seqgen(env, "configs", "--plugin", "melody")
    assert asked.returncode == 1 and "Traceback" not in asked.stderr
    assert "the seqgen plugin 'melody' fails to import (ModuleNotFoundError" in asked.stderr


def test_a_misspelled_hook_is_refused_in_one_line_at_start_up(tmp_path):
    env = installed_plugin(tmp_path, "melody", "from seqgen.hookspecs import hookimpl\n\n@hookimpl\n"
                                               "def register_config(register):\n    pass\n")
    done = run_seqgen(env, "plugins")
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert ("the seqgen plugin 'melody' implements register_config, which is no seqgen hook (misspelled?); the "
            "hooks are extend_command, generate_options, postprocess_tracks, register_commands, register_configs, "
            "register_models, rhythm_models"
            in done.stderr)


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


@pytest.mark.parametrize("hook, item, message", [
    ("register_models", NamedFamily(""), "registered a model family named ''; a model family name is a letter"),
    ("register_models", NamedFamily("my family"), "registered a model family named 'my family'"),
    ("register_configs", attrs.evolve(TOMS, id=""), "registered a config named ''"),
    ("register_configs", attrs.evolve(TOMS, id="toms/2"), "registered a config named 'toms/2'"),
    ("register_configs", {"id": "toms"}, "registered a dict as a config; register a seqgen.config.Config"),
    ("register_models", type("Bare", (NamedFamily,), {"hparams_class": None})("bare"),
     "registered model family 'bare' without an hparams_class"),
])
def test_empty_or_invalid_names_and_wrong_kinds_are_refused(registered, capsys, hook, item, message):
    registered(plugin_registering(hook, item), "odd")
    with pytest.raises(SeqgenError, match="the seqgen plugin 'odd' " + message):
        plugins.configs()
    assert main(["plugins"]) == 1
    assert capsys.readouterr().err.count("\n") == 1


class Melodies(DrumTracks):
    noun = "melody"


def test_tracks_that_name_one_track_must_name_several(registered):
    registered(plugin_registering("register_configs", attrs.evolve(TOMS, tracks=Melodies())), "melodic")
    with pytest.raises(SeqgenError, match=r"Melodies sets noun = 'melody' but not plural .*set plural"):
        plugins.configs()


def test_tracks_count_in_the_plugins_words():
    assert [DrumTracks().count(n) for n in (1, 3)] == ["1 drum track", "3 drum tracks"]
    assert Tracks.plural == "tracks"
