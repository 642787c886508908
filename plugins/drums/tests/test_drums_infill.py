"""Infilling drums: by bars and by instruments (the drums' parts), with a small infilling transformer and the shipped
models; the ``seqgen infill`` command and ``model.infill`` on a Groove song, every bad input, and the NumPy stepper
against the Keras network on fill-in-the-middle streams with the drum controls. The core mechanism is tested on a
plugin of its own in tests/test_infill.py. Models have small random weights (what is tested is what is kept, not how
good the rest is), except the shipped ones, which users infill with.
"""

import numpy as np
import pretty_midi
import pytest

import seqgen
from groove_slice import FUNK
from seqgen import bundle, plugins
from seqgen.cli import main
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn import inference as events_rnn_inference
from seqgen.model import Track
from seqgen.testing import random_model
from support import GROOVE, SMALL_TRANSFORMER, one_blas_thread  # noqa: F401  (one_blas_thread: autouse)

HATS = ("hihat_closed", "hihat_open")
SONG = str(GROOVE / FUNK)  # 16 bars of 4/4 funk, the Groove test split


# --- Drums: by bars and by instruments, with a small infilling transformer and the shipped models. ---


@pytest.fixture(scope="module")
def song():
    """The funk song's drums as a Track of drum_kit events (16 bars, 256 steps)."""
    config = plugins.get_config("drum_kit")
    found = config.tracks.primer_from_midi(SONG, config)
    assert len(found.events) == 256 and found.steps_per_bar == 16
    return Track(found.events, config, found.qpm)


@pytest.fixture(scope="module")
def small_infilling_transformer():
    """drum_kit_transformer with controls and fill-in-the-middle, small, random weights."""
    config = plugins.get_config("drum_kit_transformer").with_hparams(f"{SMALL_TRANSFORMER},controls=true,infill=true")
    model = random_model(config, seed=2)
    assert model.generator.prompt.infill and model.controls
    return model


def classes_of(events):
    return plugins.get_config("drum_kit").encoding.events_to_classes(list(events))


def assert_kept(before, outputs, steps, instruments=None):
    """Every output keeps every step outside ``steps`` exactly, and inside them every instrument not named;
    some output changes something."""
    encoding = plugins.get_config("drum_kit").encoding
    free = sum(1 << encoding.parts.index(name) for name in instruments) if instruments else encoding.num_classes - 1
    kept_bits = (encoding.num_classes - 1) & ~free
    original = classes_of(before)
    assert outputs
    for output in outputs:
        assert len(output.events) == len(before)
        outside = [t for t in range(len(before)) if t not in steps]
        assert [output.events[t] for t in outside] == [before[t] for t in outside]
        assert not np.any((classes_of(output.events) ^ original) & kept_bits), "a kept instrument changed"
    assert any(list(o.events) != list(before) for o in outputs)


def shipped(name):
    return seqgen.load(name)


@pytest.mark.parametrize("which", ["small_infilling_transformer", "drum_kit_transformer_gmd", "drum_kit_gmd"])
def test_drums_keep_every_bar_and_instrument_not_selected(which, song, request):
    model = request.getfixturevalue(which) if which.startswith("small") else shipped(which)
    track = Track(song.events[:128], model.config, song.qpm)  # 8 bars: quick for the shipped models
    bars = model.infill(track, bars="3-4", num_outputs=3, seed=1)
    assert_kept(track.events, bars, range(32, 64))
    hats = model.infill(track, bars="3-4", instruments=HATS, num_outputs=3, seed=1)
    assert_kept(track.events, hats, range(32, 64), HATS)
    everywhere = model.infill(track, instruments=["hihat_closed"], num_outputs=2, seed=1)
    assert_kept(track.events, everywhere, range(128), ["hihat_closed"])


def test_an_instrument_named_twice_is_regenerated_once_and_the_others_kept(small_infilling_transformer, song):
    outputs = small_infilling_transformer.infill(song, bars="3-4", instruments="kick,kick", num_outputs=3, seed=1)
    assert_kept(song.events, outputs, range(32, 64), ["kick"])


@pytest.mark.parametrize("method", ["left", "rescore"])
def test_a_first_bar_read_left_to_right_starts_with_a_step_the_track_plays(small_infilling_transformer, song, method):
    outputs = small_infilling_transformer.infill(song, bars="1", num_outputs=16, seed=2, method=method)
    played = set(classes_of(song.events[16:]).tolist())
    assert {int(classes_of(o.events[:1])[0]) for o in outputs} <= played
    # With only the hi-hats free, the first step keeps the rest and takes hats the track plays over them.
    hats = small_infilling_transformer.infill(song, bars="1", instruments=HATS, num_outputs=8, seed=2, method=method)
    assert_kept(song.events, hats, range(16), HATS)


def test_the_infilling_transformer_takes_controls_and_infills_in_each_way(small_infilling_transformer, song):
    model = small_infilling_transformer
    for method in ("middle", "rescore", "left"):
        outputs = model.infill(
            song,
            bars="15-16",
            instruments=HATS,
            num_outputs=2,
            seed=3,
            method=method,
            controls={"style": "funk", "density": 20},
        )
        assert_kept(song.events, outputs, range(224, 256), HATS)


# --- The command and the API. ---


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory, small_infilling_transformer):
    path = tmp_path_factory.mktemp("models") / "tiny_infill.seqgen"
    small_infilling_transformer.save(path)
    return str(path)


def read_back(path):
    config = plugins.get_config("drum_kit")
    return config.tracks.primer_from_midi(path, config).events


def test_seqgen_infill_writes_versions_that_keep_the_kept_bars_and_instruments(tmp_path, tiny_bundle, song, capsys):
    out = tmp_path / "out"
    assert (
        main(
            [
                "infill",
                SONG,
                "--bundle_file",
                tiny_bundle,
                "--bars",
                "3-4",
                "--instruments",
                "hihat_closed,hihat_open",
                "--output_dir",
                str(out),
                "--num_outputs",
                "3",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    said = capsys.readouterr().out
    assert "wrote 3 versions of 1_funk-groove1_138_beat_4-4.mid with bars 3-4 (hihat_closed,hihat_open)" in said
    written = sorted(out.iterdir())
    assert len(written) == 3 and all(p.suffix == ".mid" for p in written)
    outputs = [Track(read_back(p), song.config) for p in written]
    assert_kept(song.events, outputs, range(32, 64), HATS)
    assert pretty_midi.PrettyMIDI(str(written[0])).estimate_tempo() > 0
    # Again with the same seed: the same music, in new files beside the first ones.
    assert (
        main(
            [
                "infill",
                SONG,
                "--bundle_file",
                tiny_bundle,
                "--bars",
                "3-4",
                "--instruments",
                "hihat_closed,hihat_open",
                "--output_dir",
                str(out),
                "--num_outputs",
                "3",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    again = sorted(set(out.iterdir()) - set(written))
    assert len(again) == 3 and [read_back(p) for p in again] == [o.events for o in outputs]


def test_seqgen_infill_uses_the_shipped_transformer_by_default(tmp_path, song):
    out = tmp_path / "out"
    assert (
        main(["infill", SONG, "--steps", "241-256", "--output_dir", str(out), "--num_outputs", "2", "--seed", "2"]) == 0
    )
    outputs = [Track(read_back(p), song.config) for p in sorted(out.iterdir())]
    assert len(outputs) == 2
    assert_kept(song.events, outputs, range(240, 256))


def test_model_infill_returns_tracks_at_the_tempo_of_the_track(small_infilling_transformer, song):
    model = small_infilling_transformer
    outputs = model.infill(song, bars=(5, 6), instruments="hihat_closed, hihat_open", num_outputs=2, seed=9)
    assert all(isinstance(o, Track) and o.qpm == song.qpm and o.config is model.config for o in outputs)
    assert_kept(song.events, outputs, range(64, 96), HATS)
    assert [o.events for o in outputs] == [
        o.events for o in model.infill(song, bars="5-6", instruments=list(HATS), num_outputs=2, seed=9)
    ]
    # Primer text and a list of events are tracks too; a bar of 12 steps (3/4) counts bars in 12s.
    text = model.infill("[(36,), (), (42,), (), (36, 42), (), (42,), (), (36,)]", steps="2-3", num_outputs=1, seed=1)
    assert len(text[0].events) == 9 and text[0].qpm == 120.0
    waltz = model.infill(list(song.events[:48]), bars=2, steps_per_bar=12, num_outputs=2, seed=1)
    assert_kept(song.events[:48], waltz, range(12, 24))


# --- Bad input: one line, no traceback, nothing written. ---


@pytest.fixture(scope="module")
def one_drum_bundle(tmp_path_factory):
    config = plugins.get_config("one_drum").with_hparams("rnn_layer_sizes=[8]")
    path = tmp_path_factory.mktemp("models") / "one_drum.seqgen"
    bundle.save(path, config, events_rnn_inference.random_weights(config))
    return str(path)


@pytest.fixture(scope="module")
def piano(tmp_path_factory):
    midi = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes += [pretty_midi.Note(velocity=80, pitch=60 + k, start=k * 0.5, end=k * 0.5 + 0.4) for k in range(8)]
    midi.instruments.append(piano)
    path = tmp_path_factory.mktemp("midi") / "piano.mid"
    midi.write(str(path))
    return str(path)


BAD_INFILLS = [
    ("--bars 17-18", "--bars 17-18 is outside the track, which has 16 bars"),
    ("--steps 250-300", "--steps 250-300 is outside the track, which has 256 steps"),
    ("--bars 4-3", "--bars '4-3' must count from 1 with the first not after the last"),
    ("--bars 0", "--bars '0' must count from 1"),
    ("--bars three", "--bars 'three' is not a range; write e.g. --bars 3-4"),
    ("", "that selects the whole track; keep some bars (or choose --instruments), or use seqgen generate"),
    ("--bars 1-16", "that selects the whole track"),
    (
        "--instruments kick,snare,hihat_closed,hihat_open,tom_low,tom_mid,tom_high,crash,ride",
        "that selects everything; keep some bars or instruments, or use seqgen generate",
    ),
    ("--bars 3 --instruments cowbell", "unknown instrument 'cowbell'; valid: kick, snare, hihat_closed"),
    (
        "--bars 3 --instruments kick --bundle_file {one_drum}",
        "this model's events have no separate instruments; regenerate whole steps (leave out --instruments)",
    ),
    ("--bars 3 --bundle_file groove_gmd", "a groove model does not generate tracks; give a model that does"),
    ("--bars 3 --control style=polka", "style"),
    ("--bars 3 --bundle_file drum_kit_gmd --control style=funk", "this model takes no controls"),
]


def _run_failing(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.err.strip()


@pytest.mark.parametrize("flags,message", BAD_INFILLS)
def test_bad_infill_input_gets_one_line_and_writes_nothing(flags, message, tmp_path, capsys, one_drum_bundle, piano):
    out = tmp_path / "out"
    flags = flags.format(one_drum=one_drum_bundle, piano=piano).split()
    code, error = _run_failing(["infill", SONG, *flags, "--output_dir", str(out), "--seed", "1"], capsys)
    assert code == 1
    assert message in error and len(error.splitlines()) == 1 and "Traceback" not in error, error
    assert not out.exists()


def test_a_midi_file_without_drums_and_an_existing_folder_are_left_as_they_were(tmp_path, capsys, piano):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.mid").write_bytes(b"mine")
    code, error = _run_failing(["infill", piano, "--bars", "1", "--output_dir", str(out)], capsys)
    assert code == 1 and "has no drums: drums must be on MIDI channel 10" in error and len(error.splitlines()) == 1
    code, error = _run_failing(["infill", SONG, "--bars", "20", "--output_dir", str(out)], capsys)
    assert code == 1 and "outside the track" in error
    assert [p.name for p in out.iterdir()] == ["keep.mid"] and (out / "keep.mid").read_bytes() == b"mine"


def test_the_api_refuses_the_same_bad_input_in_one_line(small_infilling_transformer, song):
    model = small_infilling_transformer
    cases = [
        (dict(bars="9-10", steps_per_bar=16, track=song.events[:128]), "outside the track, which has 8 bars"),
        (dict(steps=(0, 3)), "must count from 1"),
        (dict(bars=0), "--bars 0 must count from 1"),
        (dict(steps=-3), "--steps -3 must count from 1"),
        (dict(bars=3, steps="1-4"), "give --bars or --steps, not both"),
        (dict(instruments=list(model.config.encoding.parts)), "that selects everything"),
        (dict(bars=2, instruments=["hi-hat"]), "unknown instrument 'hi-hat'"),
        (dict(bars=2, track=[]), "the track is empty; nothing to infill"),
        (dict(bars=2, num_outputs=0), "--num_outputs must be a positive finite number"),
        (dict(bars=2, temperature=-1.0), "--temperature must be a positive finite number"),
        (dict(bars=2, seed=-1), "--seed must be a non-negative integer"),
        (dict(bars=2, controls={"colour": "red"}), "unknown control 'colour'"),
    ]
    for arguments, message in cases:
        track = arguments.pop("track", song)
        with pytest.raises(SeqgenError, match=message) as raised:
            model.infill(track, **arguments)
        assert "\n" not in str(raised.value)
    with pytest.raises(SeqgenError, match="this model's events have no separate instruments"):
        random_model(plugins.get_config("one_drum").with_hparams("rnn_layer_sizes=[8]")).infill(
            [frozenset()] * 32, bars=2, instruments=["kick"]
        )
    with pytest.raises(SeqgenError, match="cannot fill in the middle; use method rescore or left"):
        shipped("drum_kit_transformer_gmd").infill(song, bars=2, method="middle")
    with pytest.raises(SeqgenError, match="does not generate or score tracks; it offers: humanize"):
        shipped("groove_gmd").infill(song, bars=2)


# --- The one test tying the NumPy stepper to the Keras network on fill-in-the-middle streams. ---


def test_the_numpy_stepper_reads_fill_in_the_middle_streams_as_the_keras_network_does(
    small_infilling_transformer, song
):
    from seqgen.generator import log_softmax

    model = small_infilling_transformer
    generator = model.generator
    network = model.family.build(model.config)
    model.family.load_weights(network, model.weights)
    classes = classes_of(song.events[:96])
    controls = generator.control_tokens({"style": "funk", "tempo": 138, "density": 20})
    prompt = generator.prompt
    for start, end in ((32, 64), (0, 16), (80, 95)):
        tokens, steps, labels = prompt.fill_in_middle(classes, start, end, controls)
        expected = log_softmax(np.asarray(network(tokens[None], steps=steps[None]))[0])
        state, got = generator.stepper.initial_state(1), []
        for token, step in zip(tokens, steps):
            logits, state = generator.stepper.step(np.array([token]), int(step), state)
            got.append(log_softmax(logits)[0])
        np.testing.assert_allclose(np.array(got), expected, atol=2e-4)
        # The gap's log-likelihood given both sides is the network's sum over the gap's labels.
        gap = slice(len(tokens) - (end - start), len(tokens))
        network_sum = expected[np.arange(len(tokens))[gap], labels[gap]].sum()
        assert generator.gap_log_likelihood(
            song.events[:96], start, end, both_sides=True, controls={"style": "funk", "tempo": 138, "density": 20}
        ) == pytest.approx(network_sum, abs=1e-3)
    # The positions read are the steps: a stream read at the wrong steps gives other log-probs.
    tokens, steps, _ = prompt.fill_in_middle(classes, 32, 64, controls)
    right, wrong = (log_softmax(np.asarray(network(tokens[None], steps=s[None]))[0]) for s in (steps, steps + 1))
    assert not np.allclose(right, wrong, atol=1e-3)


def test_a_cold_fill_in_the_middle_is_the_keras_networks_most_likely_gap_even_at_the_first_step(
    small_infilling_transformer, song
):
    model = small_infilling_transformer
    network = model.family.build(model.config)
    model.family.load_weights(network, model.weights)
    controls = model.generator.control_tokens({})
    for bars, (start, end) in (("1", (0, 16)), ("3", (32, 48))):
        outputs = model.infill(song.events[:64], bars=bars, num_outputs=2, temperature=1e-4, seed=1, method="middle")
        assert outputs[0].events == outputs[1].events
        tokens, steps, labels = model.generator.prompt.fill_in_middle(
            classes_of(outputs[0].events), start, end, controls
        )
        predicted = np.asarray(network(tokens[None], steps=steps[None]))[0].argmax(-1)
        gap = slice(len(tokens) - (end - start), len(tokens))
        assert list(predicted[gap]) == list(labels[gap]), bars


def test_the_gap_log_likelihood_given_the_left_side_is_the_score_of_the_gap(small_infilling_transformer, song):
    model, controls = small_infilling_transformer, {"style": "funk", "density": 20}
    log_probs = np.log(model.score(song.events[:64], controls=controls).probabilities)  # of steps 1..63
    for start, end in ((16, 48), (0, 16)):  # from the first step: that step is never predicted, so not scored
        got = model.generator.gap_log_likelihood(song.events[:64], start, end, both_sides=False, controls=controls)
        assert got == pytest.approx(log_probs[max(start - 1, 0) : end - 1].sum(), rel=1e-5)
    # Read as one batch, two tracks get what each gets alone, on either side.
    other = song.events[64:128]
    for both_sides in (True, False):
        alone = [model.generator.gap_log_likelihood(t, 16, 48, both_sides, controls) for t in (song.events[:64], other)]
        together = model.generator.gap_log_likelihoods([song.events[:64], other], 16, 48, both_sides, controls)
        np.testing.assert_allclose(together, alone, rtol=1e-5)
