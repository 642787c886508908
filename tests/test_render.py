"""seqgen render: WAV through the FluidSynth program or in-process from a soundfont (each test that renders runs
both ways: the ``synthesizer`` fixture), and the errors a user can meet; of the toy plugin, which draws no
pictures (the drums' PNG grids are checked in plugins/drums/tests/test_drums_render.py)."""

import os
import pathlib
import shutil
import wave

import numpy as np
import pretty_midi
import pytest

from seqgen import cli, render
from support import GROOVE

FUNK = GROOVE / "drummer1" / "eval_session" / "1_funk-groove1_138_beat_4-4.mid"  # 16 bars, 256 steps
WALTZ = GROOVE / "drummer1" / "session2" / "4_jazz_120_beat_3-4.mid"


def test_render_writes_a_wav_as_long_as_the_midi_and_no_picture_where_the_plugin_draws_none(
    tmp_path, capsys, toy, synthesizer
):
    out = tmp_path / "out"
    assert cli.main(["render", str(FUNK), str(WALTZ), "--config", "toy_rnn", "--output_dir", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out / f"{m.stem}.wav") for m in (FUNK, WALTZ)]
    for midi in (FUNK, WALTZ):
        with wave.open(str(out / f"{midi.stem}.wav")) as audio:
            seconds = audio.getnframes() / audio.getframerate()
            assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (44100, 2, 2)
            samples = np.frombuffer(audio.readframes(audio.getnframes()), np.int16)
        midi_seconds = pretty_midi.PrettyMIDI(str(midi)).get_end_time()
        assert seconds == pytest.approx(midi_seconds + render.TAIL_SECONDS, abs=1e-3)
        assert np.abs(samples).max() > 1000  # audible, not silence
    assert sorted(p.suffix for p in out.iterdir()) == [".wav", ".wav"]


def test_generate_render_writes_a_wav_beside_each_midi(tmp_path, capsys, toy, synthesizer):
    from seqgen import bundle, plugins
    from seqgen.families.events_rnn import inference

    config = plugins.get_config("toy_rnn")
    bundle.save(tmp_path / "tiny.seqgen", config, inference.random_weights(config, seed=1))
    out = tmp_path / "generated"
    assert (
        cli.main(
            [
                "generate",
                "--bundle_file",
                str(tmp_path / "tiny.seqgen"),
                "--output_dir",
                str(out),
                "--num_outputs",
                "2",
                "--num_steps",
                "64",
                "--seed",
                "3",
                "--render",
            ]
        )
        == 0
    )
    assert "wrote 2 WAV files beside them" in capsys.readouterr().out
    midis = sorted(out.glob("*.mid"))
    assert len(midis) == 2 and len(list(out.iterdir())) == 4
    for midi in midis:
        with wave.open(str(midi.with_suffix(".wav"))) as audio:
            seconds = audio.getnframes() / audio.getframerate()
        assert seconds == pytest.approx(
            pretty_midi.PrettyMIDI(str(midi)).get_end_time() + render.TAIL_SECONDS, abs=1e-3
        )


def test_existing_files_are_kept_unless_overwrite_is_given(tmp_path, capsys, synthesizer):
    wav = tmp_path / f"{FUNK.stem}.wav"
    wav.write_bytes(b"the user's own file")
    assert cli.main(["render", str(FUNK), "--output_dir", str(tmp_path)]) == 1
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert wav.read_bytes() == b"the user's own file" and not (tmp_path / f"{FUNK.stem}.png").exists()
    assert cli.main(["render", str(FUNK), "--output_dir", str(tmp_path), "--overwrite"]) == 0
    assert wav.read_bytes()[:4] == b"RIFF"


def programmed_beat(path):
    """Two bars at 120 bpm: a closed hi-hat on every eighth, kick on beats 1 and 3, snare on 2 and 4; its hit times."""
    song = pretty_midi.PrettyMIDI(initial_tempo=120)
    drums = pretty_midi.Instrument(0, is_drum=True)
    times = [i * 0.25 for i in range(16)]
    for i, start in enumerate(times):
        drums.notes.append(pretty_midi.Note(90, 42, start, start + 0.1))
        if i % 2 == 0:
            drums.notes.append(pretty_midi.Note(100, 36 if i % 4 == 0 else 38, start, start + 0.1))
    song.instruments.append(drums)
    song.write(str(path))
    return np.array(times)


def onset_times(path, hop=0.005, rise=1.0) -> np.ndarray:
    """The times (s) at which a WAV's loudness jumps by more than e^``rise`` within ``hop`` seconds."""
    with wave.open(str(path)) as audio:
        rate = audio.getframerate()
        mono = np.frombuffer(audio.readframes(audio.getnframes()), np.int16).reshape(-1, audio.getnchannels()).mean(1)
    frame = int(rate * hop)
    frames = len(mono) // frame
    rms = np.sqrt((mono[: frames * frame].reshape(frames, frame) ** 2).mean(axis=1))
    level = np.log(np.maximum(rms / rms.max(), 1e-3))  # a -60 dB floor, and silence before the first frame
    jump = np.diff(np.concatenate([np.log([1e-3, 1e-3]), level]))  # jump[k]: into frame k - 1
    peaks = (jump[1:-1] > rise) & (jump[1:-1] >= jump[:-2]) & (jump[1:-1] > jump[2:])
    return np.flatnonzero(peaks) * hop


def test_fluidsynth_and_the_in_process_synthesizer_sound_alike(tmp_path, monkeypatch):
    """Same length within a beat, and the hits at the same times (the beat's, within 20 ms) either way."""
    if shutil.which("fluidsynth") is None:
        pytest.skip("the FluidSynth program is not installed (apt-get install fluidsynth)")
    times = programmed_beat(tmp_path / "beat.mid")
    soundfont = render.find_soundfont()
    render.render_wav(tmp_path / "beat.mid", tmp_path / "fluidsynth.wav", soundfont)
    monkeypatch.setenv("PATH", str(tmp_path))  # no FluidSynth on it
    render.render_wav(tmp_path / "beat.mid", tmp_path / "in-process.wav", soundfont)
    lengths, onsets = [], []
    for name in ("fluidsynth", "in-process"):
        with wave.open(str(tmp_path / f"{name}.wav")) as audio:
            lengths.append(audio.getnframes() / audio.getframerate())
        onsets.append(onset_times(tmp_path / f"{name}.wav"))
    assert abs(lengths[0] - lengths[1]) < 0.5  # one beat at 120 bpm
    for found in onsets:
        assert len(found) == len(times)
        assert np.abs(found - times).max() <= 0.02
    assert np.abs(onsets[0] - onsets[1]).max() <= 0.02


def test_a_humanized_shift_moves_the_onsets_too(tmp_path, monkeypatch):
    """The onset check sees timing: the same beat played 60 ms late is heard 60 ms late."""
    monkeypatch.setenv("PATH", str(tmp_path))
    times = programmed_beat(tmp_path / "beat.mid")
    late = pretty_midi.PrettyMIDI(str(tmp_path / "beat.mid"))
    for note in late.instruments[0].notes:
        note.start, note.end = note.start + 0.06, note.end + 0.06
    late.write(str(tmp_path / "late.mid"))
    render.render_wav(tmp_path / "late.mid", tmp_path / "late.wav", render.find_soundfont())
    assert np.abs(onset_times(tmp_path / "late.wav") - (times + 0.06)).max() <= 0.02


@pytest.mark.parametrize(
    "args,message",
    [
        (["--soundfont", "/no/such.sf2"], "soundfont /no/such.sf2 does not exist"),
        (["--soundfont", str(FUNK)], f"--soundfont {FUNK} is not a SoundFont file (.sf2)"),
        (["--sample_rate", "0"], "--sample_rate: expected a sample rate in Hz from 8000 to 96000, got '0'"),
    ],
)
def test_bad_flags_are_refused(tmp_path, capsys, args, message, synthesizer):
    assert cli.main(["render", str(FUNK), "--output_dir", str(tmp_path / "out")] + args) in (1, 2)
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_an_unwritable_output_folder_is_one_line_and_nothing_is_written(tmp_path, capsys, synthesizer):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    # root writes anywhere it may chmod: there, a folder of a read-only file system
    out = pathlib.Path("/sys/seqgen_render") if os.geteuid() == 0 else locked / "out"
    assert cli.main(["render", str(FUNK), "--output_dir", str(out)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "choose a writable place" in err
    assert not out.exists() and list(locked.iterdir()) == []


def test_bad_midi_files_are_named(tmp_path, capsys):
    (tmp_path / "noise.mid").write_bytes(bytes(range(256)))
    assert cli.main(["render", str(tmp_path / "noise.mid"), "--output_dir", str(tmp_path)]) == 1
    assert "cannot render" in capsys.readouterr().err and not (tmp_path / "noise.wav").exists()
    assert cli.main(["render", str(tmp_path / "gone.mid"), "--output_dir", str(tmp_path)]) == 1
    assert "gone.mid does not exist" in capsys.readouterr().err
    assert cli.main(["render", str(FUNK), str(FUNK), "--output_dir", str(tmp_path)]) == 1
    assert "would both be rendered to" in capsys.readouterr().err


def test_the_soundfont_shipped_with_pretty_midi_is_a_fallback(tmp_path, synthesizer):
    (shipped,) = render._pretty_midi_soundfont()
    assert render.os.path.isfile(shipped)
    render.render_wav(FUNK, tmp_path / "funk.wav", shipped)
    with wave.open(str(tmp_path / "funk.wav")) as audio:
        assert audio.getnframes() > 44100 * 27
