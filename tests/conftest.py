"""Shared test fixtures: paths to the data the tests carry in tests/data (nothing outside the repository)."""

import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
GROOVE = DATA / "groove"  # a slice of the Groove MIDI Dataset: see its CREDIT.md
MAGENTA = DATA / "magenta"  # Magenta's reference .mag bundles and outputs: see its README.md


def pytest_configure(config):
    config.addinivalue_line("markers", "clean_clone: checks that the tests run on a fresh clone of the repository "
                                       "with nothing beside it")


@pytest.fixture(scope="session")
def groove_dir():
    return GROOVE


@pytest.fixture(scope="session")
def magenta_dir():
    return MAGENTA


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


@pytest.fixture(scope="session")
def groove_splits(tmp_path_factory):
    """Groove records of the slice in tests/data (the whole test split, every 8th training performance), as
    `seqgen create_dataset --config groove --split_csv` makes them."""
    from seqgen.cli import main

    root = tmp_path_factory.mktemp("groove")
    assert main(["convert", "--input_dir", str(GROOVE), "--recursive",
                 "--output_file", str(root / "notesequences.tfrecord")]) == 0
    assert main(["create_dataset", "--config", "groove", "--input", str(root / "notesequences.tfrecord"),
                 "--output_dir", str(root / "groove"), "--split_csv", str(GROOVE / "info.csv")]) == 0
    return root / "groove"
