"""Behaviour kept across moves of code: each case of ``tests/golden.py`` plays exactly the notes of the MIDI
file it wrote before the move (the same seeds give the same music)."""

import pretty_midi
import pytest

import golden


@pytest.mark.parametrize("name", sorted(golden.CASES))
def test_fixed_seeds_play_what_they_played_before(name, tmp_path):
    before = golden.notes(pretty_midi.PrettyMIDI(str(golden.GOLDEN / f"{name}.mid")))
    path = tmp_path / f"{name}.mid"
    golden.CASES[name]().write_midi(path)
    now = golden.notes(pretty_midi.PrettyMIDI(str(path)))
    assert before, f"{name}: the golden file has no notes"
    first = next((i for i, (a, b) in enumerate(zip(now, before)) if a != b), min(len(now), len(before)))
    assert now == before, f"{name}: {len(now)} notes now against {len(before)} before; first difference at {first}"
