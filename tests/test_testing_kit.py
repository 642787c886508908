"""seqgen.testing, the kit for plugin authors' tests: the family contract check catches a family whose
variable_shapes do not name what its network builds, random models come from any family (the built-in ones with
their own initial values, others from their variable_shapes), and a plugin registered for a block is gone after."""

import attrs
import numpy as np
import pytest

from seqgen import plugins
from seqgen.families.transformer import TransformerFamily
from seqgen.hookspecs import hookimpl
from seqgen.testing import check_family_contract, random_model, registered


class MisnamingFamily(TransformerFamily):
    """The transformer, but its variable_shapes leave out the last variable."""

    name = "misnaming"

    def variable_shapes(self, config):
        return dict(list(super().variable_shapes(config).items())[:-1])


def test_the_contract_check_names_the_first_difference(toy):
    config = plugins.get_config("toy_transformer")
    check_family_contract(config)
    with registered(
        type(
            "Misnaming", (), {"register_models": staticmethod(hookimpl(lambda register: register(MisnamingFamily())))}
        )(),
        "misnaming",
    ):
        wrong = attrs.evolve(config, model="misnaming")
        with pytest.raises(
            AssertionError,
            match="misnaming's variable_shapes for toy_transformer differ from the network it builds: first difference",
        ):
            check_family_contract(wrong)
    assert "misnaming" not in plugins.families()


def test_random_models_generate_and_a_family_without_its_own_weights_gets_them_from_its_shapes(toy):
    config = plugins.get_config("toy_transformer")
    model = random_model(config, seed=3)
    assert len(model.generate(num_outputs=2, num_steps=16, seed=1)[0]) == 16
    generic = super(TransformerFamily, config.family).random_weights(config, seed=3)  # ModelFamily's own
    assert {name: w.shape for name, w in generic.items()} == dict(config.family.variable_shapes(config))
    gammas = [w for name, w in generic.items() if name.endswith("gamma")]
    assert gammas and all(abs(float(np.mean(w)) - 1.0) < 0.2 for w in gammas)
    assert random_model(config, seed=3).weights.keys() == model.weights.keys()
