"""seqgen studio in a real browser: headless Chromium (Debian's chromium and chromium-driver) driven by
Selenium against `python -m seqgen studio` in a subprocess.

With SEQGEN_STUDIO_SCREENSHOT=1 the test also writes the pictures in docs/studio.md (docs/studio*.png), at
the 1280x720 the page is checked at.
"""

import os
import re
import pathlib
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from support import GROOVE, REPO

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip("the browser test needs Chromium: apt-get install chromium chromium-driver", allow_module_level=True)
pytest.importorskip("starlette", reason='seqgen studio needs its extra: pip install -e ".[studio]"')
webdriver = pytest.importorskip("selenium.webdriver", reason="the browser test needs Selenium: pip install selenium")

import pretty_midi  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out

DOCS = REPO / "docs"
KICK, SNARE, CLOSED_HAT = 0, 1, 2
PITCHES = {KICK: 36, SNARE: 38, CLOSED_HAT: 42}
PRIMER_STEPS, NEW_STEPS, NUM_OUTPUTS = 16, 32, 2
NUM_STEPS = PRIMER_STEPS + NEW_STEPS
WIDTH, HEIGHT = 1280, 720


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """``python -m seqgen studio`` on a free port, once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "seqgen", "studio", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    address = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout.readline().strip() == (f"seqgen studio: open {address} in a browser (Ctrl+C stops it)")
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
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--window-size={WIDTH},{HEIGHT}",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    driver.set_script_timeout(30)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",  # the page itself is 1280x720
        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
    )
    yield driver
    # No script error all along (a module that did not load, a name not defined...); the answers of 4xx the tests
    # provoke on purpose are logged as failed resources, not script errors.
    errors = [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "Failed to load resource" not in entry["message"]
    ]
    driver.quit()
    assert not errors, errors


def wait(driver, condition, seconds=30):
    return WebDriverWait(driver, seconds, poll_frequency=0.05).until(lambda _: condition())


def cell(driver, step, row, where="#primer-grid"):
    return driver.find_element(By.CSS_SELECTOR, f'{where} .cell[data-step="{step}"][data-row="{row}"]')


def shown_hits(driver, where="#take-grid") -> dict:
    """``{(step, pitch): velocity}`` the grid shows."""
    rows = driver.execute_script("return state.model.rows.map((row) => row.pitches[0])")
    return {
        (int(cell.get_attribute("data-step")), rows[int(cell.get_attribute("data-row"))]): int(
            cell.get_attribute("data-velocity")
        )
        for cell in driver.find_elements(By.CSS_SELECTOR, f"{where} .cell.on")
    }


def midi_hits(path: pathlib.Path, qpm: float, swing: float) -> dict:
    """``{(step, pitch): velocity}`` of a MIDI clip, checking each onset is on its step (odd steps swung)."""
    seconds = 60 / qpm / 4
    hits = {}
    for note in pretty_midi.PrettyMIDI(str(path)).instruments[0].notes:
        step = round(note.start / seconds - 0.25)  # swing moves odd steps later by less than half a step
        assert note.start / seconds == pytest.approx(step + (swing / 50 - 1) * (step % 2), abs=1e-3), note
        hits[step, note.pitch] = note.velocity
    return hits


def in_view(driver, element_id: str) -> bool:
    return driver.execute_script(
        "const box = document.getElementById(arguments[0]).getBoundingClientRect();"
        "return window.scrollY === 0 && box.top >= 0 && box.bottom <= window.innerHeight "
        "&& box.height > 100",
        element_id,
    )


def screenshot(driver, name: str) -> None:
    if os.environ.get("SEQGEN_STUDIO_SCREENSHOT"):
        driver.save_screenshot(str(DOCS / name))


def press_space(driver) -> None:
    ActionChains(driver).send_keys(Keys.SPACE).perform()


def drag_vertically(driver, element, pixels: int) -> None:
    """Press on ``element`` and move the pointer ``pixels`` down (negative: up) in small moves, then release."""
    chain = ActionChains(driver).click_and_hold(element)
    for _ in range(abs(pixels) // 5):
        chain.move_by_offset(0, 5 if pixels > 0 else -5)
    chain.release().perform()


def test_an_instrument_draw_paint_velocity_generate_keep_undo_loop_and_download(server, browser, downloads):
    driver = browser
    driver.get(server)
    assert driver.execute_script("return [window.innerWidth, window.innerHeight]") == [WIDTH, HEIGHT]
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#model option[value=drum_kit_gmd]"))
    Select(driver.find_element(By.ID, "model")).select_by_value("drum_kit_gmd")
    wait(driver, lambda: "trained by seqgen" in driver.find_element(By.ID, "model-info").get_attribute("textContent"))
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#primer-grid .cell"))
    summary = driver.find_element(By.ID, "model-summary").text
    assert summary.startswith("Makes drum tracks on 9 sounds (Bass Drum, Acoustic Snare,")
    switch = driver.find_element(By.CSS_SELECTOR, "#options input[value='--humanize']")  # declared by the plugin
    assert switch.is_enabled() and not switch.is_selected()

    # Draw: kicks and snares by clicks (each one sounds), a line of closed hi-hats by a drag.
    driver.find_element(By.ID, "primer-clear").click()
    sounds = driver.execute_script("return synth.count")
    for step, row in [(0, KICK), (6, KICK), (8, KICK), (4, SNARE), (12, SNARE)]:
        cell(driver, step, row).click()
    assert driver.execute_script("return synth.count") == sounds + 5
    assert driver.execute_script("return synth.ctx.state") == "running"
    drag = ActionChains(driver).click_and_hold(cell(driver, 0, CLOSED_HAT))
    for step in range(1, PRIMER_STEPS):
        drag.move_to_element(cell(driver, step, CLOSED_HAT))
    drag.release().perform()
    primer = {(step, PITCHES[row]): 100 for step, row in [(0, KICK), (6, KICK), (8, KICK), (4, SNARE), (12, SNARE)]}
    primer |= {(step, PITCHES[CLOSED_HAT]): 100 for step in range(PRIMER_STEPS)}
    assert shown_hits(driver, "#primer-grid") == primer

    # Paint velocities: drag the first kick down 60 pixels, the first snare up 20.
    drag_vertically(driver, cell(driver, 0, KICK), 60)
    drag_vertically(driver, cell(driver, 4, SNARE), -20)
    primer[0, 36], primer[4, 38] = 40, 120
    assert shown_hits(driver, "#primer-grid") == primer
    assert driver.find_element(By.ID, "message").text == "Velocity 120 (new hits get it too)"

    # Generate: the takes are in view at 1280x720 without scrolling, the first one chosen.
    for field, value in [("new_steps", NEW_STEPS), ("num_outputs", NUM_OUTPUTS), ("seed", 5)]:
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(str(value))
    driver.find_element(By.ID, "generate").click()
    wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, "#take-list button")) == NUM_OUTPUTS)
    message = driver.find_element(By.ID, "message")
    assert message.text.startswith(f"{NUM_OUTPUTS} drum tracks (takes 1-2) in ")
    assert "error" not in message.get_attribute("class")
    assert in_view(driver, "take") and in_view(driver, "primer-panel")
    assert driver.find_element(By.ID, "take-title").text == "Take 1: 48 steps (16 primer + 32 new)"
    take = shown_hits(driver)
    assert {k: v for k, v in take.items() if k[0] < PRIMER_STEPS} == primer  # painted velocities carried over
    assert any(step >= PRIMER_STEPS for step, _ in take)

    # Paint a generated hit louder, swing the take, and download it: the MIDI clip carries both.
    step, pitch = min(k for k in take if k[0] >= PRIMER_STEPS)
    row = (
        next(r for r, p in PITCHES.items() if p == pitch)
        if pitch in PITCHES.values()
        else driver.execute_script("return state.model.rows.findIndex((row) => row.pitches[0] === arguments[0])", pitch)
    )
    drag_vertically(driver, cell(driver, step, row, "#take-grid"), -30)
    take[step, pitch] = 127 if take[step, pitch] + 30 > 127 else take[step, pitch] + 30
    assert shown_hits(driver) == take
    driver.execute_script(
        "const swing = document.getElementById('swing'); swing.value = 60;swing.dispatchEvent(new Event('input'))"
    )
    driver.find_element(By.ID, "midi").click()
    wait(driver, lambda: [p for p in downloads.iterdir() if p.suffix == ".mid"])
    clip = next(p for p in downloads.iterdir() if p.suffix == ".mid")
    assert clip.name.startswith("drum_kit_gmd_take_")
    assert midi_hits(clip, 120, 60) == take

    # Play in a loop with the space bar; the playhead comes round again; the space bar stops it.
    tempo = driver.find_element(By.ID, "qpm")
    tempo.clear()
    tempo.send_keys("400")
    driver.find_element(By.TAG_NAME, "h1").click()
    press_space(driver)
    wait(driver, lambda: driver.execute_script("return transport.playing && transport.loops >= 1"), seconds=15)
    panel = driver.find_element(By.ID, "take")
    assert "playing" in panel.get_attribute("class")
    wait(driver, lambda: 0 <= int(panel.get_attribute("data-step")) < 8, seconds=5)
    screenshot(driver, "studio.png")
    press_space(driver)
    assert not driver.execute_script("return transport.playing")
    assert driver.find_element(By.ID, "play").text == "▶ Play" and "playing" not in panel.get_attribute("class")

    # Keep two takes, undo one keep; a second Generate adds takes and Undo takes them away again.
    for n in range(NUM_OUTPUTS):
        driver.find_elements(By.CSS_SELECTOR, "#take-list button")[n].click()
        driver.find_element(By.ID, "keep").click()
    assert len(driver.find_elements(By.CSS_SELECTOR, "#take-list button.kept")) == 2
    driver.find_element(By.ID, "undo").click()
    kept = driver.find_elements(By.CSS_SELECTOR, "#take-list button.kept")
    assert [chip.text for chip in kept] == ["Take 1"]
    driver.find_element(By.ID, "ab").click()  # A/B: back to the take chosen before
    assert driver.find_element(By.ID, "take-title").text.startswith("Take 1:")
    driver.find_element(By.ID, "seed").clear()  # new takes this time
    driver.find_element(By.ID, "generate").click()
    wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, "#take-list button")) == 2 * NUM_OUTPUTS)
    assert in_view(driver, "take")
    screenshot(driver, "studio-takes.png")
    driver.find_element(By.ID, "undo").click()
    assert [chip.text for chip in driver.find_elements(By.CSS_SELECTOR, "#take-list button")] == ["Take 1", "Take 2"]
    assert shown_hits(driver) == take  # the painted take is as it was

    # Regenerate bar 2 of take 1's closed hi-hats: new takes, everything else (velocities too) kept.
    labels = driver.find_elements(By.CSS_SELECTOR, "#take-grid .labels div")
    labels[CLOSED_HAT].click()
    assert driver.find_element(By.ID, "infill-rows").text == "rows: Closed Hi Hat"
    for field, value in [("infill_from", 2), ("infill_to", 2)]:
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(str(value))
    driver.find_element(By.ID, "infill").click()
    wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, "#take-list button")) == 2 * NUM_OUTPUTS)
    assert driver.find_element(By.ID, "take-title").text == "Take 5: 48 steps (bars 2-2 of take 1 regenerated)"
    regenerated = shown_hits(driver)

    def outside(hits):
        return {k: v for k, v in hits.items() if not (16 <= k[0] < 32 and k[1] == PITCHES[CLOSED_HAT])}

    assert outside(regenerated) == outside(take)
    driver.find_elements(By.CSS_SELECTOR, "#take-list button")[0].click()
    assert shown_hits(driver) == take

    # Errors name the page's fields.
    steps = driver.find_element(By.ID, "new_steps")
    steps.clear()
    steps.send_keys("5000")
    driver.find_element(By.ID, "generate").click()
    wait(driver, lambda: "error" in message.get_attribute("class"))
    assert message.text == "Steps to generate must be a whole number from 1 to 1023, got 5000"


def test_a_midi_file_chosen_as_primer_fills_the_grid(server, browser):
    driver = browser
    driver.get(server)
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#primer-grid .cell"))
    chosen = GROOVE / "drummer1" / "session1" / "103_funk_95_fill_4-4.mid"
    driver.find_element(By.ID, "primer-file").send_keys(str(chosen))
    notice = driver.find_element(By.ID, "primer-notice")
    wait(driver, lambda: notice.text.startswith(chosen.name))
    assert notice.text == f"{chosen.name}: 16 steps at 95 BPM"
    assert driver.find_element(By.ID, "qpm").get_attribute("value") == "95"
    assert driver.execute_script("return cellsOf(state.primer).slice(0, 4)") == [[0], [2], [1], [2]]
    assert "on" in cell(driver, 0, KICK).get_attribute("class")
    long = GROOVE / "drummer1" / "session1" / "1_funk_80_beat_4-4.mid"
    driver.find_element(By.ID, "primer-file").send_keys(str(long))
    wait(driver, lambda: notice.text.startswith(long.name))
    assert notice.text.endswith("(kept the first 16 bars of 29)")
    labels = driver.find_elements(By.CSS_SELECTOR, "#primer-grid .labels div")
    for row, label in enumerate(labels):  # each label beside its row, with a scroll bar below the grid too
        assert abs(label.rect["y"] - cell(driver, 0, row).rect["y"]) < 2, label.text
    # The default model takes controls: a style menu and a density box steer it.
    assert driver.find_element(By.ID, "model").get_attribute("value") == "drum_kit_control_gmd"
    Select(driver.find_element(By.CSS_SELECTOR, "#controls [data-control=style]")).select_by_value("funk")
    density = driver.find_element(By.CSS_SELECTOR, "#controls [data-control=density]")
    density.send_keys("99")
    driver.find_element(By.ID, "generate").click()
    message = driver.find_element(By.ID, "message")
    wait(driver, lambda: "error" in message.get_attribute("class"))
    assert message.text == "control density takes a number from 0 to 64, got 99"
    density.clear()
    density.send_keys("12")
    driver.find_element(By.ID, "generate").click()
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#take-list button"))
    assert not message.get_attribute("class")
    assert in_view(driver, "take")
    screenshot(driver, "studio-steer.png")


def test_a_rhythm_tapped_on_the_keyboard_becomes_a_drum_take_to_play_and_download(server, browser, downloads):
    """The drums plugin offers Drumify through the rhythm_models hook: the Tap panel shows it."""
    driver = browser
    driver.get(server)
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#tap-model option[value=drumify_gmd]"))
    assert driver.find_element(By.ID, "tap-panel").is_displayed()
    assert not driver.find_element(By.ID, "tap-make").is_enabled()
    driver.find_element(By.TAG_NAME, "h1").click()
    sounds = driver.execute_script("return synth.count")
    for _ in range(4):  # taps on the T key, about a quarter note apart at 120 BPM
        ActionChains(driver).send_keys("t").perform()
        time.sleep(0.25)
    driver.find_element(By.ID, "tap-pad").click()  # and one on the pad
    assert driver.execute_script("return synth.count") == sounds + 5  # each tap clicks
    times = driver.execute_script("return taps.times")
    assert len(times) == 5 and times[0] == 0 and all(0.15 < b - a < 1.0 for a, b in zip(times, times[1:]))
    assert driver.find_element(By.ID, "tap-count").text == f"5 taps over {times[-1]:.2f} s"

    driver.find_element(By.ID, "tap-make").click()
    wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#take-list button"))
    message = driver.find_element(By.ID, "message")
    assert "error" not in message.get_attribute("class")
    assert re.fullmatch(
        r"Take 1: (16|32) steps \(drumify_gmd played to 5 taps\)", driver.find_element(By.ID, "take-title").text
    )
    assert not driver.find_element(By.ID, "use-as-primer").is_displayed()
    wait(driver, lambda: "stale" not in driver.find_element(By.ID, "midi").get_attribute("class"))
    screenshot(driver, "studio-tap.png")
    press_space(driver)  # it plays like any take
    wait(driver, lambda: driver.execute_script("return synth.count") > sounds + 5, seconds=10)
    press_space(driver)

    before = set(downloads.iterdir())
    driver.find_element(By.ID, "midi").click()
    wait(driver, lambda: [p for p in set(downloads.iterdir()) - before if p.suffix == ".mid"])
    [groove] = [p for p in set(downloads.iterdir()) - before if p.suffix == ".mid"]
    assert groove.name.startswith("drumify_gmd_")
    [drums] = pretty_midi.PrettyMIDI(str(groove)).instruments
    assert drums.is_drum and drums.notes
    for note in drums.notes:  # every drum on a tap: within its 16th step and the played timing
        assert min(abs(note.start - t) for t in times) < 0.13, note

    driver.find_element(By.ID, "tap-clear").click()
    assert driver.find_element(By.ID, "tap-count").text == "no taps"
    assert not driver.find_element(By.ID, "tap-make").is_enabled()
    assert len(driver.find_elements(By.CSS_SELECTOR, "#take-list button")) == 1

    # A MIDI file's notes are taps too, at its tempo.
    chosen = GROOVE / "drummer1" / "session1" / "103_funk_95_fill_4-4.mid"
    driver.find_element(By.ID, "tap-file").send_keys(str(chosen))
    notice = driver.find_element(By.ID, "tap-notice")
    wait(driver, lambda: notice.text)
    assert notice.text == f"{chosen.name}: its notes are the taps, at 95 BPM"
    assert driver.find_element(By.ID, "qpm").get_attribute("value") == "95"
    count = len(driver.execute_script("return taps.times"))
    driver.find_element(By.ID, "tap-make").click()
    wait(driver, lambda: len(driver.find_elements(By.CSS_SELECTOR, "#take-list button")) == 2)
    assert driver.find_element(By.ID, "take-title").text == f"Take 2: 16 steps (drumify_gmd played to {count} taps)"


def test_the_live_panel_plays_steers_and_stops(server, browser):
    """The Live panel: the selected model plays bar by bar to an OSC receiver of the test's own (python-osc), its
    density knob moves the next bars, Fill asks for a fill, and Stop stops it."""
    osc_server = pytest.importorskip("pythonosc.osc_server", reason="the Live panel needs the live extra")
    from pythonosc import dispatcher

    received = []
    handler = dispatcher.Dispatcher()
    handler.set_default_handler(lambda address, *args: received.append((time.perf_counter(), address, args)))
    receiver = osc_server.BlockingOSCUDPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    driver = browser
    try:
        driver.get(server)
        wait(driver, lambda: driver.find_elements(By.CSS_SELECTOR, "#model option[value=drum_kit_control_gmd]"))
        Select(driver.find_element(By.ID, "model")).select_by_value("drum_kit_control_gmd")
        wait(driver, lambda: driver.find_elements(By.ID, "live-density"))
        assert driver.find_element(By.ID, "live-status").text == "stopped"
        assert not driver.find_element(By.ID, "live-stop").is_enabled()
        for field, value in (("qpm", "300"), ("live-osc", f"127.0.0.1:{receiver.server_address[1]}")):
            driver.find_element(By.ID, field).clear()
            driver.find_element(By.ID, field).send_keys(value)
        # Starts sparse. The controls are drawn again once the chosen model's arrive: type until the value stays.
        density = "#controls [data-control=density]"

        def sparse():
            return driver.find_element(By.CSS_SELECTOR, density).get_attribute("value") == "2"

        for _ in range(20):
            if driver.find_elements(By.CSS_SELECTOR, density) and sparse():
                time.sleep(0.2)
                if sparse():
                    break
            elif driver.find_elements(By.CSS_SELECTOR, density):
                driver.find_element(By.CSS_SELECTOR, density).clear()
                driver.find_element(By.CSS_SELECTOR, density).send_keys("2")
            time.sleep(0.1)
        assert sparse()
        driver.find_element(By.ID, "live-midi").click()  # OSC only: no MIDI system needed
        driver.find_element(By.ID, "live-start").click()
        wait(driver, lambda: "playing drum_kit_control_gmd" in driver.find_element(By.ID, "live-status").text)
        assert "to OSC 127.0.0.1" in driver.find_element(By.ID, "live-status").text

        def bars():
            return [args[0] for _, address, args in received if address == "/seqgen/bar"]

        wait(driver, lambda: len(bars()) >= 4)
        steered = len(bars())
        driver.execute_script(
            "const knob = document.getElementById('live-density'); knob.value = knob.max;"
            "knob.dispatchEvent(new Event('input')); knob.dispatchEvent(new Event('change'));"
        )
        driver.find_element(By.ID, "live-fill").click()
        wait(driver, lambda: len(bars()) >= steered + 6)
        driver.find_element(By.ID, "live-stop").click()
        wait(driver, lambda: driver.find_element(By.ID, "live-status").text.startswith("stopped after"))
        assert not driver.find_element(By.ID, "live-stop").is_enabled()
        assert "error" not in driver.find_element(By.ID, "message").get_attribute("class")
        count = len(received)
        time.sleep(0.5)
        assert len(received) == count  # stopped means silent
    finally:
        receiver.shutdown()
        receiver.server_close()
    per_bar = {}  # notes between one bar line and the next
    bar = None
    for _, address, args in received:
        if address == "/seqgen/bar":
            bar = args[0]
            per_bar.setdefault(bar, 0)
        elif address == "/seqgen/note":
            per_bar[bar] += 1
    before = [per_bar[number] for number in range(1, steered + 1)]
    after = [per_bar[number] for number in range(steered + 3, steered + 6)]  # from the bar after next
    # Medians: a sparse model still plays the odd busy bar.
    assert 2 * statistics.median(before) < statistics.median(after), per_bar
