"""docs/tutorial.md's plugin (docs/tutorial/seqgen_melody.py), run as the tutorial runs it: melodies from MIDI
files through create_dataset, a counted model family fitted by ``seqgen train`` (and resumed), generate,
score, evaluate and ``seqgen.load``."""

import re
import sys

import numpy as np
import pretty_midi
import pytest

import seqgen
from support import REPO
from seqgen import plugins
from seqgen.cli import main

sys.path.insert(0, str(REPO / "docs" / "tutorial"))
import seqgen_melody  # noqa: E402

SCALE = [60, 62, 64, 65, 67, 69, 71, 72]


@pytest.fixture(scope="module")
def melody_plugin():
    plugins.register(seqgen_melody, "melody")
    yield seqgen_melody
    plugins.unregister("melody")


@pytest.fixture(scope="module")
def records(tmp_path_factory, melody_plugin):
    """Seven two-bar piano melodies made here, converted and cut into training records."""
    folder = tmp_path_factory.mktemp("melodies")
    rng = np.random.default_rng(7)
    for i in range(7):
        midi = pretty_midi.PrettyMIDI(initial_tempo=120)
        piano = pretty_midi.Instrument(program=0)
        for step in range(0, 32, 2):
            pitch = SCALE[(step // 2 + i) % len(SCALE)] if rng.random() < 0.8 else int(rng.choice(SCALE))
            piano.notes.append(pretty_midi.Note(velocity=90, pitch=pitch, start=step * 0.125, end=(step + 2) * 0.125))
        midi.instruments.append(piano)
        midi.write(str(folder / f"melody_{i}.mid"))
    assert main(["convert", "--input_dir", str(folder), "--output_file", str(folder / "ns.tfrecord")]) == 0
    out = folder / "dataset"
    assert (
        main(
            [
                "create_dataset",
                "--config",
                "melody_bigram",
                "--input",
                str(folder / "ns.tfrecord"),
                "--output_dir",
                str(out),
                "--eval_ratio",
                "0",
            ]
        )
        == 0
    )
    return out / "training_melodies.tfrecord"


def test_the_counted_family_is_fitted_by_seqgen_train_and_resumes(records, tmp_path, capsys):
    run = tmp_path / "run"
    train = [
        "train",
        "--config",
        "melody_bigram",
        "--hparams",
        "batch_size=3",
        "--run_dir",
        str(run),
        "--sequence_example_file",
        str(records),
    ]
    assert main(train + ["--num_training_steps", "1"]) == 0
    assert "Starting a new run" in capsys.readouterr().out
    assert sorted(p.name for p in (run / "train").glob("ckpt-*.index")) == ["ckpt-1.index"]
    assert main(train) == 0  # one pass over the 7 tracks: steps 2 and 3, after the checkpoint of step 1
    out = capsys.readouterr().out
    assert f"Resuming from checkpoint {run / 'train' / 'ckpt-1'} at step 1." in out
    assert "Fitting done at step 3" in out and list((run / "train").glob("events.out.tfevents.*"))

    fitted = seqgen.load(str(run))
    tracks = [np.asarray(seqgen_melody.MELODY.encoding.events_to_classes(events)) for events in _tracks_of(records)]
    assert len(tracks) == 7
    expected = seqgen_melody.BigramFamily().fit(
        fitted.config, seqgen_melody.BigramFamily().initial_weights(fitted.config), tracks
    )
    np.testing.assert_array_equal(fitted.weights[seqgen_melody.COUNTS], expected[seqgen_melody.COUNTS])
    assert fitted.weights[seqgen_melody.COUNTS].sum() == sum(len(t) - 1 for t in tracks)  # each pair once

    assert main(train) == 0  # nothing left to fit: the run stays at step 3
    assert "at step 3" in capsys.readouterr().out
    assert (
        main(
            [
                "train",
                "--eval",
                "--run_dir",
                str(run),
                "--sequence_example_file",
                str(records),
                "--eval_timeout_secs",
                "1",
            ]
        )
        == 0
    )
    assert re.search(
        r"Eval of ckpt-3 at step 3 on \d+ labels: loss = [\d.]+, perplexity = [\d.]+", capsys.readouterr().out
    )


def _tracks_of(records):
    from seqgen import evaluation

    return [
        [seqgen_melody.MELODY.encoding.class_to_event(c) for c in classes]
        for classes in evaluation.read_class_sequences([str(records)], seqgen_melody.MELODY.encoding.num_classes)
    ]


def test_the_fitted_melodies_generate_score_and_bundle(records, tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        main(["train", "--config", "melody_bigram", "--run_dir", str(run), "--sequence_example_file", str(records)])
        == 0
    )
    assert (
        main(
            [
                "generate",
                "--run_dir",
                str(run),
                "--output_dir",
                str(tmp_path / "out"),
                "--num_outputs",
                "3",
                "--num_steps",
                "32",
                "--primer",
                "[60, -1, 62]",
                "--seed",
                "3",
            ]
        )
        == 0
    )
    assert "wrote 3 melodies of 32 steps" in capsys.readouterr().out
    written = sorted((tmp_path / "out").iterdir())
    assert len(written) == 3 and all(pretty_midi.PrettyMIDI(str(p)).instruments[0].notes for p in written)

    model = seqgen.load(str(run))
    model.save(tmp_path / "melody.seqgen", "the tutorial's bigram melodies")
    bundled = seqgen.load(tmp_path / "melody.seqgen")
    likely, unlikely = bundled.score("[60, -1, 62, -1, 64]"), bundled.score("[60, 83, 49, 83, 49]")
    assert likely.log_likelihood > unlikely.log_likelihood
    assert (
        main(["evaluate", "--bundle_file", str(tmp_path / "melody.seqgen"), "--sequence_example_file", str(records)])
        == 0
    )
    assert "melody_bigram model on 7 tracks" in capsys.readouterr().out


def test_the_tutorials_python_example_runs_as_written(records, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "training_melodies.tfrecord").write_bytes(records.read_bytes())
    (block,) = [
        b
        for b in re.findall(r"```python\n(.*?)```", (REPO / "docs" / "tutorial.md").read_text(), re.S)
        if "--8<--" not in b
    ]
    exec(compile(block, "docs/tutorial.md", "exec"), {})
    printed = capsys.readouterr().out.strip()
    melody = seqgen_melody.MelodyTracks().parse_primer(printed)
    assert len(melody) == 16 and melody[0] == 60
    assert seqgen.load(tmp_path / "counted.seqgen").description == "bigrams counted in Python"


def test_the_tutorial_includes_every_part_of_the_plugin():
    page = (REPO / "docs" / "tutorial.md").read_text()
    source = (REPO / "docs" / "tutorial" / "seqgen_melody.py").read_text()
    sections = re.findall(r"# --8<-- \[start:(\w+)\]", source)
    assert sections == ["imports", "encoding", "tracks", "family", "config"]
    assert re.findall(r'--8<-- "seqgen_melody.py:(\w+)"', page) == sections
    outside = re.sub(r"# --8<-- \[start:\w+\].*?# --8<-- \[end:\w+\]", "", source, flags=re.S)
    assert not re.search(r"^\s*(def|class|@) ?", outside, re.M)  # no code the page leaves out
