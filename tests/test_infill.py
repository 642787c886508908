"""Infilling: regenerate some steps (bars) and some parts of events (instruments), keep the rest exactly.

The core mechanism is tested with a plugin defined here (events of two parts, not drums) on both model
families; then drums by bars and by instruments, the ``seqgen infill`` command, ``model.infill`` and every
bad input. Models have small random weights (what is tested is what is kept, not how good the rest is),
except the shipped ones, which users infill with.
"""

import ast
import os

import numpy as np
import pretty_midi
import pytest

import seqgen
from conftest import GROOVE
from groove_slice import FUNK
from seqgen import bundle, plugins
from seqgen.cli import main
from seqgen.config import Config
from seqgen.encoding import Encoding
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn import inference as events_rnn_inference
from seqgen.families.events_rnn import EventsRNNHParams
from seqgen.families.transformer import TransformerHParams
from seqgen.families.transformer import inference as transformer_inference
from seqgen.hookspecs import hookimpl
from seqgen.model import Model, Track
from seqgen.tracks import Tracks

SMALL_TRANSFORMER = "num_layers=2,d_model=16,num_heads=2,d_ff=32,max_relative_distance=16"
HATS = ("hihat_closed", "hihat_open")
SONG = str(GROOVE / FUNK)  # 16 bars of 4/4 funk, the Groove test split


@pytest.fixture(autouse=True)
def one_blas_thread():
    """One BLAS thread, as the seqgen commands use: on a busy machine a second one stalls every step (the
    shipped models' tests took 40 s instead of 1)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # not installed: BLAS's own number of threads
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


# --- A plugin that is not drums: an event is a (low, high) pair, each part regenerated on its own. ---

LOWS, HIGHS = 4, 3


class PairEncoding(Encoding):
    """(low, high) with low in 0..3 and high in 0..2; the position features say where in the bar a step is."""

    parts = ("low", "high")
    num_position_features = 2

    @property
    def num_classes(self):
        return LOWS * HIGHS

    @property
    def no_event(self):
        return (0, 0)

    def event_to_class(self, event):
        return event[0] * HIGHS + event[1]

    def class_to_event(self, index):
        return divmod(int(index), HIGHS)

    def agreeing_classes(self, index, regenerate):
        kept = [k for k, name in enumerate(self.parts) if name not in regenerate]
        mine = self.class_to_event(index)
        return np.array([all(self.class_to_event(c)[k] == mine[k] for k in kept) for c in range(self.num_classes)])

    def position_features(self, num_steps):
        steps = np.arange(1, num_steps + 1)[:, None]
        return np.where((steps >> np.arange(2)) & 1, 1.0, -1.0).astype(np.float32)


class PairTracks(Tracks):
    def extract(self, quantized_sequence, extraction):
        return [], {}

    def notes(self, events, steps_per_quarter, qpm):
        return []

    def parse_primer(self, text):
        return [tuple(event) for event in ast.literal_eval(text)]


PAIRS = dict(description="Pairs of a low and a high part.", encoding=PairEncoding(), tracks=PairTracks(),
             steps_per_quarter=1)  # 4 steps a bar
PAIRS_TRANSFORMER = Config(id="pairs_transformer", model="transformer", **PAIRS,
                           hparams=TransformerHParams(infill=True).override(SMALL_TRANSFORMER))
PAIRS_RNN = Config(id="pairs_rnn", hparams=EventsRNNHParams(rnn_layer_sizes=(8,)), **PAIRS)


class PairsPlugin:
    @hookimpl
    def register_configs(self, register):
        register(PAIRS_TRANSFORMER)
        register(PAIRS_RNN)


def random_model(config, seed=0):
    family = transformer_inference if config.model == "transformer" else events_rnn_inference
    return Model(config, family.random_weights(config, seed=seed))


@pytest.fixture
def pairs(registered):
    """{"transformer": model, "rnn": model} of the pairs plugin, registered in-process."""
    registered(PairsPlugin(), "pairs")
    return {name: random_model(plugins.get_config(f"pairs_{name}"), seed=1) for name in ("transformer", "rnn")}


PAIR_TRACK = [(k % LOWS, (k // 3) % HIGHS) for k in range(24)]  # 6 bars
FAMILY_METHODS = [("transformer", "middle"), ("transformer", "rescore"), ("transformer", "left"),
                  ("rnn", "rescore"), ("rnn", "left")]


def changed_steps(before, after):
    return {t for t, (a, b) in enumerate(zip(before, after)) if a != b}


@pytest.mark.parametrize("family,method", FAMILY_METHODS)
def test_every_output_keeps_every_step_outside_the_gap_and_only_the_gap_changes(pairs, family, method):
    model = pairs[family]
    for bars, gap in (("3-4", range(8, 16)), ("1", range(0, 4)), ("6", range(20, 24))):
        outputs = model.infill(PAIR_TRACK, bars=bars, num_outputs=6, seed=3, method=method)
        assert len(outputs) == 6
        changed = set()
        for output in outputs:
            assert len(output.events) == len(PAIR_TRACK)
            assert changed_steps(PAIR_TRACK, output.events) <= set(gap), (bars, output.events)
            changed |= changed_steps(PAIR_TRACK, output.events)
        assert changed, f"no output of bars {bars} changed anything"
    by_steps = model.infill(PAIR_TRACK, steps="6-7", num_outputs=4, seed=3, method=method)
    assert all(changed_steps(PAIR_TRACK, o.events) <= {5, 6} for o in by_steps)


@pytest.mark.parametrize("family,method", FAMILY_METHODS)
def test_kept_parts_are_identical_and_the_same_seed_gives_the_same_outputs(pairs, family, method):
    model = pairs[family]
    first = model.infill(PAIR_TRACK, bars="2-5", instruments=["high"], num_outputs=6, seed=5, method=method)
    again = model.infill(PAIR_TRACK, bars="2-5", instruments=["high"], num_outputs=6, seed=5, method=method)
    other = model.infill(PAIR_TRACK, bars="2-5", instruments=["high"], num_outputs=6, seed=6, method=method)
    assert [o.events for o in first] == [o.events for o in again]
    assert [o.events for o in first] != [o.events for o in other]
    for output in first + other:
        assert [low for low, _ in output.events] == [low for low, _ in PAIR_TRACK]  # the kept part, every step
        assert changed_steps(PAIR_TRACK, output.events) <= set(range(4, 20))
    assert any(changed_steps(PAIR_TRACK, o.events) for o in first)
    # The whole track, one part regenerated: the other part is still kept everywhere.
    for output in model.infill(PAIR_TRACK, instruments="low", num_outputs=4, seed=1, method=method):
        assert [high for _, high in output.events] == [high for _, high in PAIR_TRACK]


def test_filling_in_the_middle_reads_the_steps_after_the_gap_and_left_to_right_does_not(pairs):
    model = pairs["transformer"]
    other_end = PAIR_TRACK[:16] + [(3, 2)] * 8
    for method, sees_the_right in (("middle", True), ("left", False)):
        gaps = [[o.events[8:16] for o in model.infill(track, bars="3-4", num_outputs=6, seed=2, method=method)]
                for track in (PAIR_TRACK, other_end)]
        assert (gaps[0] != gaps[1]) == sees_the_right, method


@pytest.mark.parametrize("family", ["transformer", "rnn"])
def test_rescoring_keeps_the_candidate_under_which_the_kept_steps_after_the_gap_are_most_likely(pairs, family):
    model = pairs[family]
    # The candidates are the left-to-right infills of the same seed (the same draws).
    candidates = model.infill(PAIR_TRACK, bars="3-4", num_outputs=8, seed=4, method="left")

    def after_gap(track):
        return float(np.log(model.score(track).probabilities[15:]).sum())  # P(event t | before) for t >= 16

    [chosen] = model.generator.infill(PAIR_TRACK, 8, 16, num_outputs=1, seed=4, method="rescore", candidates=8)
    scores = [after_gap(c) for c in candidates]
    assert chosen == candidates[int(np.argmax(scores))].events
    assert len({round(s, 6) for s in scores}) > 1  # the choice was a real one


def test_a_model_that_learned_no_fill_in_the_middle_refuses_it_and_rescores_by_default(pairs):
    with pytest.raises(SeqgenError, match="cannot fill in the middle; use method rescore or left"):
        pairs["rnn"].infill(PAIR_TRACK, bars="3", method="middle")
    with pytest.raises(SeqgenError, match="unknown infill method 'both'"):
        pairs["transformer"].infill(PAIR_TRACK, bars="3", method="both")
    default = pairs["rnn"].infill(PAIR_TRACK, bars="3-4", num_outputs=2, seed=4)
    assert [o.events for o in default] == [o.events for o in pairs["rnn"].infill(
        PAIR_TRACK, bars="3-4", num_outputs=2, seed=4, method="rescore")]


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
def test_a_first_bar_read_left_to_right_starts_with_a_step_the_track_plays(small_infilling_transformer, song,
                                                                             method):
    outputs = small_infilling_transformer.infill(song, bars="1", num_outputs=16, seed=2, method=method)
    played = set(classes_of(song.events[16:]).tolist())
    assert {int(classes_of(o.events[:1])[0]) for o in outputs} <= played
    # With only the hi-hats free, the first step keeps the rest and takes hats the track plays over them.
    hats = small_infilling_transformer.infill(song, bars="1", instruments=HATS, num_outputs=8, seed=2, method=method)
    assert_kept(song.events, hats, range(16), HATS)


def test_the_infilling_transformer_takes_controls_and_infills_in_each_way(small_infilling_transformer, song):
    model = small_infilling_transformer
    for method in ("middle", "rescore", "left"):
        outputs = model.infill(song, bars="15-16", instruments=HATS, num_outputs=2, seed=3, method=method,
                               controls={"style": "funk", "density": 20})
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
    assert main(["infill", SONG, "--bundle_file", tiny_bundle, "--bars", "3-4", "--instruments",
                 "hihat_closed,hihat_open", "--output_dir", str(out), "--num_outputs", "3", "--seed", "1"]) == 0
    said = capsys.readouterr().out
    assert "wrote 3 versions of 1_funk-groove1_138_beat_4-4.mid with bars 3-4 (hihat_closed,hihat_open)" in said
    written = sorted(out.iterdir())
    assert len(written) == 3 and all(p.suffix == ".mid" for p in written)
    outputs = [Track(read_back(p), song.config) for p in written]
    assert_kept(song.events, outputs, range(32, 64), HATS)
    assert pretty_midi.PrettyMIDI(str(written[0])).estimate_tempo() > 0
    # Again with the same seed: the same music, in new files beside the first ones.
    assert main(["infill", SONG, "--bundle_file", tiny_bundle, "--bars", "3-4", "--instruments",
                 "hihat_closed,hihat_open", "--output_dir", str(out), "--num_outputs", "3", "--seed", "1"]) == 0
    again = sorted(set(out.iterdir()) - set(written))
    assert len(again) == 3 and [read_back(p) for p in again] == [o.events for o in outputs]


def test_seqgen_infill_uses_the_shipped_transformer_by_default(tmp_path, song):
    out = tmp_path / "out"
    assert main(["infill", SONG, "--steps", "241-256", "--output_dir", str(out), "--num_outputs", "2",
                 "--seed", "2"]) == 0
    outputs = [Track(read_back(p), song.config) for p in sorted(out.iterdir())]
    assert len(outputs) == 2
    assert_kept(song.events, outputs, range(240, 256))


def test_model_infill_returns_tracks_at_the_tempo_of_the_track(small_infilling_transformer, song):
    model = small_infilling_transformer
    outputs = model.infill(song, bars=(5, 6), instruments="hihat_closed, hihat_open", num_outputs=2, seed=9)
    assert all(isinstance(o, Track) and o.qpm == song.qpm and o.config is model.config for o in outputs)
    assert_kept(song.events, outputs, range(64, 96), HATS)
    assert [o.events for o in outputs] == [o.events for o in model.infill(
        song, bars="5-6", instruments=list(HATS), num_outputs=2, seed=9)]
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
    ("--instruments kick,snare,hihat_closed,hihat_open,tom_low,tom_mid,tom_high,crash,ride",
     "that selects everything; keep some bars or instruments, or use seqgen generate"),
    ("--bars 3 --instruments cowbell", "unknown instrument 'cowbell'; valid: kick, snare, hihat_closed"),
    ("--bars 3 --instruments kick --bundle_file {one_drum}",
     "this model's events have no separate instruments; regenerate whole steps (leave out --instruments)"),
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
            [frozenset()] * 32, bars=2, instruments=["kick"])
    with pytest.raises(SeqgenError, match="cannot fill in the middle; use method rescore or left"):
        shipped("drum_kit_transformer_gmd").infill(song, bars=2, method="middle")
    with pytest.raises(SeqgenError, match="does not generate or score tracks; it offers: humanize"):
        shipped("groove_gmd").infill(song, bars=2)


def test_a_fill_in_the_middle_stream_reads_the_right_side_first_so_the_gap_continues_the_left_as_in_a_plain_one():
    from seqgen.prompt import Prompt

    prompt = Prompt(num_classes=6, infill=True)
    classes = np.array([1, 0, 3, 5, 2, 0, 4, 1, 1, 3])
    for start, end in ((3, 6), (0, 2), (8, 9)):
        tokens, steps, labels = prompt.fill_in_middle(classes, start, end, [7])
        right = len(classes) - end
        assert list(tokens[:right + 3]) == [7, prompt.suffix_token, *classes[end:], prompt.middle_token]
        assert list(steps[:right + 3]) == [0, end - 1, *range(end, len(classes)), 0]
        assert list(labels[:right + 3]) == [-1, *classes[end:], -1, classes[0]]  # each right event is scored
        # Then the plain stream of the events up to the gap's end: the same tokens, steps and labels.
        plain = prompt.plain(classes[:end], [])
        for got, want in zip((tokens, steps, labels), plain):
            assert list(got[right + 3:]) == list(want)
        # What is fed before sampling the gap stops where the gap begins.
        context, context_steps = prompt.context_before_gap(classes, start, end, [7])
        assert list(context) == list(tokens[:right + 3 + start]) and list(context_steps) == list(steps[:len(context)])


# --- The one test tying the NumPy stepper to the Keras network on fill-in-the-middle streams. ---

def test_the_numpy_stepper_reads_fill_in_the_middle_streams_as_the_keras_network_does(small_infilling_transformer,
                                                                                    song):
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
        assert generator.gap_log_likelihood(song.events[:96], start, end, both_sides=True,
                                            controls={"style": "funk", "tempo": 138, "density": 20}) == \
            pytest.approx(network_sum, abs=1e-3)
    # The positions read are the steps: a stream read at the wrong steps gives other log-probs.
    tokens, steps, _ = prompt.fill_in_middle(classes, 32, 64, controls)
    right, wrong = (log_softmax(np.asarray(network(tokens[None], steps=s[None]))[0]) for s in (steps, steps + 1))
    assert not np.allclose(right, wrong, atol=1e-3)


def test_a_cold_fill_in_the_middle_is_the_keras_networks_most_likely_gap_even_at_the_first_step(
        small_infilling_transformer, song):
    model = small_infilling_transformer
    network = model.family.build(model.config)
    model.family.load_weights(network, model.weights)
    controls = model.generator.control_tokens({})
    for bars, (start, end) in (("1", (0, 16)), ("3", (32, 48))):
        outputs = model.infill(song.events[:64], bars=bars, num_outputs=2, temperature=1e-4, seed=1, method="middle")
        assert outputs[0].events == outputs[1].events
        tokens, steps, labels = model.generator.prompt.fill_in_middle(classes_of(outputs[0].events), start, end,
                                                                      controls)
        predicted = np.asarray(network(tokens[None], steps=steps[None]))[0].argmax(-1)
        gap = slice(len(tokens) - (end - start), len(tokens))
        assert list(predicted[gap]) == list(labels[gap]), bars


def test_the_gap_log_likelihood_given_the_left_side_is_the_score_of_the_gap(small_infilling_transformer, song):
    model, controls = small_infilling_transformer, {"style": "funk", "density": 20}
    log_probs = np.log(model.score(song.events[:64], controls=controls).probabilities)  # of steps 1..63
    for start, end in ((16, 48), (0, 16)):  # from the first step: that step is never predicted, so not scored
        got = model.generator.gap_log_likelihood(song.events[:64], start, end, both_sides=False, controls=controls)
        assert got == pytest.approx(log_probs[max(start - 1, 0):end - 1].sum(), rel=1e-5)
    # Read as one batch, two tracks get what each gets alone, on either side.
    other = song.events[64:128]
    for both_sides in (True, False):
        alone = [model.generator.gap_log_likelihood(t, 16, 48, both_sides, controls) for t in (song.events[:64], other)]
        together = model.generator.gap_log_likelihoods([song.events[:64], other], 16, 48, both_sides, controls)
        np.testing.assert_allclose(together, alone, rtol=1e-5)
