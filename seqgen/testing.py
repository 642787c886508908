"""A kit for testing a seqgen plugin, used by the drums plugin's own tests and meant for any plugin's.

- :func:`check_family_contract`: a family's ``variable_shapes`` (what checkpoints and bundles are read against,
  without TensorFlow) name the variables its Keras network builds, in order and shape;
- :func:`random_model`: a :class:`seqgen.model.Model` of any config with small random weights, for tests of
  what is kept, written or refused rather than of how good the music is (no TensorFlow);
- :func:`registered`: a plugin registered in-process for the length of a ``with`` block (or a test).

For example, in a plugin's tests::

    from seqgen import plugins
    from seqgen.testing import check_family_contract, random_model, registered

    def test_my_config_builds_what_it_names():
        check_family_contract(plugins.get_config("my_config"))

    def test_generating_writes_midi(tmp_path):
        model = random_model(plugins.get_config("my_config").with_hparams("num_layers=1"), seed=1)
        model.generate(num_outputs=1, num_steps=16, seed=2)[0].write_midi(tmp_path / "out.mid")
"""

import contextlib


def check_family_contract(config) -> None:
    """AssertionError unless ``config``'s family's ``variable_shapes`` are the variables its network builds, in
    the same order and shapes (builds the network: imports TensorFlow)."""
    network = config.family.build(config)
    built = [(name, tuple(variable.shape)) for name, variable in network.variables_by_name().items()]
    named = [(name, tuple(shape)) for name, shape in config.family.variable_shapes(config).items()]
    first = next((a, b) for a, b in zip(named + [None], built + [None]) if a != b) if named != built else None
    assert named == built, (
        f"{config.model}'s variable_shapes for {config.id} differ from the network it builds: first difference {first}"
    )


def random_model(config, seed=0):
    """A :class:`seqgen.model.Model` of ``config`` with small random weights (its family's ``random_weights``)."""
    from seqgen.model import Model

    return Model(config, config.family.random_weights(config, seed=seed))


@contextlib.contextmanager
def registered(plugin, name: str):
    """Register ``plugin`` (a module or object with hook implementations) as ``name`` for the block's length."""
    from seqgen import plugins

    plugins.register(plugin, name)
    try:
        yield plugin
    finally:
        plugins.unregister(name)
