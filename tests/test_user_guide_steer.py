"""docs/user-guide.md, "Steer, and regenerate only what you want": its generate and infill commands run as
written (on a take of the Groove slice for my_take.mid) and keep what they say they keep."""

import re
import shlex
import shutil

import numpy as np

from support import GROOVE, REPO
from groove_slice import FUNK
from seqgen.cli import main


def _section_commands():
    text = (REPO / "docs" / "user-guide.md").read_text()
    section = text.split("## 5. Steer, and regenerate only what you want", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    lines = [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith(("seqgen generate", "seqgen infill"))]


def test_the_steering_and_infilling_commands_run_as_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(GROOVE / FUNK, tmp_path / "my_take.mid")
    commands = _section_commands()
    assert [c[0] for c in commands] == ["generate", "generate", "infill", "infill", "infill"]
    for command in commands:
        assert main(command) == 0, command
    assert len(list((tmp_path / "steered").glob("*.mid"))) == 4
    takes = sorted((tmp_path / "takes").glob("*.mid"))
    assert len(takes) == 8
    import seqgen

    model = seqgen.load("drum_kit_control_gmd")
    config = model.config
    original = config.tracks.primer_from_midi(str(tmp_path / "my_take.mid"), config).events
    first = config.tracks.primer_from_midi(str(takes[0]), config).events  # bars 3 regenerated
    assert first[:32] == original[:32] and first[48:] == original[48:]
    classes = [
        config.encoding.events_to_classes(config.tracks.primer_from_midi(str(p), config).events) for p in takes[4:6]
    ]  # hi-hats of bars 1-4 regenerated: other drums kept everywhere
    kept = ~np.int64((1 << 2) | (1 << 3)) & 511
    for c in classes:
        assert np.array_equal(c & kept, config.encoding.events_to_classes(original) & kept)
