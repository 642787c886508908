"""seqgen create_dataset on a slice of the Groove data: Magenta's extraction, stable splits, clear reports."""

import attrs
import pytest
import tensorflow as tf

from support import GROOVE
from groove_slice import copy_slice
from seqgen import cli, convert, pipeline, plugins, records, tfrecord
from seqgen.noteseq import music_pb2, sequences_lib

DRUM_KIT = plugins.get_config("drum_kit")


@pytest.fixture(scope="module")
def groove(tmp_path_factory):
    """The slice converted once: (directory, NoteSequence record file)."""
    directory = copy_slice(tmp_path_factory.mktemp("groove") / "groove")
    out = directory.parent / "ns.tfrecord"
    convert.convert_directory(directory, out, recursive=True)
    return directory, out


def _create(capsys, ns_file, out_dir, *flags):
    code = cli.main(["create_dataset", "--config", "drum_kit", "--input", str(ns_file),
                     "--output_dir", str(out_dir), *flags])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _magenta_drum_tracks(quantized, min_bars=7, max_steps=512, gap_bars=1.0):
    """Oracle: Magenta's extract_drum_tracks loop around note_seq's own DrumTrack."""
    from note_seq import drums_lib

    steps_per_bar = int(sequences_lib.steps_per_bar_in_quantized_sequence(quantized))
    tracks, search_start = [], 0
    while True:
        track = drums_lib.DrumTrack()
        track.from_quantized_sequence(quantized, search_start_step=search_start, gap_bars=gap_bars)
        search_start = track.end_step + (search_start - track.end_step) % steps_per_bar
        if not track:
            return tracks
        if len(track) >= steps_per_bar * min_bars:
            tracks.append(list(track)[:max_steps])


def test_extraction_matches_magenta(groove):
    _, ns_file = groove
    compared = 0
    for record in tfrecord.read_records(ns_file):
        sequence = music_pb2.NoteSequence.FromString(record)
        for piece in sequences_lib.split_note_sequence_on_time_changes(sequence):
            quantized = sequences_lib.quantize_note_sequence(piece, DRUM_KIT.steps_per_quarter)
            tracks, _ = DRUM_KIT.tracks.extract(quantized, DRUM_KIT.extraction)
            assert tracks == _magenta_drum_tracks(quantized)
            compared += len(tracks)
    assert compared >= 10


def test_records_counts_and_determinism(groove, tmp_path, capsys):
    _, ns_file = groove
    code, output = _create(capsys, ns_file, tmp_path / "a", "--eval_ratio", "0.3", "--seed", "7")
    assert code == 0
    for line in ("sequences_in: 19", "drum_tracks_discarded_too_short:", "drum_tracks_truncated:",
                 "tracks_extracted:"):
        assert line in output
    training, evaluation = tmp_path / "a/training_drum_tracks.tfrecord", tmp_path / "a/eval_drum_tracks.tfrecord"
    sequences = [s.numpy() for s in records.class_dataset([str(training), str(evaluation)], 512)]
    extracted = int(output.split("tracks_extracted: ")[1].split()[0])
    assert len(sequences) == extracted >= 10
    assert all(7 * 10 <= len(s) <= 512 for s in sequences)
    assert max(len(s) for s in sequences) == 512  # the long performance was truncated
    assert f"training: {len(tfrecord.read_records(training))} examples" in output
    assert len(tfrecord.read_records(evaluation)) > 0
    # Same input and seed: byte-identical files; another seed: another split.
    assert _create(capsys, ns_file, tmp_path / "b", "--eval_ratio", "0.3", "--seed", "7")[0] == 0
    assert _create(capsys, ns_file, tmp_path / "c", "--eval_ratio", "0.3", "--seed", "8")[0] == 0
    for name in ("training_drum_tracks.tfrecord", "eval_drum_tracks.tfrecord"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "eval_drum_tracks.tfrecord").read_bytes() != \
        (tmp_path / "c" / "eval_drum_tracks.tfrecord").read_bytes()
    # Existing outputs are never replaced silently.
    code, output = _create(capsys, ns_file, tmp_path / "a", "--eval_ratio", "0.3", "--seed", "7")
    assert code == 1 and "already exists" in output and "--overwrite" in output


def test_adding_files_keeps_existing_splits(groove, tmp_path):
    _, ns_file = groove
    all_records = tfrecord.read_records(ns_file)
    tfrecord.write_records(tmp_path / "part.tfrecord", all_records[::2])
    options = pipeline.SplitOptions(eval_ratio=0.4, seed=3)
    _, part = pipeline.create_dataset(tmp_path / "part.tfrecord", tmp_path / "part", DRUM_KIT, options)
    _, whole = pipeline.create_dataset(ns_file, tmp_path / "whole", DRUM_KIT, options)
    for split in (pipeline.TRAINING, pipeline.EVAL):
        assert set(tfrecord.read_records(part[split])) <= set(tfrecord.read_records(whole[split]))
        assert tfrecord.read_records(part[split])


def test_reads_note_sequences_written_by_tensorflow(groove, tmp_path):
    """Magenta wrote NoteSequence files with TensorFlow's TFRecordWriter; they give the same examples."""
    _, ns_file = groove
    with tf.io.TFRecordWriter(str(tmp_path / "magenta_ns.tfrecord")) as writer:
        for record in tfrecord.read_records(ns_file):
            writer.write(record)
    options = pipeline.SplitOptions()
    _, ours = pipeline.create_dataset(ns_file, tmp_path / "ours", DRUM_KIT, options)
    _, theirs = pipeline.create_dataset(tmp_path / "magenta_ns.tfrecord", tmp_path / "theirs", DRUM_KIT, options)
    for split in ours:
        assert open(ours[split], "rb").read() == open(theirs[split], "rb").read()


def test_no_drums_explains_why_and_ignore_is_drum_helps(groove, tmp_path, capsys):
    _, ns_file = groove
    sequences = [music_pb2.NoteSequence.FromString(r) for r in tfrecord.read_records(ns_file)[:6]]
    for sequence in sequences:  # as if the drums had been recorded on channel 1
        for note in sequence.notes:
            note.is_drum, note.instrument = False, 0
    tfrecord.write_records(tmp_path / "piano.tfrecord", [s.SerializeToString() for s in sequences])
    code, output = _create(capsys, tmp_path / "piano.tfrecord", tmp_path / "none")
    assert code == 0
    assert "no examples were written" in output and "channel 10" in output and "--ignore_is_drum" in output
    code, output = _create(capsys, tmp_path / "piano.tfrecord", tmp_path / "some", "--ignore_is_drum")
    assert "no examples were written" not in output
    assert len(tfrecord.read_records(tmp_path / "some/training_drum_tracks.tfrecord")) > 0


def test_split_long_tracks_keeps_long_performances(groove, tmp_path):
    _, ns_file = groove
    options = pipeline.SplitOptions(eval_ratio=0.0)
    windows = attrs.evolve(DRUM_KIT, extraction=attrs.evolve(DRUM_KIT.extraction, split_long_tracks=True))
    default_counts, default = pipeline.create_dataset(ns_file, tmp_path / "default", DRUM_KIT, options)
    window_counts, split = pipeline.create_dataset(ns_file, tmp_path / "windows", windows, options)
    assert default_counts["drum_tracks_truncated"] == window_counts["drum_tracks_split_into_windows"] > 0
    default_steps = sum(len(s) for s in records.class_dataset(default[pipeline.TRAINING], 512))
    window_tracks = list(records.class_dataset(split[pipeline.TRAINING], 512))
    assert len(window_tracks) > default_counts["tracks_extracted"]
    assert sum(len(s) for s in window_tracks) > default_steps
    assert all(7 * 10 <= len(s) <= 512 for s in window_tracks)  # 7 bars of 5/8 at least


def test_split_csv_uses_the_groove_splits(groove, tmp_path, capsys):
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
        _, alone = pipeline.create_dataset(tmp_path / f"{split}.tfrecord", tmp_path / split, DRUM_KIT,
                                           pipeline.SplitOptions(eval_ratio=0.0))
        made = tmp_path / "csv" / f"{split}_drum_tracks.tfrecord"
        assert made.read_bytes() == open(alone[pipeline.TRAINING], "rb").read()
        assert f"{split}: " in output
    (tmp_path / "bad.csv").write_text("name,fold\nx,train\n")
    code, output = _create(capsys, ns_file, tmp_path / "bad", "--split_csv", str(tmp_path / "bad.csv"))
    assert code == 1 and "midi_filename" in output
