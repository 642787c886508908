"""docs/user-guide.md, "Make a song": its song, loop and vary commands run as written (on a take of the Groove
slice for my_take.mid) and write what the section says."""

import re
import shlex
import shutil

import mido
import pytest

from groove_slice import FUNK
from seqgen.cli import main
from support import GROOVE, REPO, read_steps

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out


def _section_commands():
    text = (REPO / "docs" / "user-guide.md").read_text()
    section = text.split("## 7. Make a song", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("seqgen ")]


def test_the_song_loop_and_vary_commands_run_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(GROOVE / FUNK, tmp_path / "my_take.mid")
    commands = _section_commands()
    assert [c[0] for c in commands] == ["song", "generate", "vary"]
    for command in commands:
        assert main(command) == 0, command
    songs = sorted((tmp_path / "songs").glob("*.mid"))
    assert len(songs) == 2
    for path in songs:
        midi = mido.MidiFile(path)
        markers = [m.text for m in midi.tracks[0] if m.type == "marker"]
        assert markers == ["intro", "verse", "chorus", "verse", "chorus", "outro"]
        assert abs(midi.length - 40 * 4 * 60 / 100) < 1e-3  # 40 bars at the tempo control's 100 qpm
    loops = sorted((tmp_path / "loops").glob("*.mid"))
    assert len(loops) == 4
    steps, _ = read_steps(loops[0])
    events = [frozenset(steps.get(t, ())) for t in range(128)]
    assert events[:32] == events[32:64] == events[64:96] == events[96:]
    assert len(list((tmp_path / "variations").glob("*.mid"))) == 4
