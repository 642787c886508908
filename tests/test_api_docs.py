"""docs/api.md: every Python example runs, and prints what the page says it prints."""

import contextlib
import io
import re

import pytest

from support import REPO

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out

BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def test_every_example_of_the_api_page_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    blocks = BLOCK.findall((REPO / "docs" / "api.md").read_text())
    assert len(blocks) >= 5
    for block in blocks:
        expected = [line[2:] for line in block.splitlines() if line.startswith("# ")]
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(block, "docs/api.md", "exec"), namespace)
        assert printed.getvalue().splitlines() == expected, block
    assert (tmp_path / "groove.mid").is_file() and (tmp_path / "my_drums.seqgen").is_file()
