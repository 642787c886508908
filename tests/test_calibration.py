"""Calibrated rests (seqgen.calibration, `seqgen calibrate`), on the toy plugin's transformer: a model's rests on
each step of the bar fitted to tracks, kept by its bundle, and applied alike wherever it predicts."""

import json
import re
import zipfile

import attrs
import numpy as np
import pytest

import seqgen
from seqgen import calibration, plugins, records
from seqgen.cli import main
from seqgen.errors import SeqgenError
from seqgen.testing import random_model

from support import GROOVE

BAR = 16  # the toy configs' 4 steps per quarter, 4/4
#: How often the hand-made tracks rest on each step of the bar: seldom on the beats, mostly between them.
RESTS = np.array([0.05, 0.8, 0.5, 0.8] * 4)


@pytest.fixture(scope="module")
def model(toy):
    return random_model(plugins.get_config("toy_transformer"), seed=3)


@pytest.fixture(scope="module")
def tracks():
    """200 toy tracks of 4 bars resting on each step of the bar as RESTS says, else 1-3 onsets."""
    rng = np.random.default_rng(0)
    steps = np.tile(RESTS, 4)
    return [np.where(rng.random(len(steps)) < steps, 0, rng.integers(1, 4, len(steps))) for _ in range(200)]


def sampled_rests(model, seed=50):
    generated = model.generate(num_outputs=300, num_steps=64, seed=seed)
    return calibration.rest_rates([np.asarray(track.events) for track in generated], 0, BAR)


def test_fitting_brings_the_rests_on_each_step_of_the_bar_to_the_tracks(model, tracks):
    assert np.allclose(calibration.rest_rates(tracks, 0, BAR), RESTS, atol=0.06)
    before = np.abs(sampled_rests(model) - RESTS)
    fitted = calibration.fit(model, tracks, rounds=6, outputs=200, num_steps=64, seed=1)
    after = np.abs(sampled_rests(attrs.evolve(model, calibration=fitted)) - RESTS)
    assert before.mean() > 0.2  # the random model rests about as often on every step
    assert after.mean() < 0.04 and after.max() < 0.1


def test_a_calibrated_model_predicts_alike_when_scoring_stepping_and_feeding(model):
    offsets = np.linspace(-1, 1, BAR)
    calibrated = attrs.evolve(model, calibration=calibration.Calibration(offsets))
    classes = np.random.default_rng(1).integers(0, 4, (3, 40))
    expected = model.generator.logits(classes)
    expected[..., 0] += offsets[np.arange(1, 41) % BAR]  # logits at t predict the event at t + 1
    assert np.allclose(calibrated.generator.logits(classes), expected, atol=1e-5)
    stepper = calibrated.generator.stepper
    state, stepped = stepper.initial_state(3), []
    for t in range(40):
        logits, state = stepper.step(classes[:, t], t, state)
        stepped.append(logits)
    assert np.allclose(np.stack(stepped, 1), expected, atol=1e-4)
    fed, _ = stepper.feed(classes, range(40), stepper.initial_state(3))
    assert np.allclose(fed, expected, atol=1e-4)


def test_a_bundle_keeps_its_calibration(model, tmp_path):
    calibrated = attrs.evolve(model, calibration=calibration.Calibration(np.linspace(-1, 1, BAR)))
    calibrated.save(tmp_path / "calibrated.seqgen")
    loaded = seqgen.load(tmp_path / "calibrated.seqgen")
    assert loaded.calibration == calibrated.calibration
    assert [t.events for t in loaded.generate(num_outputs=4, num_steps=32, seed=5)] == [
        t.events for t in calibrated.generate(num_outputs=4, num_steps=32, seed=5)
    ]
    model.save(tmp_path / "plain.seqgen")
    assert seqgen.load(tmp_path / "plain.seqgen").calibration is None


@pytest.mark.parametrize("value", ["loud", {"no_event_offsets": []}, {"no_event_offsets": [1, "x"]}, [0.5]])
def test_a_bundle_with_a_malformed_calibration_is_refused_in_one_line(model, tmp_path, value):
    model.save(tmp_path / "plain.seqgen")
    with zipfile.ZipFile(tmp_path / "plain.seqgen") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members["manifest.json"])
    members["manifest.json"] = json.dumps({**manifest, "calibration": value}).encode()
    with zipfile.ZipFile(tmp_path / "bad.seqgen", "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(SeqgenError, match="calibration is not a list of numbers; it is not a valid seqgen bundle"):
        seqgen.load(tmp_path / "bad.seqgen")


def test_the_calibrate_command_writes_a_calibrated_bundle_and_replaces_nothing(model, tracks, tmp_path, capsys):
    model.save(tmp_path / "plain.seqgen")
    records.write_class_records(tmp_path / "train.tfrecord", tracks)
    args = ["calibrate", "--from", str(tmp_path / "plain.seqgen"), "--sequence_example_file"]
    args += [str(tmp_path / "train.tfrecord"), "--bundle_file", str(tmp_path / "calibrated.seqgen")]
    assert main([*args, "--rounds", "4", "--outputs", "100", "--num_steps", "64"]) == 0
    out = capsys.readouterr().out
    assert "round 4/4: rests on" in out and f"wrote {tmp_path / 'calibrated.seqgen'}: 100 tracks rest on" in out
    calibrated = seqgen.load(tmp_path / "calibrated.seqgen")
    assert len(calibrated.calibration.no_event_offsets) == BAR
    assert "rests calibrated" in calibrated.description
    assert np.abs(sampled_rests(calibrated) - RESTS).mean() < 0.06

    made = (tmp_path / "calibrated.seqgen").read_bytes()
    assert main(args) == 1
    assert "already exists; choose another --bundle_file" in capsys.readouterr().err
    assert (tmp_path / "calibrated.seqgen").read_bytes() == made


def test_the_calibrate_command_matches_the_rests_of_a_folder_of_midi_files(model, tmp_path, capsys):
    model.save(tmp_path / "plain.seqgen")
    args = ["calibrate", "--from", str(tmp_path / "plain.seqgen"), "--midi", str(GROOVE), "--bundle_file"]
    assert main([*args, str(tmp_path / "c.seqgen"), "--rounds", "2", "--outputs", "50", "--num_steps", "32"]) == 0
    calibrated = seqgen.load(tmp_path / "c.seqgen")
    tracks, files = map(
        int, re.search(r"rests calibrated on (\d+) tracks of (\d+) MIDI files$", calibrated.description).groups()
    )
    assert 0 < files <= len(list(GROOVE.rglob("*.mid"))) and tracks >= files
    assert "round 2/2" in capsys.readouterr().out


def test_the_calibrate_command_refuses_tracks_shorter_than_a_bar(model, tmp_path, capsys):
    model.save(tmp_path / "plain.seqgen")
    records.write_class_records(tmp_path / "short.tfrecord", [np.array([1, 0, 2, 0])])
    args = ["calibrate", "--from", str(tmp_path / "plain.seqgen"), "--sequence_example_file"]
    assert main([*args, str(tmp_path / "short.tfrecord"), "--bundle_file", str(tmp_path / "c.seqgen")]) == 1
    assert "no track of short.tfrecord is a bar (16 steps) or longer; give longer tracks" in capsys.readouterr().err
    assert not (tmp_path / "c.seqgen").exists()


def test_evaluate_measures_a_calibrated_model_as_it_plays(model, tracks, tmp_path, capsys):
    calibrated = attrs.evolve(model, calibration=calibration.Calibration(np.linspace(-1, 1, BAR)))
    calibrated.save(tmp_path / "calibrated.seqgen")
    records.write_class_records(tmp_path / "test.tfrecord", tracks[:20])
    assert (
        main(
            ["evaluate", "--bundle_file", str(tmp_path / "calibrated.seqgen"), "--sequence_example_file"]
            + [str(tmp_path / "test.tfrecord"), "--json"]
        )
        == 0
    )
    measured = json.loads(capsys.readouterr().out)
    log_likelihood = sum(calibrated.generator.log_likelihood(list(track))[0] for track in tracks[:20])
    assert measured["model"] == "toy_transformer model (rests calibrated)"
    assert measured["loss"] == pytest.approx(-log_likelihood / measured["tokens"], rel=1e-4)
