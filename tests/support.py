"""What the core tests (tests/) and the drums plugin's tests (plugins/drums/tests) share: the paths of the data
the tests carry in tests/data (nothing outside the repository), the ``registered`` fixture, and an environment in
which a plugin module counts as installed. Both folders import it by name (pyproject.toml puts tests/ on the path)."""

import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
GROOVE = DATA / "groove"  # a slice of the Groove MIDI Dataset: see its CREDIT.md
MAGENTA = DATA / "magenta"  # Magenta's reference .mag bundles and outputs: see its README.md


@pytest.fixture
def registered():
    """Register extra plugins in-process (``registered(plugin, name)``) and unregister them afterwards."""
    from seqgen import plugins

    names = []

    def add(plugin, name):
        plugins.register(plugin, name)
        names.append(name)

    yield add
    for name in names:
        plugins.unregister(name)
