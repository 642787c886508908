"""seqgen studio in a real browser: headless Chromium (Debian's chromium and chromium-driver) driven by
Selenium against `python -m seqgen studio` in a subprocess.

With SEQGEN_STUDIO_SCREENSHOT=1 the test also writes docs/studio.png, the picture in docs/studio.md.
"""

import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import GROOVE, REPO

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip("the browser test needs Chromium: apt-get install chromium chromium-driver", allow_module_level=True)
pytest.importorskip("starlette", reason='seqgen studio needs its extra: pip install -e ".[studio]"')
webdriver = pytest.importorskip("selenium.webdriver", reason="the browser test needs Selenium: pip install selenium")

import pretty_midi  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

SCREENSHOT = REPO / "docs" / "studio.png"
KICK, SNARE, CLOSED_HAT = 0, 1, 2
PITCHES = {KICK: 36, SNARE: 38, CLOSED_HAT: 42}
NUM_STEPS, NUM_OUTPUTS = 64, 2
STEP_SECONDS = 60 / 120 / 4


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """``python -m seqgen studio`` on a free port, once it answers."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "seqgen", "studio", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    address = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout.readline().strip() == (f"seqgen studio: open {address} in a browser "
                                                     f"(Ctrl+C stops it)")
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(address + "/api/models", timeout=5) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "seqgen studio did not start"
                time.sleep(0.1)
        yield address
    finally:
        process.terminate()
        process.wait(30)


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads, tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1050",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def wait(driver, condition, seconds=30):
    return WebDriverWait(driver, seconds, poll_frequency=0.05).until(lambda _: condition())


def cell(driver, step, row, where="#primer-grid"):
    return driver.find_element(By.CSS_SELECTOR, f'{where} .cell[data-step="{step}"][data-row="{row}"]')


def grid_pitches(driver, card) -> list:
    """The pitches the grid of a result card shows at each step."""
    steps = [set() for _ in range(NUM_STEPS)]
    for element in card.find_elements(By.CSS_SELECTOR, ".cell.on"):
        steps[int(element.get_attribute("data-step"))].add(
            driver.execute_script("return state.model.rows[arguments[0]].pitches[0]",
                                  int(element.get_attribute("data-row"))))
    return steps


def midi_pitches(path: pathlib.Path) -> list:
    steps = [set() for _ in range(NUM_STEPS)]
    for note in pretty_midi.PrettyMIDI(str(path)).instruments[0].notes:
        step = round(note.start / STEP_SECONDS)
        assert abs(note.start - step * STEP_SECONDS) < 1e-3 and step < NUM_STEPS, note
        steps[step].add(note.pitch)
    return steps


def test_choose_a_model_draw_generate_play_and_download(server, browser, downloads):
    driver = browser
    driver.get(server)
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#model option[value=drum_kit_gmd]"))
    Select(driver.find_element(By.ID, "model")).select_by_value("drum_kit_gmd")
    wait(driver, lambda: driver.find_element(By.ID, "model-info").text.startswith("drums / drum_kit:"))
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#primer-grid .cell"))
    assert "trained by seqgen on the Groove MIDI Dataset" in driver.find_element(By.ID, "model-info").text
    assert driver.find_element(By.ID, "humanize").is_enabled()  # the drums plugin's generate --humanize

    # Draw: clear the default kick, click kicks and snares, drag a line of closed hi-hats over all 16 steps.
    driver.find_element(By.ID, "primer-clear").click()
    primer = [set() for _ in range(16)]
    for step, row in [(0, KICK), (6, KICK), (8, KICK), (4, SNARE), (12, SNARE)]:
        cell(driver, step, row).click()
        primer[step].add(PITCHES[row])
    drag = ActionChains(driver).click_and_hold(cell(driver, 0, CLOSED_HAT))
    for step in range(1, 16):
        drag.move_to_element(cell(driver, step, CLOSED_HAT))
    drag.release().perform()
    for step in range(16):
        primer[step].add(PITCHES[CLOSED_HAT])
    assert driver.execute_script("return state.cells") == [
        sorted(row for row, pitch in PITCHES.items() if pitch in step) for step in primer]

    for field, value in [("num_steps", NUM_STEPS), ("num_outputs", NUM_OUTPUTS), ("seed", 5)]:
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(str(value))
    driver.find_element(By.ID, "generate").click()
    wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, ".result")) == NUM_OUTPUTS)
    message = driver.find_element(By.ID, "message")
    assert message.text.startswith(f"{NUM_OUTPUTS} drum tracks of {NUM_STEPS} steps in ")
    assert "error" not in message.get_attribute("class")
    card = driver.find_elements(By.CSS_SELECTOR, ".result")[0]
    shown = grid_pitches(driver, card)
    assert shown[:16] == primer

    # Play: the playhead walks the steps while Web Audio plays, and stops on Stop.
    play = card.find_element(By.CSS_SELECTOR, "button.play")
    play.click()
    wait(driver, lambda: int(card.get_attribute("data-step") or 0) >= 6, seconds=10)
    assert "playing" in card.get_attribute("class") and play.text.endswith("Stop")
    assert driver.execute_script("return synth.ctx.state") == "running"
    if os.environ.get("SEQGEN_STUDIO_SCREENSHOT"):
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(str(SCREENSHOT))
    play.click()
    assert "playing" not in card.get_attribute("class") and play.text.endswith("Play")

    # Download: the MIDI file holds the drawn primer and the steps the grid shows, no more.
    card.find_element(By.CSS_SELECTOR, "a.midi").click()
    wait(driver, lambda: [p for p in downloads.iterdir() if p.suffix == ".mid"])
    midi = next(p for p in downloads.iterdir() if p.suffix == ".mid")
    assert midi.name.startswith("drum_kit_gmd_")
    steps = midi_pitches(midi)
    assert steps[:16] == primer and steps == shown and any(steps[16:])

    # Continue: the result becomes the primer, and the next request extends it by as many steps.
    card.find_element(By.CSS_SELECTOR, "button.continue").click()
    assert driver.find_element(By.ID, "primer_steps").get_attribute("value") == str(NUM_STEPS)
    assert driver.find_element(By.ID, "num_steps").get_attribute("value") == str(2 * NUM_STEPS - 16)


def test_a_midi_file_chosen_as_primer_fills_the_grid(server, browser):
    driver = browser
    driver.get(server)
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#primer-grid .cell"))
    chosen = GROOVE / "drummer1" / "session1" / "103_funk_95_fill_4-4.mid"
    driver.find_element(By.ID, "primer-file").send_keys(str(chosen))
    notice = driver.find_element(By.ID, "primer-notice")
    wait(driver, lambda: notice.text.startswith(chosen.name))
    assert notice.text == f"{chosen.name}: 16 steps at 95 qpm"
    assert driver.find_element(By.ID, "qpm").get_attribute("value") == "95"
    assert driver.execute_script("return state.cells.slice(0, 4)") == [[0], [2], [1], [2]]
    assert "on" in cell(driver, 0, KICK).get_attribute("class")
    long = GROOVE / "drummer1" / "session1" / "1_funk_80_beat_4-4.mid"
    driver.find_element(By.ID, "primer-file").send_keys(str(long))
    wait(driver, lambda: notice.text.startswith(long.name))
    assert notice.text.endswith("(kept the first 16 bars of 29)")
    labels = driver.find_elements(By.CSS_SELECTOR, "#primer-grid .labels div")
    for row, label in enumerate(labels):  # each label beside its row, with a scroll bar below the grid too
        assert abs(label.rect["y"] - cell(driver, 0, row).rect["y"]) < 2, label.text
    driver.find_element(By.ID, "generate").click()
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, ".result"))
    assert not driver.find_element(By.ID, "message").get_attribute("class")
