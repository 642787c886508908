"""Shared test fixtures: paths to the real data in ../shared."""

import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
GROOVE = SHARED / "datasets" / "groove"
MAGENTA = SHARED / "reference" / "magenta"


@pytest.fixture(scope="session")
def groove_dir():
    return GROOVE


@pytest.fixture(scope="session")
def magenta_dir():
    return MAGENTA
