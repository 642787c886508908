"""Controls: declared by a config, carried from a metadata CSV through records, training, checkpoints and
bundles to generation and scoring; refused in one line when wrong."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import seqgen
from support import GROOVE
from groove_slice import copy_slice, slice_rows
from seqgen import controls, plugins, records, training
from seqgen.cli import main
from seqgen.config import Config
from seqgen.controls import Control
from seqgen.errors import SeqgenError
from seqgen.families.transformer import TransformerHParams
from seqgen.hookspecs import hookimpl
from seqgen_drums.events.controls import STYLES, density
from seqgen_drums.events.encoding import DrumEncoding
from seqgen_drums.events.tracks import DrumTracks

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out

TINY = "num_layers=1,d_model=16,num_heads=2,d_ff=32,batch_size=4,max_relative_distance=16"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """The Groove slice converted with its info.csv and made into drum_kit_transformer records."""
    root = tmp_path_factory.mktemp("controls")
    midi = copy_slice(root / "groove")
    ns = root / "ns.tfrecord"
    assert (
        main(
            [
                "convert",
                "--input_dir",
                str(midi),
                "--recursive",
                "--output_file",
                str(ns),
                "--metadata_csv",
                str(GROOVE / "info.csv"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "create_dataset",
                "--config",
                "drum_kit_transformer",
                "--input",
                str(ns),
                "--output_dir",
                str(root / "records"),
                "--eval_ratio",
                "0",
                "--min_bars",
                "1",
            ]
        )
        == 0
    )
    return root, str(root / "records" / "training_drum_tracks.tfrecord")


@pytest.fixture(scope="module")
def trained(dataset):
    """A tiny drum_kit_transformer with controls and infilling, trained 2 steps on the slice."""
    root, files = dataset
    config = plugins.get_config("drum_kit_transformer").with_hparams(TINY)
    training.train(
        config,
        str(root / "run"),
        [files],
        training.TrainOptions(num_training_steps=2, save_checkpoint_secs=0, seed=1),
        log=lambda line: None,
    )
    return str(root / "run")


def test_training_streams_read_the_density_of_each_bar_at_every_step():
    """drum_kit_transformer reads its controls at every step, density per bar: a track of a quiet bar and a
    busy bar trains each bar's steps on its own density, while the prompt names the track's."""
    from seqgen.prompt import Prompt
    from seqgen.task import PROMPTED_NEXT_EVENT

    config = plugins.get_config("drum_kit_transformer").with_hparams(f"{TINY},control_dropout=0,infill_rate=0")
    encoding, prompt = config.encoding, Prompt.of(config)
    quiet, busy = [frozenset({36})] + [frozenset()] * 15, [frozenset({36, 42, 38})] * 16
    classes = encoding.events_to_classes(quiet + busy)
    numbers = [float("nan")] * 3 + [density(quiet + busy)]  # only density set
    tokens, steps, labels, read = PROMPTED_NEXT_EVENT.streams(config, training=True, seed=1)(classes, numbers)
    column = [c.name for c in config.controls].index("density")
    own = [prompt.control_tokens({"density": density(bar)})[column] for bar in (quiet, busy)]
    assert tokens[column] == prompt.control_tokens({"density": density(quiet + busy)})[column]
    events = len(config.controls)  # the first event token, at step 0, predicts step 1 of the quiet bar
    assert read[events : events + 15, column].tolist() == [own[0]] * 15
    assert read[events + 15 :, column].tolist() == [own[1]] * (len(tokens) - events - 15)
    assert (read[events:, :column] == tokens[:column]).all()  # the other controls: the prompt's (unset)


def test_training_never_drops_a_kept_value():
    """The drums' fill keeps "yes" (Control.kept): a fill always reads fill=yes in training, whatever the
    dropout; a beat's fill=no is dropped to unset as the other controls are."""
    from seqgen.prompt import Prompt
    from seqgen.task import PROMPTED_NEXT_EVENT

    config = plugins.get_config("drum_kit_transformer").with_hparams(f"{TINY},control_dropout=0.5,infill_rate=0")
    prompt, fill = Prompt.of(config), [c.name for c in config.controls].index("fill")
    classes = config.encoding.events_to_classes([frozenset({36})] * 16)
    build = PROMPTED_NEXT_EVENT.streams(config, training=True, seed=3)
    for value in ("yes", "no"):
        numbers = [0.0, float(("no", "yes").index(value)), 100.0, 4.0]  # afrobeat, the fill, tempo, density
        read = [build(classes, numbers)[0][fill] for _ in range(40)]
        unset, token = (prompt.control_tokens(values)[fill] for values in ({}, {"fill": value}))
        assert set(read) == ({token} if value == "yes" else {token, unset})
        assert sum(build(classes, numbers)[0][0] == prompt.control_tokens({})[0] for _ in range(40)) > 20
    with pytest.raises(SeqgenError, match=r"control x's kept values must be among its values \['a'\]"):
        Control("x", values=("a",), kept=("b",))


def test_uniform_control_sets_train_each_number_of_set_controls_as_often():
    """With uniform_control_sets a track keeps 0, 1, ... or all of its controls, each number as often, so a
    lone control (as a user sets one) trains on a fifth of the tracks, not the 1.3% of control_dropout 0.3."""
    from seqgen.prompt import Prompt
    from seqgen.task import PROMPTED_NEXT_EVENT

    classes = plugins.get_config("drum_kit_transformer").encoding.events_to_classes([frozenset({36})] * 16)
    numbers = [0.0, 0.0, 100.0, 4.0]  # afrobeat, a beat (fill=no: not a kept value), tempo, density

    def set_counts(hparams):
        config = plugins.get_config("drum_kit_transformer").with_hparams(f"{TINY},infill_rate=0,{hparams}")
        unset = np.array(Prompt.of(config).control_tokens({}))
        build = PROMPTED_NEXT_EVENT.streams(config, training=True, seed=5)
        counts = [int((np.array(build(classes, numbers)[0][:4]) != unset).sum()) for _ in range(1000)]
        return np.bincount(counts, minlength=5) / len(counts)

    uniform = set_counts("uniform_control_sets=true")
    assert np.abs(uniform - 0.2).max() < 0.05
    assert set_counts("control_dropout=0.3")[1] < 0.05  # the default: a lone control is rare


def _read_back(files, config):
    from seqgen.evaluation import read_class_sequences, read_controls

    return read_class_sequences(files, config.encoding.num_classes), read_controls(files, config)


def test_metadata_csv_reaches_the_records_as_controls(dataset):
    root, files = dataset
    config = plugins.get_config("drum_kit_transformer")
    sequences, values = _read_back([files], config)
    assert len(sequences) == len(values) > 10
    rows = slice_rows()
    assert {v["style"] for v in values} <= {r["style"].split("/")[0] for r in rows} <= set(STYLES)
    assert "no" in {v["fill"] for v in values} <= {"yes", "no"}  # beats (fills under a bar are dropped)
    assert {v["tempo"] for v in values} <= {float(r["bpm"]) for r in rows}
    decode = config.encoding.class_to_event
    for classes, value in zip(sequences, values):  # density is measured on the track itself
        assert value["density"] == pytest.approx(min(density([decode(int(c)) for c in classes]), 64.0), rel=1e-6)


def test_controls_round_trip_through_checkpoints_and_bundles(trained, tmp_path):
    model = seqgen.load(trained)
    assert [c.name for c in model.controls] == ["style", "fill", "tempo", "density"]
    asked = {"style": "funk", "fill": "no", "density": 12}
    from_run = model.generate(num_outputs=2, num_steps=24, seed=3, controls=asked)
    model.save(tmp_path / "c.seqgen")
    with zipfile.ZipFile(tmp_path / "c.seqgen") as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert [c["name"] for c in manifest["controls"]] == ["style", "fill", "tempo", "density"]
    assert manifest["controls"][0]["values"] == list(STYLES) and manifest["infill"] is True
    bundled = seqgen.load(tmp_path / "c.seqgen")
    assert [t.events for t in bundled.generate(num_outputs=2, num_steps=24, seed=3, controls=asked)] == [
        t.events for t in from_run
    ]
    # The controls are read: other values give other probabilities, and unset is a value of its own.
    track = from_run[0]
    scores = {style: bundled.score(track, controls={"style": style}).log_likelihood for style in ("funk", "jazz")}
    assert scores["funk"] != scores["jazz"] != bundled.score(track).log_likelihood


def test_guidance_weighs_the_controls(trained):
    model = seqgen.load(trained)
    asked = {"style": "jazz", "density": 24}
    unset = [t.events for t in model.generate(num_outputs=3, num_steps=24, seed=5)]
    # Guidance 0 keeps only the stream with the controls unset; 1 reads them plainly (one stream).
    assert [t.events for t in model.generate(num_outputs=3, num_steps=24, seed=5, controls=asked, guidance=0)] == unset
    plain = [t.events for t in model.generate(num_outputs=3, num_steps=24, seed=5, controls=asked, guidance=1)]
    assert plain != unset
    with pytest.raises(SeqgenError, match="--guidance must be a number from 0 to 10"):
        model.generate(num_steps=8, controls=asked, guidance=11)


def test_each_control_brings_its_own_default_guidance(trained):
    """Without --guidance: off (1) with no control set; a control's own guidance (the drums' fill asks for
    less than the default) when set alone; the largest of theirs with several."""
    from seqgen.generator import DEFAULT_GUIDANCE

    model = seqgen.load(trained)
    fill = {control.name: control for control in model.controls}["fill"].guidance
    assert fill < DEFAULT_GUIDANCE
    assert model.generator.default_guidance({}) == 1.0
    assert model.generator.default_guidance({"fill": "no"}) == fill
    assert model.generator.default_guidance({"fill": "no", "style": "jazz"}) == DEFAULT_GUIDANCE

    def fills(**guidance):
        return [
            t.events for t in model.generate(num_outputs=2, num_steps=24, seed=4, controls={"fill": "yes"}, **guidance)
        ]

    assert fills() == fills(guidance=fill) != fills(guidance=DEFAULT_GUIDANCE)
    with pytest.raises(SeqgenError, match="control x's guidance must be a non-negative number, got -1"):
        Control("x", values=("a",), guidance=-1)


def test_a_number_is_read_as_the_two_bins_around_it_weighed_by_nearness():
    from seqgen.prompt import Prompt

    number = Control("n", edges=(0, 2, 4, 10))  # bins' centres 1, 3, 7
    assert number.blend(0.5) == number.blend(1) == ((0, 1.0),)  # at or before the first centre: that bin
    assert number.blend(2) == ((0, 0.5), (1, 0.5))
    assert number.blend(3) == ((1, 1.0),)
    assert number.blend(4) == ((1, 0.75), (2, 0.25))
    assert number.blend(9) == number.blend(10) == ((2, 1.0),)
    assert Control("c", values=("a", "b")).blend("b") == ((1, 1.0),)
    prompt = Prompt(5, (Control("c", values=("a", "b")), number, Control("m", edges=(0, 1, 2))))
    rows = prompt.blended_tokens({"c": "b", "n": 4, "m": 0.75})  # tokens: c 5-7, n 8-11, m 12-14
    assert [tokens for _, tokens in rows] == [[7, 10, 13], [7, 10, 14], [7, 11, 13], [7, 11, 14]]
    assert [weight for weight, _ in rows] == pytest.approx([0.75 * 0.75, 0.75 * 0.25, 0.25 * 0.75, 0.25 * 0.25])
    assert prompt.blended_tokens({"n": 3}) == [(1.0, [5, 10, 12])]  # unset controls: their unset tokens


def test_generation_samples_a_number_between_two_bins_from_both(trained):
    """tempo 77.5 lies between the centres of the bins [70, 80) and [80, 90): the next event is drawn from
    3/4 of the first's log-probabilities plus 1/4 of the second's, then guided against the unset stream."""
    from seqgen.generator import log_softmax

    model = seqgen.load(trained)
    generator, encoding = model.generator, model.config.encoding
    primer = model.primer()
    classes = list(encoding.events_to_classes(primer))

    def log_probs(values):  # the next event after the primer, read with one row of prompt tokens
        tokens = generator.prompt.control_tokens(values)
        steps = [0] * len(tokens) + list(range(len(classes)))
        logits, _ = generator.stepper.feed([tokens + classes], steps, generator.stepper.initial_state(1))
        return log_softmax(logits[0, -1])

    def sampled(log_probs, seed, count):  # as the generator draws: one uniform number per output
        cdf = np.cumsum(np.exp(log_softmax(log_probs)))
        return (cdf[None] < np.random.default_rng(seed).random(count)[:, None] * cdf[-1]).sum(axis=1).tolist()

    near, far, free = (
        log_probs(values) for values in ({"style": "funk", "tempo": 75}, {"style": "funk", "tempo": 85}, {})
    )
    given = 0.75 * near + 0.25 * far
    for guidance, expected in ((1.0, given), (3.0, free + 3.0 * (given - free))):
        tracks = model.generate(
            num_outputs=64,
            num_steps=len(primer) + 1,
            seed=11,
            guidance=guidance,
            controls={"style": "funk", "tempo": 77.5},
        )
        drawn = encoding.events_to_classes([track.events[-1] for track in tracks]).tolist()
        assert drawn == sampled(expected, 11, 64)
        assert drawn != sampled(near if guidance == 1 else free + 3.0 * (near - free), 11, 64)  # not one bin alone


def test_a_per_bar_number_draws_each_outputs_first_bar_several_times(trained, monkeypatch):
    """density is per bar: the first bar is drawn BAR_CANDIDATES times per output (beams included) and one
    goes on; guidance 0 (the controls ignored) draws it once. (That the nearest goes on and steers the
    track: plugins/drums/tests/test_drums_controls.py, on a trained model.)"""
    from seqgen import generator as generation

    model = seqgen.load(trained)
    drawn = []
    monkeypatch.setattr(
        generation,
        "_sample",
        lambda log_probs, rng, sample=generation._sample: drawn.append(len(log_probs)) or sample(log_probs, rng),
    )
    for search in ({}, {"beam_size": 2, "branch_factor": 2, "steps_per_iteration": 3}):
        drawn.clear()
        tracks = model.generate(num_outputs=3, num_steps=40, seed=2, controls={"density": 12}, **search)
        assert [len(track) for track in tracks] == [40] * 3
        rows = 3 * search.get("beam_size", 1) * search.get("branch_factor", 1)
        assert drawn == [rows * generation.BAR_CANDIDATES] * 15 + [rows] * 24  # the primer is step 0
    ignored = model.generate(num_outputs=3, num_steps=24, seed=5, controls={"density": 12}, guidance=0)
    assert [t.events for t in ignored] == [t.events for t in model.generate(num_outputs=3, num_steps=24, seed=5)]


def test_generate_with_controls_needs_no_tensorflow(trained, tmp_path):
    seqgen.load(trained).save(tmp_path / "c.seqgen")
    code = (
        f"import sys, seqgen; m = seqgen.load({str(tmp_path / 'c.seqgen')!r}); "
        "t = m.generate(num_outputs=1, num_steps=16, seed=1, controls={'style': 'jazz', 'tempo': 90}); "
        "assert len(t[0].events) == 16; from seqgen.cli import main; "
        f"assert main(['generate', '--control', 'style=jazz', '--num_outputs', '1', '--num_steps', '16', "
        f"'--output_dir', {str(tmp_path / 'out')!r}]) == 0; "
        "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_cli_generate_and_score_with_controls(trained, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(
            [
                "generate",
                "--run_dir",
                trained,
                "--output_dir",
                str(out),
                "--num_outputs",
                "2",
                "--num_steps",
                "16",
                "--seed",
                "1",
                "--control",
                "style=jazz,fill=yes,tempo=90",
            ]
        )
        == 0
    )
    written = sorted(os.listdir(out))
    assert len(written) == 2
    import pretty_midi

    assert pretty_midi.PrettyMIDI(str(out / written[0])).get_tempo_changes()[1][0] == pytest.approx(90, abs=0.01)
    capsys.readouterr()
    assert (
        main(
            ["score", "--run_dir", trained, "--events", "[(36,), (42,), (38, 42)]", "--control", "style=rock", "--json"]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["log_likelihood"] < 0


@pytest.mark.parametrize(
    "flag, message",
    [
        ("colour=red", "unknown control 'colour'; this model's controls are: style, fill, tempo, density"),
        ("style=polka", "control style has no value 'polka'; valid: afrobeat, afrocuban"),
        ("density=99", "control density takes a number from 0 to 64, got '99'"),
        ("tempo=fast", "control tempo takes a number from 40 to 300, got 'fast'"),
        ("style", "argument --control: 'style' is malformed at 'style'; write name=value pairs"),
        ("style=funk,style=rock", "names style twice"),
    ],
)
def test_bad_controls_are_one_line_and_write_nothing(trained, tmp_path, capsys, flag, message):
    out = tmp_path / "out"
    code = main(["generate", "--run_dir", trained, "--output_dir", str(out), "--num_steps", "8", "--control", flag])
    error = capsys.readouterr().err.strip()
    assert code != 0 and len(error.splitlines()) == 1 and message in error, error
    assert not out.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "does not exist; give a CSV file with a 'midi_filename' column"),
        ("name,style\na.mid,rock\n", "has no 'midi_filename' column"),
        ("midi_filename,style\na.mid,rock,extra\n", "line 2 has more fields than its header"),
        ("midi_filename,style\nnot/here.mid,rock\n", "names none of the"),
        (b"\xff\xfe\x00midi", "is not UTF-8 text"),
    ],
)
def test_bad_metadata_csv_is_one_line_and_writes_nothing(tmp_path, capsys, content, message):
    midi = copy_slice(tmp_path / "midi", slice_rows()[:2])
    csv_path = tmp_path / "info.csv"
    if isinstance(content, bytes):
        csv_path.write_bytes(content)
    elif content is not None:
        csv_path.write_text(content)
    out = tmp_path / "ns.tfrecord"
    assert (
        main(
            [
                "convert",
                "--input_dir",
                str(midi),
                "--recursive",
                "--output_file",
                str(out),
                "--metadata_csv",
                str(csv_path),
            ]
        )
        == 1
    )
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and message in error, error
    assert not out.exists()


# A plugin of its own declares a control, with zero core changes: a "busy" toms plugin.
def _busy(events, metadata):
    return "yes" if sum(1 for e in events if e) > len(events) / 2 else "no"


TOMS = Config(
    id="busy_toms",
    description="Three toms that may be busy.",
    encoding=DrumEncoding(((45,), (48,), (50,))),
    tracks=DrumTracks(),
    model="transformer",
    hparams=TransformerHParams(
        num_layers=1, d_model=16, num_heads=2, d_ff=32, batch_size=4, max_relative_distance=8, controls=True
    ),
    steps_per_quarter=4,
    controls=(Control("busy", "more hits than rests", values=("no", "yes"), measure=_busy),),
)


class TomsPlugin:
    @hookimpl
    def register_configs(self, register):
        register(TOMS)


def test_a_plugin_declares_its_own_control_end_to_end(tmp_path):
    plugins.register(TomsPlugin(), "busy_toms")
    try:
        rng = np.random.default_rng(0)
        tracks = [rng.integers(0, 8, 32) * (rng.random(32) < p) for p in (0.2, 0.9) * 4]
        examples = []
        for classes in tracks:
            events = [TOMS.encoding.class_to_event(int(c)) for c in classes]
            examples.append(
                records.add_context(records.encode_classes(classes), controls.measure(TOMS.controls, events, {}))
            )
        records.write_examples(tmp_path / "toms.tfrecord", examples)
        config = plugins.get_config("busy_toms")
        training.train(
            config,
            str(tmp_path / "run"),
            [str(tmp_path / "toms.tfrecord")],
            training.TrainOptions(num_training_steps=2, save_checkpoint_secs=0, seed=1),
            log=lambda line: None,
        )
        model = seqgen.load(tmp_path / "run")
        assert [c.name for c in model.controls] == ["busy"]
        made = model.generate(num_outputs=1, num_steps=16, primer=[(45,)], seed=2, controls={"busy": "yes"})
        model.save(tmp_path / "toms.seqgen")
        again = seqgen.load(tmp_path / "toms.seqgen")
        assert (
            again.generate(num_outputs=1, num_steps=16, primer=[(45,)], seed=2, controls={"busy": "yes"})[0].events
            == made[0].events
        )
        with pytest.raises(SeqgenError, match="control busy has no value 'maybe'; valid: no, yes"):
            again.generate(num_steps=4, primer=[(45,)], controls={"busy": "maybe"})
    finally:
        plugins.unregister("busy_toms")
