"""What the drums plugin registers, as `seqgen plugins` and `seqgen configs` list it, and its configs' defaults."""

import json
import subprocess
import sys

import pytest

from seqgen import plugins
from seqgen.cli import main
from seqgen.errors import SeqgenError

DRUM_CONFIGS = ["drum_kit", "drum_kit_transformer", "drum_style", "drumify", "groove", "one_drum"]


def test_plugins_json_lists_drums_with_its_configs_models_and_commands_without_tensorflow():
    code = (
        "import sys; from seqgen.cli import main; main(['plugins', '--json']); "
        "assert 'tensorflow' not in sys.modules, 'seqgen plugins imported TensorFlow'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    drums = next(p for p in json.loads(result.stdout) if p["name"] == "drums")
    assert drums["configs"] == DRUM_CONFIGS
    assert drums["models"] == ["drumify", "groove", "style_classifier"]
    assert drums["commands"] == ["drumify", "evaluate_drumify", "evaluate_groove", "evaluate_outputs", "humanize"]
    assert drums["version"] == "0.2.0"


def test_unknown_names_list_the_drum_configs(capsys):
    with pytest.raises(
        SeqgenError, match=f"unknown config 'drumkit' of plugin 'drums'; valid configs: {', '.join(DRUM_CONFIGS)}$"
    ):
        plugins.get_config("drumkit", plugin="drums")
    assert main(["configs", "--plugin", "drums", "--config", "drumkit"]) == 1
    assert f"valid configs: {', '.join(DRUM_CONFIGS)}" in capsys.readouterr().err


def test_configs_lists_the_drum_defaults(capsys):
    assert main(["configs", "--plugin", "drums"]) == 0
    out = capsys.readouterr().out
    assert "drum_kit (drums)" in out and "rnn_layer_sizes=[256,256,256]" in out
    assert "one_drum (drums)" in out and "input_size=2 num_classes=2" in out


def test_magenta_defaults():
    kit, one = plugins.get_config("drum_kit"), plugins.get_config("one_drum")
    assert kit.hparams.to_dict() == {
        "batch_size": 128,
        "rnn_layer_sizes": [256, 256, 256],
        "dropout_keep_prob": 0.5,
        "attn_length": 32,
        "clip_norm": 3.0,
        "learning_rate": 0.001,
        "residual_connections": False,
        "precision": "auto",
    }
    assert one.hparams.rnn_layer_sizes == (128, 128) and one.hparams.clip_norm == 5.0
    assert one.hparams.attn_length == 0 and one.hparams.batch_size == 128
    assert (kit.steps_per_quarter, one.steps_per_quarter) == (4, 2)
