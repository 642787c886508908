"""seqgen studio under a bounded load, and behind abandoned heavy requests.

Starts `python -m seqgen studio` from the code on PYTHONPATH, then:

1. load: REQUESTS generate requests, CONCURRENCY at a time (each client keeps its own cookie, as a browser
   does), each asking the shipped drum_kit_gmd for 4 takes of 64 new steps after its default primer.
   Reports the median and 95th percentile latency, the throughput, and the server's resident memory
   (VmRSS) before (after start-up and one request) and after the load.
2. abandoned: ABANDON clients ask for the heaviest request the studio allows (16 takes of 1008 new steps from
   the transformer) and hang up after 0.5 s; then one normal request is timed. A server that goes on
   computing abandoned work makes it wait.

It also drives the studio as it was before issue 23 (whose API took num_steps, the primer included), so
old and new code can run side by side:
    bash bench/side_by_side.sh OLD_REV 3 "$PWD/bench/studio_load.py"
Usage: python bench/studio_load.py [--requests 200] [--concurrency 8] [--abandon 4]
"""

import argparse
import concurrent.futures
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
    process = subprocess.Popen(
        [sys.executable, "-m", "seqgen", "studio", "--port", str(port)], stdout=subprocess.DEVNULL
    )
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/models", timeout=10) as answer:
                return process, json.load(answer)
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None:
                sys.exit("seqgen studio exited; run it by hand to see why")
            time.sleep(0.05)


def resident_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def body(new_api: bool, model: str, takes: int, new_steps: int, primer_steps: int, seed: int) -> bytes:
    steps = {"new_steps": new_steps} if new_api else {"num_steps": primer_steps + new_steps}
    return json.dumps({"model": model, "num_outputs": takes, "seed": seed} | steps).encode()


def generate_seconds(opener, port: int, data: bytes) -> float:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/generate", data, {"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with opener.open(request, timeout=600) as answer:
        assert len(json.load(answer)["results"]) >= 1
    return time.perf_counter() - started


def percentile(values, share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def abandon(port: int, data: bytes) -> None:
    """Send a generate request and hang up 0.5 s later, as a closed browser tab does."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--abandon", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1, help="ignored (bench/side_by_side.sh passes it)")
    args = parser.parse_args()
    port = free_port()
    process, models = start(port)
    new_api = "steps" in models["limits"]
    openers = [
        urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        for _ in range(args.concurrency)
    ]
    try:
        generate_seconds(openers[0], port, body(new_api, "drum_kit_gmd", 4, 64, 1, 0))
        before = resident_mib(process.pid)
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
            latencies = list(
                pool.map(
                    lambda n: generate_seconds(
                        openers[n % args.concurrency], port, body(new_api, "drum_kit_gmd", 4, 64, 1, n)
                    ),
                    range(args.requests),
                )
            )
        wall = time.perf_counter() - started
        after = resident_mib(process.pid)
        heavy = body(new_api, "drum_kit_transformer_gmd", 16, 1008, 1, 1)
        with concurrent.futures.ThreadPoolExecutor(args.abandon) as pool:
            list(pool.map(lambda _: abandon(port, heavy), range(args.abandon)))
        behind = generate_seconds(openers[0], port, body(new_api, "drum_kit_gmd", 4, 64, 1, 7))
        peak = resident_mib(process.pid)
    finally:
        process.terminate()
        process.wait(60)
    print(
        f"load: {args.requests} requests (4 takes x 64 new steps), {args.concurrency} at a time: median "
        f"{statistics.median(latencies):.3f} s, p95 {percentile(latencies, 0.95):.3f} s, max {max(latencies):.3f} s, "
        f"{args.requests / wall:.1f} requests/s; server memory {before:.0f} MiB before, {after:.0f} MiB after"
    )
    print(
        f"abandoned: {args.abandon} heaviest requests hung up after 0.5 s; the next normal request took "
        f"{behind:.3f} s; server memory then {peak:.0f} MiB"
    )


if __name__ == "__main__":
    main()
