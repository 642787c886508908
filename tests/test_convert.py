"""seqgen convert: Groove MIDI files to NoteSequence records; corrupt files named, counted, skipped."""

import hashlib
import shutil

import pytest

from support import GROOVE
from groove_slice import copy_slice, slice_rows
from seqgen import cli, tfrecord
from seqgen.noteseq import midi_io, music_pb2

GOOD = [row["midi_filename"] for row in slice_rows()[:5]]


def _bad_files(directory):
    """Malformed MIDI files, by relative path."""
    real = (GROOVE / GOOD[0]).read_bytes()
    bad = {
        "bad/truncated.mid": real[: len(real) // 3],
        "bad/zero_length.mid": b"",
        "bad/random_bytes.midi": bytes((i * 73 + 41) % 256 for i in range(3000)),
        "bad/text_renamed.MID": b"This is a text file, not MIDI.\n" * 20,
        "bad/bad_header.mid": b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x00\x60MTrk\xff\xff\xff\xff\x00\x90",
        "bad/wrong_magic.mid": b"RIFF" + real[4:],
    }
    for name, content in bad.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(content)
    return sorted(bad)


@pytest.fixture()
def midi_dir(tmp_path):
    directory = copy_slice(tmp_path / "groove", [r for r in slice_rows() if r["midi_filename"] in GOOD])
    shutil.copyfile(GROOVE / GOOD[1], directory / "UPPER_CASE.MIDI")
    (directory / "notes.txt").write_text("not music")
    (directory / "info.csv").write_text("a,b\n")
    return directory


def _convert(capsys, *argv):
    code = cli.main(["convert", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_converts_midi_like_note_seq_and_keeps_relative_paths(midi_dir, tmp_path, capsys):
    out = tmp_path / "ns.tfrecord"
    code, stdout, _ = _convert(capsys, "--input_dir", midi_dir, "--output_file", out, "--recursive")
    assert code == 0
    assert "converted 6 MIDI files" in stdout and "skipped 2 files" in stdout and "failed 0" in stdout
    sequences = [music_pb2.NoteSequence.FromString(r) for r in tfrecord.read_records(out)]
    assert [s.filename for s in sequences] == sorted(GOOD + ["UPPER_CASE.MIDI"])
    for sequence in sequences:
        # Our fast MIDI reader gives exactly what note_seq's own (mido) reading gives.
        expected = midi_io.midi_to_note_sequence((midi_dir / sequence.filename).read_bytes())
        expected.filename, expected.collection_name, expected.id = sequence.filename, "groove", sequence.id
        assert sequence == expected
        assert sequence.id == "/id/midi/groove/" + hashlib.sha1(sequence.filename.encode()).hexdigest()
        assert sequence.notes and all(note.is_drum for note in sequence.notes)


def test_corrupt_files_are_named_counted_and_skipped(midi_dir, tmp_path, capsys):
    bad = _bad_files(midi_dir)
    out = tmp_path / "ns.tfrecord"
    code, stdout, stderr = _convert(capsys, "--input_dir", midi_dir, "--output_file", out, "--recursive")
    assert code == 0
    assert f"failed {len(bad)} unreadable MIDI files" in stdout and "converted 6 MIDI files" in stdout
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == len(bad)
    for name in bad:
        assert sum(name in line for line in warnings) == 1, name
    assert "Traceback" not in stderr
    assert len(tfrecord.read_records(out)) == 6


def test_output_is_deterministic_and_never_overwritten(midi_dir, tmp_path, capsys):
    first, second = tmp_path / "a.tfrecord", tmp_path / "b.tfrecord"
    for out in (first, second):
        assert _convert(capsys, "--input_dir", midi_dir, "--output_file", out, "--recursive")[0] == 0
    assert first.read_bytes() == second.read_bytes()
    first.write_bytes(b"user data")
    code, _, stderr = _convert(capsys, "--input_dir", midi_dir, "--output_file", first, "--recursive")
    assert code == 1 and "already exists" in stderr and "--overwrite" in stderr
    assert first.read_bytes() == b"user data"
    assert _convert(capsys, "--input_dir", midi_dir, "--output_file", first, "--recursive", "--overwrite")[0] == 0
    assert first.read_bytes() == second.read_bytes()


def test_clear_errors_without_midi(midi_dir, tmp_path, capsys):
    # Groove keeps its files in subdirectories: without --recursive there is nothing to convert.
    code, _, stderr = _convert(capsys, "--input_dir", midi_dir / "drummer1", "--output_file", tmp_path / "x")
    assert code == 1 and "--recursive" in stderr
    code, _, stderr = _convert(capsys, "--input_dir", tmp_path / "missing", "--output_file", tmp_path / "x")
    assert code == 1 and "does not exist; give the directory of MIDI files" in stderr
    assert not (tmp_path / "x").exists()


def _rich_midi() -> bytes:
    """A two-track MIDI file with what Groove lacks: running status, sysex, pitch bends, programs, meta."""
    conductor = (
        b"\x00\xff\x51\x03\x07\xa1\x20"
        b"\x00\xff\x58\x04\x03\x02\x18\x08"
        b"\x00\xff\x59\x02\xfe\x01"
        b"\x83\x60\xff\x51\x03\x09\x27\xc0"
        b"\x00\xff\x05\x03abc"
        b"\x00\xff\x2f\x00"
    )
    events = [
        b"\x00\xff\x03\x05piano",
        b"\x00\xc0\x05",
        b"\x00\xf0\x03\x7e\x01\xf7",
        b"\x00\x90\x3c\x64",
        b"\x10\x40\x50",
        b"\x60\x3c\x00",
        b"\x00\x40\x00",
        b"\x00\xe0\x00\x50",
        b"\x08\xb0\x40\x7f",
        b"\x00\x99\x24\x70",
        b"\x83\x00\x24\x00",
        b"\x00\xff\x2f\x00",
    ]
    instrument = b"".join(events)
    chunk = lambda name, body: name + len(body).to_bytes(4, "big") + body  # noqa: E731
    return chunk(b"MThd", b"\x00\x01\x00\x02\x01\xe0") + chunk(b"MTrk", conductor) + chunk(b"MTrk", instrument)


def test_fast_reader_equals_note_seq_on_rich_midi(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "rich.mid").write_bytes(_rich_midi())
    assert _convert(capsys, "--input_dir", tmp_path / "in", "--output_file", tmp_path / "ns.tfrecord")[0] == 0
    ours = music_pb2.NoteSequence.FromString(tfrecord.read_records(tmp_path / "ns.tfrecord")[0])
    expected = midi_io.midi_to_note_sequence(_rich_midi())
    expected.filename, expected.collection_name, expected.id = ours.filename, ours.collection_name, ours.id
    assert ours == expected
    assert len(ours.notes) == 3 and ours.pitch_bends and ours.key_signatures and len(ours.tempos) == 2


def test_progress_prints_plain_lines_off_a_terminal():
    import io

    from seqgen.progress import Progress

    stream = io.StringIO()  # not a terminal: no bar, plain lines
    with Progress(4, "convert", unit="file", stream=stream, interval=0) as progress:
        for _ in range(4):
            progress.update()
    assert stream.getvalue().splitlines() == [f"convert: {i}/4 files ({25 * i}%)" for i in range(1, 5)]
