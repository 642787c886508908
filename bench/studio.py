"""seqgen studio: start-up to the first answered request, and a generate request of 10 x 128 steps.

Start-up is the wall time from launching `python -m seqgen studio` to the first 200 answer for the page,
a fresh process each run. Generate is the round trip of POST /api/generate (the shipped model, its default
primer, 10 outputs of 128 steps, writing the 10 MIDI files) to one server: the first request (which loads
the model) and the median of the next ones.

Usage: python bench/studio.py [--runs 7]
"""

import argparse
import http.cookiejar
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(port: int):
    """The server process and the seconds until it answered its first request."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "seqgen", "studio", "--port", str(port)], stdout=subprocess.DEVNULL
    )
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
                answer.read()
            return process, time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None:
                sys.exit("seqgen studio exited; run it by hand to see why")
            time.sleep(0.005)


def stop(process) -> None:
    process.terminate()
    process.wait(30)


def generate_seconds(opener, port: int) -> float:
    body = json.dumps({"model": "drum_kit_gmd", "num_outputs": 10, "new_steps": 127}).encode()  # after 1 step
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/generate", body, {"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with opener.open(request, timeout=60) as answer:
        results = json.load(answer)["results"]
    seconds = time.perf_counter() - started
    assert len(results) == 10 and all(result["steps"] == 128 for result in results)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    startups = []
    for _ in range(runs):
        process, seconds = start(free_port())
        startups.append(seconds)
        stop(process)
    port = free_port()
    process, _ = start(port)
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        first = generate_seconds(opener, port)
        warm = [generate_seconds(opener, port) for _ in range(runs)]
    finally:
        stop(process)
    print(
        f"start-up to first answer: median {statistics.median(startups):.3f} s "
        f"(min {min(startups):.3f}, max {max(startups):.3f}, {runs} runs)"
    )
    print(
        f"generate 10 x 128: first request {first:.3f} s (loads the model); then median "
        f"{statistics.median(warm):.3f} s (min {min(warm):.3f}, max {max(warm):.3f}, {runs} runs)"
    )


if __name__ == "__main__":
    main()
