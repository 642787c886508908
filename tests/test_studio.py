"""seqgen studio's server: every route through Starlette's TestClient, with the shipped model generating."""

import contextlib
import io
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

import attrs
import pytest

pytest.importorskip("starlette", reason='seqgen studio needs its extra: pip install -e ".[studio]"')
httpx2 = pytest.importorskip("httpx2", reason="Starlette's TestClient needs httpx2: pip install httpx2")

import pretty_midi  # noqa: E402
import seqgen  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from support import GROOVE, MAGENTA  # noqa: E402
from seqgen import cli, loading, plugins  # noqa: E402
from seqgen.errors import SeqgenError  # noqa: E402
from seqgen.hookspecs import hookimpl  # noqa: E402
from seqgen.studio import app as studio_app, checks, grid, guard, sessions  # noqa: E402
from seqgen.studio import server as studio_server  # noqa: E402
from seqgen.tracks import GenerateOption  # noqa: E402

SHORT_MIDI = GROOVE / "drummer1" / "session1" / "103_funk_95_fill_4-4.mid"  # a one-bar fill
LONG_MIDI = GROOVE / "drummer1" / "session1" / "1_funk_80_beat_4-4.mid"  # 87 s: over 256 steps
BASE = "http://127.0.0.1"
TRAVERSALS = [
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/etc/passwd",
    "..\\..\\etc\\passwd",
    "drum_kit_gmd/../../etc/passwd",
]
PRIMER = [[0, 2], [], [2], [], [1, 2], [], [2], [], [0, 2], [], [2], [], [1, 2], [], [2], [3]]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    """A --models folder: one Magenta bundle, a groove model (which does not generate), a broken bundle,
    and things that are not bundles."""
    folder = tmp_path_factory.mktemp("models")
    shutil.copy(MAGENTA / "drum_kit_gmd_64x2_attn32_300steps.mag", folder / "small kit.mag")
    shutil.copy(loading.shipped_models()["groove_gmd"], folder / "groove.seqgen")
    (folder / "broken.seqgen").write_bytes(b"not a zip")
    (folder / "notes.txt").write_text("not a model")
    (folder / "inside.seqgen").mkdir()
    return folder


@pytest.fixture(scope="module")
def client(models_dir):
    with TestClient(studio_app.create_app(str(models_dir)), base_url=BASE) as client:
        yield client


def fresh_client():
    return TestClient(studio_app.create_app(), base_url=BASE)


def generate(client, **fields):
    body = {"model": "drum_kit_gmd", "new_steps": 16, "num_outputs": 2, "seed": 3, "cells": PRIMER} | fields
    return client.post("/api/generate", json=body)


def upload(client, data: bytes, model="drum_kit_gmd"):
    """POST a dropped MIDI file, as the page does."""
    return client.post("/api/primer", params={"model": model}, content=data, headers={"content-type": "audio/midi"})


def midi_steps(data: bytes, num_steps: int, qpm=120.0, steps_per_quarter=4) -> list:
    """The pitches starting at each step of a MIDI file; fails on notes off the grid or past ``num_steps``."""
    seconds = 60.0 / qpm / steps_per_quarter
    steps = [set() for _ in range(num_steps)]
    for note in pretty_midi.PrettyMIDI(io.BytesIO(data)).instruments[0].notes:
        step = round(note.start / seconds)
        assert abs(note.start - step * seconds) < 1e-3 and step < num_steps, (note, num_steps)
        steps[step].add(note.pitch)
    return steps


def as_pitches(cells, rows) -> list:
    return [{rows[r][1][0] for r in step} for step in cells]


# The page


def test_the_page_and_its_files_are_served_and_load_nothing_from_elsewhere(client):
    page = client.get("/")
    assert page.status_code == 200 and "<title>seqgen studio</title>" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    style = client.get("/static/app.css")
    assert style.status_code == 200 and len(style.text) > 1000 and not re.search(r"https?://|//cdn|@import", style.text)
    assert not re.search(r"https?://", page.text)


def test_the_pages_modules_are_served_as_javascript_and_import_only_each_other(client):
    """A browser runs a module script only when it comes as JavaScript; every module the page's one script
    imports, and what they import, is served, and every script in static/ is reached."""
    scripts = re.findall(r'<script([^>]*) src="/static/([\w.]+)"', client.get("/").text)
    assert scripts == [(' type="module"', "main.js")]
    reached, waiting = set(), ["main.js"]
    while waiting:
        name = waiting.pop()
        reached.add(name)
        found = client.get(f"/static/{name}")
        assert found.status_code == 200 and found.headers["content-type"].startswith("text/javascript"), name
        assert not re.search(r"https?://|//cdn|import\(", found.text), name
        imports = re.findall(r'^import .* from "([^"]+)";$', found.text, re.M)
        assert all(re.fullmatch(r"\./[a-z]+\.js", path) for path in imports), (name, imports)
        waiting += [path[2:] for path in imports if path[2:] not in reached]
    static = pathlib.Path(studio_app.STATIC)
    assert reached == {path.name for path in static.glob("*.js")}


def test_requests_for_another_host_name_are_refused():
    """A loopback server answers only loopback names (no DNS rebinding); --host 0.0.0.0 answers any name."""
    with fresh_client() as client:
        assert client.get("/api/models", headers={"host": "evil.example"}).status_code == 400
        assert client.get("/api/models", headers={"host": "localhost:8765"}).status_code == 200
    with TestClient(studio_app.create_app(host="0.0.0.0"), base_url="http://studio.lan") as client:
        assert client.get("/api/models").status_code == 200


# Models


def test_models_lists_the_shipped_models_that_generate_then_the_bundles_of_the_models_folder(client):
    """Only models that generate: not the shipped groove model, nor the folder's groove or broken bundle."""
    assert "groove_gmd" in loading.shipped_models()  # shipped, but it humanizes: not in the list
    found = client.get("/api/models").json()
    shipped = [m["id"] for m in found["models"] if m["shipped"]]
    assert set(shipped) == {name for name in loading.shipped_models() if seqgen.load(name).family.generative}
    default = next(config for config in plugins.configs().values() if config.default)
    assert loading.shipped_models()[shipped[0]] == default.default_bundle  # seqgen generate's default first
    assert [m["id"] for m in found["models"]] == [*shipped, "small kit.mag"] and "groove_gmd" not in shipped
    assert found["limits"]["steps"] == checks.MAX_STEPS and found["limits"]["work"] == checks.MAX_WORK
    assert found["wav"] == (shutil.which("fluidsynth") is not None)


def test_a_model_describes_its_grid_default_primer_and_the_switches_its_plugin_declares(client):
    found = client.get("/api/models/drum_kit_gmd").json()
    assert found["config"] == "drum_kit" and found["steps_per_quarter"] == 4
    assert [row["label"] for row in found["rows"]] == [
        "Bass Drum",
        "Acoustic Snare",
        "Closed Hi Hat",
        "Open Hi Hat",
        "Low Tom",
        "Hi-Mid Tom",
        "High Tom",
        "Crash Cymbal",
        "Ride Cymbal",
    ]
    assert found["rows"][0] == {"label": "Bass Drum", "pitches": [36, 35], "drum": True}
    assert found["default_primer"] == {"text": "[(36,)]", "cells": [[0]]}
    assert found["summary"].startswith("Makes drum tracks on 9 sounds (Bass Drum, Acoustic Snare,")
    assert [(o["flag"], o["label"], o["unavailable"]) for o in found["options"]] == [("--humanize", "Humanize", "")]
    small = client.get("/api/models/small kit.mag").json()
    assert small["config"] == "drum_kit" and len(small["rows"]) == 9


def test_a_broken_bundle_and_an_unknown_model_get_one_line_errors(client):
    for name in ("broken.seqgen", "groove.seqgen", "nope"):
        unknown = client.get(f"/api/models/{name}")
        assert unknown.status_code == 404
        assert unknown.json()["error"].startswith(f"no model {name!r}; choose one of ")
        assert unknown.json()["error"].endswith(", small kit.mag")
    assert generate(client, model="groove.seqgen").status_code == 404
    assert client.get("/api/models/notes.txt").status_code == 404
    assert client.get("/api/models/inside.seqgen").status_code == 404


def test_grid_rows_come_from_the_tracks_when_the_plugin_describes_them():
    drum_kit = plugins.get_config("drum_kit")

    class TwoRowTracks(type(drum_kit.tracks)):
        def grid_rows(self, config):
            return [("low", (36, 35)), ("high", (42,))]

    config = attrs.evolve(drum_kit, tracks=TwoRowTracks())
    rows = grid.rows(config)
    assert rows == [("low", (36, 35)), ("high", (42,))]
    assert grid.events_to_cells([frozenset({35, 42}), frozenset(), frozenset({38})], rows) == [[0, 1], [], []]
    assert grid.cells_to_events([[0, 1], []], rows) == [frozenset({36, 42}), frozenset()]
    with pytest.raises(SeqgenError, match="primer step 1 must be a list of row numbers from 0 to 1"):
        grid.cells_to_events([[0], [2]], rows)


# Generating and downloading


def test_generate_continues_the_drawn_primer_and_the_midi_downloads_match(client):
    answer = generate(client, new_steps=32, num_outputs=3)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    rows = grid.rows(plugins.get_config("drum_kit"))
    assert len(results) == 3 and len({r["id"] for r in results}) == 3
    for result in results:
        assert result["steps"] == 48 and result["primer_steps"] == 16 and len(result["cells"]) == 48
        assert result["cells"][:16] == PRIMER
        midi = client.get(f"/api/files/{result['id']}.mid")
        assert midi.status_code == 200 and midi.headers["content-type"] == "audio/midi"
        assert 'filename="drum_kit_gmd_' in midi.headers["content-disposition"]
        assert midi_steps(midi.content, 48) == as_pitches(result["cells"], rows)
        expected = [
            (step, pitch, 100)
            for step, pitches in enumerate(as_pitches(result["cells"], rows))
            for pitch in sorted(pitches)
        ]
        assert [(round(start / 0.125), pitch, velocity) for start, _, pitch, velocity, _ in result["notes"]] == expected
    assert [r["cells"] for r in results] != [results[0]["cells"]] * 3


def test_the_same_seed_gives_the_same_tracks_and_text_primers_and_beam_search_work(client):
    first, again = (generate(client, seed=11).json()["results"] for _ in range(2))
    assert [r["text"] for r in first] == [r["text"] for r in again]
    assert generate(client, seed=12).json()["results"][0]["text"] != first[0]["text"]
    text = generate(
        client,
        cells=None,
        primer="[(36, 42), (), (42,)]",
        beam_size=2,
        branch_factor=2,
        steps_per_iteration=4,
        qpm=90.5,
        new_steps=29,
    ).json()["results"]
    assert all(r["text"].startswith("[(36, 42), (), (42,), ") and r["steps"] == 32 for r in text)
    default = generate(client, cells=None).json()["results"]
    assert all(r["cells"][0] == [0] for r in default)
    midi = client.get(f"/api/files/{text[0]['id']}.mid").content
    assert pretty_midi.PrettyMIDI(io.BytesIO(midi)).get_tempo_changes()[1][0] == pytest.approx(90.5)


def test_humanize_gives_every_generated_hit_a_velocity_and_timing(client):
    """Ticking humanize is seqgen generate --humanize: the drums plugin's shipped groove model plays the hits."""
    plain = generate(client, seed=8, num_outputs=2).json()["results"]
    played = generate(client, seed=8, num_outputs=2, options=["--humanize"]).json()["results"]
    assert [r["cells"] for r in played] == [r["cells"] for r in plain]
    assert [r["text"] for r in played] == [r["text"] for r in plain]
    notes = [note for result in played for note in result["notes"]]
    assert len({velocity for _, _, _, velocity, _ in notes}) > 10
    offsets = [start / 0.125 - round(start / 0.125) for start, *_ in notes]
    assert max(map(abs, offsets)) <= 0.5 and sum(abs(o) > 0.01 for o in offsets) > len(notes) / 2
    midi = pretty_midi.PrettyMIDI(io.BytesIO(client.get(f"/api/files/{played[0]['id']}.mid").content))
    ticks = 440  # per second: 220 a quarter at 120 qpm; MIDI files keep onsets in ticks
    written = sorted((n.pitch, n.velocity, midi.time_to_tick(n.start)) for n in midi.instruments[0].notes)
    shown = sorted((pitch, velocity, start * ticks) for start, _, pitch, velocity, _ in played[0]["notes"])
    assert [n[:2] for n in written] == [n[:2] for n in shown]
    assert [n[2] for n in written] == pytest.approx([n[2] for n in shown], abs=1.0)


def test_a_generated_track_from_a_models_folder_bundle(client):
    answer = generate(client, model="small kit.mag", num_outputs=1)
    assert answer.status_code == 200 and answer.json()["results"][0]["cells"][:16] == PRIMER


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"new_steps": 0}, "Steps to generate must be a whole number from 1 to 1023, got 0"),
        ({"new_steps": 1024}, "Steps to generate must be a whole number from 1 to 1023"),
        ({"new_steps": "lots"}, "Steps to generate must be a whole number from 1 to 1023, got lots"),
        ({"new_steps": 12.5}, "Steps to generate must be a whole number"),
        (
            {"new_steps": 1010},
            "the primer (16 steps) and Steps to generate (1010) make 1026 steps; the studio makes "
            "takes of at most 1024",
        ),
        ({"num_outputs": 33}, "Takes must be a whole number from 1 to 32"),
        ({"num_outputs": True}, "Takes must be a whole number"),
        ({"temperature": 0}, "Temperature must be a number from 0.1 to 10, got 0"),
        ({"temperature": 1e-300}, "Temperature must be a number from 0.1 to 10"),
        ({"temperature": "hot"}, "Temperature must be a number"),
        ({"seed": -1}, "Seed must be a whole number from 0"),
        ({"beam_size": 17}, "Beam width must be a whole number from 1 to 16"),
        ({"branch_factor": 0}, "Branches must be a whole number from 1 to 16"),
        ({"qpm": 1000}, "Tempo (BPM) must be a number from 20 to 400"),
        ({"qpm": 19.5}, "Tempo (BPM) must be a number from 20 to 400"),
        (
            {"num_outputs": 32, "beam_size": 16, "branch_factor": 2},
            "Takes x Beam width x Branches is 1024; the studio allows at most 512",
        ),
        ({"cells": [[0], [9]]}, "primer step 1 must be a list of row numbers from 0 to 8, got [9]"),
        ({"cells": []}, "primer cells must be a non-empty list"),
        ({"cells": "[[0]]"}, "primer cells must be a non-empty list"),
        ({"cells": None, "primer": "[(36,"}, "malformed drum primer"),
        ({"primer": "[(36,)]"}, "give the primer as text or as cells, not both"),
        ({"qpm": None}, "Tempo (BPM) must be a number from 20 to 400, got nothing"),
        ({"options": "--humanize"}, "options must be a list of the flags of the model's switches"),
        ({"options": ["--swing"]}, "drum_kit_gmd has no switch '--swing'; its switches: --humanize"),
        ({"volume": 11}, "unknown field 'volume'"),
        ({"model": 7}, "model must be the id of a model"),
    ],
)
def test_bad_values_get_400_and_a_one_line_message(client, fields, message):
    answer = generate(client, **fields)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert message in error and "\n" not in error and "Traceback" not in error


def test_a_body_that_is_not_a_json_object_is_refused(client):
    for body in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        answer = client.post("/api/generate", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 400 and "must be a JSON object" in answer.json()["error"]
    huge = client.post(
        "/api/generate", content=b" " * (checks.MAX_JSON + 1), headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413 and "larger than 256 KiB" in huge.json()["error"]


def test_two_generate_requests_at_once_get_the_same_tracks_as_one_after_the_other(client):
    """Worker threads generate together, each with its own copy of the model (steppers keep scratch)."""
    fields = [dict(seed=seed, new_steps=240, num_outputs=8) for seed in (21, 22)]
    expected = [[r["text"] for r in generate(client, **f).json()["results"]] for f in fields]
    for _ in range(3):
        answers, barrier = [None, None], threading.Barrier(2)

        def ask(i):
            barrier.wait()
            answers[i] = generate(client, **fields[i])

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert [[r["text"] for r in a.json()["results"]] for a in answers] == expected


# Primers from MIDI files


def test_a_dropped_midi_file_becomes_a_primer_in_whole_bars(client):
    answer = upload(client, SHORT_MIDI.read_bytes())
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["steps"] == 16 and found["steps_per_bar"] == 16 and found["qpm"] == pytest.approx(95, rel=1e-4)
    assert found["text"].startswith("[(36,), (42,), (37,), (44,)") and found["notice"] == ""
    assert found["cells"][:4] == [[0], [2], [1], [2]] and len(found["cells"]) == 16
    long = upload(client, LONG_MIDI.read_bytes()).json()
    assert long["steps"] == 256 and re.fullmatch(r"kept the first 16 bars of \d+", long["notice"])


def test_a_dropped_file_that_is_not_usable_gets_a_one_line_error_without_server_paths(client, tmp_path):
    junk = upload(client, b"MThd but not really")
    assert junk.status_code == 400
    assert junk.json()["error"].startswith("cannot read the dropped MIDI file: not a valid MIDI file")
    piano = pretty_midi.PrettyMIDI()
    piano.instruments.append(pretty_midi.Instrument(0))
    piano.instruments[0].notes.append(pretty_midi.Note(velocity=90, pitch=60, start=0, end=1))
    piano.write(str(tmp_path / "piano.mid"))
    no_drums = upload(client, (tmp_path / "piano.mid").read_bytes())
    assert no_drums.status_code == 400 and no_drums.json()["error"].startswith("the dropped MIDI file has no drums")
    empty = upload(client, b"")
    assert empty.status_code == 400 and "the upload is empty" in empty.json()["error"]
    assert "tmp" not in junk.text + no_drums.text


def test_an_oversized_upload_is_refused_with_or_without_a_length(client):
    big = b"\0" * (checks.MAX_UPLOAD + 1)
    answer = upload(client, big)
    assert answer.status_code == 413 and "larger than 1024 KiB" in answer.json()["error"]

    def chunks():  # no content-length: the server counts as it reads
        for _ in range(17):
            yield b"\0" * 65536

    streamed = upload(client, chunks())
    assert streamed.status_code == 413


def test_uploads_leave_no_file_behind(client):
    upload(client, SHORT_MIDI.read_bytes())
    upload(client, b"junk")
    studio = client.app.state.studio
    for session in studio._sessions.values():
        assert not [name for name in os.listdir(session.folder) if name.startswith("upload-")]


# Paths from requests


@pytest.mark.parametrize("attempt", TRAVERSALS)
def test_traversal_attempts_reach_no_file(client, attempt):
    generated = generate(client).json()["results"][0]["id"]
    answers = [
        client.get(f"/api/models/{attempt}"),
        upload(client, SHORT_MIDI.read_bytes(), attempt),
        generate(client, model=attempt),
        client.get(f"/api/files/{attempt}"),
        client.get(f"/api/files/{generated}.mid/{attempt}"),
        client.get(f"/api/files/{attempt}{generated}.mid"),
        client.get(f"/static/{attempt}"),
        client.get("/static/..%2F..%2Fstudio%2Fapp.py"),
    ]
    for answer in answers:
        assert answer.status_code in (400, 404), (answer.request.url, answer.status_code)
        assert "root:" not in answer.text and "import" not in answer.text


def test_files_of_another_session_or_never_made_cannot_be_downloaded(client):
    result = generate(client).json()["results"][0]["id"]
    assert client.get(f"/api/files/{result}.mid").status_code == 200
    stranger = TestClient(client.app, base_url=BASE)  # another browser of the same running server
    answer = stranger.get(f"/api/files/{result}.mid")
    assert answer.status_code == 404 and "no results yet" in answer.json()["error"]
    stranger.cookies.set(sessions.COOKIE, "0" * 32)
    assert stranger.get(f"/api/files/{result}.mid").status_code == 404
    for name in ("0123456789abcdef.mid", f"{result}.png", f"{result}.MID", f"{result[:-1]}.mid"):
        assert client.get(f"/api/files/{name}").status_code == 404


def test_a_session_keeps_its_newest_results_only(client, monkeypatch):
    monkeypatch.setattr(sessions, "MAX_RESULTS", 2)
    results = generate(client, num_outputs=3).json()["results"]
    assert client.get(f"/api/files/{results[0]['id']}.mid").status_code == 404
    assert all(client.get(f"/api/files/{r['id']}.mid").status_code == 200 for r in results[1:])
    folder = client.app.state.studio._sessions[client.cookies[sessions.COOKIE]].folder
    assert sorted(os.listdir(folder)) == sorted(f"{r['id']}.mid" for r in results[1:])


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="WAV downloads need FluidSynth")
def test_a_wav_is_rendered_on_first_download(client):
    result = generate(client, num_outputs=1).json()["results"][0]
    wav = client.get(f"/api/files/{result['id']}.wav")
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF" and wav.headers["content-type"] == "audio/wav"
    assert len(wav.content) > 44100 * 2 * 2 * 15 // 16  # 32 steps at 120 qpm: 4 s of 16-bit stereo, and a tail


def test_a_bug_is_answered_with_one_line_and_status_500(monkeypatch):
    def broken(config):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(grid, "rows", broken)  # a fault injected where every request passes
    with TestClient(studio_app.create_app(), base_url=BASE, raise_server_exceptions=False) as client:
        answer = client.get("/api/models/drum_kit_gmd")
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "the studio failed (ZeroDivisionError: division by zero); see the terminal running seqgen studio"
    }


def test_the_studio_never_imports_tensorflow():
    code = (
        "import sys; from starlette.testclient import TestClient; from seqgen.studio.app import create_app\n"
        "with TestClient(create_app(), base_url='http://127.0.0.1') as c:\n"
        "    c.get('/api/models/drum_kit_gmd').raise_for_status()\n"
        "    c.post('/api/generate', json={'model': 'drum_kit_gmd', 'new_steps': 16, 'options': ['--humanize']})"
        ".raise_for_status()\n"
        "    c.post('/api/primer?model=drum_kit_gmd', content=open(sys.argv[1], 'rb').read(),\n"
        "           headers={'content-type': 'audio/midi'}).raise_for_status()\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'"
    )
    subprocess.run([sys.executable, "-c", code, str(SHORT_MIDI)], check=True, timeout=120)


# The command


def test_the_command_explains_what_keeps_it_from_starting(capsys, tmp_path):
    assert cli.main(["studio", "--models", str(tmp_path / "missing")]) == 1
    assert capsys.readouterr().err.strip() == (
        f"seqgen studio: error: --models {tmp_path / 'missing'} is not a "
        f"folder; give the folder holding .seqgen or .mag bundles"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["studio", "--port", str(port)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"seqgen studio: error: cannot listen on 127.0.0.1:{port}: ") and "\n" not in err
    assert cli.main(["studio", "--port", "70000"]) == 2
    assert "expected a port number from 0 to 65535, got '70000'" in capsys.readouterr().err


# Plugins declare what the studio shows


def test_the_studio_names_no_plugin_option_or_encoding():
    """The grid rows and switches come from the plugins (Tracks.grid_rows, the generate_options hook)."""
    folder = pathlib.Path(studio_app.__file__).parent
    for path in [*folder.glob("*.py"), *folder.glob("static/*")]:
        assert not re.search(r"humanize|drum_type_pitches", path.read_text(), re.I), path.name


class LouderPlugin:
    """A plugin declaring a switch, as a third-party plugin would: the studio shows it and passes its flag."""

    seen = []

    @hookimpl
    def generate_options(self, model):
        return [GenerateOption("--louder", "Louder", "plays every hit at full velocity")]

    @hookimpl
    def extend_command(self, name, parser):
        if name == "generate":
            parser.add_argument("--louder", action="store_true")

    @hookimpl
    def postprocess_tracks(self, args, model, tracks):
        self.seen.append(args.louder)


def test_a_switch_a_plugin_declares_is_shown_and_its_flag_reaches_the_plugin():
    plugins.register(LouderPlugin(), "louder")
    try:
        with fresh_client() as client:
            options = client.get("/api/models/drum_kit_gmd").json()["options"]
            assert [(o["flag"], o["label"]) for o in options] == [("--humanize", "Humanize"), ("--louder", "Louder")]
            assert generate(client, options=["--louder"]).status_code == 200
            assert generate(client).status_code == 200
    finally:
        plugins.unregister("louder")
    assert LouderPlugin.seen == [True, False]


# Clips: a take as the page plays it


def test_a_clip_carries_painted_velocities_swing_and_timing_into_its_midi(client):
    body = {
        "model": "drum_kit_gmd",
        "qpm": 100,
        "swing": 62.5,
        "steps": 16,
        "hits": [[0, 0, 30, 0], [1, 2, 127, 0], [4, 1, 90, -0.25], [4, 2, 64, 0]],
    }
    answer = client.post("/api/clip", json=body)
    assert answer.status_code == 200, answer.text
    again = client.post("/api/clip", json=body).json()
    assert again == answer.json()  # the same take is the same file
    midi = client.get(f"/api/files/{answer.json()['id']}.mid")
    assert midi.status_code == 200 and "_take_" in midi.headers["content-disposition"]
    step = 60 / 100 / 4
    notes = sorted(
        (round(n.start / step, 3), n.pitch, n.velocity)
        for n in pretty_midi.PrettyMIDI(io.BytesIO(midi.content)).instruments[0].notes
    )
    assert notes == [(0, 36, 30), (1.25, 42, 127), (3.75, 38, 90), (4, 42, 64)]  # step 1 swung by a quarter step
    for bad, message in [
        ({"hits": [[16, 0, 100, 0]]}, "each hit must be [step 0-15, row 0-8, Velocity 1-127"),
        ({"hits": [[0, 0, 0, 0]]}, "Velocity 1-127"),
        ({"swing": 80}, "Swing (%) must be a number from 50 to 75"),
        ({"hits": [[0, 0, 100, 0]] * 145}, "hits must be a list of at most 144"),
    ]:
        refused = client.post("/api/clip", json=body | bad)
        assert refused.status_code == 400 and message in refused.json()["error"], refused.text


# Other web pages, careless clients and heavy requests

EVIL = "http://evil.example"
FORM_BODY = '{"model": "drum_kit_gmd", "new_steps": 16, "pad": "="}'  # what enctype=text/plain posts


def test_a_cross_origin_form_post_and_a_no_cors_request_change_nothing():
    with fresh_client() as client:
        studio = client.app.state.studio
        attempts = [
            # <form enctype="text/plain" method="post" action="http://127.0.0.1:8765/api/generate"> on another site
            (
                "/api/generate",
                FORM_BODY,
                {
                    "content-type": "text/plain",
                    "origin": EVIL,
                    "sec-fetch-site": "cross-site",
                    "sec-fetch-mode": "navigate",
                },
            ),
            # fetch(url, {mode: "no-cors", method: "POST", body}) from another site
            (
                "/api/generate",
                FORM_BODY,
                {
                    "content-type": "text/plain;charset=UTF-8",
                    "origin": EVIL,
                    "sec-fetch-site": "cross-site",
                    "sec-fetch-mode": "no-cors",
                },
            ),
            # another web app on this machine (another port is the same site, not the same origin)
            (
                "/api/generate",
                FORM_BODY,
                {"content-type": "application/json", "origin": "http://127.0.0.1:3000", "sec-fetch-site": "same-site"},
            ),
            # a browser that sends Origin but no Sec-Fetch-* headers
            ("/api/generate", FORM_BODY, {"content-type": "application/json", "origin": EVIL}),
            ("/api/clip", FORM_BODY, {"content-type": "application/json", "origin": "null"}),
            (
                "/api/primer?model=drum_kit_gmd",
                SHORT_MIDI.read_bytes(),
                {"content-type": "multipart/form-data; boundary=x", "origin": EVIL, "sec-fetch-site": "cross-site"},
            ),
        ]
        for path, body, headers in attempts:
            answer = client.post(path, content=body, headers=headers)
            assert answer.status_code == 403 and "cannot change anything here" in answer.json()["error"], headers
            assert "set-cookie" not in answer.headers
        # Without Origin and Sec-Fetch-* (an old browser's form), a form's content type is refused.
        for path, kind in [
            ("/api/generate", "text/plain"),
            ("/api/generate", "application/x-www-form-urlencoded"),
            ("/api/primer?model=drum_kit_gmd", "multipart/form-data; boundary=x"),
        ]:
            answer = client.post(path, content=FORM_BODY, headers={"content-type": kind})
            assert answer.status_code == 415 and "send this as " in answer.json()["error"]
        assert studio.counts["steps"] == 0 and not studio._sessions  # nothing generated, no session made
        page = {"content-type": "application/json", "origin": BASE, "sec-fetch-site": "same-origin"}
        same = client.post("/api/generate", content=FORM_BODY.replace(', "pad": "="', ""), headers=page)
        assert same.status_code == 200
        assert studio.counts["steps"] == 16


@pytest.mark.parametrize("path", ["/", "/static/main.js", "/api/models", "/api/files/nothing.mid", "/nowhere"])
def test_every_answer_refuses_to_be_framed(client, path):
    headers = client.get(path).headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"


def test_a_deeply_nested_body_is_a_400_and_brackets_in_text_are_not_nesting(client):
    nested = '{"model": "drum_kit_gmd", "cells": ' + "[" * 100_000 + "]" * 100_000 + "}"
    answer = client.post("/api/generate", content=nested, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "the request nests deeper than 6 levels; the studio sends no such thing"
    text = generate(client, cells=None, primer="[" * 20 + "(36,)" + "]" * 20)
    assert text.status_code == 400 and "malformed drum primer" in text.json()["error"]


def test_a_request_over_the_compute_budget_is_a_400_naming_the_limit(client):
    """The request that took 105 s and 4.2 GB (2 outputs, beam 16, branch 16, 512 steps) is refused at once."""
    answer = generate(client, num_outputs=2, beam_size=16, branch_factor=16, new_steps=496)
    assert answer.status_code == 400
    assert answer.json()["error"] == (
        "Takes x Beam width x Branches x Steps to generate is 2 x 16 x 16 x 496 = "
        "253952, over the studio's limit of 16384 per Generate; lower one of them"
    )
    largest = generate(client, num_outputs=16, new_steps=checks.MAX_WORK // 16 - 16, seed=1)
    assert largest.status_code == 200 and len(largest.json()["results"]) == 16


def test_a_cookieless_flood_leaves_a_users_results_downloadable(monkeypatch):
    monkeypatch.setattr(sessions, "MAX_SESSIONS", 8)
    with fresh_client() as user:
        mine = generate(user, num_outputs=1).json()["results"][0]["id"]
        flood = [generate(TestClient(user.app, base_url=BASE), new_steps=1, num_outputs=1) for _ in range(64)]
        assert [answer.status_code for answer in flood] == [200] * 7 + [503] * 57
        assert flood[-1].json()["error"] == (
            "the studio is keeping the results of 8 other browsers for 1 hour after their last use; try again later"
        )
        assert user.get(f"/api/files/{mine}.mid").status_code == 200
        assert generate(user, num_outputs=1).status_code == 200  # the user goes on working
        monkeypatch.setattr(sessions, "SESSION_KEEP", 0.0)  # an hour later, idle sessions make room
        assert generate(TestClient(user.app, base_url=BASE), new_steps=1, num_outputs=1).status_code == 200


def test_links_out_of_the_models_folder_are_not_listed(tmp_path):
    outside, folder = tmp_path / "outside", tmp_path / "models"
    outside.mkdir()
    folder.mkdir()
    shutil.copy(MAGENTA / "drum_kit_gmd_64x2_attn32_300steps.mag", outside / "secret.mag")
    shutil.copy(MAGENTA / "drum_kit_gmd_64x2_attn32_300steps.mag", folder / "kit.mag")
    (folder / "linked out.mag").symlink_to(outside / "secret.mag")
    (folder / "up.mag").symlink_to("../outside/secret.mag")
    (folder / "linked in.mag").symlink_to(folder / "kit.mag")
    (folder / "dir.seqgen").symlink_to(outside, target_is_directory=True)
    with TestClient(studio_app.create_app(str(folder)), base_url=BASE) as client:
        listed = [m["id"] for m in client.get("/api/models").json()["models"] if not m["shipped"]]
        assert listed == ["kit.mag", "linked in.mag"]
        for name in ("linked out.mag", "up.mag", "dir.seqgen"):
            assert client.get(f"/api/models/{name}").status_code == 404
            assert generate(client, model=name).status_code == 404


def meter_and_tempo_midi(path, numerator: int, qpm: float, seconds: float):
    midi = pretty_midi.PrettyMIDI(initial_tempo=qpm)
    midi.time_signature_changes.append(pretty_midi.TimeSignature(numerator, 4, 0.0))
    drums = pretty_midi.Instrument(0, is_drum=True)
    beat = 60 / qpm
    drums.notes = [pretty_midi.Note(100, 36, t * beat / 2, t * beat / 2 + 0.05) for t in range(int(seconds / beat * 2))]
    midi.instruments.append(drums)
    midi.write(str(path))
    return path.read_bytes()


def test_midi_primers_keep_the_step_cap_and_the_tempo_range(client, tmp_path):
    """A bar longer than the cap is cut at the cap; a tempo outside the page's range is clamped, and the
    next Generate with it works."""
    long_bars = upload(client, meter_and_tempo_midi(tmp_path / "a.mid", 67, 300, 120)).json()
    assert long_bars["steps"] == checks.MAX_PRIMER_FROM_MIDI and long_bars["steps_per_bar"] == 268
    assert "kept the first 256 steps of" in long_bars["notice"]
    slow = upload(client, meter_and_tempo_midi(tmp_path / "b.mid", 4, 8, 60)).json()
    fast = upload(client, meter_and_tempo_midi(tmp_path / "c.mid", 4, 900, 10)).json()
    assert (slow["qpm"], fast["qpm"]) == (20, 400)
    assert "its tempo 900 BPM is outside 20-400: playing at 400" in fast["notice"]
    for found in (long_bars, slow, fast):
        assert len(found["cells"]) <= checks.MAX_PRIMER_FROM_MIDI
        answer = generate(client, cells=found["cells"], qpm=found["qpm"], new_steps=16, num_outputs=1)
        assert answer.status_code == 200, answer.text


def test_errors_are_cut_to_one_short_line(client):
    primer = "[" + ", ".join(["(36, 42)"] * 25_000) + ", (36"  # a 250 KB primer with a typo at the end
    answer = generate(client, cells=None, primer=primer)
    error = answer.json()["error"]
    assert answer.status_code == 400 and error.startswith("malformed drum primer '[(36, 42), (36, 42)")
    assert len(error) <= studio_app.MAX_ERROR and error.endswith("…") and "\n" not in error


# A real server: disconnects and slow bodies


@contextlib.contextmanager
def serving(app):
    """The base address of ``app`` served by uvicorn as ``seqgen studio`` configures it, in a thread."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(studio_server.config(app, host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="module")
def live():
    """``(base address, app)``: the studio app served by uvicorn in a thread of this process."""
    app = studio_app.create_app()
    with serving(app) as address:
        yield address, app


def raw_request(address: str, head: str, body: bytes = b"") -> socket.socket:
    host, port = address.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
    return sock


def wait_for(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_an_abandoned_request_stops_computing_and_the_next_one_is_served(live):
    address, app = live
    studio = app.state.studio
    body = json.dumps({"model": "drum_kit_transformer_gmd", "num_outputs": 16, "new_steps": 1008}).encode()
    sock = raw_request(
        address,
        f"POST /api/generate HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\nContent-Length: {len(body)}\n",
        body,
    )
    before = studio.counts["steps"]
    wait_for(lambda: studio.counts["steps"] > before + 5, 60)  # it is generating
    sock.close()
    wait_for(lambda: studio.counts["cancelled"] == 1, 10)
    stopped = studio.counts["steps"]
    time.sleep(1.0)
    assert studio.counts["steps"] - before < 1008 and studio.counts["steps"] - stopped <= 1  # it stopped
    started = time.monotonic()
    answer = httpx2.post(f"{address}/api/generate", json={"model": "drum_kit_gmd", "new_steps": 16}, timeout=30)
    assert answer.status_code == 200 and time.monotonic() - started < 10


def test_a_body_that_never_arrives_is_refused_in_time(live, monkeypatch):
    monkeypatch.setattr(guard, "READ_TIMEOUT", 0.5)
    address, app = live
    started = time.monotonic()
    sock = raw_request(
        address,
        "POST /api/generate HTTP/1.1\nHost: 127.0.0.1\nContent-Type: application/json\nContent-Length: 1000\n",
        b'{"model": ',
    )
    with sock:
        answer = b"".join(iter(lambda: sock.recv(65536), b"")).decode()
    assert answer.startswith("HTTP/1.1 408 ") and "did not arrive within 0.5 s" in answer
    assert time.monotonic() - started < 5


def test_bodies_made_to_be_slow_to_check_are_answered_at_once(client):
    """Escaped quotes, wide and deep-but-allowed bodies near the size limit are checked in linear time."""
    bodies = [
        '{"model": "drum_kit_gmd", "primer": "' + '\\"' * 120_000 + '"}',
        '{"model": "drum_kit_gmd", "cells": [' + ", ".join(["[[[[1]]]]"] * 20_000) + "]}",
        '{"model": "drum_kit_gmd", "x": "' + "[" * 200_000 + '"}',
    ]
    for body in bodies:
        started = time.monotonic()
        answer = client.post("/api/generate", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 400 and time.monotonic() - started < 5, answer.text


def test_a_request_head_that_never_ends_is_cut_off(live, monkeypatch):
    monkeypatch.setattr(studio_server, "HEAD_TIMEOUT", 0.5)
    address, app = live
    host, port = address.removeprefix("http://").split(":")
    for head in (b"", b"GET /api/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "):  # nothing, half a head
        started = time.monotonic()
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(head)
            assert sock.recv(65536) == b""  # closed by the server
        assert time.monotonic() - started < 5
    with raw_request(address, "GET /api/models HTTP/1.1\nHost: 127.0.0.1\n") as sock:  # a whole head is answered
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


# Steering and infilling (models with controls; any generative model infills)

STEERED = "drum_kit_control_gmd"


def test_controls_are_listed_and_steer_a_model_that_has_them(client):
    found = client.get(f"/api/models/{STEERED}").json()
    assert [(c["name"], c["kind"]) for c in found["controls"]] == [
        ("style", "category"),
        ("fill", "category"),
        ("tempo", "number"),
        ("density", "number"),
    ]
    assert "funk" in found["controls"][0]["values"] and found["infill_rows"] is True
    assert client.get("/api/models/drum_kit_gmd").json()["controls"] == []
    sparse, busy = (
        generate(
            client, model=STEERED, new_steps=48, controls={"style": "funk", "fill": "no", "density": density}, seed=4
        )
        for density in (4, 42)
    )
    assert sparse.status_code == busy.status_code == 200, sparse.text
    assert [r["cells"] for r in sparse.json()["results"]] != [r["cells"] for r in busy.json()["results"]]
    for fields, message in [
        ({"model": STEERED, "controls": {"style": "polka"}}, "control style has no value 'polka'"),
        ({"controls": {"style": "funk"}}, "unknown control 'style'; this model's controls are: none"),
        ({"controls": "funk"}, "controls must map a control's name to a value"),
    ]:
        answer = generate(client, **fields)
        assert answer.status_code == 400 and message in answer.json()["error"], answer.text


def infill(client, **fields):
    return client.post("/api/infill", json={"model": "drum_kit_gmd", "num_outputs": 2, "seed": 2} | fields)


def test_infilling_regenerates_only_the_chosen_bars_and_rows_of_a_take(client):
    take = generate(client, new_steps=32, num_outputs=1).json()["results"][0]["cells"]
    for model in ("drum_kit_gmd", STEERED):  # sampling and rescoring; filling in the middle
        answer = infill(client, model=model, cells=take, bars=[2, 2], rows=[2])
        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
        assert len(results) == 2 and all(len(r["cells"]) == 48 for r in results)
        for result in results:
            assert result["cells"][:16] == take[:16] and result["cells"][32:] == take[32:]
            assert [[r for r in step if r != 2] for step in result["cells"][16:32]] == [
                [r for r in step if r != 2] for step in take[16:32]
            ]
        whole = infill(client, model=model, cells=take, bars=[2, 2]).json()["results"]
        assert all(r["cells"][:16] == take[:16] and r["cells"][32:] == take[32:] for r in whole)
    for fields, message in [
        ({"bars": [1, 3]}, "that selects the whole track"),
        ({"bars": [4, 4]}, "outside the track, which has 3 bars"),
        ({"bars": "2"}, "Bars must be the first and last bar to regenerate"),
        ({"rows": [9]}, "rows must be row numbers from 0 to 8"),
        ({"cells": [[]] * 1024, "num_outputs": 32}, "over the studio's limit of 16384"),
    ]:
        answer = infill(client, **({"cells": take, "bars": [2, 2]} | fields))
        assert answer.status_code == 400 and message in answer.json()["error"], answer.text


def test_connections_beyond_the_limit_are_answered_503(monkeypatch):
    monkeypatch.setattr(studio_server, "MAX_CONNECTIONS", 2)
    with serving(studio_app.create_app()) as address:
        idle = [raw_request(address, "GET / HTTP/1.1\nHost: 127.0.0.1\nX-Half: ") for _ in range(2)]
        try:
            time.sleep(0.2)
            answer = httpx2.get(f"{address}/api/models", timeout=30)
            assert answer.status_code == 503
        finally:
            for sock in idle:
                sock.close()
        wait_for(lambda: httpx2.get(f"{address}/api/models", timeout=30).status_code == 200, 10)


# Tapped rhythms played by a model a plugin offers (the rhythm_models hook; the drums plugin's Drumify)

TAPS = [0.0, 0.5, 0.75, 1.0, 1.5, 1.75]  # seconds at 120 BPM: steps 0, 4, 6, 8, 12, 14


def drumify(client, **fields):
    body = {"model": "drumify_gmd", "times": TAPS, "qpm": 120, "seed": 5} | fields
    return client.post("/api/rhythm", json=body)


def test_tapped_rhythms_become_a_take_whose_drums_follow_the_taps(client):
    assert client.get("/api/models").json()["rhythm_models"] == ["drumify_gmd"]
    answer = drumify(client)
    assert answer.status_code == 200, answer.text
    [take] = answer.json()["results"]
    onsets = sorted({round(start / 0.125, 3) for start, *_ in take["notes"]})
    assert onsets and all(abs(onset - round(onset)) <= 0.5 for onset in onsets)
    assert {round(onset) for onset in onsets} == {0, 4, 6, 8, 12, 14}  # a drum on every tap, none elsewhere
    assert all(drum for *_, drum in take["notes"])
    assert take["steps"] == 16
    data = client.get(f"/api/files/{take['id']}.mid").content
    played = pretty_midi.PrettyMIDI(io.BytesIO(data)).instruments[0]
    assert played.is_drum and len(played.notes) == len(take["notes"])
    assert drumify(client).json()["results"][0]["notes"] == take["notes"]  # the same seed, the same take


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"times": []}, "there are no taps; tap a rhythm first (press T, or click the pad)"),
        ({"times": [0.0] * 513}, "513 taps are more than the studio takes (512); tap a shorter rhythm"),
        ({"times": [0.0, 61.0]}, "tap times must be seconds from the first tap, from 0 to 60; tap a shorter rhythm"),
        ({"times": [0.0, "1"]}, "tap times must be seconds from the first tap, from 0 to 60; tap a shorter rhythm"),
        ({"velocities": [100]}, "velocities must be one whole number from 1 to 127 per tap"),
        ({"qpm": 1000}, "Tempo (BPM) must be a number from 20 to 400, got 1000"),
        ({"steps": 3}, "unknown field 'steps'; known: model, qpm, seed, temperature, times, velocities"),
    ],
)
def test_bad_taps_get_one_line(client, fields, error):
    answer = drumify(client, **fields)
    assert (answer.status_code, answer.json()) == (400, {"error": error})


def test_tapped_rhythms_need_an_offered_model_same_origin_and_json(client):
    answer = drumify(client, model="drum_kit_gmd")
    assert answer.status_code == 404
    assert answer.json()["error"] == "no model 'drum_kit_gmd' plays to taps here; choose one of drumify_gmd"
    answer = client.post(
        "/api/rhythm", json={"model": "drumify_gmd", "times": TAPS}, headers={"origin": "https://evil.example"}
    )
    assert answer.status_code == 403
    answer = client.post(
        "/api/rhythm",
        content=json.dumps({"model": "drumify_gmd", "times": TAPS}),
        headers={"content-type": "text/plain"},
    )
    assert answer.status_code == 415


def test_a_dropped_midi_file_gives_taps_that_become_a_take(client):
    """A MIDI file's onsets (every note, the loudest of each moment) are the taps, at its tempo."""
    midi = pretty_midi.PrettyMIDI(str(SHORT_MIDI))
    starts = sorted({round(note.start, 4) for instrument in midi.instruments for note in instrument.notes})
    answer = client.post("/api/taps", content=SHORT_MIDI.read_bytes(), headers={"content-type": "audio/midi"})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["times"], found["qpm"], found["notice"]) == (starts, 95.0, "")
    assert found["velocities"][0] == max(
        note.velocity
        for instrument in midi.instruments
        for note in instrument.notes
        if round(note.start, 4) == starts[0]
    )
    [take] = drumify(client, times=found["times"], velocities=found["velocities"], qpm=found["qpm"]).json()["results"]
    step = 60 / 95 / 4
    assert {round(start / step) for start, *_ in take["notes"]} <= {round(time / step) for time in found["times"]}


def test_a_dropped_file_without_notes_or_not_midi_gets_one_line(client):
    silent = pretty_midi.PrettyMIDI()
    silent.instruments.append(pretty_midi.Instrument(0))
    data = io.BytesIO()
    silent.write(data)
    for body, error in [
        (data.getvalue(), "the dropped MIDI file has no notes; drop a file with the rhythm to play to"),
        (b"MThd but not really", "the dropped MIDI file is not a valid MIDI file"),
        (b"", "the upload is empty; drop a MIDI file"),
    ]:
        answer = client.post("/api/taps", content=body, headers={"content-type": "audio/midi"})
        assert answer.status_code == 400 and answer.json()["error"].startswith(error)
    assert (
        client.post(
            "/api/taps",
            content=SHORT_MIDI.read_bytes(),
            headers={"content-type": "audio/midi", "origin": "https://evil.example"},
        ).status_code
        == 403
    )
    long = client.post("/api/taps", content=LONG_MIDI.read_bytes(), headers={"content-type": "audio/midi"}).json()
    assert re.fullmatch(r"kept the first \d+ onsets of \d+", long["notice"])
    assert 0 < len(long["times"]) <= 512 and max(long["times"]) <= 60


class TapPlugin:
    """A plugin offering a model that plays to taps, as a third-party plugin would: a kick on every tap."""

    @hookimpl
    def rhythm_models(self):
        return {"kick_on_taps": self.kicks}

    @staticmethod
    def kicks(times, velocities, qpm, temperature, seed):
        from seqgen.model import Track

        if len(times) > 3:
            raise SeqgenError("kick_on_taps takes at most 3 taps")
        steps = {round(time * qpm / 15) for time in times}
        return Track(
            [frozenset({36} if step in steps else ()) for step in range(16)], plugins.configs()["drum_kit"], qpm
        )


def test_a_model_a_plugin_offers_for_taps_is_listed_and_plays_them():
    plugins.register(TapPlugin(), "taps")
    try:
        with fresh_client() as client:
            assert client.get("/api/models").json()["rhythm_models"] == ["drumify_gmd", "kick_on_taps"]
            answer = client.post("/api/rhythm", json={"model": "kick_on_taps", "times": [0, 0.5, 1.25], "qpm": 120})
            [take] = answer.json()["results"]
            assert [(round(start / 0.125), pitch) for start, _, pitch, *_ in take["notes"]] == [
                (0, 36),
                (4, 36),
                (10, 36),
            ]
            answer = client.post("/api/rhythm", json={"model": "kick_on_taps", "times": [0, 0.1, 0.2, 0.3]})
            assert (answer.status_code, answer.json()) == (400, {"error": "kick_on_taps takes at most 3 taps"})
    finally:
        plugins.unregister("taps")


LIVE = {"model": "drum_kit_control_gmd", "qpm": 240, "midi": False, "osc": "127.0.0.1:9"}


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"midi": False, "osc": ""}, "choose where the notes go: the MIDI port, an OSC host:port, or both"),
        ({"osc": "127.0.0.1"}, "OSC: expected HOST:PORT, e.g. 127.0.0.1:9000, got '127.0.0.1'"),
        ({"osc": "127.0.0.1:0"}, "OSC: expected a port from 1 to 65535 after the host, got '127.0.0.1:0'"),
        (
            {"osc": "no-such-host.invalid:9"},
            "--osc host 'no-such-host.invalid' does not resolve to an address; give a host "
            "name or an IP address, e.g. --osc 127.0.0.1:9",
        ),
        ({"qpm": 500}, "Tempo (BPM) must be a number from 20 to 400, got 500"),
        ({"midi": "yes"}, "midi must be true or false, osc a host:port of at most 300 characters"),
        ({"controls": {"density": 99}}, "control density takes a number from 0 to 64, got 99"),
        ({"bars": 4}, "unknown field 'bars'; known: controls, midi, model, osc, qpm"),
    ],
)
def test_bad_live_starts_get_one_line_and_nothing_plays(client, fields, error):
    answer = client.post("/api/live/start", json=LIVE | fields)
    assert (answer.status_code, answer.json()) == (400, {"error": error})
    assert client.get("/api/live").json()["playing"] is False


def test_the_live_panel_starts_is_steered_and_stops_through_the_api(client):
    assert client.post("/api/live/steer", json={"controls": {"density": 8}}).json() == {
        "error": "nothing is playing; press Start first"
    }
    started = client.post("/api/live/start", json=LIVE | {"controls": {"density": 8}}).json()
    assert started["playing"] and started["to"] == ["OSC 127.0.0.1:9"] and started["bpm"] == 240
    try:
        answer = client.post("/api/live/steer", json={"controls": {"density": 64, "fill": "yes"}})
        assert answer.status_code == 200 and answer.json()["playing"]
        answer = client.post("/api/live/steer", json={"controls": {"loudness": 3}})
        assert answer.json() == {
            "error": "unknown control 'loudness'; this model's controls are: style, fill, tempo, density"
        }
        assert client.post("/api/live/steer", json={"density": 3}).status_code == 400
        assert client.post("/api/live/start", json=LIVE, headers={"origin": "https://evil.example"}).status_code == 403
        deadline = time.monotonic() + 10
        while client.get("/api/live").json()["bars"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stopped = client.post("/api/live/stop", json={}).json()
    assert not stopped["playing"] and stopped["bars"] >= 2 and not stopped["error"]
