"""Calibrated drums (seqgen.calibration through the drum kit's parts): each drum's offset reaches the classes that
strike it, fitting brings each drum's rate to the tracks', and the shipped default is calibrated for its controls'
values (docs/models.md, "Calibrated controls")."""

import attrs
import numpy as np
import pytest

import seqgen
from seqgen import calibration, plugins
from seqgen.cli import main
from seqgen.testing import random_model
from seqgen_drums.events.encoding import DRUM_KIT_PARTS

from support import GROOVE, SMALL_TRANSFORMER

KICK, SNARE, CLOSED, RIDE = 1, 2, 4, 256  # drum_kit classes: bit k is drum k


def test_a_drums_offset_reaches_every_class_that_strikes_it():
    encoding = plugins.get_config("drum_kit_transformer").encoding
    parts = np.arange(1.0, 10.0)  # kick 1, snare 2, ... ride 9
    table = calibration.Offsets([0.5] * 16, parts).table(encoding)
    assert table.shape == (16, 512) and encoding.parts == DRUM_KIT_PARTS
    assert np.allclose(table[:, 0], 0.5)  # the rest sounds no drum
    assert np.allclose(table[:, KICK | SNARE], 1 + 2) and np.allclose(table[:, CLOSED | RIDE], 3 + 9)
    assert np.allclose(table[:, 511], parts.sum())


def test_fitting_brings_each_drums_rate_to_the_tracks():
    """Hand-made beats: kick on the beats, snare on 2 and 4, closed hi-hat on every 8th, a ride now and then."""
    config = plugins.get_config("drum_kit_transformer")
    model = random_model(config.with_hparams(SMALL_TRANSFORMER), seed=2)
    bar = [KICK | CLOSED, 0, CLOSED, 0, SNARE | CLOSED, 0, CLOSED, 0] * 2
    rng = np.random.default_rng(0)
    tracks = [np.where(rng.random(64) < 0.1, np.tile(bar, 4) | RIDE, np.tile(bar, 4)) for _ in range(50)]
    target = calibration.part_rates(tracks, config.encoding)
    assert np.allclose(target[:3], [0.125, 0.125, 0.5]) and 0.07 < target[8] < 0.13

    def played(offsets=None):
        calibrated = attrs.evolve(model, calibration=offsets and calibration.Calibration(offsets))
        made = calibrated.generate(num_outputs=100, num_steps=64, seed=7, primer=[frozenset([36])])
        return calibration.part_rates([config.encoding.events_to_classes(t.events) for t in made], config.encoding)

    before = np.abs(played() - target).sum()
    fitted = calibration.fit(model, tracks, rounds=6, outputs=100, num_steps=64, seed=1)
    assert len(fitted.parts) == 9
    after = np.abs(played(fitted) - target).sum()
    assert before > 1.0 and after < 0.25, (before, after)


@pytest.mark.slow
def test_the_default_is_calibrated_for_its_controls_values_and_can_be_again(tmp_path, capsys):
    default = seqgen.load("drum_kit_control_gmd")
    shipped = default.calibration.controls
    assert default.calibration.own is None  # with no control set, its guidance base plays (calibrated itself)
    assert shipped["fill"][1] is not None and shipped["fill"][0] is None  # fill=no left out by the validation split
    styles = next(control for control in default.controls if control.name == "style").values
    assert all(shipped["style"][styles.index(style)] for style in ("funk", "rock", "jazz", "latin"))
    assert all(len(o.parts) == 9 for by_bin in shipped.values() for o in by_bin if o is not None)
    args = ["calibrate", "--from", "drum_kit_control_gmd", "--midi", str(GROOVE), "--controls", "tempo"]
    args += ["--min_tracks", "1", "--rounds", "2", "--outputs", "10", "--num_steps", "32"]
    assert main([*args, "--bundle_file", str(tmp_path / "mine.seqgen")]) == 0
    out = capsys.readouterr().out
    assert "tempo in [" in out and "wrote" in out and "bins of tempo" in out
    mine = seqgen.load(tmp_path / "mine.seqgen").calibration
    assert mine.own is None and mine.controls["fill"] == shipped["fill"]  # the controls not asked for are kept
    assert mine.controls["tempo"] != shipped["tempo"]
