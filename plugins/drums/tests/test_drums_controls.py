"""The drums plugin's controls (style, fill, tempo, density) as `seqgen configs` and `seqgen plugins` list them, and
its shipped models made before controls existed: they generate as before and refuse controls in one line; and
the default model plays the density asked for. The controls' way from a metadata CSV to generation is in
tests/test_controls.py."""

import json

import attrs
import numpy as np
import pytest

import seqgen
from seqgen.cli import main
from seqgen.errors import SeqgenError
from seqgen_drums.events.controls import density
from support import MAGENTA

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
    model = attrs.evolve(model, calibration=None)  # the transformer's rests are calibrated since (test_calibration)
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
    figures over many seeds; one output's distance varies widely, so 48 are pooled)."""
    from seqgen import generator as generation

    model = seqgen.load("drum_kit_control_gmd")

    def measured(candidates):
        monkeypatch.setattr(generation, "BAR_CANDIDATES", candidates)
        tracks = model.generate(num_outputs=48, num_steps=64, seed=4, controls={"density": request_})
        return np.array([density(track.events) for track in tracks])

    held, once = measured(4), measured(1)
    assert held.mean() == pytest.approx(request_, rel=0.15)
    assert np.abs(held - request_).mean() < 0.95 * np.abs(once - request_).mean()


def test_guidance_anchored_on_the_plain_model_adds_the_controls_effect_to_what_it_plays():
    """--guidance_base: each step's log-probabilities are the base model's plus guidance x (given - unset) of the
    controlled model's, stepped as one batch exactly as the three streams read whole; with no control set the
    base model plays alone, and with a per-bar number (density) set the controlled model guides itself."""
    from seqgen.guidance import Guided, log_softmax

    model, base = seqgen.load("drum_kit_control_gmd"), seqgen.load("drum_kit_transformer_gmd")
    generator = model.generator
    classes = generator._classes(base.generate(num_steps=24, seed=3)[0].events)
    given, unset = generator.control_tokens({"fill": "no"}), generator.control_tokens({})

    def read_whole(reader, prompt):
        return log_softmax(reader.logits(classes[None], None if prompt is None else [prompt]))[0]

    expected = read_whole(base.generator, None) + 2.5 * (read_whole(generator, given) - read_whole(generator, unset))
    stepper = Guided(generator.stepper, [1.0], 2.5, 2, base.generator.stepper, len(unset))
    mixed, state = stepper.start(np.array([given + [classes[0]], unset + [classes[0]]]), [0] * len(unset) + [0])
    stepped = [mixed[0]]
    for position in range(1, len(classes)):
        mixed, state = stepper.step(classes[position : position + 1], position, state)
        stepped.append(mixed[0])
    np.testing.assert_allclose(np.array(stepped), expected, atol=1e-4)

    held = {"style": "funk", "density": 12}  # a per-bar number is held by the controlled model's own guidance
    assert [t.events for t in model.generate(num_outputs=2, num_steps=32, seed=5, controls=held)] == [
        t.events for t in model.generate(num_outputs=2, num_steps=32, seed=5, controls=held, guidance_base=base)
    ]
    anchored = model.generate(num_outputs=2, num_steps=32, seed=5, guidance_base=base)
    assert [t.events for t in anchored] == [t.events for t in base.generate(num_outputs=2, num_steps=32, seed=5)]
    steered = model.generate(num_outputs=2, num_steps=32, seed=5, controls={"fill": "yes"}, guidance_base=base)
    assert [t.events for t in steered] != [t.events for t in anchored]


def test_a_guidance_base_that_takes_controls_or_another_encoding_is_refused_in_one_line(tmp_path, capsys):
    for base, says in (
        ("drum_kit_control_gmd", "the guidance base takes controls itself"),
        ("drum_kit_gmd", None),  # the events RNN reads the same encoding: a base it can be
    ):
        code = main(["generate", "--control", "fill=no", "--guidance_base", base, "--num_outputs", "1",
                     "--num_steps", "16", "--output_dir", str(tmp_path / base)])  # fmt: skip
        err = capsys.readouterr().err
        if says:
            assert code == 1 and says in err and len(err.strip().splitlines()) == 1
        else:
            assert code == 0 and len(list((tmp_path / base).iterdir())) == 1
    with pytest.raises(SeqgenError, match="reads 512 classes at 4 steps per quarter, this model 2 at"):
        one_drum = seqgen.load(MAGENTA / "one_drum_gmd_128x2_300steps.mag")
        one_drum.generate(num_steps=8, guidance_base=seqgen.load("drum_kit_transformer_gmd"))


def test_a_bundle_that_names_its_guidance_base_anchors_on_it_by_default(tmp_path, capsys):
    """Model.save(guidance_base=...) records the base in the bundle; loaded, the model anchors on it unless told
    otherwise (guidance_base=False, --guidance_base none), and saving it again keeps it."""
    model, base = seqgen.load("drum_kit_control_gmd"), seqgen.load("drum_kit_transformer_gmd")
    assert model.guidance_base.name == "drum_kit_transformer_gmd"  # the shipped default's (docs/models.md)
    model.save(tmp_path / "anchored.seqgen", guidance_base=base)
    anchored = seqgen.load(tmp_path / "anchored.seqgen")
    assert anchored.guidance_base.name == "drum_kit_transformer_gmd"

    def takes(m, **options):
        return [t.events for t in m.generate(num_outputs=2, num_steps=32, seed=2, controls={"fill": "no"}, **options)]

    assert takes(anchored) == takes(model, guidance_base=base) != takes(model, guidance_base=False)
    assert takes(anchored, guidance_base=False) == takes(model, guidance_base=False)
    anchored.save(tmp_path / "again.seqgen")
    assert seqgen.load(tmp_path / "again.seqgen").guidance_base.name == "drum_kit_transformer_gmd"

    out = tmp_path / "out"
    for option in ("drum_kit_transformer_gmd", "none"):
        assert main(["generate", "--bundle_file", str(tmp_path / "anchored.seqgen"), "--guidance_base", option,
                     "--control", "fill=no", "--num_outputs", "1", "--num_steps", "16", "--seed", "2",
                     "--output_dir", str(out / option)]) == 0  # fmt: skip
    with pytest.raises(SeqgenError, match="the guidance base takes controls itself"):
        model.save(tmp_path / "wrong.seqgen", guidance_base=model)
    assert not (tmp_path / "wrong.seqgen").exists()


def test_song_sections_are_anchored_as_generate_is():
    """A song's section (a beat: fill=no) is drawn as `seqgen generate` draws it, anchored on the bundle's guidance
    base; a model without the base draws it otherwise."""
    model = seqgen.load("drum_kit_control_gmd")
    section_seed = int(np.random.default_rng(4).integers(2**63))  # what song() draws its one section with
    drawn = model.generate(num_steps=32, seed=section_seed, controls={"fill": "no"})[0].events
    song = model.song("verse:2", fills=False, seed=4)[0].events
    assert list(song[1:]) == list(drawn[1:])  # its first step is the arrangement's section start
    unanchored = attrs.evolve(model, guidance_base=None)
    assert list(unanchored.song("verse:2", fills=False, seed=4)[0].events[1:]) != list(drawn[1:])
