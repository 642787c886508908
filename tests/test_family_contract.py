"""The built-in families' variable_shapes (what checkpoints and bundles are read against, without TensorFlow) name
the variables their networks build, in the same order and shapes; on the toy plugin's configs, with each part of
the architecture switched on. plugins/drums/tests/test_drums_family_contract.py checks the drums plugin's families."""

import pytest

from seqgen import plugins
from seqgen.testing import check_family_contract

CONFIGS = [
    ("toy_rnn", ""),
    ("toy_rnn", "rnn_layer_sizes=[8,6],attn_length=3,residual_connections=true"),
    ("toy_transformer", ""),
    ("toy_transformer", "num_layers=2,controls=true,infill=true"),
]


@pytest.mark.parametrize("config_id, hparams", CONFIGS)
def test_variable_shapes_are_the_built_networks(toy, config_id, hparams):
    check_family_contract(plugins.get_config(config_id).with_hparams(hparams))
