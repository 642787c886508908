"""seqgen studio's server: every route through Starlette's TestClient, with the shipped model generating."""

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import threading

import attrs
import pytest

pytest.importorskip("starlette", reason='seqgen studio needs its extra: pip install -e ".[studio]"')
pytest.importorskip("httpx2", reason="Starlette's TestClient needs httpx2: pip install httpx2")

import pretty_midi  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from conftest import GROOVE, MAGENTA  # noqa: E402
from seqgen import cli, loading, plugins  # noqa: E402
from seqgen.errors import SeqgenError  # noqa: E402
from seqgen.studio import app as studio_app, grid  # noqa: E402

SHORT_MIDI = GROOVE / "drummer1" / "session1" / "103_funk_95_fill_4-4.mid"  # a one-bar fill
LONG_MIDI = GROOVE / "drummer1" / "session1" / "1_funk_80_beat_4-4.mid"  # 87 s: over 256 steps
BASE = "http://127.0.0.1"
TRAVERSALS = ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/etc/passwd",
              "..\\..\\etc\\passwd", "drum_kit_gmd/../../etc/passwd"]
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
    body = {"model": "drum_kit_gmd", "num_steps": 32, "num_outputs": 2, "seed": 3, "cells": PRIMER} | fields
    return client.post("/api/generate", json=body)


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
    for name in ("app.js", "app.css"):
        found = client.get(f"/static/{name}")
        assert found.status_code == 200 and len(found.text) > 1000
        assert not re.search(r"https?://|//cdn|@import", found.text), name
    assert not re.search(r"https?://", page.text)


def test_requests_for_another_host_name_are_refused():
    """A loopback server answers only loopback names (no DNS rebinding); --host 0.0.0.0 answers any name."""
    with fresh_client() as client:
        assert client.get("/api/models", headers={"host": "evil.example"}).status_code == 400
        assert client.get("/api/models", headers={"host": "localhost:8765"}).status_code == 200
    with TestClient(studio_app.create_app(host="0.0.0.0"), base_url="http://studio.lan") as client:
        assert client.get("/api/models").status_code == 200


# Models


def test_models_lists_the_shipped_models_that_generate_then_the_bundles_of_the_models_folder(client):
    assert "groove_gmd" in loading.shipped_models()  # shipped, but it humanizes: not in the list
    found = client.get("/api/models").json()
    assert [m["id"] for m in found["models"]] == [
        "drum_kit_transformer_gmd", "drum_kit_gmd", "broken.seqgen", "groove.seqgen", "small kit.mag"]
    assert found["models"][1]["shipped"] and not found["models"][2]["shipped"]
    assert found["limits"]["num_steps"] == studio_app.MAX_STEPS
    assert found["wav"] == (shutil.which("fluidsynth") is not None)


def test_a_model_describes_its_grid_default_primer_and_humanize(client):
    found = client.get("/api/models/drum_kit_gmd").json()
    assert found["config"] == "drum_kit" and found["steps_per_quarter"] == 4
    assert [row["label"] for row in found["rows"]] == [
        "Bass Drum", "Acoustic Snare", "Closed Hi Hat", "Open Hi Hat", "Low Tom", "Hi-Mid Tom", "High Tom",
        "Crash Cymbal", "Ride Cymbal"]
    assert found["rows"][0] == {"label": "Bass Drum", "pitches": [36, 35], "drum": True}
    assert found["default_primer"] == {"text": "[(36,)]", "cells": [[0]]}
    assert found["humanize"] is True and found["humanize_note"] == ""  # the drums plugin's generate --humanize
    small = client.get("/api/models/small kit.mag").json()
    assert small["config"] == "drum_kit" and len(small["rows"]) == 9


def test_a_broken_bundle_and_an_unknown_model_get_one_line_errors(client):
    broken = client.get("/api/models/broken.seqgen")
    assert broken.status_code == 400 and "not a valid seqgen bundle" in broken.json()["error"]
    unknown = client.get("/api/models/nope")
    assert unknown.status_code == 404 and "choose one of drum_kit_transformer_gmd, drum_kit_gmd" in unknown.json()["error"]
    groove = client.get("/api/models/groove.seqgen")
    assert groove.status_code == 400
    assert groove.json()["error"] == ("groove.seqgen is a groove model, which does not generate tracks; "
                                      "choose another model")
    assert generate(client, model="groove.seqgen").status_code == 400
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
    answer = generate(client, num_steps=48, num_outputs=3)
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
        expected = [(step, pitch, 100) for step, pitches in enumerate(as_pitches(result["cells"], rows))
                    for pitch in sorted(pitches)]
        assert [(round(start / 0.125), pitch, velocity) for start, _, pitch, velocity, _ in result["notes"]] == expected
    assert [r["cells"] for r in results] != [results[0]["cells"]] * 3


def test_the_same_seed_gives_the_same_tracks_and_text_primers_and_beam_search_work(client):
    first, again = (generate(client, seed=11).json()["results"] for _ in range(2))
    assert [r["text"] for r in first] == [r["text"] for r in again]
    assert generate(client, seed=12).json()["results"][0]["text"] != first[0]["text"]
    text = generate(client, cells=None, primer="[(36, 42), (), (42,)]", beam_size=2, branch_factor=2,
                    steps_per_iteration=4, qpm=90.5).json()["results"]
    assert all(r["text"].startswith("[(36, 42), (), (42,), ") and r["steps"] == 32 for r in text)
    default = generate(client, cells=None).json()["results"]
    assert all(r["cells"][0] == [0] for r in default)
    midi = client.get(f"/api/files/{text[0]['id']}.mid").content
    assert pretty_midi.PrettyMIDI(io.BytesIO(midi)).get_tempo_changes()[1][0] == pytest.approx(90.5)


def test_humanize_gives_every_generated_hit_a_velocity_and_timing(client):
    """Ticking humanize is seqgen generate --humanize: the drums plugin's shipped groove model plays the hits."""
    plain = generate(client, seed=8, num_outputs=2).json()["results"]
    played = generate(client, seed=8, num_outputs=2, humanize=True).json()["results"]
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


@pytest.mark.parametrize("fields, message", [
    ({"num_steps": 0}, "num_steps must be a whole number from 1 to 1024, got 0"),
    ({"num_steps": 1025}, "num_steps must be a whole number from 1 to 1024"),
    ({"num_steps": "lots"}, "num_steps must be a whole number from 1 to 1024, got lots"),
    ({"num_steps": 12.5}, "num_steps must be a whole number"),
    ({"num_outputs": 33}, "num_outputs must be a whole number from 1 to 32"),
    ({"num_outputs": True}, "num_outputs must be a whole number"),
    ({"temperature": 0}, "temperature must be a number above 0 and at most 10"),
    ({"temperature": "hot"}, "temperature must be a number"),
    ({"seed": -1}, "seed must be a whole number from 0"),
    ({"beam_size": 17}, "beam_size must be a whole number from 1 to 16"),
    ({"branch_factor": 0}, "branch_factor must be a whole number from 1 to 16"),
    ({"qpm": 1000}, "qpm must be a number above 19 and at most 400"),
    ({"num_outputs": 32, "beam_size": 16, "branch_factor": 2}, "num_outputs x beam_size x branch_factor is 1024"),
    ({"num_steps": 8}, "the primer has 16 steps, more than num_steps 8; ask for at least 16 steps"),
    ({"cells": [[0], [9]]}, "primer step 1 must be a list of row numbers from 0 to 8, got [9]"),
    ({"cells": []}, "primer cells must be a non-empty list"),
    ({"cells": "[[0]]"}, "primer cells must be a non-empty list"),
    ({"cells": None, "primer": "[(36,"}, "malformed drum primer"),
    ({"primer": "[(36,)]"}, "give the primer as text or as cells, not both"),
    ({"qpm": None}, "qpm must be a number above 19 and at most 400, got nothing"),
    ({"humanize": "yes"}, "humanize must be true or false"),
    ({"volume": 11}, "unknown field 'volume'"),
    ({"model": 7}, "model must be the id of a model"),
])
def test_bad_values_get_400_and_a_one_line_message(client, fields, message):
    answer = generate(client, **fields)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert message in error and "\n" not in error and "Traceback" not in error


def test_a_body_that_is_not_a_json_object_is_refused(client):
    for body in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        answer = client.post("/api/generate", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 400 and "must be a JSON object" in answer.json()["error"]
    huge = client.post("/api/generate", content=b" " * (studio_app.MAX_JSON + 1))
    assert huge.status_code == 413 and "larger than 256 KiB" in huge.json()["error"]


def test_two_generate_requests_at_once_get_the_same_tracks_as_one_after_the_other(client):
    """Worker threads generate together, each with its own copy of the model (steppers keep scratch)."""
    fields = [dict(seed=seed, num_steps=256, num_outputs=8) for seed in (21, 22)]
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
    answer = client.post("/api/primer", params={"model": "drum_kit_gmd"}, content=SHORT_MIDI.read_bytes())
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["steps"] == 16 and found["steps_per_bar"] == 16 and found["qpm"] == pytest.approx(95, rel=1e-4)
    assert found["text"].startswith("[(36,), (42,), (37,), (44,)") and found["notice"] == ""
    assert found["cells"][:4] == [[0], [2], [1], [2]] and len(found["cells"]) == 16
    long = client.post("/api/primer", params={"model": "drum_kit_gmd"}, content=LONG_MIDI.read_bytes()).json()
    assert long["steps"] == 256 and re.fullmatch(r"kept the first 16 bars of \d+", long["notice"])


def test_a_dropped_file_that_is_not_usable_gets_a_one_line_error_without_server_paths(client, tmp_path):
    junk = client.post("/api/primer", params={"model": "drum_kit_gmd"}, content=b"MThd but not really")
    assert junk.status_code == 400
    assert junk.json()["error"].startswith("cannot read the dropped MIDI file: not a valid MIDI file")
    piano = pretty_midi.PrettyMIDI()
    piano.instruments.append(pretty_midi.Instrument(0))
    piano.instruments[0].notes.append(pretty_midi.Note(velocity=90, pitch=60, start=0, end=1))
    piano.write(str(tmp_path / "piano.mid"))
    no_drums = client.post("/api/primer", params={"model": "drum_kit_gmd"},
                           content=(tmp_path / "piano.mid").read_bytes())
    assert no_drums.status_code == 400 and no_drums.json()["error"].startswith("the dropped MIDI file has no drums")
    empty = client.post("/api/primer", params={"model": "drum_kit_gmd"}, content=b"")
    assert empty.status_code == 400 and "the upload is empty" in empty.json()["error"]
    assert "tmp" not in junk.text + no_drums.text


def test_an_oversized_upload_is_refused_with_or_without_a_length(client):
    big = b"\0" * (studio_app.MAX_UPLOAD + 1)
    answer = client.post("/api/primer", params={"model": "drum_kit_gmd"}, content=big)
    assert answer.status_code == 413 and "larger than 1024 KiB" in answer.json()["error"]

    def chunks():  # no content-length: the server counts as it reads
        for _ in range(17):
            yield b"\0" * 65536

    streamed = client.post("/api/primer", params={"model": "drum_kit_gmd"}, content=chunks())
    assert streamed.status_code == 413


def test_uploads_leave_no_file_behind(client):
    client.post("/api/primer", params={"model": "drum_kit_gmd"}, content=SHORT_MIDI.read_bytes())
    client.post("/api/primer", params={"model": "drum_kit_gmd"}, content=b"junk")
    studio = client.app.state.studio
    for session in studio._sessions.values():
        assert not [name for name in os.listdir(session.folder) if name.startswith("upload-")]


# Paths from requests


@pytest.mark.parametrize("attempt", TRAVERSALS)
def test_traversal_attempts_reach_no_file(client, attempt):
    generated = generate(client).json()["results"][0]["id"]
    answers = [
        client.get(f"/api/models/{attempt}"),
        client.post("/api/primer", params={"model": attempt}, content=SHORT_MIDI.read_bytes()),
        generate(client, model=attempt),
        client.get(f"/api/files/{attempt}"),
        client.get(f"/api/files/{generated}.mid/{attempt}"),
        client.get(f"/api/files/{attempt}{generated}.mid"),
        client.get(f"/static/{attempt}"),
        client.get(f"/static/..%2F..%2Fstudio%2Fapp.py"),
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
    stranger.cookies.set(studio_app.COOKIE, "0" * 32)
    assert stranger.get(f"/api/files/{result}.mid").status_code == 404
    for name in ("0123456789abcdef.mid", f"{result}.png", f"{result}.MID", f"{result[:-1]}.mid"):
        assert client.get(f"/api/files/{name}").status_code == 404


def test_a_session_keeps_its_newest_results_only(client, monkeypatch):
    monkeypatch.setattr(studio_app, "MAX_RESULTS", 2)
    results = generate(client, num_outputs=3).json()["results"]
    assert client.get(f"/api/files/{results[0]['id']}.mid").status_code == 404
    assert all(client.get(f"/api/files/{r['id']}.mid").status_code == 200 for r in results[1:])
    folder = client.app.state.studio._sessions[client.cookies[studio_app.COOKIE]].folder
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
    assert answer.json() == {"error": "the studio failed (ZeroDivisionError: division by zero); see the terminal "
                                      "running seqgen studio"}


def test_the_studio_never_imports_tensorflow():
    code = ("import sys; from starlette.testclient import TestClient; from seqgen.studio.app import create_app\n"
            "with TestClient(create_app(), base_url='http://127.0.0.1') as c:\n"
            "    c.get('/api/models/drum_kit_gmd').raise_for_status()\n"
            "    c.post('/api/generate', json={'model': 'drum_kit_gmd', 'num_steps': 16, 'humanize': True})"
            ".raise_for_status()\n"
            "    c.post('/api/primer?model=drum_kit_gmd', content=open(sys.argv[1], 'rb').read()).raise_for_status()\n"
            "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'")
    subprocess.run([sys.executable, "-c", code, str(SHORT_MIDI)], check=True, timeout=120)


# The command


def test_the_command_explains_what_keeps_it_from_starting(capsys, tmp_path):
    assert cli.main(["studio", "--models", str(tmp_path / "missing")]) == 1
    assert capsys.readouterr().err.strip() == (f"seqgen studio: error: --models {tmp_path / 'missing'} is not a "
                                               f"folder; give the folder holding .seqgen or .mag bundles")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["studio", "--port", str(port)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"seqgen studio: error: cannot listen on 127.0.0.1:{port}: ") and "\n" not in err
    assert cli.main(["studio", "--port", "70000"]) == 2
    assert "expected a port number from 0 to 65535, got '70000'" in capsys.readouterr().err
