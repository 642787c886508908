"""Generating drums: drum primers (as text, from Groove MIDI files, with pitches that share a class), the default
primer, and the drums' own errors, on Magenta's drum_kit reference model imported as a seqgen bundle."""

import pytest

from seqgen import bundle
from seqgen.cli import main
from seqgen.errors import SeqgenError
from seqgen.model import Model
from seqgen.noteseq import midi_io, music_pb2

from support import GROOVE, MAGENTA, read_steps


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """Magenta's drum_kit reference model as a seqgen bundle (loads without TensorFlow)."""
    path = tmp_path_factory.mktemp("model") / "drum_kit.seqgen"
    assert (
        main(
            [
                "import_bundle",
                "--mag_file",
                str(MAGENTA / "drum_kit_gmd_64x2_attn32_300steps.mag"),
                "--bundle_file",
                str(path),
            ]
        )
        == 0
    )
    return path


@pytest.fixture(scope="module")
def generator(model_file):
    loaded = bundle.load(model_file)
    return Model(loaded.config, loaded.weights).generator


def test_a_primer_whose_pitches_share_a_class_is_kept_exactly(generator):
    primer = generator.config.tracks.parse_primer("[(36, 35), (), (42,), (), (38, 44)]")  # 35, 44: others' classes
    tracks = generator.generate(primer, 7, num_outputs=2, seed=1, beam_size=2, branch_factor=2, steps_per_iteration=2)
    assert all(len(t) == 7 and t[:5] == primer for t in tracks)
    assert generator.generate(primer, 5, num_outputs=2, seed=1) == [primer, primer]
    with pytest.raises(SeqgenError, match="shorter than the primer"):
        generator.generate(primer, 2)


def test_cli_primer_drums_and_the_default_primer_of_one_bass_drum_hit(model_file, tmp_path):
    assert (
        main(
            [
                "generate",
                "--bundle_file",
                str(model_file),
                "--output_dir",
                str(tmp_path / "given"),
                "--num_outputs",
                "1",
                "--num_steps",
                "8",
                "--primer_drums",
                "[(36, 42), (), (42,)]",
            ]
        )
        == 0
    )
    steps, _ = read_steps(next((tmp_path / "given").glob("*.mid")))
    assert steps[0] == {36, 42} and 1 not in steps and steps[2] == {42}
    assert (
        main(
            [
                "generate",
                "--bundle_file",
                str(model_file),
                "--output_dir",
                str(tmp_path / "default"),
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
    steps, sequence = read_steps(next((tmp_path / "default").glob("*.mid")), qpm=90.0)
    assert steps[0] == {36}
    assert sequence.tempos[0].qpm == pytest.approx(90.0, rel=1e-4)


def test_cli_primer_from_groove_midi(model_file, tmp_path):
    primer_file = min(sorted(GROOVE.rglob("*.mid"))[:40], key=lambda p: p.stat().st_size)
    loaded = bundle.load(model_file)
    primer = loaded.config.tracks.primer_from_midi(str(primer_file), loaded.config)
    out = tmp_path / "out"
    num_steps = len(primer.events) + 16
    assert (
        main(
            [
                "generate",
                "--bundle_file",
                str(model_file),
                "--output_dir",
                str(out),
                "--num_outputs",
                "2",
                "--num_steps",
                str(num_steps),
                "--primer_midi",
                str(primer_file),
                "--seed",
                "1",
            ]
        )
        == 0
    )
    for path in out.glob("*.mid"):
        steps, sequence = read_steps(path, qpm=primer.qpm)
        assert sequence.tempos[0].qpm == pytest.approx(primer.qpm, rel=1e-4)
        assert max(steps) < num_steps
        for t, event in enumerate(primer.events):
            assert steps.get(t, set()) == set(event)


def piano_only_midi(path):
    sequence = music_pb2.NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(qpm=120)
    sequence.notes.add(pitch=60, velocity=80, start_time=0.0, end_time=1.0)
    sequence.total_time = 1.0
    midi_io.sequence_proto_to_midi_file(sequence, str(path))
    return path


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--primer_drums", "[(36, 42), ("], "malformed drum primer"),
        (["--primer_drums", "[(36, 128)]"], "outside the MIDI range 0-127"),
        (["--primer_drums", "[(36,), (), (42,)]", "--num_steps", "2"], "shorter than the primer"),
        (["--primer_midi", "PIANO"], "has no drums"),
        (["--primer_midi", "MISSING"], "does not exist"),
        (["--config", "one_drum"], "is a drum_kit model, not one_drum"),
    ],
)
def test_cli_errors_are_one_clear_line(model_file, tmp_path, capsys, flags, message):
    piano = piano_only_midi(tmp_path / "piano.mid")
    flags = [str(piano) if f == "PIANO" else str(tmp_path / "missing.mid") if f == "MISSING" else f for f in flags]
    out = tmp_path / "out"
    assert main(["generate", "--bundle_file", str(model_file), "--output_dir", str(out)] + flags) in (1, 2)
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists() or not list(out.iterdir())


def test_score_reads_midi_too(model_file, tmp_path, capsys):
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
                "32",
                "--seed",
                "9",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["score", "--bundle_file", str(model_file), "--midi", str(next(tmp_path.glob("*.mid")))]) == 0
    assert "log_likelihood -" in capsys.readouterr().out
