"""seqgen create_dataset on toy tracks (toy_plugin.py) of a slice of the Groove data: stable splits, clear reports.
The drums' extraction is checked in plugins/drums/tests/test_drums_dataset.py."""

import pytest
import tensorflow as tf

from support import GROOVE
from groove_slice import converted_slice
from seqgen import cli, pipeline, plugins, records, tfrecord
from seqgen.noteseq import music_pb2


@pytest.fixture(scope="module")
def groove(tmp_path_factory):
    """The slice converted once: (directory, NoteSequence record file)."""
    return converted_slice(tmp_path_factory.mktemp("groove"))


@pytest.fixture(scope="module")
def TOY(toy):
    return plugins.get_config("toy_rnn")


def _create(capsys, ns_file, out_dir, *flags):
    code = cli.main(
        ["create_dataset", "--config", "toy_rnn", "--input", str(ns_file), "--output_dir", str(out_dir), *flags]
    )
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_records_counts_and_determinism(groove, TOY, tmp_path, capsys):
    _, ns_file = groove
    code, output = _create(capsys, ns_file, tmp_path / "a", "--eval_ratio", "0.3", "--seed", "7")
    assert code == 0
    for line in ("sequences_in: 19", "toy_tracks_discarded_too_short:", "toy_tracks_truncated:", "tracks_extracted:"):
        assert line in output
    training, evaluation = tmp_path / "a/training_toy_tracks.tfrecord", tmp_path / "a/eval_toy_tracks.tfrecord"
    sequences = [s.numpy() for s in records.class_dataset([str(training), str(evaluation)], 4)]
    extracted = int(output.split("tracks_extracted: ")[1].split()[0])
    assert len(sequences) == extracted >= 10
    assert all(2 * 10 <= len(s) <= 64 for s in sequences)  # 2 bars of 5/8 at least
    assert max(len(s) for s in sequences) == 64  # long performances were truncated
    assert f"training: {len(tfrecord.read_records(training))} examples" in output
    assert len(tfrecord.read_records(evaluation)) > 0
    # Same input and seed: byte-identical files; another seed: another split.
    assert _create(capsys, ns_file, tmp_path / "b", "--eval_ratio", "0.3", "--seed", "7")[0] == 0
    assert _create(capsys, ns_file, tmp_path / "c", "--eval_ratio", "0.3", "--seed", "8")[0] == 0
    for name in ("training_toy_tracks.tfrecord", "eval_toy_tracks.tfrecord"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "eval_toy_tracks.tfrecord").read_bytes() != (
        tmp_path / "c" / "eval_toy_tracks.tfrecord"
    ).read_bytes()
    # Existing outputs are never replaced silently.
    code, output = _create(capsys, ns_file, tmp_path / "a", "--eval_ratio", "0.3", "--seed", "7")
    assert code == 1 and "already exists" in output and "--overwrite" in output


def test_adding_files_keeps_existing_splits(groove, TOY, tmp_path):
    _, ns_file = groove
    all_records = tfrecord.read_records(ns_file)
    tfrecord.write_records(tmp_path / "part.tfrecord", all_records[::2])
    options = pipeline.SplitOptions(eval_ratio=0.4, seed=3)
    _, part = pipeline.create_dataset(tmp_path / "part.tfrecord", tmp_path / "part", TOY, options)
    _, whole = pipeline.create_dataset(ns_file, tmp_path / "whole", TOY, options)
    for split in (pipeline.TRAINING, pipeline.EVAL):
        assert set(tfrecord.read_records(part[split])) <= set(tfrecord.read_records(whole[split]))
        assert tfrecord.read_records(part[split])


def test_reads_note_sequences_written_by_tensorflow(groove, TOY, tmp_path):
    """Magenta wrote NoteSequence files with TensorFlow's TFRecordWriter; they give the same examples."""
    _, ns_file = groove
    with tf.io.TFRecordWriter(str(tmp_path / "magenta_ns.tfrecord")) as writer:
        for record in tfrecord.read_records(ns_file):
            writer.write(record)
    options = pipeline.SplitOptions()
    _, ours = pipeline.create_dataset(ns_file, tmp_path / "ours", TOY, options)
    _, theirs = pipeline.create_dataset(tmp_path / "magenta_ns.tfrecord", tmp_path / "theirs", TOY, options)
    for split in ours:
        assert open(ours[split], "rb").read() == open(theirs[split], "rb").read()


def test_split_csv_uses_the_groove_splits(groove, TOY, tmp_path, capsys):
    _, ns_file = groove
    code, output = _create(capsys, ns_file, tmp_path / "csv", "--split_csv", str(GROOVE / "info.csv"))
    assert code == 0
    split_of = pipeline.load_split_csv(GROOVE / "info.csv")
    by_split = {}
    for record in tfrecord.read_records(ns_file):
        by_split.setdefault(split_of[music_pb2.NoteSequence.FromString(record).filename], []).append(record)
    assert sorted(by_split) == ["test", "train", "validation"]
    for split, sequences in by_split.items():
        # Each CSV split holds exactly what that split's sequences alone give.
        tfrecord.write_records(tmp_path / f"{split}.tfrecord", sequences)
        _, alone = pipeline.create_dataset(
            tmp_path / f"{split}.tfrecord", tmp_path / split, TOY, pipeline.SplitOptions(eval_ratio=0.0)
        )
        made = tmp_path / "csv" / f"{split}_toy_tracks.tfrecord"
        assert made.read_bytes() == open(alone[pipeline.TRAINING], "rb").read()
        assert f"{split}: " in output
    (tmp_path / "bad.csv").write_text("name,fold\nx,train\n")
    code, output = _create(capsys, ns_file, tmp_path / "bad", "--split_csv", str(tmp_path / "bad.csv"))
    assert code == 1 and "midi_filename" in output
