"""A whole song's drums, loops and variations with the shipped default model (drum_kit_control_gmd: controls
style/fill/tempo/density, fills in the middle), through `seqgen song`, `seqgen generate --loop_bars`, `seqgen vary`
and the API. The mechanism on a plugin of its own is tested in tests/test_song.py."""

import os

import mido
import numpy as np
import pretty_midi
import pytest

import seqgen
from seqgen.cli import main
from seqgen_drums.events.controls import density
from support import one_blas_thread, read_steps  # noqa: F401  (one_blas_thread: autouse)

TOMS_AND_CRASH = {41, 43, 45, 47, 48, 50, 49, 52, 55, 57}
BAR = 16


@pytest.fixture(scope="module")
def model():
    return seqgen.load("drum_kit_control_gmd")


def _markers(path):
    midi = mido.MidiFile(path)
    tempo, tick, found = 500000, 0, []
    for message in midi.tracks[0]:
        tick += message.time
        if message.type == "set_tempo":
            tempo = message.tempo
        if message.type == "marker":
            found.append((message.text, mido.tick2second(tick, midi.ticks_per_beat, tempo)))
    return midi, found


def _events(path, bars):
    steps, _ = read_steps(path, qpm=100)
    return [frozenset(steps.get(t, ())) for t in range(bars * BAR)]


def test_seqgen_song_writes_whole_songs_with_markers_sections_and_fills(tmp_path, capsys):
    out = tmp_path / "songs"
    form = "intro:2 verse:4 chorus:4 verse:4 outro:2"
    assert (
        main(
            [
                "song",
                "--form",
                form,
                "--control",
                "verse:density=10",
                "--control",
                "chorus:density=24,style=funk",
                "--control",
                "tempo=100",
                "--fills",
                "yes",
                "--output_dir",
                str(out),
                "--num_outputs",
                "3",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    assert "wrote 3 songs of 16 bars (5 sections)" in capsys.readouterr().out
    paths = sorted(out.glob("*.mid"))
    assert len(paths) == 3
    step = 60 / 100 / 4  # the tempo control plays the song at 100 qpm
    firsts = [0, 2, 6, 10, 14]
    fill_bars, other_bars, verse, chorus = [], [], [], []
    for path in paths:
        midi, markers = _markers(path)
        assert [name for name, _ in markers] == ["intro", "verse", "chorus", "verse", "outro"]
        assert [round(seconds / step) for _, seconds in markers] == [bar * BAR for bar in firsts]
        assert midi.length == pytest.approx(16 * BAR * step, abs=1e-3)
        events = _events(path, 16)
        for bar in firsts:
            assert {36, 49} <= events[bar * BAR]  # each section starts with a crash and the kick
        for bar in range(16):
            hits = sum(len(event & TOMS_AND_CRASH) for event in events[bar * BAR + 1 : (bar + 1) * BAR])
            (fill_bars if bar + 1 in firsts[1:] else other_bars).append(hits)
        verse += [density(events[bar * BAR : (bar + 1) * BAR]) for bar in (2, 3, 4, 10, 11, 12)]
        chorus += [density(events[bar * BAR : (bar + 1) * BAR]) for bar in (6, 7, 8)]
    assert np.mean(fill_bars) > np.mean(other_bars)  # the fills play toms and crashes
    assert np.mean(chorus) > np.mean(verse) + 6  # each section keeps its density


def test_model_song_repeats_sections_and_humanized_songs_keep_their_markers(model, tmp_path):
    songs = model.song("verse:3 chorus:2 verse:3", controls={"chorus": {"density": 20}}, num_outputs=2, seed=3)
    for made in songs:
        assert len(made) == 8 * BAR and [name for name, _ in made.sections] == ["verse", "chorus", "verse"]
        assert made.events[BAR : 2 * BAR] == made.events[6 * BAR : 7 * BAR]  # the repeat: all but the seams' bars
    fills = {}
    for asked in (True, False):  # the same songs but their seams: fills play more toms and crashes
        made = model.song("a:2 b:2 a:2 b:2", num_outputs=6, seed=3, fills=asked)
        fills[asked] = np.mean(
            [
                sum(len(event & TOMS_AND_CRASH) for event in s.events[bar * BAR + 1 : (bar + 1) * BAR])
                for s in made
                for bar in (1, 3, 5)
            ]
        )
    assert fills[True] > fills[False] + 1
    songs[0].write_midi(tmp_path / "song.mid")
    assert [name for name, _ in _markers(tmp_path / "song.mid")[1]] == ["verse", "chorus", "verse"]
    out = tmp_path / "played"
    assert main(["song", "--form", "a:2 b:2", "--humanize", "--output_dir", str(out), "--seed", "2"]) == 0
    (path,) = out.glob("*.mid")
    midi, markers = _markers(path)
    assert [name for name, _ in markers] == ["a", "b"] and midi.length == pytest.approx(4 * 2.0, abs=1e-3)
    velocities = {
        note.velocity for instrument in pretty_midi.PrettyMIDI(str(path)).instruments for note in instrument.notes
    }
    assert len(velocities) > 3  # played, not the plain 100 of every hit


def test_seqgen_generate_loop_bars_writes_loops_repeated(tmp_path, model):
    out = tmp_path / "loops"
    assert (
        main(
            [
                "generate",
                "--loop_bars",
                "2",
                "--loop_repeats",
                "3",
                "--output_dir",
                str(out),
                "--num_outputs",
                "2",
                "--seed",
                "4",
                "--control",
                "density=16",
            ]
        )
        == 0
    )
    for path in out.glob("*.mid"):
        assert mido.MidiFile(path).length == pytest.approx(6 * BAR * 60 / 120 / 4, abs=1e-3)
        steps, _ = read_steps(path)
        events = [frozenset(steps.get(t, ())) for t in range(6 * BAR)]
        assert events[: 2 * BAR] == events[2 * BAR : 4 * BAR] == events[4 * BAR :]
    # The API: the loop's first bar is what plain generation makes, its last bar made anew to lead into it.
    plain = model.generate(num_outputs=4, num_steps=2 * BAR, seed=5)
    loops = model.loop(2, num_outputs=4, seed=5)
    assert all(p.events[:BAR] == loop.events[:BAR] for p, loop in zip(plain, loops))
    assert any(p.events[BAR:] != loop.events[BAR:] for p, loop in zip(plain, loops))


def test_seqgen_vary_keeps_the_clip_at_amount_0_and_changes_more_with_more(tmp_path, model):
    clip = model.generate(num_steps=8 * BAR, seed=6, controls={"density": 16})[0]
    clip.write_midi(tmp_path / "clip.mid")
    changed = {}
    for amount in ("0", "0.25", "0.5", "1"):
        out = tmp_path / f"vary_{amount}"
        assert (
            main(
                [
                    "vary",
                    str(tmp_path / "clip.mid"),
                    "--amount",
                    amount,
                    "--output_dir",
                    str(out),
                    "--num_outputs",
                    "3",
                    "--seed",
                    "1",
                ]
            )
            == 0
        )
        paths = sorted(out.glob("*.mid"))
        assert len(paths) == 3
        counts = []
        for path in paths:
            steps, _ = read_steps(path)
            events = [frozenset(steps.get(t, ())) for t in range(8 * BAR)]
            counts.append(
                sum(events[b * BAR : (b + 1) * BAR] != clip.events[b * BAR : (b + 1) * BAR] for b in range(8))
            )
        changed[float(amount)] = np.mean(counts)
    assert changed[0] == 0 < changed[0.25] < changed[0.5] < changed[1]
    # A new groove keeps the clip's measured density.
    new = model.vary(clip, 1.0, num_outputs=4, seed=2)
    assert abs(np.mean([density(v.events) for v in new]) - density(clip.events)) < 0.3 * density(clip.events)


def test_seqgen_vary_refuses_a_file_without_notes(tmp_path, capsys):
    empty = pretty_midi.PrettyMIDI()
    empty.instruments.append(pretty_midi.Instrument(0, is_drum=True))
    empty.write(str(tmp_path / "silent.mid"))
    out = tmp_path / "out"
    assert main(["vary", str(tmp_path / "silent.mid"), "--amount", "0.5", "--output_dir", str(out)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "silent.mid has no drums" in err and "no notes at all" in err
    assert not out.exists() or not os.listdir(out)
