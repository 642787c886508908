"""The studio's arrangement lane on the server: a song of sections, one section regenerated, its MIDI file
with the section markers, and one line per bad input."""

import io
import re

import mido
import pytest

pytest.importorskip("starlette", reason='seqgen studio needs its extra: pip install -e ".[studio]"')
pytest.importorskip("httpx2", reason="Starlette's TestClient needs httpx2: pip install httpx2")

from starlette.testclient import TestClient

from seqgen.studio import app as studio_app

STEERED = "drum_kit_control_gmd"  # takes controls (density, fill) and fills in the middle
LANE = [{"name": "intro", "bars": 2}, {"name": "verse", "bars": 2}, {"name": "chorus", "bars": 2}]
BAR = 16


@pytest.fixture(scope="module")
def client():
    with TestClient(studio_app.create_app(), base_url="http://127.0.0.1") as client:
        yield client


def song(client, **fields):
    return client.post("/api/song", json={"model": STEERED, "sections": LANE, "seed": 1} | fields)


@pytest.fixture(scope="module")
def made(client):
    answer = song(client, controls={"verse": {"density": 8}, "chorus": {"density": 30, "style": "rock"}}, fills=True)
    assert answer.status_code == 200, answer.text
    [result] = answer.json()["results"]
    return result


def markers(data: bytes) -> list:
    """``[(tick, text)]`` of the marker meta events of a MIDI file, and its length in ticks."""
    midi = mido.MidiFile(file=io.BytesIO(data))
    found, tick = [], 0
    for message in midi.tracks[0]:
        tick += message.time
        if message.type == "marker":
            found.append((tick, message.text))
    return found, max(sum(message.time for message in track) for track in midi.tracks)


def test_a_song_of_the_lanes_sections_downloads_with_a_marker_at_each_section(client, made):
    assert made["steps"] == 6 * BAR and len(made["cells"]) == 6 * BAR
    assert made["sections"] == [
        {"name": "intro", "first": 0, "bars": 2},
        {"name": "verse", "first": 32, "bars": 2},
        {"name": "chorus", "first": 64, "bars": 2},
    ]
    verse, chorus = (sum(len(step) for step in made["cells"][first : first + 2 * BAR]) for first in (32, 64))
    assert chorus > verse  # the sections' densities steer them
    download = client.get(f"/api/files/{made['id']}.mid")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith(f'attachment; filename="{STEERED}_song_')
    found, length = markers(download.content)
    quarter = mido.MidiFile(file=io.BytesIO(download.content)).ticks_per_beat
    assert found == [(0, "intro"), (8 * quarter, "verse"), (16 * quarter, "chorus")]
    assert length == 24 * quarter  # exactly the song's bars


def test_a_repeated_name_repeats_its_section(client):
    lane = [{"name": "verse", "bars": 3}, {"name": "chorus", "bars": 1}, {"name": "verse", "bars": 3}]
    answer = song(client, sections=lane, fills=False)
    assert answer.status_code == 200, answer.text
    cells = answer.json()["results"][0]["cells"]
    assert cells[BAR : 2 * BAR] == cells[5 * BAR : 6 * BAR]  # its middle bar: the bars at its seams are made anew
    assert cells[BAR : 2 * BAR] != cells[4 * BAR : 5 * BAR]


def test_regenerating_a_section_keeps_the_others_but_its_seams_and_writes_the_markers(client, made):
    body = {
        "model": STEERED,
        "sections": LANE,
        "cells": made["cells"],
        "section": 2,
        "seed": 5,
        "controls": {"verse": {"density": 8}},
    }
    answer = client.post("/api/song/section", json=body)
    assert answer.status_code == 200, answer.text
    [again] = answer.json()["results"]
    assert again["sections"] == made["sections"] and again["id"] != made["id"]
    cells = again["cells"]
    # Kept: the intro but its last bar and the chorus but its first (the new verse's seams, made anew).
    assert cells[:BAR] == made["cells"][:BAR] and cells[5 * BAR :] == made["cells"][5 * BAR :]
    assert cells[2 * BAR : 4 * BAR] != made["cells"][2 * BAR : 4 * BAR]
    found, _ = markers(client.get(f"/api/files/{again['id']}.mid").content)
    assert [text for _, text in found] == ["intro", "verse", "chorus"]


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"sections": []}, "sections must be a list of 1 to 32 sections"),
        ({"sections": [{"name": "verse"}]}, 'section 1 must be {"name": "verse", "bars": 8}'),
        ({"sections": [{"name": "1st", "bars": 2}]}, "section 1's name must be a letter then letters"),
        (
            {"sections": [{"name": "verse", "bars": 0}]},
            "section 1 (verse) must last a whole number of bars from 1 to 64",
        ),
        (
            {"sections": [{"name": "a", "bars": 40}, {"name": "b", "bars": 40}]},
            "the song has 80 bars (1280 steps); the studio makes songs of at most 64 bars",
        ),
        (
            {"sections": [{"name": f"s{n}", "bars": 2} for n in range(32)]},
            "a song of 32 sections and 64 bars is 39808 steps of work, over the studio's limit of 32768",
        ),
        ({"sections": [{"name": "verse", "bars": 1}] * 33}, "sections must be a list of 1 to 32 sections"),
        ({"controls": {"bridge": {"density": 3}}}, "controls name section 'bridge', which is not in the lane"),
        ({"controls": {"verse": {"density": 99}}}, "section verse: control density takes a number from 0 to 64"),
        ({"controls": {"verse": {"loudness": 3}}}, "section verse: unknown control 'loudness'"),
        ({"controls": {"verse": 3}}, "controls must map a section's name to its controls"),
        ({"variation": 2}, "Variation must be a number from 0 to 1, got 2"),
        ({"fills": "yes"}, "Fills must be true, false or null"),
        ({"temperature": 0}, "Temperature must be a number from 0.1 to 10"),
        (
            {"model": "drum_kit_gmd", "fills": True},
            "Fills: yes needs a model with the control fill (this model has no controls); choose Fills: no",
        ),
        ({"form": "intro:4"}, "unknown field 'form'"),
    ],
)
def test_bad_songs_get_400_and_one_line(client, fields, error):
    answer = song(client, **fields)
    assert answer.status_code == 400 and error in answer.json()["error"], answer.text
    assert "\n" not in answer.json()["error"]


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"section": 4}, "section must be the number of one of the song's sections, 1 to 3, got 4"),
        ({"section": None}, "section must be the number of one of the song's sections"),
        ({"cells": [[]] * 48}, "the song has 48 steps but its sections 6 bars (96 steps)"),
        ({"cells": "x"}, "primer cells must be a non-empty list"),
        ({"variation": 0.5}, "unknown field 'variation'"),
    ],
)
def test_bad_section_requests_get_400_and_one_line(client, made, fields, error):
    body = {"model": STEERED, "sections": LANE, "cells": made["cells"], "section": 2} | fields
    answer = client.post("/api/song/section", json=body)
    assert answer.status_code == 400 and error in answer.json()["error"], answer.text


def test_songs_are_same_origin_json_only(client):
    answer = client.post("/api/song", content=b"{}", headers={"content-type": "text/plain"})
    assert answer.status_code == 415
    answer = client.post(
        "/api/song", json={"model": STEERED, "sections": LANE}, headers={"origin": "http://evil.example"}
    )
    assert answer.status_code == 403


def test_the_lanes_module_is_loaded_by_the_page_and_loads_nothing_from_elsewhere(client):
    assert 'from "./song.js";' in client.get("/static/main.js").text
    script = client.get("/static/song.js")
    assert script.status_code == 200 and "/api/song/section" in script.text
    assert not re.search(r"https?://|//cdn", script.text)
