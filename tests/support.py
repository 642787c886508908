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


def installed_plugin(folder, name: str, source: str = None) -> dict:
    """The environment of a ``python -m seqgen`` process in which an installed distribution registers module
    ``{name}_plugin`` as plugin ``name``: the module written from ``source`` into ``folder``, or without a
    source the one in tests/ (``installed_plugin(tmp_path, "toy")`` installs toy_plugin.py)."""
    module = f"{name}_plugin"
    if source is not None:
        (folder / f"{module}.py").write_text(source)
    info = folder / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[seqgen]\n{name} = {module}\n")
    path = [str(folder), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
