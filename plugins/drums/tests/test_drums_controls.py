"""The drums plugin's controls (style, fill, tempo, density) as `seqgen configs` and `seqgen plugins` list them, and
its shipped models made before controls existed: they generate as before and refuse controls in one line; and
the default model plays the density asked for. The controls' way from a metadata CSV to generation is in
tests/test_controls.py."""

import json

import numpy as np
import pytest

import seqgen
from seqgen.cli import main
from seqgen.errors import SeqgenError
from seqgen_drums.events.controls import density

#: What the shipped transformer and events RNN generated for seed 7 before controls existed (commit 2dd86d3).
BEFORE = {
    "drum_kit_transformer_gmd": [
        1,
        0,
        4,
        0,
        0,
        1,
        4,
        0,
        1,
        131,
        4,
        0,
        6,
        0,
        4,
        1,
        4,
        0,
        4,
        0,
        6,
        0,
        4,
        1,
        1,
        5,
        4,
        0,
        6,
        1,
        8,
        0,
    ],
    "drum_kit_gmd": [
        1,
        0,
        6,
        0,
        0,
        2,
        4,
        0,
        1,
        16,
        16,
        0,
        18,
        0,
        0,
        0,
        129,
        0,
        4,
        0,
        3,
        0,
        4,
        0,
        1,
        0,
        4,
        0,
        2,
        0,
        12,
        0,
    ],
}


def test_configs_and_plugins_list_controls(capsys):
    assert main(["configs", "--config", "drum_kit_transformer", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    by_name = {c["name"]: c for c in listed["controls"]}
    assert by_name["style"]["kind"] == "category" and "funk" in by_name["style"]["values"]
    assert by_name["density"]["kind"] == "number" and by_name["density"]["high"] == 64
    assert main(["plugins", "--json"]) == 0
    drums = {p["name"]: p for p in json.loads(capsys.readouterr().out)}["drums"]
    assert [c["name"] for c in drums["controls"]["drum_kit_transformer"]] == ["style", "fill", "tempo", "density"]


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_bundles_made_before_controls_generate_as_before(name):
    model = seqgen.load(name)
    assert model.controls == ()
    [first, _] = model.generate(num_outputs=2, num_steps=32, seed=7)
    assert model.config.encoding.events_to_classes(first.events).tolist() == BEFORE[name]


@pytest.mark.parametrize("model", ["drum_kit_gmd", "drum_kit_transformer_gmd"])
def test_a_model_without_controls_refuses_them_in_one_line(tmp_path, capsys, model):
    out = tmp_path / "out"
    assert main(["generate", "--bundle_file", model, "--output_dir", str(out), "--control", "style=funk"]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "this model takes no controls" in error and not out.exists()
    with pytest.raises(SeqgenError, match="takes no controls"):
        seqgen.load(model).generate(num_steps=8, controls={"style": "funk"})


@pytest.mark.parametrize("request_", [10, 26])
def test_the_default_model_plays_the_density_asked_for(monkeypatch, request_):
    """Sparse and busy requests met on average; choosing each output's first bar among several
    (generator.BAR_CANDIDATES) brings single outputs nearer than drawing it once (docs/models.md has the
    figures over many seeds)."""
    from seqgen import generator as generation

    model = seqgen.load("drum_kit_control_gmd")

    def measured(candidates):
        monkeypatch.setattr(generation, "BAR_CANDIDATES", candidates)
        tracks = model.generate(num_outputs=16, num_steps=64, seed=4, controls={"density": request_})
        return np.array([density(track.events) for track in tracks])

    held, once = measured(4), measured(1)
    assert held.mean() == pytest.approx(request_, rel=0.15)
    assert np.abs(held - request_).mean() < 0.75 * np.abs(once - request_).mean()
