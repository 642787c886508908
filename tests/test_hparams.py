"""--hparams overrides: parsing, errors, and configs that are never mutated (configs of the toy plugin)."""

import subprocess
import sys

import attrs
import pytest

from seqgen import plugins
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn import EventsRNNHParams as HParams
from support import installed_plugin


def test_overrides_make_a_new_config_and_leave_the_default_alone(toy):
    default = plugins.get_config("toy_rnn")
    small = default.with_hparams("learning_rate=0.01,rnn_layer_sizes=[64,64]")
    assert small.hparams.learning_rate == 0.01 and small.hparams.rnn_layer_sizes == (64, 64)
    assert small.hparams.batch_size == 4  # untouched values stay
    assert plugins.get_config("toy_rnn").hparams.rnn_layer_sizes == (8,)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        default.hparams.batch_size = 1


def test_value_types():
    hparams = HParams().override("dropout_keep_prob=1,residual_connections=true,learning_rate=1e-4, attn_length=0")
    assert hparams.dropout_keep_prob == 1.0 and hparams.residual_connections is True
    assert hparams.learning_rate == 1e-4 and hparams.attn_length == 0
    assert HParams.from_dict(hparams.to_dict()) == hparams


@pytest.mark.parametrize(
    "text, message",
    [
        ("rnn_layer_sizes=[64,64]}", "unexpected '}' at position 24"),
        ("rnn_layer_sizes=[64,64", "unclosed '['"),
        ("rnn_layer_sizes=64,64]", "unmatched ']'"),
        ("batch_size", "expected name=value"),
        (
            "bach_size=64",
            "unknown hparam 'bach_size'; valid names: batch_size, clip_norm, learning_rate, precision, rnn_layer_sizes",
        ),
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
    ],
)
def test_bad_overrides_say_which_part_is_wrong(text, message):
    with pytest.raises(SeqgenError, match=None) as error:
        HParams().override(text)
    assert message in str(error.value)


def test_cli_reports_bad_hparams_on_one_line_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "seqgen", "configs", "--config", "toy_rnn", "--hparams", "rnn_layer_sizes=[64,64]}"],
        capture_output=True,
        text=True,
        env=installed_plugin(tmp_path, "toy"),
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "seqgen configs: error: malformed --hparams: unexpected '}' at position 24 in 'rnn_layer_sizes=[64,64]}'"
    ]
    assert "Traceback" not in result.stderr
