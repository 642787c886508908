"""Fixtures of the core tests; what they share with the drums plugin's tests is in support.py."""

import pytest

import toy_plugin
from support import registered, synthesizer  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def toy():
    """The toy plugin (toy_plugin.py), registered in-process as ``toy`` while the tests of one module run."""
    from seqgen import plugins

    plugins.register(toy_plugin, "toy")
    yield toy_plugin
    plugins.unregister("toy")
