"""Drumify (GrooVAE's Tap2Drum): a kit groove that follows a one-voice rhythm. The drumify model family,
rhythms from MIDI parts and taps, `seqgen drumify`, `model.drumify` and the evaluation against baselines."""

import re

import numpy as np
import pretty_midi
import pytest

import seqgen
from support import GROOVE
from groove_slice import FUNK, train_tiny
from seqgen import plugins
from seqgen.cli import main
from seqgen.errors import SeqgenError
from seqgen_drums.evaluation import drumify as drumify_eval, groove as groove_eval
from seqgen_drums.events import groove, rhythm
from seqgen_drums.events.rhythm import Rhythm, rhythm_from_midi, rhythm_from_times

CONFIG = plugins.get_config("drumify")
STEP = 60 / 120 / 4  # seconds per 16th at 120 qpm


def _song(path, parts):
    """A MIDI file at 120 qpm with one part per ``[(start seconds, velocity)]`` (programs 33, 34, ...)."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    for number, notes in enumerate(parts):
        instrument = pretty_midi.Instrument(33 + number)
        instrument.notes = [pretty_midi.Note(velocity, 40 + number, start, start + 0.1) for start, velocity in notes]
        midi.instruments.append(instrument)
    midi.write(str(path))
    return path


BASS = [(0.0, 110), (0.75, 70), (1.0, 100), (1.5, 90), (2.0 + 0.01, 120), (2.75, 60), (3.0, 100), (3.5, 80)]
CLAPS = [(0.5, 100), (1.5, 100), (2.5, 100), (3.5, 100)]


def test_rhythms_from_a_midi_part_taps_and_events(tmp_path):
    found = rhythm_from_midi(str(_song(tmp_path / "bass.mid", [BASS])))
    assert np.flatnonzero(found.taps).tolist() == [0, 6, 8, 12, 16, 22, 24, 28] and len(found) == 32
    assert found.velocities[0] == pytest.approx(110 / 127, rel=1e-6)
    assert found.offsets[16] == pytest.approx(0.01 / STEP, abs=0.01)  # the file keeps times in ticks of 1/440 s
    tapped = rhythm_from_times([t for t, _ in BASS], 120, [v for _, v in BASS])
    np.testing.assert_allclose(tapped.velocities, found.velocities)
    np.testing.assert_allclose(tapped.offsets, found.offsets, atol=0.01)
    events = rhythm.rhythm_from_events(
        [groove.PlayedEvent({36: (90, 0.1), 42: (60, -0.2)}), frozenset(), frozenset({38})]
    )
    assert events.taps.tolist() == [True, False, True]
    assert events.velocities[0] == pytest.approx(90 / 127, rel=1e-6) and events.offsets[0] == pytest.approx(0.1)


def test_a_part_of_a_song_is_chosen_with_part(tmp_path):
    path = str(_song(tmp_path / "song.mid", [BASS, CLAPS]))
    both, bass, claps = rhythm_from_midi(path), rhythm_from_midi(path, 1), rhythm_from_midi(path, 2)
    assert np.flatnonzero(claps.taps).tolist() == [4, 12, 20, 28]
    assert set(np.flatnonzero(both.taps)) == set(np.flatnonzero(bass.taps)) | set(np.flatnonzero(claps.taps))


def test_the_training_collapse_is_the_rhythm_a_performance_gives():
    import tensorflow as tf

    from seqgen_drums.families.groove.task import collapse as tf_collapse

    rng = np.random.default_rng(0)
    hits = rng.random((2, 40, 9)) < 0.2
    velocities = np.where(hits, rng.random((2, 40, 9)), 0).astype(np.float32)
    offsets = np.where(hits, rng.uniform(-0.5, 0.5, (2, 40, 9)), 0).astype(np.float32)
    taps, tap_velocities, tap_offsets = rhythm.collapse(hits, velocities, offsets)
    found = np.asarray(tf_collapse(tf.constant(hits, tf.float32), tf.constant(velocities), tf.constant(offsets)))
    np.testing.assert_array_equal(found[..., 0], taps)
    np.testing.assert_allclose(found[..., 1], tap_velocities, atol=1e-6)
    np.testing.assert_allclose(found[..., 2], 2 * tap_offsets, atol=1e-6)


@pytest.fixture(scope="module")
def test_split(groove_splits):
    config = plugins.get_config("groove")
    test = groove_eval.read_performances([str(groove_splits / "test_drum_tracks.tfrecord")], config)
    train = groove_eval.read_performances([str(groove_splits / "train_drum_tracks.tfrecord")], config)
    assert len(test) == 128
    return test, train


def test_drumify_follows_held_out_groove_rhythms_better_than_a_kick_on_every_tap(test_split):
    test, train = test_split
    model = drumify_eval.ModelPlayer(seqgen.load("drumify_gmd"), "shipped", temperature=1.0, seed=0)
    shipped, kick, common = drumify_eval.evaluate(test, train, [model])
    assert kick.f1[1:] == (0.0,) * 8  # the baseline plays only kicks
    assert shipped.overall_f1 > kick.overall_f1 + 0.1 and shipped.overall_f1 > common.overall_f1
    assert shipped.f1[0] > 0.8 * kick.f1[0]  # kick, snare, closed hi-hat: the main drums
    assert shipped.f1[1] > common.f1[1] and shipped.f1[2] > common.f1[2]
    assert shipped.near_taps > 0.9 > common.near_taps  # its onsets are on the taps
    assert shipped.onsets > kick.onsets  # a kit, not one drum


def test_drumify_api_is_seeded_and_plays_a_drum_on_every_tap():
    model = seqgen.load("drumify_gmd")
    taps = rhythm_from_times([t for t, _ in BASS], 120, [v for _, v in BASS])
    first, again, other = (model.drumify(taps, seed=seed) for seed in (1, 1, 2))
    assert first.events == again.events and [e.notes for e in first.events if e] == [e.notes for e in again.events if e]
    assert [e.notes for e in first.events if e] != [e.notes for e in other.events if e]
    assert [bool(event) for event in first.events] == taps.taps.tolist()  # drums exactly on the taps
    for event in first.events:
        for pitch, (velocity, offset) in getattr(event, "notes", {}).items():
            assert 1 <= velocity <= 127 and -0.5 <= offset <= 0.5
    assert len({p for e in first.events for p in e}) >= 2
    assert model.drumify(taps, temperature=0).events == model.drumify(taps, temperature=0, seed=5).events
    # A drum track's events give its rhythm.
    assert model.drumify(first.events, seed=1).events


def test_drumify_command_writes_a_groove_on_the_taps_of_a_part(tmp_path, capsys):
    path = _song(tmp_path / "song.mid", [BASS, CLAPS])
    argv = ["drumify", str(path), "--part", "1", "--output_dir", str(tmp_path / "out"), "--seed", "3"]
    assert main(argv) == 0
    assert re.match(r"drumified 1 file \(8 taps, \d+ drum hits\) into ", capsys.readouterr().out)
    written = pretty_midi.PrettyMIDI(str(tmp_path / "out" / "song.mid"))
    notes = [n for i in written.instruments for n in i.notes]
    assert notes and all(i.is_drum for i in written.instruments)
    taps = [t for t, _ in BASS]
    assert all(min(abs(n.start - t) for t in taps) < STEP / 2 for n in notes)
    assert {min(taps, key=lambda t: abs(t - n.start)) for n in notes} == set(taps)  # every tap sounds
    before = (tmp_path / "out" / "song.mid").read_bytes()
    assert main(argv + ["--overwrite"]) == 0
    assert (tmp_path / "out" / "song.mid").read_bytes() == before  # the same seed, the same groove


@pytest.mark.parametrize(
    "argv,expected",
    [
        (
            ["drumify", "{empty}", "--output_dir", "{out}"],
            r"^seqgen drumify: error: MIDI file .*empty.mid has no notes",
        ),
        (
            ["drumify", "{song}", "--part", "3", "--output_dir", "{out}"],
            r"^seqgen drumify: error: MIDI file .*song.mid has 2 parts with notes; there is no part 3 "
            r"\(give --part 1 to 2\)$",
        ),
        (
            ["drumify", "{song}", "--part", "0", "--output_dir", "{out}"],
            r"^seqgen drumify: error: argument --part: expected a positive integer, got '0'",
        ),
        (
            ["drumify", "missing.mid", "--output_dir", "{out}"],
            r"^seqgen drumify: error: MIDI file missing.mid does not exist$",
        ),
        (
            ["drumify", "{song}", "--output_dir", "{out}", "--bundle_file", "groove_gmd"],
            r"^seqgen drumify: error: groove_gmd is a groove model \(groove\); drumifying needs a drumify model",
        ),
        (
            ["drumify", "{song}", "--output_dir", "{out}", "--temperature", "-1"],
            r"^seqgen drumify: error: argument --temperature: expected a non-negative number",
        ),
        (
            ["humanize", str(GROOVE / FUNK), "--output_dir", "{out}", "--bundle_file", "drumify_gmd"],
            r"^seqgen humanize: error: drumify_gmd is a drumify model \(drumify\); humanizing needs a groove model",
        ),
    ],
)
def test_bad_input_gets_one_line(argv, expected, tmp_path, capsys):
    empty = pretty_midi.PrettyMIDI()
    empty.instruments.append(pretty_midi.Instrument(0))
    empty.write(str(tmp_path / "empty.mid"))
    places = {
        "out": tmp_path / "out",
        "empty": tmp_path / "empty.mid",
        "song": _song(tmp_path / "song.mid", [BASS, CLAPS]),
    }
    code = main([arg.format(**places) for arg in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code not in (0, None) and len(err) == 1, err
    assert re.search(expected, err[0]), err[0]
    assert not (tmp_path / "out").exists()


def test_an_empty_rhythm_is_refused():
    model = seqgen.load("drumify_gmd")
    with pytest.raises(SeqgenError, match=r"^the rhythm is empty: it has no onsets"):
        rhythm_from_times([], 120)
    with pytest.raises(SeqgenError, match=r"^the rhythm is empty: it has no taps"):
        model.drumify(Rhythm(np.zeros(16), np.zeros(16)))
    with pytest.raises(SeqgenError, match=r"^the rhythm is empty"):
        model.drumify([frozenset()] * 8)
    with pytest.raises(SeqgenError, match="tap times must not be negative"):
        rhythm_from_times([-1.0], 120)
    with pytest.raises(SeqgenError, match=r"^the rhythm spans 100016 steps .*is a note misplaced"):
        rhythm_from_times([0.0, 100_000 * STEP], 120)


def test_a_tiny_drumify_model_trains_through_the_shared_loop_and_bundles(groove_splits, tmp_path):
    config = CONFIG.with_hparams(
        "batch_size=4,rnn_layer_sizes=[8],train_window=32,learning_rate=0.01,"
        "dropout_keep_prob=1.0,velocity_bins=8,offset_bins=8"
    )
    run = str(tmp_path / "run")
    lines = train_tiny(config, groove_splits, run)
    assert any("hit_f1" in line for line in lines)
    model = seqgen.load(run)
    assert model.config.model == "drumify"
    model.save(tmp_path / "tiny.seqgen", "tiny drumify")
    loaded = seqgen.load(str(tmp_path / "tiny.seqgen"))
    taps = rhythm_from_times([0, 0.5, 1.0], 120)
    assert [e.notes for e in loaded.drumify(taps, seed=0).events if e] == [
        e.notes for e in model.drumify(taps, seed=0).events if e
    ]


def test_drumify_and_humanize_commands_run_without_tensorflow(tmp_path):
    import subprocess
    import sys

    funk = str(GROOVE / FUNK)
    code = (
        "import sys; from seqgen.cli import main; "
        f"assert main(['drumify', {funk!r}, '--output_dir', {str(tmp_path / 'd')!r}, '--seed', '1']) == 0; "
        f"assert main(['humanize', {funk!r}, '--output_dir', {str(tmp_path / 'h')!r}, '--swing', '0.2']) == 0; "
        "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "d" / FUNK.split("/")[-1]).is_file() and (tmp_path / "h" / FUNK.split("/")[-1]).is_file()
