"""README.md, read as a newcomer does: the API example, the commands table and the install names."""

import contextlib
import io
import re
import tomllib

from support import REPO
from seqgen import DISTRIBUTION, plugins

README = (REPO / "README.md").read_text()


def test_the_api_example_runs_twice_in_the_same_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (block,) = re.findall(r"## Python API\n\n```python\n(.*?)```", README, re.S)
    outputs = []
    for _ in range(2):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(block, "README.md", "exec"), {})
        outputs.append(printed.getvalue())
    assert outputs[0] == outputs[1] and float(outputs[0])
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"drums_{i}.mid" for i in range(4)]


def test_the_commands_table_lists_every_command():
    section = README.split("## Commands", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `seqgen (\w+)", section, re.M)
    assert sorted(set(listed)) == sorted(plugins.commands())


def test_every_install_hint_names_a_distribution_free_of_other_projects():
    core = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    drums = tomllib.loads((REPO / "plugins" / "drums" / "pyproject.toml").read_text())["project"]
    assert core["name"] == DISTRIBUTION == "seqgen-music" and drums["name"] == "seqgen-music-drums"
    assert any(dependency.startswith("seqgen-music>") for dependency in drums["dependencies"])
    assert plugins.distribution("seqgen") == DISTRIBUTION
    # `seqgen` and `seqgen-drums` on the Python Package Index are not ours: no hint may name them.
    stale = re.compile(r"pip install[^\n`#&]*?(?<![\w./-])['\"]?(seqgen(\[\w+\])?|seqgen-drums)(?![\w-])")
    checked = [
        path
        for pattern in (
            "seqgen/**/*.py",
            "plugins/**/*.py",
            "docs/*.md",
            "*.md",
            "plugins/*/*.md",
            "examples/**/*.md",
            "scripts/*",
        )
        for path in REPO.glob(pattern)
    ]
    assert len(checked) > 50
    offenders = [
        f"{path.relative_to(REPO)}: {match.group(0)}" for path in checked for match in stale.finditer(path.read_text())
    ]
    assert not offenders
