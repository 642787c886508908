"""The studio's arrangement lane in a real browser (headless Chromium through Selenium, as
test_studio_browser.py drives it): a three-section song built, generated, played with the playing section lit,
one section looped, one regenerated, and the song downloaded with its section markers."""

import time

import mido
import pytest

# Its fixtures and Selenium's names, once it has skipped where Chromium or Selenium is missing.
from test_studio_browser import (  # noqa: F401
    ActionChains,
    By,
    Keys,
    browser,
    downloads,
    screenshot,
    server,
    wait,
)

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out

BAR = 16


def block(driver, index: int):
    return driver.find_element(By.CSS_SELECTOR, f'#lane .block[data-index="{index}"]')


def retype(element, text: str) -> None:
    """Replace what ``element`` holds by ``text`` as a user types it, then leave it (its change event)."""
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(text, Keys.TAB)


def lane(driver) -> list:
    return driver.execute_script("return lane.sections.map((s) => [s.name, s.bars])")


def space(driver) -> None:
    driver.find_element(By.TAG_NAME, "h1").click()
    ActionChains(driver).send_keys(Keys.SPACE).perform()


def test_a_three_section_song_is_built_played_looped_regenerated_and_downloaded(server, browser, downloads):  # noqa: F811
    driver = browser
    driver.get(server)
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#song-controls [data-control=density]"))
    assert lane(driver) == [["intro", 2], ["verse", 4], ["chorus", 4]]

    # Build intro:2 verse:2 chorus:2 by removing, adding, renaming and resizing blocks; a sparse verse, a busy chorus.
    block(driver, 2).find_element(By.CSS_SELECTOR, ".remove").click()
    retype(block(driver, 1).find_element(By.CSS_SELECTOR, ".bars"), "2")
    driver.find_element(By.ID, "song-add").click()
    assert lane(driver) == [["intro", 2], ["verse", 2], ["verse", 2]]
    retype(block(driver, 2).find_element(By.CSS_SELECTOR, ".name"), "1st")
    message = driver.find_element(By.ID, "message")
    assert "error" in message.get_attribute("class") and message.text.startswith("A section's name is a letter")
    retype(block(driver, 2).find_element(By.CSS_SELECTOR, ".name"), "chorus")
    assert lane(driver) == [["intro", 2], ["verse", 2], ["chorus", 2]]
    assert "chosen" in block(driver, 2).get_attribute("class")
    assert driver.find_element(By.ID, "song-chosen").text == "Section 3 (chorus, 2 bars):"
    retype(driver.find_element(By.CSS_SELECTOR, "#song-controls [data-control=density]"), "24")
    block(driver, 1).find_element(By.CSS_SELECTOR, ".name").click()
    assert driver.find_element(By.ID, "song-chosen").text == "Section 2 (verse, 2 bars):"
    density = driver.find_element(By.CSS_SELECTOR, "#song-controls [data-control=density]")
    assert density.get_attribute("value") == ""  # each name its own controls
    retype(density, "8")
    assert driver.execute_script("return lane.controls") == {"chorus": {"density": 24}, "verse": {"density": 8}}
    seed = driver.find_element(By.ID, "seed")
    seed.send_keys("3")
    tempo = driver.find_element(By.ID, "qpm")
    retype(tempo, "400")

    driver.find_element(By.ID, "song-generate").click()
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#take-list button"), seconds=60)
    assert "error" not in message.get_attribute("class"), message.text
    assert driver.find_element(By.ID, "take-title").text == "Take 1: 96 steps (song: intro 2, verse 2, chorus 2 bars)"
    song = driver.execute_script("return cellsOf(selectedItem())")
    assert len(song) == 6 * BAR and len(driver.find_elements(By.CSS_SELECTOR, "#take-grid .cell")) == 6 * BAR * 9
    assert sum(map(len, song[4 * BAR :])) > sum(map(len, song[2 * BAR : 4 * BAR]))  # the chorus's density

    # Play: the playing section is lit, each in turn.
    space(driver)
    lit = (
        "const lane = document.getElementById('lane'), first = document.querySelector("
        "`#take-grid .cell[data-step='${arguments[1]}']`).getBoundingClientRect(),"
        "scroll = document.querySelector('#take-grid .scroll').getBoundingClientRect();"
        "return lane.dataset.playing === String(arguments[0]) && lane.querySelector('.block.playing') === "
        "lane.children[arguments[0]] && first.left >= scroll.left && first.right <= scroll.right"
    )
    for index, first in enumerate([0, 2 * BAR, 4 * BAR]):  # each lit in turn, its first step in view
        wait(driver, lambda index=index, first=first: driver.execute_script(lit, index, first), seconds=10)
    driver.execute_script("document.getElementById('song-panel').scrollIntoView({block: 'end'})")
    screenshot(driver, "studio-song.png")

    # Loop the verse: the playhead stays in its bars, round and round.
    block(driver, 1).find_element(By.CSS_SELECTOR, "div").click()
    driver.find_element(By.ID, "song-loop").click()
    loops = driver.execute_script("return transport.loops")
    wait(driver, lambda: driver.execute_script("return transport.loops") >= loops + 2, seconds=10)
    for _ in range(12):  # over a whole round of the verse (1.2 s at 400 BPM)
        assert driver.find_element(By.ID, "lane").get_attribute("data-playing") == "1"
        assert BAR * 2 <= int(driver.find_element(By.ID, "take").get_attribute("data-step")) < BAR * 4
        time.sleep(0.1)
    space(driver)
    assert not driver.execute_script("return transport.playing")
    assert driver.find_element(By.ID, "lane").get_attribute("data-playing") == "-1"

    # Regenerate the verse: a new take, the intro's first bar and the chorus's last kept (its seams made anew).
    driver.find_element(By.ID, "song-regenerate").click()
    wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, "#take-list button")) == 2, seconds=60)
    assert "error" not in message.get_attribute("class"), message.text
    assert driver.find_element(By.ID, "take-title").text == "Take 2: 96 steps (section 2 (verse) of take 1 made anew)"
    again = driver.execute_script("return cellsOf(selectedItem())")
    assert again[:BAR] == song[:BAR] and again[5 * BAR :] == song[5 * BAR :]
    assert again[2 * BAR : 4 * BAR] != song[2 * BAR : 4 * BAR]

    # Download the song: a MIDI file with a marker at each section, lasting its six bars.
    driver.find_element(By.ID, "song-midi").click()
    wait(
        driver,
        lambda: [
            p for p in downloads.iterdir() if p.name.startswith("drum_kit_control_gmd_song_") and p.suffix == ".mid"
        ],
    )
    [path] = [p for p in downloads.iterdir() if p.name.startswith("drum_kit_control_gmd_song_")]
    midi = mido.MidiFile(str(path))
    markers, tick = [], 0
    for event in midi.tracks[0]:
        tick += event.time
        if event.type == "marker":
            markers.append((tick // midi.ticks_per_beat, event.text))
    assert markers == [(0, "intro"), (8, "verse"), (16, "chorus")]
    assert midi.length == pytest.approx(24 * 60 / 400, abs=1e-3)  # six bars at 400 BPM
    notes = [n for track in midi.tracks for n in track if n.type == "note_on" and n.velocity]
    assert notes
