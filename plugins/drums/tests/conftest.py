"""Fixtures of the drums plugin's tests. They read the data the core tests carry (tests/data, through support.py)."""

import pytest

from support import GROOVE, synthesizer  # noqa: F401  (a fixture: each test that renders runs both ways)


@pytest.fixture(scope="session")
def groove_splits(tmp_path_factory):
    """Groove records of the slice in tests/data (the whole test split, every 8th training performance), as
    `seqgen create_dataset --config groove --split_csv` makes them."""
    from seqgen.cli import main

    root = tmp_path_factory.mktemp("groove")
    assert (
        main(
            [
                "convert",
                "--input_dir",
                str(GROOVE),
                "--recursive",
                "--output_file",
                str(root / "notesequences.tfrecord"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "create_dataset",
                "--config",
                "groove",
                "--input",
                str(root / "notesequences.tfrecord"),
                "--output_dir",
                str(root / "groove"),
                "--split_csv",
                str(GROOVE / "info.csv"),
            ]
        )
        == 0
    )
    return root / "groove"
