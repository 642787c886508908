"""--hparams overrides: parsing, errors, and configs that are never mutated."""

import subprocess
import sys

import attrs
import pytest

from seqgen import plugins
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn import EventsRNNHParams as HParams


def test_overrides_make_a_new_config_and_leave_the_default_alone():
    default = plugins.get_config("drum_kit")
    small = default.with_hparams("batch_size=64,rnn_layer_sizes=[64,64]")
    assert small.hparams.batch_size == 64 and small.hparams.rnn_layer_sizes == (64, 64)
    assert small.hparams.attn_length == 32  # untouched values stay
    assert plugins.get_config("drum_kit").hparams.rnn_layer_sizes == (256, 256, 256)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        default.hparams.batch_size = 1


def test_magenta_defaults():
    kit, one = plugins.get_config("drum_kit"), plugins.get_config("one_drum")
    assert kit.hparams.to_dict() == {
        "batch_size": 128, "rnn_layer_sizes": [256, 256, 256], "dropout_keep_prob": 0.5, "attn_length": 32,
        "clip_norm": 3.0, "learning_rate": 0.001, "residual_connections": False, "precision": "float32"}
    assert one.hparams.rnn_layer_sizes == (128, 128) and one.hparams.clip_norm == 5.0
    assert one.hparams.attn_length == 0 and one.hparams.batch_size == 128
    assert (kit.steps_per_quarter, one.steps_per_quarter) == (4, 2)


def test_value_types():
    hparams = HParams().override("dropout_keep_prob=1,residual_connections=true,learning_rate=1e-4, attn_length=0")
    assert hparams.dropout_keep_prob == 1.0 and hparams.residual_connections is True
    assert hparams.learning_rate == 1e-4 and hparams.attn_length == 0
    assert HParams.from_dict(hparams.to_dict()) == hparams


@pytest.mark.parametrize("text, message", [
    ("rnn_layer_sizes=[64,64]}", "unexpected '}' at position 24"),
    ("rnn_layer_sizes=[64,64", "unclosed '['"),
    ("rnn_layer_sizes=64,64]", "unmatched ']'"),
    ("batch_size", "expected name=value"),
    ("bach_size=64",
     "unknown hparam 'bach_size'; valid names: batch_size, clip_norm, learning_rate, precision, rnn_layer_sizes"),
    ("batch_size=abc", "batch_size expects an integer, got 'abc'"),
    ("batch_size=6.5", "batch_size expects an integer"),
    ("learning_rate=fast", "learning_rate expects a finite number"),
    ("learning_rate=nan", "learning_rate expects a finite number"),
    ("clip_norm=inf", "clip_norm expects a finite number"),
    ("batch_size=99999999999999999999999", "batch_size expects an integer"),
    ("rnn_layer_sizes=[64,x]", "rnn_layer_sizes expects a list of integers"),
    ("residual_connections=maybe", "residual_connections expects true or false"),
    ("batch_size=0", "batch_size must be positive"),
    ("dropout_keep_prob=1.5", "dropout_keep_prob must be in (0, 1]"),
    ("rnn_layer_sizes=[]", "non-empty list of positive sizes"),
])
def test_bad_overrides_say_which_part_is_wrong(text, message):
    with pytest.raises(SeqgenError, match=None) as error:
        HParams().override(text)
    assert message in str(error.value)


def test_cli_reports_bad_hparams_on_one_line_without_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "seqgen", "configs", "--config", "drum_kit", "--hparams", "rnn_layer_sizes=[64,64]}"],
        capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "seqgen configs: error: malformed --hparams: unexpected '}' at position 24 in 'rnn_layer_sizes=[64,64]}'"]
    assert "Traceback" not in result.stderr
