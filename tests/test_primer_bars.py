"""`seqgen generate --primer_midi SONG.mid --primer_bars N`: the first N bars of a whole song as the primer."""

import pytest

from support import GROOVE
from groove_slice import FUNK
from seqgen import plugins
from seqgen.cli import main
from seqgen.noteseq import midi_io

SONG = GROOVE / FUNK  # 16 bars of 4/4: 256 steps of drum_kit (4 steps per quarter note)


@pytest.fixture(scope="module")
def primer():
    config = plugins.get_config("drum_kit")
    return config.tracks.primer_from_midi(str(SONG), config)


def _steps(path, qpm):
    """The drum pitches at each step of a MIDI file that generate wrote."""
    seconds = 60.0 / qpm / 4
    steps = {}
    for note in midi_io.midi_file_to_note_sequence(str(path)).notes:
        steps.setdefault(round(note.start_time / seconds), set()).add(note.pitch)
    return steps


def _generate(out, *flags):
    return main(
        [
            "generate",
            "--bundle_file",
            "drum_kit_gmd",
            "--output_dir",
            str(out),
            "--num_outputs",
            "1",
            "--seed",
            "3",
            "--primer_midi",
            str(SONG),
            *flags,
        ]
    )


def test_the_song_is_longer_than_a_short_output(primer):
    assert primer.steps_per_bar == 16 and len(primer.events) == 256


def test_the_first_bars_prime_the_output(primer, tmp_path, capsys):
    out = tmp_path / "out"
    assert _generate(out, "--primer_bars", "2", "--num_steps", "48") == 0
    assert "wrote 1 drum track of 48 steps" in capsys.readouterr().out
    [path] = out.glob("*.mid")
    steps = _steps(path, primer.qpm)
    assert max(steps) < 48 and any(t >= 32 for t in steps)  # the generated bar follows the primer's two
    for t, event in enumerate(primer.events[:32]):
        assert steps.get(t, set()) == set(event), t


def test_a_primer_longer_than_num_steps_points_to_primer_bars(tmp_path, capsys):
    out = tmp_path / "out"
    assert _generate(out, "--num_steps", "48") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert (
        "is 256 steps (16 bars of 16 steps), longer than --num_steps 48; take its first bars with --primer_bars 3"
    ) in err
    assert not out.exists()


def test_more_bars_than_the_song_has_take_the_whole_song(primer, tmp_path):
    out = tmp_path / "out"
    assert _generate(out, "--primer_bars", "100", "--num_steps", "260") == 0
    steps = _steps(next(out.glob("*.mid")), primer.qpm)
    for t, event in enumerate(primer.events):
        assert steps.get(t, set()) == set(event), t


def test_primer_bars_need_a_primer_midi(tmp_path, capsys):
    assert (
        main(["generate", "--bundle_file", "drum_kit_gmd", "--output_dir", str(tmp_path / "out"), "--primer_bars", "2"])
        == 1
    )
    assert "--primer_bars needs --primer_midi" in capsys.readouterr().err
