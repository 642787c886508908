"""How the bad-input tests (tests/test_bad_input.py, plugins/drums/tests/test_drums_bad_input.py) run a case: in a
folder holding sentinel files, a bad value must give one line on stderr, a non-zero exit code, and change nothing.

A case's command names kinds of bad input by placeholders:

- files of every kind, good and bad: ``{song}`` (a Groove MIDI file), ``{truncated_mid}``, ``{empty}``,
  ``{text}``, ``{records}`` (seqgen training records), ``{wide_records}`` (records of classes up to 17),
  ``{truncated_records}``, ``{notesequences}``, ``{bundle}`` (a .seqgen bundle), ``{truncated_bundle}``, ``{mag}``,
  ``{truncated_mag}``, ``{text_mag}``; folders ``{midi_dir}``, ``{bad_midi_dir}`` (only unreadable MIDI files),
  ``{empty_dir}``, ``{run}`` (a run dir without checkpoints, where the test makes one), ``{missing}`` (nothing
  there);
- places to write: ``{out}`` (an existing folder with sentinels in it: keep.txt, song.wav,
  training_toy_tracks.tfrecord), ``{file}`` (an existing file: a file where a folder is meant), ``{under_file}``
  (a path below a regular file) and ``{readonly}`` (a path below a folder no one may write).
"""

import os
import pathlib
import re
import shlex

from groove_slice import FUNK
from support import GROOVE, MAGENTA


def write_inputs(root, bundle: bytes, classes: list):
    """The files and folders the cases read, in ``root``: ``bundle`` is the model's bytes, ``classes`` a track of
    the records."""
    from seqgen import convert, records

    song = (GROOVE / FUNK).read_bytes()
    mag = (MAGENTA / "one_drum_gmd_128x2_300steps.mag").read_bytes()
    files = {
        "song.mid": song,
        "truncated.mid": song[: len(song) // 2],
        "empty": b"",
        "notes.txt": b"these are not drums\n",
        "model.seqgen": bundle,
        "truncated.seqgen": bundle[: len(bundle) // 2],
        "one_drum.mag": mag,
        "truncated.mag": mag[: len(mag) // 2],
        "text.mag": b"not a bundle\n",
        "midi_dir/song.mid": song,
        "bad_midi_dir/truncated.mid": song[:100],
        "bad_midi_dir/empty.mid": b"",
        "bad_midi_dir/notes.mid": b"not midi\n",
    }
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    (root / "empty_dir").mkdir()
    records.write_class_records(root / "train.tfrecord", [classes * 4] * 4)
    records.write_class_records(root / "wide.tfrecord", [[0, 1, 2, 5, 9, 17, 0, 1] * 4] * 4)
    content = (root / "train.tfrecord").read_bytes()
    (root / "truncated.tfrecord").write_bytes(content[: len(content) - 7])
    convert.convert_directory(root / "midi_dir", root / "ns.tfrecord", workers=1)
    return root


def places(inputs, work):
    readonly = work / "readonly"
    readonly.mkdir()
    (readonly / "keep.txt").write_text("keep me\n")
    if os.geteuid() == 0:  # root writes anywhere it may chmod: use a folder of a read-only file system
        readonly = pathlib.Path("/sys")
    else:
        readonly.chmod(0o555)
    out = work / "out"
    out.mkdir()
    for name in ("keep.txt", "song.wav", "training_toy_tracks.tfrecord"):
        (out / name).write_text(f"{name}: the user's own file\n")
    (work / "keep.txt").write_text("keep me\n")
    return {
        "song": inputs / "song.mid",
        "truncated_mid": inputs / "truncated.mid",
        "empty": inputs / "empty",
        "text": inputs / "notes.txt",
        "records": inputs / "train.tfrecord",
        "wide_records": inputs / "wide.tfrecord",
        "truncated_records": inputs / "truncated.tfrecord",
        "notesequences": inputs / "ns.tfrecord",
        "bundle": inputs / "model.seqgen",
        "truncated_bundle": inputs / "truncated.seqgen",
        "mag": inputs / "one_drum.mag",
        "truncated_mag": inputs / "truncated.mag",
        "text_mag": inputs / "text.mag",
        "midi_dir": inputs / "midi_dir",
        "bad_midi_dir": inputs / "bad_midi_dir",
        "empty_dir": inputs / "empty_dir",
        "run": inputs / "run",
        "missing": work / "missing.mid",
        "out": out,
        "new": work / "new",
        "file": work / "keep.txt",
        "under_file": work / "keep.txt" / "sub",
        "readonly": readonly / "seqgen_test",
    }


def snapshot(*folders) -> dict:
    found = {}
    for folder in folders:
        for root, _, names in os.walk(folder):
            for name in names:
                path = os.path.join(root, name)
                with open(path, "rb") as stream:
                    found[path] = stream.read()
    return found


def argv(command: str, places: dict) -> list:
    return shlex.split(command.format(**{name: str(path) for name, path in places.items()}))


def check(code, err, expected, before, after):
    lines = err.strip().splitlines()
    assert code not in (0, None), err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert re.search(expected, lines[0]), lines[0]
    assert after == before, "files changed: " + ", ".join(
        sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    )


def run_in_process(command, expected, inputs, tmp_path, capsys, monkeypatch):
    """Run one case through ``seqgen.cli.main`` and check it."""
    from seqgen import cli

    work = tmp_path / "work"
    work.mkdir()
    found = places(inputs, work)
    monkeypatch.chdir(work)
    before = snapshot(inputs, work)
    code = cli.main(argv(command, found))
    _, err = capsys.readouterr()
    check(code, err, expected, before, snapshot(inputs, work))
