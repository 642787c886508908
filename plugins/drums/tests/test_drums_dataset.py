"""seqgen create_dataset with drum_kit on a slice of the Groove data: Magenta's drum track extraction, drums
recorded off channel 10, long performances cut into windows."""

import attrs
import pytest

from groove_slice import converted_slice
from seqgen import cli, pipeline, plugins, records, tfrecord
from seqgen.noteseq import music_pb2, sequences_lib

DRUM_KIT = plugins.get_config("drum_kit")


@pytest.fixture(scope="module")
def groove(tmp_path_factory):
    """The slice converted once: (directory, NoteSequence record file)."""
    return converted_slice(tmp_path_factory.mktemp("groove"))


def _create(capsys, ns_file, out_dir, *flags):
    code = cli.main(
        ["create_dataset", "--config", "drum_kit", "--input", str(ns_file), "--output_dir", str(out_dir), *flags]
    )
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
