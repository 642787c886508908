"""Calibrated sampling (seqgen.calibration, `seqgen calibrate`), on the toy plugin's transformer and a steered toy
defined here: a model's rests on each step of the bar fitted to tracks, alone and for each value of its controls,
kept by its bundle, and applied alike wherever it predicts (its own) or whenever a value is set (a control's).
Parts (a drum's rate) are tested on the drums in plugins/drums/tests/test_drums_calibration.py."""

import json
import re
import zipfile

import attrs
import numpy as np
import pytest

import seqgen
from seqgen import calibration, controls, plugins, records, testing
from seqgen.cli import main
from seqgen.config import Config
from seqgen.controls import Control
from seqgen.errors import SeqgenError
from seqgen.families.transformer import TransformerHParams
from seqgen.hookspecs import hookimpl
from seqgen.testing import random_model

from support import GROOVE, SMALL_TRANSFORMER
from toy_plugin import TOY

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


def own(offsets):
    return calibration.Calibration(calibration.Offsets(offsets))


def sampled_rests(model, seed=50):
    generated = model.generate(num_outputs=300, num_steps=64, seed=seed)
    return calibration.rest_rates([np.asarray(track.events) for track in generated], 0, BAR)


def test_fitting_brings_the_rests_on_each_step_of_the_bar_to_the_tracks(model, tracks):
    assert np.allclose(calibration.rest_rates(tracks, 0, BAR), RESTS, atol=0.06)
    before = np.abs(sampled_rests(model) - RESTS)
    fitted = calibration.fit(model, tracks, rounds=6, outputs=200, num_steps=64, seed=1)
    after = np.abs(sampled_rests(attrs.evolve(model, calibration=calibration.Calibration(fitted))) - RESTS)
    assert before.mean() > 0.2  # the random model rests about as often on every step
    assert after.mean() < 0.04 and after.max() < 0.1


def test_a_calibrated_model_predicts_alike_when_scoring_stepping_and_feeding(model):
    offsets = np.linspace(-1, 1, BAR)
    calibrated = attrs.evolve(model, calibration=calibration.Calibration(calibration.Offsets(offsets)))
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
    calibrated = attrs.evolve(model, calibration=own(np.linspace(-1, 1, BAR)))
    calibrated.save(tmp_path / "calibrated.seqgen")
    loaded = seqgen.load(tmp_path / "calibrated.seqgen")
    assert loaded.calibration == calibrated.calibration
    assert [t.events for t in loaded.generate(num_outputs=4, num_steps=32, seed=5)] == [
        t.events for t in calibrated.generate(num_outputs=4, num_steps=32, seed=5)
    ]
    model.save(tmp_path / "plain.seqgen")
    assert seqgen.load(tmp_path / "plain.seqgen").calibration is None


@pytest.mark.parametrize(
    "value, message",
    [
        ("loud", "calibration is malformed"),
        ({"no_event_offsets": []}, "calibration is malformed"),
        ({"no_event_offsets": [1, "x"] * 8}, "calibration is malformed"),
        ({"no_event_offsets": [0.5] * 15}, "calibration is malformed"),
        ({"no_event_offsets": [0.5] * 16, "part_offsets": [1]}, "calibration is malformed"),
        ([0.5], "calibration is malformed"),
        ({"controls": {"busy": [None, None]}}, "calibration of control busy is not one entry per value of a control"),
    ],
)
def test_a_bundle_with_a_malformed_calibration_is_refused_in_one_line(model, tmp_path, value, message):
    model.save(tmp_path / "plain.seqgen")
    with zipfile.ZipFile(tmp_path / "plain.seqgen") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(members["manifest.json"])
    members["manifest.json"] = json.dumps({**manifest, "calibration": value}).encode()
    with zipfile.ZipFile(tmp_path / "bad.seqgen", "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(SeqgenError, match=f"{message}.*; it is not a valid seqgen bundle") as raised:
        seqgen.load(tmp_path / "bad.seqgen")
    assert len(str(raised.value).splitlines()) == 1


def test_the_calibrate_command_writes_a_calibrated_bundle_and_replaces_nothing(model, tracks, tmp_path, capsys):
    model.save(tmp_path / "plain.seqgen")
    records.write_class_records(tmp_path / "train.tfrecord", tracks)
    args = ["calibrate", "--from", str(tmp_path / "plain.seqgen"), "--sequence_example_file"]
    args += [str(tmp_path / "train.tfrecord"), "--bundle_file", str(tmp_path / "calibrated.seqgen")]
    assert main([*args, "--rounds", "4", "--outputs", "100", "--num_steps", "64"]) == 0
    out = capsys.readouterr().out
    assert "alone (200 tracks), round 4/4: rests on" in out
    assert f"wrote {tmp_path / 'calibrated.seqgen'}: calibrated alone on 200 tracks" in out
    calibrated = seqgen.load(tmp_path / "calibrated.seqgen")
    assert len(calibrated.calibration.own.no_event) == BAR and calibrated.calibration.own.parts == ()
    assert calibrated.description.endswith("calibrated on train.tfrecord: alone on 200 tracks")
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
    files, tracks = map(
        int, re.search(r"calibrated on (\d+) MIDI files: alone on (\d+) tracks$", calibrated.description).groups()
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
    calibrated = attrs.evolve(model, calibration=own(np.linspace(-1, 1, BAR)))
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
    assert measured["model"] == "toy_transformer model (calibrated)"
    assert measured["loss"] == pytest.approx(-log_likelihood / measured["tokens"], rel=1e-4)


def _busy(events, metadata):
    return "yes" if sum(1 for event in events if event) > len(events) / 2 else "no"


#: A toy steered by a category and a number, as the drums are by fill and tempo.
STEERED = Config(
    id="toy_steered",
    description="Onset counts, steered by how busy a track is and by a number.",
    **TOY,
    model="transformer",
    hparams=TransformerHParams(controls=True).override(SMALL_TRANSFORMER),
    controls=(
        Control("busy", "more onsets than rests", values=("no", "yes"), measure=_busy),
        Control("speed", "a number", edges=(0, 10, 20, 30)),  # bins' centres 5, 15, 25
    ),
)


class SteeredPlugin:
    @hookimpl
    def register_configs(self, register):
        register(STEERED)


@pytest.fixture(scope="module")
def steered():
    with testing.registered(SteeredPlugin(), "steered"):
        yield random_model(plugins.get_config("toy_steered"), seed=4)


def rests_of(made):
    return float(np.mean([np.asarray(track.events[1:]) == 0 for track in made]))


def test_a_control_values_offsets_are_added_when_it_is_set_and_only_then(steered):
    resting = calibration.Offsets([20.0] * BAR)  # a rest on every step
    calibrated = attrs.evolve(steered, calibration=calibration.Calibration(controls={"busy": (None, resting)}))
    assert rests_of(calibrated.generate(num_outputs=3, num_steps=32, seed=2, controls={"busy": "yes"})) == 1.0
    for values in ({"busy": "no"}, {"speed": 15}, None):
        made, before = (m.generate(num_outputs=3, num_steps=32, seed=2, controls=values) for m in (calibrated, steered))
        assert [t.events for t in made] == [t.events for t in before] and rests_of(made) < 0.9


def test_a_numbers_offsets_are_weighed_as_the_model_reads_the_number(steered):
    slow, middle = calibration.Offsets([1.0] * BAR, ()), calibration.Offsets(np.linspace(0, 3, BAR), ())
    busy = calibration.Offsets([0.5] * BAR)
    calibrated = calibration.Calibration(controls={"speed": (slow, middle, None), "busy": (busy, None)})

    def rests(values):
        return calibrated.control_table(steered.controls, values, STEERED.encoding)[:, 0]

    assert np.allclose(rests({"speed": 15}), np.linspace(0, 3, BAR))  # the centre of its bin: that bin alone
    assert np.allclose(rests({"speed": 10}), 0.5 * 1.0 + 0.5 * np.linspace(0, 3, BAR))  # between two centres
    assert np.allclose(rests({"speed": 20}), 0.5 * np.linspace(0, 3, BAR))  # half in a bin left uncalibrated
    assert np.allclose(rests({"speed": 5, "busy": "no"}), 1.5)  # set controls add up
    assert calibrated.control_table(steered.controls, {"busy": "yes", "speed": 28}, STEERED.encoding) is None


def test_the_calibrate_command_fits_each_value_to_its_own_tracks(steered, tmp_path, capsys):
    rng = np.random.default_rng(1)
    examples = []
    for rests in [0.15] * 40 + [0.85] * 40:  # busy tracks and sparse ones, all at speed 5
        track = np.where(rng.random(64) < rests, 0, rng.integers(1, 4, 64))
        context = {**controls.measure(STEERED.controls, list(track), {}), f"{records.RECORD_PREFIX}speed": 5.0}
        examples.append(records.add_context(records.encode_classes(track), context))
    records.write_examples(tmp_path / "steered.tfrecord", examples)
    steered.save(tmp_path / "steered.seqgen")
    args = ["calibrate", "--from", str(tmp_path / "steered.seqgen"), "--sequence_example_file"]
    args += [str(tmp_path / "steered.tfrecord"), "--bundle_file", str(tmp_path / "c.seqgen"), "--min_tracks", "30"]
    assert main([*args, "--rounds", "4", "--outputs", "100", "--num_steps", "32"]) == 0
    out = capsys.readouterr().out
    assert "busy=yes (40 tracks), round 4/4: rests on" in out and "speed in [0, 10) (80 tracks), round 1/4" in out
    assert out.endswith(
        f"wrote {tmp_path / 'c.seqgen'}: calibrated alone on 80 tracks, 2 of 2 values of busy, 1 of 3 bins of speed\n"
    )
    calibrated = seqgen.load(tmp_path / "c.seqgen")
    by_bin = calibrated.calibration.controls
    assert by_bin["speed"][0] is not None and by_bin["speed"][1:] == (None, None)  # no track at speed 10 or more
    for value, rests in (("yes", 0.15), ("no", 0.85)):
        made = calibrated.generate(num_outputs=200, num_steps=32, seed=9, controls={"busy": value})
        assert abs(rests_of(made) - rests) < 0.1, (value, rests_of(made))
    assert abs(rests_of(calibrated.generate(num_outputs=200, num_steps=32, seed=9)) - 0.5) < 0.1  # alone: every track

    # One value fitted again (a track of another such value added later, say): the rest keep their numbers.
    again = ["calibrate", "--from", str(tmp_path / "c.seqgen"), "--sequence_example_file"]
    again += [str(tmp_path / "steered.tfrecord"), "--bundle_file", str(tmp_path / "d.seqgen"), "--num_steps", "32"]
    assert main([*again, "--controls", "busy=no", "--rounds", "2", "--outputs", "50"]) == 0
    assert "busy=yes" not in capsys.readouterr().out
    refitted = seqgen.load(tmp_path / "d.seqgen").calibration.controls
    assert refitted["busy"][1] == by_bin["busy"][1] and refitted["speed"] == by_bin["speed"]
    assert refitted["busy"][0] != by_bin["busy"][0]
    assert main([*again[:-3], str(tmp_path / "e.seqgen"), "--controls", "busy=maybe"]) != 0
    assert "control busy has no value 'maybe'; valid: no, yes" in capsys.readouterr().err
