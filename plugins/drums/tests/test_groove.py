"""Groove: played drums (velocity and timing) from the Groove MIDI Dataset, the groove (humanize) model family,
`seqgen humanize`, `seqgen generate --humanize` (sampled, with an amount and swing) and the evaluation against
baselines."""

import json
import zipfile

import numpy as np
import pretty_midi
import pytest

import seqgen
from support import GROOVE
from groove_slice import FUNK, train_tiny
from seqgen import bundle, pipeline, plugins, records, training
from seqgen.cli import main
from seqgen.errors import SeqgenError
from seqgen.model import Track
from seqgen_drums.evaluation import groove as groove_eval
from seqgen_drums.events import grid, groove
from seqgen_drums.families.groove import inference

CONFIG = plugins.get_config("groove")
TINY = "batch_size=4,rnn_layer_sizes=[8],train_window=32,learning_rate=0.01,dropout_keep_prob=1.0"
KIT = CONFIG.encoding


def _noteseq(path):
    from seqgen import convert

    serialized, reason = convert.convert_file(str(path.parent), path.name)
    assert serialized, reason
    return serialized


def _expected_from_pretty_midi(path):
    """``{(step, pitch): (velocity, offset)}`` straight from pretty_midi: each drum note's 16th-note step at the
    file's tempo, the loudest note of a pitch in a step kept."""
    midi = pretty_midi.PrettyMIDI(str(path))
    _, tempi = midi.get_tempo_changes()
    steps_per_second = tempi[0] / 60 * 4
    expected = {}
    for note in (n for instrument in midi.instruments if instrument.is_drum for n in instrument.notes):
        position = note.start * steps_per_second
        step = int(position + 0.5)
        key = (step, note.pitch)
        if key not in expected or note.velocity > expected[key][0]:
            expected[key] = (note.velocity, position - step)
    return expected


def test_extraction_keeps_every_velocity_and_offset_of_a_groove_file():
    from seqgen.noteseq import music_pb2, sequences_lib

    path = GROOVE / FUNK
    sequence = music_pb2.NoteSequence.FromString(_noteseq(path))
    quantized = sequences_lib.quantize_note_sequence(sequence, 4)
    tracks, counts = CONFIG.tracks.extract(quantized, CONFIG.extraction)
    assert len(tracks) == 1, counts  # 16 bars played without a gap
    track = tracks[0]
    expected = _expected_from_pretty_midi(path)
    first = min(step for step, _ in expected)
    start = first - first % 16
    found = {
        (start + step, pitch): (event.velocity(pitch), event.offset(pitch))
        for step, event in enumerate(track)
        for pitch in event
    }
    assert found.keys() == expected.keys()
    for key, (velocity, offset) in expected.items():
        assert found[key][0] == velocity, key
        assert found[key][1] == pytest.approx(offset, abs=1e-4), key
    assert len(expected) > 300  # a real check: the file has hundreds of hits
    assert track.qpm == pytest.approx(138, abs=0.01)
    velocities = [v for v, _ in expected.values()]
    assert len(set(velocities)) > 40 and max(abs(o) for _, o in expected.values()) > 0.2


def test_groove_records_keep_the_loudest_note_of_each_drum_per_step():
    split, out, _ = pipeline.process(_noteseq(GROOVE / FUNK), CONFIG, pipeline.SplitOptions(eval_ratio=0.0))
    assert len(out) == 1
    expected = _expected_from_pretty_midi(GROOVE / FUNK)
    first = min(step for step, _ in expected)
    start = first - first % 16
    loudest = {}
    for (step, pitch), (velocity, offset) in expected.items():
        key = (step - start, KIT.drum_type(pitch))
        if key[1] is not None and (key not in loudest or velocity > loudest[key][0]):
            loudest[key] = (velocity, offset)
    import tensorflow as tf

    features = tf.train.Example.FromString(out[0]).features.feature
    values = np.array(features["values"].float_list.value).reshape(-1, 18)
    classes = np.array(features["classes"].int64_list.value)
    assert features["qpm"].float_list.value[0] == pytest.approx(138, abs=0.01)
    hits = groove.hits_of_classes(classes)
    assert {(int(t), int(k)) for t, k in zip(*np.nonzero(hits))} == set(loudest)
    for (step, drum), (velocity, offset) in loudest.items():
        assert values[step, drum] == pytest.approx(velocity / 127, abs=1e-6)
        assert values[step, 9 + drum] == pytest.approx(offset, abs=1e-4)


def test_records_with_values_and_context_round_trip(tmp_path):
    values = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
    assert records.encode_example([1, 2, 3]) == records.encode_classes([1, 2, 3])
    records.write_examples(tmp_path / "v.tfrecord", [records.encode_example([1, 2, 3], values, {"qpm": 97.5})])
    path = str(tmp_path / "v.tfrecord")
    ((classes, found, context),) = records.values_dataset(path, 512, 4, ("qpm",)).as_numpy_iterator()
    assert classes.tolist() == [1, 2, 3] and np.allclose(found, values) and context.tolist() == [97.5]
    assert [c.tolist() for c in records.class_dataset(path, 512).as_numpy_iterator()] == [[1, 2, 3]]
    records.write_class_records(tmp_path / "c.tfrecord", [[1, 2]])
    with pytest.raises(SeqgenError, match="without per-step values"):
        records.values_dataset(str(tmp_path / "c.tfrecord"), 512, 4)
    with pytest.raises(SeqgenError, match="holds 4 values per step, the config expects 18"):
        records.values_dataset(str(tmp_path / "v.tfrecord"), 512, 18)


@pytest.fixture(scope="module")
def test_split(groove_splits):
    test = groove_eval.read_performances([str(groove_splits / "test_drum_tracks.tfrecord")], CONFIG)
    train = groove_eval.read_performances([str(groove_splits / "train_drum_tracks.tfrecord")], CONFIG)
    assert len(test) == 128  # every 4/4 track of the test split, as in docs/models.md
    return test, train


def test_the_shipped_models_beat_the_baselines_on_the_groove_test_split(test_split):
    test, train = test_split
    models = [
        groove_eval.ModelPredictor(seqgen.load("groove_gmd"), "means"),
        groove_eval.ModelPredictor(seqgen.load("groove_sampling_gmd"), "mean of sampling", temperature=0),
    ]
    (means, sampling_mean, constant, per_drum, per_position, _), _ = groove_eval.evaluate(test, train, models)
    assert means.hits == per_drum.hits > 30_000
    for shipped in (means, sampling_mean):
        assert shipped.velocity < per_drum.velocity and shipped.velocity < per_position.velocity
        assert shipped.offset_ms < per_drum.offset_ms and shipped.offset_ms < constant.offset_ms


def test_sampled_velocities_and_timing_vary_as_the_drummers_do(test_split):
    """The issue's measure: the first model's hits vary about half as much as drummers'; sampled ones as much."""
    test, train = test_split
    models = [
        groove_eval.ModelPredictor(seqgen.load("groove_gmd"), "means"),
        groove_eval.ModelPredictor(seqgen.load("groove_sampling_gmd"), "sampled", temperature=1.0, seed=0),
    ]
    errors, spreads = groove_eval.evaluate(test, None, models)
    main = {0, 1, 2}  # kick, snare, closed hi-hat: most of the hits
    by_model = {name: {r.drum: r for r in spreads if r.name == name} for name in ("means", "sampled")}
    for drum in main:
        sampled, means = by_model["sampled"][drum], by_model["means"][drum]
        assert sampled.velocity_ratio >= 0.85 and sampled.offset_ratio >= 0.85, sampled
        assert means.offset_ratio < 0.8, means
        assert sampled.offset_distance < means.offset_distance and sampled.velocity_distance < means.velocity_distance
    # A sample is not the mean: its absolute errors are larger, but not by much.
    sampled_errors = errors[1]
    assert sampled_errors.velocity < 1.6 * errors[0].velocity and sampled_errors.offset_ms < 1.6 * errors[0].offset_ms


def test_evaluate_groove_prints_the_table(groove_splits, capsys):
    assert (
        main(
            [
                "evaluate_groove",
                "--sequence_example_file",
                str(groove_splits / "test_drum_tracks.tfrecord"),
                "--baselines_from",
                str(groove_splits / "train_drum_tracks.tfrecord"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "| groove_gmd |" in out and "| groove_sampling_gmd |" in out and "| per-drum means (train split) |" in out
    assert "Magenta's output" in out and "| groove_sampling_gmd | kick |" in out and "velocity std ratio" in out


@pytest.mark.parametrize(
    "config_id,hparams",
    [
        ("groove", "rnn_layer_sizes=[8,6]"),
        ("groove", "rnn_layer_sizes=[8],velocity_bins=0,offset_bins=0"),
        ("drumify", "rnn_layer_sizes=[8,6],velocity_bins=5,offset_bins=7"),
    ],
)
def test_numpy_inference_equals_the_keras_network(config_id, hparams):
    from seqgen_drums.families.groove import network as groove_network

    config = plugins.get_config(config_id).with_hparams(hparams)
    network = groove_network.build_model(config)
    rng = np.random.default_rng(1)
    features = rng.random((3, 37, config.family.num_inputs)).astype(np.float32)
    lengths = np.array([37, 20, 5])
    mask = (np.arange(37) < lengths[:, None]).astype(np.float32)
    reference = np.asarray(network((features * mask[..., None], mask), training=False))
    found = inference.forward(config.family.weights(network), config.hparams, features, lengths)
    real = mask > 0
    np.testing.assert_allclose(found[real], reference[real], atol=1e-5)
    # A padded row is the same as that track alone.
    alone = inference.forward(config.family.weights(network), config.hparams, features[2:3, :5], [5])
    np.testing.assert_allclose(alone[0], found[2, :5], atol=1e-6)


SCORE = plugins.get_config("drum_kit").tracks.parse_primer(
    "[(36, 42), (), (42,), (), (38, 42), (), (42, 46), (), (36, 42), (36,), (42, 51), (), (38, 42, 49), (),"
    " (42,), (99,)]"
)


def _played(track) -> dict:
    """``{(step, pitch): (velocity, offset)}`` of a played track (or its events)."""
    return {
        (step, pitch): groove.played(event, pitch)
        for step, event in enumerate(getattr(track, "events", track))
        for pitch in event
    }


@pytest.mark.parametrize("model_name", ["groove_gmd", "groove_sampling_gmd"])
def test_humanize_keeps_every_hit_and_changes_only_velocity_and_timing(tmp_path, model_name):
    model = seqgen.load(model_name)
    score = SCORE
    played = model.humanize(score, seed=3)
    assert isinstance(played, Track) and played.config.model == "groove"
    assert [set(event) for event in played.events] == [set(event) for event in score]
    for event in played.events:
        for pitch in event:
            velocity, offset = groove.played(event, pitch)
            assert 1 <= velocity <= 127 and -0.5 <= offset <= 0.5
    assert played.events[-1].notes[99] == (100, 0.0)  # outside the kit: left as it was
    played.write_midi(tmp_path / "played.mid")
    step = 60 / 120 / 4
    midi = pretty_midi.PrettyMIDI(str(tmp_path / "played.mid"))
    notes = sorted((n.start, n.pitch, n.velocity) for i in midi.instruments for n in i.notes)
    assert sorted((round(start / step), pitch) for start, pitch, _ in notes) == sorted(
        (s, p) for s, event in enumerate(score) for p in event
    )
    assert len({velocity for _, _, velocity in notes}) > 3
    # Many tracks at once give what each gives alone (the first, drawn first from the seed).
    both, alone = model.humanize_tracks([score[:8], score], seed=3)[0], model.humanize(score[:8], seed=3)
    assert both.events == alone.events
    for batched, single in zip(both.events, alone.events):
        for pitch in batched:
            assert batched.velocity(pitch) == single.velocity(pitch)
            assert batched.offset(pitch) == pytest.approx(single.offset(pitch), abs=1e-5)


def test_sampling_is_seeded_and_keeps_every_hit():
    model = seqgen.load("groove_sampling_gmd")
    first, again, other = (model.humanize(SCORE * 4, seed=seed) for seed in (7, 7, 8))
    assert _played(first) == _played(again)
    assert _played(first) != _played(other)
    assert (
        _played(first).keys()
        == _played(other).keys()
        == {(step, pitch) for step, event in enumerate(SCORE * 4) for pitch in event}
    )
    # The same bar played four times is played differently each time: a sample, not a mean.
    bars = [{(s % 16, p): v for (s, p), v in _played(first).items() if s // 16 == bar and p != 99} for bar in range(4)]
    assert len({tuple(sorted(bar.items())) for bar in bars}) == 4
    # Temperature 0 plays the distributions' means: no randomness left.
    means = [_played(model.humanize(SCORE, temperature=0, seed=seed)) for seed in (1, 2)]
    assert means[0] == means[1]
    # Lower temperatures play steadier: offsets closer to their mean.
    spread = {
        t: np.std(
            [o for (_, p), (_, o) in _played(model.humanize(SCORE * 16, temperature=t, seed=0)).items() if p == 42]
        )
        for t in (0.3, 1.0)
    }
    assert spread[0.3] < spread[1.0]


def test_the_first_groove_model_still_loads_and_plays_its_means():
    model = seqgen.load("groove_gmd")
    assert model.config.hparams.velocity_bins == 0
    assert _played(model.humanize(SCORE, seed=1)) == _played(model.humanize(SCORE, seed=2, temperature=0.5))


def test_amount_0_leaves_the_score_and_amount_1_is_the_full_humanize():
    model = seqgen.load("groove_sampling_gmd")
    score_notes = {(step, pitch): (100, 0.0) for step, event in enumerate(SCORE) for pitch in event}
    assert _played(model.humanize(SCORE, seed=4, amount=0)) == score_notes
    assert _played(model.humanize(SCORE, seed=4, amount=1)) == _played(model.humanize(SCORE, seed=4))
    full, half = _played(model.humanize(SCORE, seed=4)), _played(model.humanize(SCORE, seed=4, amount=0.5))
    for key, (velocity, offset) in half.items():
        if key[1] != 99:
            assert velocity == pytest.approx((100 + full[key][0]) / 2, abs=1)
            assert offset == pytest.approx(full[key][1] / 2, abs=1e-6)


def programmed_beat(path, velocity=64):
    """Two bars of a programmed beat at 100 bpm, every hit at one ``velocity``, on the grid."""
    song = pretty_midi.PrettyMIDI(initial_tempo=100)
    drums = pretty_midi.Instrument(0, is_drum=True)
    step = 60 / 100 / 4
    for i in range(32):
        pitches = [42] + ([36] if i % 8 == 0 else [38] if i % 8 == 4 else [])
        drums.notes += [pretty_midi.Note(velocity, pitch, i * step, (i + 1) * step) for pitch in pitches]
    song.instruments.append(drums)
    song.write(str(path))
    return path


def midi_hits(path) -> list:
    """Sorted ``(start in ms, pitch, velocity)`` of a MIDI file's drum hits."""
    notes = [n for i in pretty_midi.PrettyMIDI(str(path)).instruments if i.is_drum for n in i.notes]
    return sorted((round(n.start * 1000), n.pitch, n.velocity) for n in notes)


@pytest.mark.parametrize("kind", ["programmed at velocity 64", "played"])
def test_humanize_amount_0_gives_back_the_users_own_velocities_and_timing(tmp_path, kind):
    source = programmed_beat(tmp_path / "beat.mid") if kind.startswith("programmed") else GROOVE / FUNK
    assert main(["humanize", str(source), "--output_dir", str(tmp_path / "out"), "--amount", "0", "--seed", "1"]) == 0
    given, written = midi_hits(source), midi_hits(tmp_path / "out" / source.name)
    if kind.startswith("programmed"):
        assert {velocity for _, _, velocity in written} == {64}
    # every hit written is one of the file's, at its time (within 1 ms) and velocity; a drummer's rare second
    # stroke of one drum within a 16th note is the only thing not kept
    assert all(any(abs(t - u) <= 1 and p == q and v == w for u, q, w in given) for t, p, v in written)
    assert len(written) >= 0.95 * len(given)  # 397 of the funk groove's 410


def test_humanize_amount_half_moves_each_hit_half_way_from_the_file_to_the_played(tmp_path):
    model = seqgen.load("groove_sampling_gmd")
    for score in (
        CONFIG.tracks.primer_from_midi(str(programmed_beat(tmp_path / "beat.mid")), CONFIG),
        CONFIG.tracks.primer_from_midi(str(GROOVE / FUNK), CONFIG),
    ):
        own, full = _played(score.events), _played(model.humanize(score, seed=4))
        half = _played(model.humanize(score, seed=4, amount=0.5))
        assert half.keys() == own.keys() == full.keys()
        for key, (velocity, offset) in half.items():
            assert velocity == pytest.approx((own[key][0] + full[key][0]) / 2, abs=1)
            assert offset == pytest.approx((own[key][1] + full[key][1]) / 2, abs=1e-6)
        assert any(abs(own[key][0] - full[key][0]) > 10 for key in own)  # the halves are far from both ends


def test_swing_moves_only_the_off_beat_16ths():
    model = seqgen.load("groove_sampling_gmd")
    straight = _played(model.humanize(SCORE, seed=5, amount=0))
    swung = _played(model.humanize(SCORE, seed=5, amount=0, swing=0.3))
    assert straight.keys() == swung.keys()
    for (step, pitch), (velocity, offset) in swung.items():
        assert velocity == straight[step, pitch][0]
        assert offset == pytest.approx(0.3 if step % 2 and pitch != 99 else 0.0)  # 99: outside the kit, as written
    assert any(step % 2 for step, _ in swung)  # the score has off-beat 16ths (step 9)
    played, played_swung = _played(model.humanize(SCORE, seed=5)), _played(model.humanize(SCORE, seed=5, swing=0.2))
    for (step, pitch), (velocity, offset) in played_swung.items():
        moved = 0.2 if step % 2 and pitch != 99 else 0.0
        assert velocity == played[step, pitch][0]
        assert offset == pytest.approx(min(0.5, played[step, pitch][1] + moved), abs=1e-6)


def test_a_groove_model_does_not_generate():
    model = seqgen.load("groove_gmd")
    with pytest.raises(SeqgenError, match="does not generate or score tracks; it offers: humanize"):
        model.generate(1, 8)
    with pytest.raises(AttributeError):
        seqgen.load("drum_kit_gmd").humanize


def test_humanize_command_writes_played_midi(tmp_path, capsys):
    assert main(["humanize", str(GROOVE / FUNK), "--output_dir", str(tmp_path / "out")]) == 0
    assert "humanized 1 drum file" in capsys.readouterr().out
    written = pretty_midi.PrettyMIDI(str(tmp_path / "out" / FUNK.split("/")[-1]))
    original = pretty_midi.PrettyMIDI(str(GROOVE / FUNK))
    assert written.get_tempo_changes()[1][0] == pytest.approx(original.get_tempo_changes()[1][0], abs=0.01)
    notes = [n for i in written.instruments for n in i.notes]
    assert len({n.velocity for n in notes}) > 10
    # The file is read back as played events and drawn with velocity and timing.
    primer = CONFIG.tracks.primer_from_midi(str(tmp_path / "out" / FUNK.split("/")[-1]), CONFIG)
    assert any(
        isinstance(e, groove.PlayedEvent) and any(abs(o) > 0.02 for _, o in e.notes.values()) for e in primer.events
    )


def test_generate_humanize_writes_varied_velocities_and_off_grid_onsets(tmp_path, capsys):
    assert (
        main(
            [
                "generate",
                "--num_outputs",
                "2",
                "--num_steps",
                "64",
                "--seed",
                "5",
                "--humanize",
                "--output_dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    files = sorted(tmp_path.glob("*.mid"))
    assert len(files) == 2
    step = 60 / 120 / 4
    for path in files:
        notes = [n for i in pretty_midi.PrettyMIDI(str(path)).instruments for n in i.notes]
        assert len({n.velocity for n in notes}) >= 5
        off_grid = [n for n in notes if abs(n.start / step - round(n.start / step)) > 0.02]
        assert len(off_grid) > len(notes) // 4


def test_generate_humanize_takes_amount_and_swing(tmp_path):
    assert (
        main(
            [
                "generate",
                "--num_outputs",
                "1",
                "--num_steps",
                "64",
                "--seed",
                "5",
                "--humanize",
                "--amount",
                "0",
                "--swing",
                "0.25",
                "--output_dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    (path,) = tmp_path.glob("*.mid")
    step = 60 / 120 / 4
    notes = [n for i in pretty_midi.PrettyMIDI(str(path)).instruments for n in i.notes]
    positions = [n.start / step for n in notes]
    assert {n.velocity for n in notes} == {100}  # amount 0: the score's velocity
    steps = [int(np.floor(p + 0.1)) for p in positions]
    assert all(p == pytest.approx(s + (0.25 if s % 2 else 0.0), abs=0.01) for p, s in zip(positions, steps))
    assert any(s % 2 for s in steps)  # off-beat 16ths were generated, and swung


def test_grid_shows_velocity_and_timing():
    plain = [frozenset({36})]
    loud = [groove.PlayedEvent({36: (127, 0.0)})]
    soft_late = [groove.PlayedEvent({36: (30, 0.4)})]
    images = [grid.image(events, 16, 4) for events in (plain, loud, soft_late)]
    row = (grid.NUM_ROWS - 1) * grid.CELL_HEIGHT + 5  # the kick's row, inside the cell
    cells = [image[row, grid.LABEL_WIDTH + 2 : grid.LABEL_WIDTH + grid.CELL_WIDTH] for image in images]
    assert tuple(cells[0][0]) == grid.HIT_COLORS[0]
    assert tuple(cells[1][0]) == grid.HIT_COLORS[0]  # full velocity: full color, with a tick in the middle
    assert tuple(cells[1][grid.CELL_WIDTH // 2 - 2]) == grid.TICK_COLOR
    assert cells[2][0].sum() < cells[1][0].sum()  # soft: darker
    ticks = [i for i, pixel in enumerate(cells[2]) if tuple(pixel) == grid.TICK_COLOR]
    assert ticks and ticks[0] > grid.CELL_WIDTH // 2 - 2  # late: right of the middle


@pytest.mark.parametrize(
    "argv,expected",
    [
        (
            ["humanize", "missing.mid", "--output_dir", "{out}"],
            r"^seqgen humanize: error: MIDI file missing.mid does not exist$",
        ),
        (
            ["humanize", "{text}", "--output_dir", "{out}"],
            r"^seqgen humanize: error: cannot read MIDI file .*not a valid MIDI file",
        ),
        (
            ["humanize", str(GROOVE / FUNK), "--output_dir", "{out}", "--bundle_file", "drum_kit_gmd"],
            r"^seqgen humanize: error: drum_kit_gmd is a drum_kit model \(events_rnn\); "
            r"humanizing needs a groove model",
        ),
        (
            ["humanize", str(GROOVE / FUNK), "--output_dir", "{out}", "--bundle_file", "{text}"],
            r"^seqgen humanize: error: .*not a valid seqgen bundle",
        ),
        (
            [
                "generate",
                "--num_outputs",
                "1",
                "--num_steps",
                "8",
                "--humanize",
                "drum_kit_gmd",
                "--output_dir",
                "{out}",
            ],
            r"^seqgen generate: error: drum_kit_gmd is a drum_kit model",
        ),
        (
            ["generate", "--bundle_file", "groove_gmd", "--output_dir", "{out}"],
            r"^seqgen generate: error: a groove model does not generate or score tracks; it offers: humanize",
        ),
        (
            ["evaluate_groove", "--sequence_example_file", "{classes}", "--model"],
            r"^seqgen evaluate_groove: error: .* holds class records without per-step values",
        ),
        (
            ["humanize", "{empty}", "--output_dir", "{out}"],
            r"^seqgen humanize: error: MIDI file .*empty.mid has no drums",
        ),
        (
            ["humanize", str(GROOVE / FUNK), "--output_dir", "{out}", "--amount", "1.5"],
            r"^seqgen humanize: error: argument --amount: expected a number from 0 to 1, got '1.5'",
        ),
        (
            ["humanize", str(GROOVE / FUNK), "--output_dir", "{out}", "--amount", "-0.1"],
            r"^seqgen humanize: error: argument --amount: expected a non-negative number, got '-0.1'",
        ),
        (
            ["humanize", str(GROOVE / FUNK), "--output_dir", "{out}", "--swing", "0.6"],
            r"^seqgen humanize: error: argument --swing: expected a number from 0 to 0.5, got '0.6'",
        ),
        (
            [
                "generate",
                "--num_outputs",
                "1",
                "--num_steps",
                "8",
                "--humanize",
                "--amount",
                "2",
                "--output_dir",
                "{out}",
            ],
            r"^seqgen generate: error: argument --amount: expected a number from 0 to 1",
        ),
        (
            [
                "generate",
                "--num_outputs",
                "1",
                "--num_steps",
                "8",
                "--humanize",
                "--swing",
                "nan",
                "--output_dir",
                "{out}",
            ],
            r"^seqgen generate: error: argument --swing: expected a non-negative number, got 'nan'",
        ),
        (
            ["generate", "--num_outputs", "1", "--num_steps", "8", "--swing", "0.2", "--output_dir", "{out}"],
            r"^seqgen generate: error: --amount, --swing and --humanize_temperature set how --humanize plays the "
            r"drums; add --humanize$",
        ),
    ],
)
def test_bad_input_gets_one_line(argv, expected, tmp_path, capsys):
    import re

    (tmp_path / "notes.txt").write_text("not midi\n")
    records.write_class_records(tmp_path / "classes.tfrecord", [[1, 2, 3]])
    empty = pretty_midi.PrettyMIDI()
    empty.instruments.append(pretty_midi.Instrument(0, is_drum=True))
    empty.write(str(tmp_path / "empty.mid"))
    places = {
        "out": tmp_path / "out",
        "text": tmp_path / "notes.txt",
        "classes": tmp_path / "classes.tfrecord",
        "empty": tmp_path / "empty.mid",
    }
    code = main([arg.format(**places) for arg in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code not in (0, None) and len(err) == 1, err
    assert re.search(expected, err[0]), err[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_humanize_an_empty_track_or_a_bad_amount_or_swing_is_refused():
    model = seqgen.load("groove_sampling_gmd")
    with pytest.raises(SeqgenError, match="empty"):
        model.humanize([])
    with pytest.raises(SeqgenError, match=r"^the humanize amount must be in 0..1 .*got 1.2$"):
        model.humanize(SCORE, amount=1.2)
    with pytest.raises(SeqgenError, match=r"^swing must be in 0..0.5 .*got -0.1$"):
        model.humanize(SCORE, swing=-0.1)
    with pytest.raises(SeqgenError, match=r"^the temperature must be a number from 0"):
        model.humanize(SCORE, temperature=-1)


def test_a_tiny_groove_model_trains_through_the_shared_loop_and_bundles(groove_splits, tmp_path):
    config = CONFIG.with_hparams(TINY)
    run = str(tmp_path / "run")
    lines = train_tiny(config, groove_splits, run)
    assert any("velocity_mae" in line and "offset_mae" in line for line in lines)
    assert (
        training.evaluate(
            config,
            run,
            [str(groove_splits / "validation_drum_tracks.tfrecord")],
            timeout_secs=0.5,
            poll_secs=0.1,
            log=lines.append,
        )
        == 1
    )
    model = seqgen.load(run)
    assert model.config.model == "groove" and model.config.hparams.rnn_layer_sizes == (8,)
    model.save(tmp_path / "tiny.seqgen", "tiny groove")
    with zipfile.ZipFile(tmp_path / "tiny.seqgen") as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert (manifest["model"], manifest["model_plugin"], manifest["config"]) == ("groove", "drums", "groove")
    loaded = seqgen.load(str(tmp_path / "tiny.seqgen"))
    score = [frozenset({36, 42}), frozenset(), frozenset({38})]
    assert [e.notes for e in loaded.humanize(score, seed=0).events if e] == [
        e.notes for e in model.humanize(score, seed=0).events if e
    ]
    assert bundle.load(str(tmp_path / "tiny.seqgen")).config.family.name == "groove"
