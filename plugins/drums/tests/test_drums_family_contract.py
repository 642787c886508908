"""The drum configs' families (the drums plugin's own, and the built-in ones with the drum configs' sizes):
variable_shapes (what checkpoints and bundles are read against, without TensorFlow) names the variables each
network builds, in the same order and shapes."""

import pytest

from seqgen import plugins
from seqgen.testing import check_family_contract

CONFIGS = sorted(
    config_id
    for config_id, config in plugins.configs().items()
    if config.plugin == "drums" and config.family.trained_by_gradient
)


@pytest.mark.parametrize("config_id", CONFIGS)
def test_variable_shapes_are_the_built_networks(config_id):
    check_family_contract(plugins.get_config(config_id))
