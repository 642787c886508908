"""docs/plugins.md, "Recipe: your own encoding on the transformer": the plugin file, its commands (on the Groove
slice) and its Python session run as written, the session printing what the page shows."""

import contextlib
import importlib
import io
import re
import shlex
import sys

import pytest

from seqgen import plugins
from seqgen.cli import main
from support import REPO, read_steps

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out


def _recipe():
    """(the plugin module's source, the seqgen commands as argument lists, the Python session's blocks)."""
    text = (REPO / "docs" / "plugins.md").read_text()
    section = text.split("## Recipe: your own encoding", 1)[1].split("\n## ", 1)[0]
    module, *session = re.findall(r"```python\n(.*?)```", section, re.S)
    lines = [
        line
        for block in re.findall(r"```sh\n(.*?)```", section, re.S)
        for line in block.replace("\\\n", " ").splitlines()
    ]
    return module, [shlex.split(line)[1:] for line in lines if line.startswith("seqgen ")], session


def test_the_recipe_builds_data_trains_generates_with_a_control_and_infills(tmp_path, monkeypatch):
    module, commands, session = _recipe()
    assert module.startswith("# my_line.py\n") and session
    assert [command[0] for command in commands] == ["convert", "create_dataset", "train", "generate"]
    (tmp_path / "my_line.py").write_text(module)
    (tmp_path / "tests" / "data").mkdir(parents=True)
    (tmp_path / "tests" / "data" / "groove").symlink_to(REPO / "tests" / "data" / "groove")  # the repo's root
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    my_line = importlib.import_module("my_line")
    plugins.register(my_line, "my_line")  # what the entry point does once the package is installed
    try:
        for command in commands:
            assert main(command) == 0, command
        for block in session:
            expected = [line[2:] for line in block.splitlines() if line.startswith("# ")]
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(block, "docs/plugins.md", "exec"), {})
            assert printed.getvalue().splitlines() == expected, block
    finally:
        plugins.unregister("my_line")
        sys.modules.pop("my_line", None)
    records = tmp_path / "lines" / "training_top_lines.tfrecord"
    assert records.stat().st_size > 0
    assert sorted((tmp_path / "line_run" / "train").glob("ckpt-150.index"))
    takes = sorted((tmp_path / "line_takes").glob("*.mid"))
    assert len(takes) == 2
    for take in takes + [tmp_path / "line.mid"]:
        steps, _ = read_steps(take)
        assert steps  # notes were written
