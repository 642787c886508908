"""Drum primers from MIDI files: whole songs, odd meters, tempo changes, and files that cannot work."""

import mido
import pytest

from seqgen import plugins
from seqgen.errors import SeqgenError
from support import GROOVE

TICKS = 480  # per quarter note
KICK, SNARE, HAT = 36, 38, 42


def write_midi(path, notes, tempos=((0, 120),), signatures=((0, 4, 4),)):
    """A type-1 MIDI file: a conductor track, then one track per channel used.

    ``notes``: (channel, pitch, start_tick, length_ticks); channel 9 is MIDI channel 10, the drums.
    """
    conductor = [(tick, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))) for tick, bpm in tempos]
    conductor += [(tick, mido.MetaMessage("time_signature", numerator=n, denominator=d)) for tick, n, d in signatures]
    tracks = [conductor]
    for channel in sorted({note[0] for note in notes}):
        events = [(0, mido.Message("program_change", channel=channel, program=33 if channel == 1 else 0))]
        for ch, pitch, start, length in notes:
            if ch == channel:
                events.append((start, mido.Message("note_on", channel=ch, note=pitch, velocity=90)))
                events.append((start + length, mido.Message("note_off", channel=ch, note=pitch, velocity=0)))
        tracks.append(events)
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS)
    for events in tracks:
        track = mido.MidiTrack()
        now = 0
        for tick, message in sorted(events, key=lambda e: (e[0], e[1].type == "note_on")):
            track.append(message.copy(time=tick - now))
            now = tick
        midi.tracks.append(track)
    midi.save(path)
    return str(path)


def sixteenth(step):
    return step * TICKS // 4


@pytest.fixture(scope="module")
def drum_kit():
    return plugins.get_config("drum_kit")


def test_drums_are_taken_from_a_multi_instrument_song(tmp_path, drum_kit):
    # Two bars of 4/4: kick on the beats, hi-hat on eighths, snare on 2 and 4; piano and bass around them.
    drums = [(9, KICK, sixteenth(s), 60) for s in range(0, 32, 4)]
    drums += [(9, HAT, sixteenth(s), 60) for s in range(0, 32, 2)]
    drums += [(9, SNARE, sixteenth(s), 60) for s in (4, 12, 20, 28)]
    others = [(0, 60 + i, sixteenth(4 * i), TICKS) for i in range(8)] + [(1, 40, 0, 8 * TICKS)]
    path = write_midi(tmp_path / "song.mid", drums + others)

    primer = drum_kit.tracks.primer_from_midi(path, drum_kit)

    expected = [set() for _ in range(32)]
    for _, pitch, start, _ in drums:
        expected[start * 4 // TICKS].add(pitch)
    assert primer.events == [frozenset(e) for e in expected]
    assert primer.qpm == pytest.approx(120)
    assert primer.steps_per_bar == 16 and primer.notice == ""


@pytest.mark.parametrize("numerator,denominator", [(3, 4), (6, 8)])
def test_odd_meters_count_their_own_bars(tmp_path, drum_kit, numerator, denominator):
    # Both meters are 3 quarter notes = 12 sixteenth steps per bar. The drums start in the second bar.
    steps = [14, 16, 20, 26, 35]
    path = write_midi(
        tmp_path / "odd.mid", [(9, KICK, sixteenth(s), 60) for s in steps], signatures=((0, numerator, denominator),)
    )

    primer = drum_kit.tracks.primer_from_midi(path, drum_kit)

    assert primer.steps_per_bar == 12
    # The primer is the whole bars from the one holding the first hit (step 12) to the one holding the last.
    assert len(primer.events) == 36 - 12
    assert [i + 12 for i, event in enumerate(primer.events) if event] == steps


def test_tempo_changes_keep_the_drums_on_the_beat(tmp_path, drum_kit):
    # A kick on every quarter note for four bars; the tempo drops from 120 to 75 qpm after two bars.
    path = write_midi(
        tmp_path / "slower.mid", [(9, KICK, q * TICKS, 60) for q in range(16)], tempos=((0, 120), (8 * TICKS, 75))
    )

    primer = drum_kit.tracks.primer_from_midi(path, drum_kit)

    assert [i for i, event in enumerate(primer.events) if event] == list(range(0, 64, 4))
    assert primer.qpm == pytest.approx(120)
    assert "tempo changes from 120 to 75 qpm" in primer.notice and "plays at 120 qpm" in primer.notice


def test_meter_changes_count_bars_in_the_first_meter(tmp_path, drum_kit):
    path = write_midi(
        tmp_path / "meters.mid",
        [(9, SNARE, q * TICKS, 60) for q in range(10)],
        signatures=((0, 3, 4), (6 * TICKS, 4, 4)),
    )
    primer = drum_kit.tracks.primer_from_midi(path, drum_kit)
    assert primer.steps_per_bar == 12 and len(primer.events) == 48
    assert "meter changes after 3/4" in primer.notice


def test_a_song_without_drums_says_where_drums_must_be(tmp_path, drum_kit):
    path = write_midi(tmp_path / "piano.mid", [(0, 60, 0, TICKS), (0, 64, TICKS, TICKS)])
    with pytest.raises(SeqgenError, match=r"has no drums: drums must be on MIDI channel 10 \(it has 2 notes"):
        drum_kit.tracks.primer_from_midi(path, drum_kit)


def test_an_empty_song_says_it_has_no_notes(tmp_path, drum_kit):
    path = write_midi(tmp_path / "empty.mid", [])
    with pytest.raises(SeqgenError, match="no notes at all"):
        drum_kit.tracks.primer_from_midi(path, drum_kit)


def groove_file(name):
    return GROOVE / "drummer1" / name


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.write_bytes(b""),
        lambda p: p.write_bytes(bytes(range(256)) * 4),
        lambda p: p.write_text("this is a text file renamed to .mid\n"),
        lambda p: p.write_bytes(groove_file("eval_session/1_funk-groove1_138_beat_4-4.mid").read_bytes()[:200]),
    ],
    ids=["empty", "random", "text", "truncated"],
)
def test_corrupt_files_are_named_in_a_clear_error(tmp_path, drum_kit, make):
    path = tmp_path / "bad.mid"
    make(path)
    with pytest.raises(SeqgenError, match=r"cannot read primer MIDI file .*bad\.mid: not a valid MIDI file"):
        drum_kit.tracks.primer_from_midi(str(path), drum_kit)


def test_a_missing_file_is_a_clear_error(tmp_path, drum_kit):
    with pytest.raises(SeqgenError, match="does not exist"):
        drum_kit.tracks.primer_from_midi(str(tmp_path / "nowhere.mid"), drum_kit)


def test_real_groove_files_in_three_four_and_four_four(drum_kit):
    waltz = drum_kit.tracks.primer_from_midi(str(groove_file("session2/4_jazz_120_beat_3-4.mid")), drum_kit)
    assert waltz.steps_per_bar == 12 and waltz.qpm == pytest.approx(120)
    funk = drum_kit.tracks.primer_from_midi(str(groove_file("eval_session/1_funk-groove1_138_beat_4-4.mid")), drum_kit)
    assert funk.steps_per_bar == 16 and funk.qpm == pytest.approx(138, abs=0.01)
    # Groove's 27.9 s at 138 qpm is 64 quarter notes: 256 steps.
    assert len(funk.events) == 256 and funk.events[0] == {36, 51, 55}


@pytest.mark.parametrize("config_id", ["drum_kit", "one_drum"])
def test_a_written_track_reads_back_as_the_same_primer(tmp_path, config_id):
    from seqgen.noteseq import midi_io

    config = plugins.get_config(config_id)
    # Four bars of drum_kit (16 steps a bar), eight of one_drum (8); the trailing silence comes back too.
    events = (
        [
            frozenset({36, 42}),
            frozenset(),
            frozenset({42}),
            frozenset({38, 42, 49}),
            frozenset(),
            frozenset(),
            frozenset({36}),
            frozenset({46}),
        ]
        * 7
        + [frozenset({39})]
        + [frozenset()] * 7
    )
    path = str(tmp_path / "track.mid")
    midi_io.note_sequence_to_midi_file(config.tracks.to_note_sequence(events, config.steps_per_quarter, 96), path)
    primer = config.tracks.primer_from_midi(path, config)
    assert primer.events == events and primer.qpm == pytest.approx(96)


def test_generate_continues_a_song_primer_at_its_tempo(tmp_path, capsys):
    from seqgen import bundle, cli
    from seqgen.families.events_rnn import inference

    config = plugins.get_config("drum_kit").with_hparams("rnn_layer_sizes=[16],attn_length=0")
    bundle.save(tmp_path / "tiny.seqgen", config, inference.random_weights(config, seed=1))
    drums = [(9, KICK, q * TICKS, 60) for q in range(8)] + [(9, SNARE, q * TICKS, 60) for q in (1, 3, 5, 7)]
    song = write_midi(
        tmp_path / "song.mid",
        drums + [(0, 60, 0, 8 * TICKS)],
        tempos=((0, 90), (4 * TICKS, 100)),
        signatures=((0, 4, 4),),
    )
    args = [
        "generate",
        "--bundle_file",
        str(tmp_path / "tiny.seqgen"),
        "--output_dir",
        str(tmp_path / "out"),
        "--num_outputs",
        "1",
        "--num_steps",
        "64",
        "--seed",
        "1",
        "--primer_midi",
        song,
    ]
    assert cli.main(args) == 0
    assert "tempo changes from 90 to 100 qpm" in capsys.readouterr().out
    (midi,) = (tmp_path / "out").glob("*.mid")
    primer = config.tracks.primer_from_midi(str(midi), config)
    assert primer.qpm == pytest.approx(90) and len(primer.events) == 64
    assert primer.events[:32] == config.tracks.primer_from_midi(song, config).events

    piano = write_midi(tmp_path / "piano.mid", [(0, 60, 0, TICKS)])
    assert cli.main(args[:-1] + [piano]) == 1
    assert "drums must be on MIDI channel 10" in capsys.readouterr().err
