"""Generation: exact lengths, seeds, beam search, primers and their errors, MIDI output that never overwrites; on
the toy plugin (toy_plugin.py). The drums' primers and errors are in plugins/drums/tests/test_drums_generate.py."""

import json

import numpy as np
import pytest

from seqgen import bundle, plugins
from seqgen.cli import main
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn.inference import random_weights
from seqgen.model import Model

from groove_slice import FUNK
from support import GROOVE, read_steps


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, toy):
    """A toy_rnn bundle with attention, random weights large enough that some tracks are far likelier than others."""
    config = plugins.get_config("toy_rnn").with_hparams("rnn_layer_sizes=[32,24],attn_length=4")
    path = tmp_path_factory.mktemp("model") / "toy.seqgen"
    bundle.save(path, config, random_weights(config, scale=0.5))
    return path


@pytest.fixture(scope="module")
def generator(model_file):
    loaded = bundle.load(model_file)
    return Model(loaded.config, loaded.weights).generator


def parse(generator, text):
    return generator.config.tracks.parse_primer(text)


def test_one_step_primer_and_128_steps_gives_exactly_128(generator):
    primer = parse(generator, "[3]")
    tracks = generator.generate(primer, 128, num_outputs=3, seed=0)
    assert [len(t) for t in tracks] == [128, 128, 128]
    assert all(t[0] == 3 for t in tracks)


def test_primer_kept_exactly_and_counted(generator):
    primer = parse(generator, "[3, 0, 2, 0, 1]")
    tracks = generator.generate(primer, 7, num_outputs=2, seed=1, beam_size=2, branch_factor=2, steps_per_iteration=2)
    assert all(len(t) == 7 and t[:5] == primer for t in tracks)
    assert generator.generate(primer, 5, num_outputs=2, seed=1) == [primer, primer]


@pytest.mark.parametrize("steps_per_iteration", [1, 3, 7])
def test_beam_steps_add_up_when_iterations_do_not_divide(generator, steps_per_iteration):
    tracks = generator.generate(
        parse(generator, "[1]"),
        23,
        num_outputs=2,
        seed=2,
        beam_size=3,
        branch_factor=2,
        steps_per_iteration=steps_per_iteration,
    )
    assert [len(t) for t in tracks] == [23, 23]


def test_seed_makes_output_reproducible(generator):
    primer = parse(generator, "[3, 0, 2]")
    first = generator.generate(primer, 64, num_outputs=4, seed=7)
    assert generator.generate(primer, 64, num_outputs=4, seed=7) == first
    assert generator.generate(primer, 64, num_outputs=4, seed=8) != first
    assert len({tuple(t) for t in first}) == 4  # the outputs of one batch differ from each other


def test_low_temperature_approaches_greedy(generator):
    primer = parse(generator, "[1]")
    cold = [generator.generate(primer, 32, seed=s, temperature=1e-4)[0] for s in (1, 2)]
    assert cold[0] == cold[1]
    warm = [generator.generate(primer, 32, seed=s, temperature=3.0)[0] for s in (1, 2)]
    assert warm[0] != warm[1]


def generated_log_likelihood(generator, track, primer_length):
    """Log-likelihood of the generated steps of ``track`` (the part beam search ranks by)."""
    _, probabilities = generator.log_likelihood(track)
    return float(np.log(probabilities[primer_length - 1 :]).sum())


def test_beam_search_keeps_the_most_likely(generator):
    # One beam, 6 branches, one iteration: the 6 branches are exactly the 6 samples that plain
    # sampling draws with the same seed, and beam search must return the most likely of them.
    primer = parse(generator, "[1, 2]")
    samples = generator.generate(primer, 24, num_outputs=6, seed=3)
    best = generator.generate(primer, 24, seed=3, beam_size=1, branch_factor=6, steps_per_iteration=22)[0]
    scores = [generated_log_likelihood(generator, t, 2) for t in samples]
    assert best == samples[int(np.argmax(scores))]
    assert len(set(scores)) > 1


def test_beam_search_finds_likelier_tracks_than_sampling(generator):
    primer = parse(generator, "[1]")
    sampled = generator.generate(primer, 48, num_outputs=8, seed=4)
    searched = generator.generate(primer, 48, num_outputs=8, seed=4, beam_size=4, branch_factor=4)
    mean = lambda tracks: np.mean([generated_log_likelihood(generator, t, 1) for t in tracks])  # noqa: E731
    assert mean(searched) > mean(sampled) + 5


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"num_steps": 2}, "shorter than the primer"),
        ({"temperature": 0.0}, "--temperature must be a positive finite number"),
        ({"beam_size": 0}, "--beam_size must be a positive finite number"),
    ],
)
def test_bad_generation_arguments(generator, kwargs, message):
    arguments = dict(num_steps=16) | kwargs
    with pytest.raises(SeqgenError, match=message):
        generator.generate(parse(generator, "[1, 0, 2]"), **arguments)


def test_cli_writes_midi_and_never_overwrites(model_file, tmp_path, capsys):
    out = tmp_path / "out"
    args = [
        "generate",
        "--bundle_file",
        str(model_file),
        "--output_dir",
        str(out),
        "--num_outputs",
        "3",
        "--num_steps",
        "32",
        "--primer",
        "[3, 0, 2]",
        "--seed",
        "5",
    ]
    assert main(args) == 0
    assert str(out) in capsys.readouterr().out
    first = {p.name: p.read_bytes() for p in out.glob("*.mid")}
    assert len(first) == 3
    for name in first:
        steps, sequence = read_steps(out / name)
        assert steps[0] == {60, 64, 67} and 1 not in steps and steps[2] == {60, 64}
        assert sequence.total_time <= 32 * 0.125 + 1e-6
    assert main(args) == 0  # the same second, the same seed: new names, old files untouched
    after = {p.name: p.read_bytes() for p in out.glob("*.mid")}
    assert len(after) == 6 and all(after[name] == data for name, data in first.items())


def test_cli_default_primer_is_the_configs(model_file, tmp_path):
    assert (
        main(
            [
                "generate",
                "--bundle_file",
                str(model_file),
                "--output_dir",
                str(tmp_path),
                "--num_outputs",
                "1",
                "--num_steps",
                "16",
                "--qpm",
                "90",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    steps, sequence = read_steps(next(tmp_path.glob("*.mid")), qpm=90.0)
    assert steps[0] == {60}  # toy_plugin's default primer, [1]
    assert sequence.tempos[0].qpm == pytest.approx(90.0, rel=1e-4)


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--primer", "[1, 0"], "malformed toy primer"),
        (["--primer", "[1, 4]"], "a toy event is a number of onsets from 0 to 3, not 4"),
        (["--primer", "[1, 0, 2]", "--num_steps", "2"], "shorter than the primer"),
        (["--primer_midi", "MISSING"], "does not exist"),
        (
            ["--primer_midi", str(GROOVE / FUNK)],
            "toy_rnn cannot read MIDI files (its plugin's Tracks does not implement "
            "primer_from_midi); give the primer as text with --primer",
        ),
        (["--qpm", "0"], "--qpm: expected a positive number"),
        (["--temperature", "-1"], "--temperature: expected a positive number"),
        (["--hparams", "attn_length=8"], "--hparams cannot change a trained model"),
        (["--config", "toy_transformer"], "is a toy_rnn model, not toy_transformer"),
    ],
)
def test_cli_errors_are_one_clear_line(model_file, tmp_path, capsys, flags, message):
    flags = [str(tmp_path / "missing.mid") if f == "MISSING" else f for f in flags]
    out = tmp_path / "out"
    assert main(["generate", "--bundle_file", str(model_file), "--output_dir", str(out)] + flags) in (1, 2)
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists() or not list(out.iterdir())


def test_cli_without_a_model_says_what_to_pass(tmp_path, capsys, toy):
    assert main(["generate", "--config", "toy_rnn", "--output_dir", str(tmp_path)]) == 1
    assert (
        "no model given, and config 'toy_rnn' ships none pretrained; pass --bundle_file, --run_dir or --checkpoint_file"
    ) in capsys.readouterr().err


def test_on_step_is_called_once_per_generated_step(generator):
    calls = []
    generator.generate(
        parse(generator, "[1, 0]"),
        20,
        num_outputs=3,
        beam_size=2,
        branch_factor=2,
        steps_per_iteration=4,
        seed=0,
        on_step=lambda: calls.append(1),
    )
    assert len(calls) == 18


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, toy):
    """A training run of a tiny toy_rnn network on a few random tracks (3 steps, one checkpoint)."""
    from seqgen import records, training

    config = plugins.get_config("toy_rnn").with_hparams(
        "batch_size=2,rnn_layer_sizes=[16],attn_length=3,dropout_keep_prob=1.0"
    )
    base = tmp_path_factory.mktemp("run")
    tracks = np.random.default_rng(0).integers(0, config.encoding.num_classes, (4, 64))
    records.write_class_records(base / "train.tfrecord", tracks)
    options = training.TrainOptions(num_training_steps=3, save_checkpoint_steps=3, save_checkpoint_secs=0, seed=1)
    training.train(config, str(base / "run"), [str(base / "train.tfrecord")], options, log=lambda line: None)
    return base / "run"


def test_run_dir_alone_is_enough(run_dir, tmp_path):
    assert (
        main(
            [
                "generate",
                "--run_dir",
                str(run_dir),
                "--output_dir",
                str(tmp_path),
                "--num_outputs",
                "2",
                "--num_steps",
                "16",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    assert len(list(tmp_path.glob("*.mid"))) == 2


def score_json(capsys, *model_flags):
    capsys.readouterr()
    assert main(["score", *model_flags, "--events", "[1, 2, 0, 3, 1, 1]", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_saved_generator_bundle_is_the_run_dirs_model(run_dir, tmp_path, capsys):
    target = tmp_path / "model.seqgen"
    flags = [
        "generate",
        "--run_dir",
        str(run_dir),
        "--save_generator_bundle",
        "--bundle_file",
        str(target),
        "--bundle_description",
        "three steps of training",
    ]
    assert main(flags) == 0
    assert bundle.load(target).description == "three steps of training"
    from_run = score_json(capsys, "--run_dir", str(run_dir))
    assert score_json(capsys, "--bundle_file", str(target)) == from_run
    assert score_json(capsys, "--checkpoint_file", str(run_dir / "train" / "ckpt-3")) == from_run
    saved = target.read_bytes()
    assert main(flags) == 1
    assert "already exists" in capsys.readouterr().err and target.read_bytes() == saved
