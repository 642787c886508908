"""Property-based tests of the drums plugin's readers of user input (as tests/test_readers_fuzz.py tests the core's):
MIDI primers from damaged Groove files and primer strings give a result or a SeqgenError, quickly; a note far away
is refused before a list of millions of steps is made."""

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzzing import FAST, MIDI_FILES, SECONDS, damaged, quick, scratch_file
from seqgen import plugins
from seqgen.errors import SeqgenError

DRUM_KIT = plugins.get_config("drum_kit")


@FAST
@given(damaged(*MIDI_FILES))
@quick
def test_midi_primers(data):
    path = scratch_file(data, "primer.mid")
    try:
        primer = DRUM_KIT.tracks.primer_from_midi(path, DRUM_KIT)
    except SeqgenError:
        return
    assert primer.events and len(primer.events) % primer.steps_per_bar == 0


def test_a_note_far_away_is_refused_before_a_step_list_is_made(tmp_path):
    """One tick per quarter note at the slowest tempo: a second hit ten million ticks on would be 40 million
    steps (it once ran out of memory after half a minute)."""
    import mido

    midi = mido.MidiFile(type=0, ticks_per_beat=1)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=16_777_215, time=0)])
    for pitch, delta in ((36, 0), (38, 9_999_990)):
        track += [
            mido.Message("note_on", channel=9, note=pitch, velocity=100, time=delta),
            mido.Message("note_off", channel=9, note=pitch, velocity=0, time=1),
        ]
    midi.tracks.append(track)
    midi.save(tmp_path / "far.mid")
    started = time.monotonic()
    with pytest.raises(SeqgenError, match=r"far.mid spans \d+ steps .* more than a primer may \(100000\)"):
        DRUM_KIT.tracks.primer_from_midi(str(tmp_path / "far.mid"), DRUM_KIT)
    assert time.monotonic() - started < SECONDS


# --- primer strings ------------------------------------------------------------------------------------

PRIMER_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="[](),0123456789- ", max_size=60),
    st.recursive(
        st.integers(-200, 300).map(str) | st.sampled_from(["()", "[]", "True", "None", "'a'", "1.5"]),
        lambda inner: (
            st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
            | st.lists(inner, max_size=4).map(lambda items: "(" + ", ".join(items) + ",)")
        ),
        max_leaves=20,
    ),
    st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(1, 3000).map(lambda depth: "(" * depth + ")" * depth),
    st.integers(1, 100_000).map(lambda digits: "[(" + "9" * digits + ",)]"),
)


@FAST
@given(PRIMER_TEXT)
@quick
def test_primer_strings(text):
    try:
        events = DRUM_KIT.tracks.parse_primer(text)
    except SeqgenError as error:
        assert "\n" not in str(error)[:200]
        return
    assert events and all(all(0 <= p <= 127 for p in event) for event in events)
    assert DRUM_KIT.tracks.parse_primer(DRUM_KIT.tracks.format_events(events)) == events
