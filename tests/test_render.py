"""seqgen render: WAV through FluidSynth, and the errors a user can meet; of the toy plugin, which draws no pictures
(the drums' PNG grids are checked in plugins/drums/tests/test_drums_render.py)."""

import shutil
import wave

import numpy as np
import pretty_midi
import pytest

from seqgen import cli, render
from support import GROOVE

FUNK = GROOVE / "drummer1" / "eval_session" / "1_funk-groove1_138_beat_4-4.mid"  # 16 bars, 256 steps
WALTZ = GROOVE / "drummer1" / "session2" / "4_jazz_120_beat_3-4.mid"
needs_fluidsynth = pytest.mark.skipif(shutil.which("fluidsynth") is None,
                                      reason="fluidsynth is not installed (apt-get install fluidsynth)")


@needs_fluidsynth
def test_render_writes_a_wav_as_long_as_the_midi_and_no_picture_where_the_plugin_draws_none(tmp_path, capsys, toy):
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


@needs_fluidsynth
def test_generate_render_writes_a_wav_beside_each_midi(tmp_path, capsys, toy):
    from seqgen import bundle, plugins
    from seqgen.families.events_rnn import inference

    config = plugins.get_config("toy_rnn")
    bundle.save(tmp_path / "tiny.seqgen", config, inference.random_weights(config, seed=1))
    out = tmp_path / "generated"
    assert cli.main(["generate", "--bundle_file", str(tmp_path / "tiny.seqgen"), "--output_dir", str(out),
                     "--num_outputs", "2", "--num_steps", "64", "--seed", "3", "--render"]) == 0
    assert "wrote 2 WAV files beside them" in capsys.readouterr().out
    midis = sorted(out.glob("*.mid"))
    assert len(midis) == 2 and len(list(out.iterdir())) == 4
    for midi in midis:
        with wave.open(str(midi.with_suffix(".wav"))) as audio:
            seconds = audio.getnframes() / audio.getframerate()
        assert seconds == pytest.approx(pretty_midi.PrettyMIDI(str(midi)).get_end_time() + render.TAIL_SECONDS,
                                        abs=1e-3)


@needs_fluidsynth
def test_existing_files_are_kept_unless_overwrite_is_given(tmp_path, capsys):
    wav = tmp_path / f"{FUNK.stem}.wav"
    wav.write_bytes(b"the user's own file")
    assert cli.main(["render", str(FUNK), "--output_dir", str(tmp_path)]) == 1
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    assert wav.read_bytes() == b"the user's own file" and not (tmp_path / f"{FUNK.stem}.png").exists()
    assert cli.main(["render", str(FUNK), "--output_dir", str(tmp_path), "--overwrite"]) == 0
    assert wav.read_bytes()[:4] == b"RIFF"


def test_missing_fluidsynth_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no fluidsynth on it
    assert cli.main(["render", str(FUNK), "--output_dir", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "FluidSynth, which is not installed; install it with: apt-get install fluidsynth timgm6mb-soundfont" in error
    assert not (tmp_path / "out").exists()


@needs_fluidsynth
@pytest.mark.parametrize("args,message", [
    (["--soundfont", "/no/such.sf2"], "soundfont /no/such.sf2 does not exist"),
    (["--sample_rate", "0"], "--sample_rate: expected a sample rate in Hz from 8000 to 96000, got '0'"),
])
def test_bad_flags_are_refused(tmp_path, capsys, args, message):
    assert cli.main(["render", str(FUNK), "--output_dir", str(tmp_path)] + args) in (1, 2)
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@needs_fluidsynth
def test_bad_midi_files_are_named(tmp_path, capsys):
    (tmp_path / "noise.mid").write_bytes(bytes(range(256)))
    assert cli.main(["render", str(tmp_path / "noise.mid"), "--output_dir", str(tmp_path)]) == 1
    assert "cannot render" in capsys.readouterr().err and not (tmp_path / "noise.wav").exists()
    assert cli.main(["render", str(tmp_path / "gone.mid"), "--output_dir", str(tmp_path)]) == 1
    assert "gone.mid does not exist" in capsys.readouterr().err
    assert cli.main(["render", str(FUNK), str(FUNK), "--output_dir", str(tmp_path)]) == 1
    assert "would both be rendered to" in capsys.readouterr().err


def test_generate_render_without_fluidsynth_fails_before_generating(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert cli.main(["generate", "--bundle_file", "unused.seqgen", "--output_dir", str(tmp_path / "out"),
                     "--render"]) == 1
    assert "apt-get install fluidsynth timgm6mb-soundfont" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@needs_fluidsynth
def test_the_soundfont_shipped_with_pretty_midi_is_a_fallback(tmp_path):
    (shipped,) = render._pretty_midi_soundfont()
    assert render.os.path.isfile(shipped)
    render.render_wav(FUNK, tmp_path / "funk.wav", shipped)
    with wave.open(str(tmp_path / "funk.wav")) as audio:
        assert audio.getnframes() > 44100 * 27
