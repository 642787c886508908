"""Your own drummer: the shipped default drum model adapted to a few Groove files keeps its controls and infilling,
and its small bundle generates and infills through the commands like any bundle (the core mechanism is tested on
the toy plugin in tests/test_adapt.py)."""

import os
import shutil

import pytest

import seqgen
from seqgen import adapting
from seqgen.cli import main
from seqgen.model import Track
from support import GROOVE, one_blas_thread  # noqa: F401  (one_blas_thread: autouse)

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out

#: Four grooves of one drummer (each gives drum tracks of at least 7 bars): three to adapt on, one held out.
FILES = [
    str(GROOVE / "drummer1" / "eval_session" / name)
    for name in (
        "1_funk-groove1_138_beat_4-4.mid",
        "2_funk-groove2_105_beat_4-4.mid",
        "3_soul-groove3_86_beat_4-4.mid",
        "5_funk-groove5_84_beat_4-4.mid",
    )
]


@pytest.fixture(scope="module")
def adapted(tmp_path_factory):
    path = tmp_path_factory.mktemp("adapted") / "drummer1.seqgen"
    result = adapting.adapt(FILES, "drum_kit_control_gmd", path, minutes=0.1, log=lambda line: None)
    return result, path


def test_the_adapted_drum_model_is_small_and_keeps_the_base_controls_and_infilling(adapted):
    result, path = adapted
    base = seqgen.load("drum_kit_control_gmd")
    model = seqgen.load(path)
    assert result.held_out_files == 1 and result.steps > 0
    assert os.path.getsize(path) <= 0.1 * os.path.getsize(seqgen.loading.shipped_models()["drum_kit_control_gmd"])
    assert [c.name for c in model.controls] == [c.name for c in base.controls]
    assert model.generator.prompt.infill
    tracks = model.generate(2, 32, controls={"style": "funk", "fill": "no"}, seed=1)
    assert len(tracks) == 2 and all(len(track) == 32 for track in tracks)
    track = Track(tracks[0].events, model.config)
    filled = model.infill(track, bars="2", num_outputs=2, seed=1)
    assert all(list(out.events[:16]) == list(track.events[:16]) for out in filled)


def test_the_adapted_bundle_generates_and_infills_through_the_commands(adapted, tmp_path, capsys):
    _, path = adapted
    out = tmp_path / "out"
    assert (
        main(
            [
                "generate",
                "--bundle_file",
                str(path),
                "--control",
                "style=funk",
                "--num_outputs",
                "1",
                "--num_steps",
                "32",
                "--output_dir",
                str(out),
                "--seed",
                "1",
            ]
        )
        == 0
    )
    (written,) = out.iterdir()
    assert (
        main(
            [
                "infill",
                str(written),
                "--bundle_file",
                str(path),
                "--bars",
                "2",
                "--output_dir",
                str(tmp_path / "filled"),
                "--num_outputs",
                "1",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    assert len(list((tmp_path / "filled").iterdir())) == 1


def test_the_studio_offers_the_adapted_bundle_of_its_models_folder(adapted, tmp_path):
    pytest.importorskip("starlette", reason='seqgen studio needs its extra: pip install -e ".[studio]"')
    pytest.importorskip("httpx2", reason="Starlette's TestClient needs httpx2: pip install httpx2")
    from starlette.testclient import TestClient

    from seqgen.studio import app as studio_app

    _, path = adapted
    (tmp_path / "models").mkdir()
    shutil.copy(path, tmp_path / "models" / "mine.seqgen")
    with TestClient(studio_app.create_app(str(tmp_path / "models")), base_url="http://127.0.0.1") as client:
        assert "mine.seqgen" in [m["id"] for m in client.get("/api/models").json()["models"]]
        answer = client.post(
            "/api/generate",
            json={"model": "mine.seqgen", "new_steps": 16, "num_outputs": 1, "seed": 3, "cells": [[0, 2], [], [2], []]},
        )
        assert answer.status_code == 200 and answer.json()["results"][0]["cells"][:4] == [[0, 2], [], [2], []]
