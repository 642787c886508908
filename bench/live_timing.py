"""Timing of `seqgen live`: for each note, its arrival at a receiver in another process minus its scheduled moment,
p50 / p99 / max over --bars bars at each tempo, while the default model generates each next bar; through OSC on
127.0.0.1 and through a JACK MIDI port (a JACK server of this script's own, dummy driver, --period frames at
48 kHz); CPU time per bar of the playing process (the player and the generating thread).

The player runs in this process (seqgen.live, as `seqgen live` runs it); the receiver is a second process that
stamps each message on arrival with time.perf_counter (CLOCK_MONOTONIC on Linux, the same clock in both).

Usage: python bench/live_timing.py [--bars 64] [--bpm 120 180] [--runs 3] [--transports osc jack] [--period 64]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

RECEIVE_SECONDS_AFTER = 1.0


def receive(transport: str, where: str, out: str) -> None:
    """The receiver process: stamp every note-on until the sender's end marker, then write the stamps."""
    stamps = []
    if transport == "osc":
        from pythonosc import dispatcher, osc_server

        handler = dispatcher.Dispatcher()
        handler.map("/seqgen/note", lambda address, *args: stamps.append(time.perf_counter()))
        server = osc_server.BlockingOSCUDPServer(("127.0.0.1", int(where)), handler)
        print("ready", flush=True)
        server.timeout = 0.2
        while not os.path.exists(out + ".done"):
            server.handle_request()
        server.server_close()
    else:
        import mido

        backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK", load=True)

        def stamp(message):
            if message.type == "note_on" and message.velocity:
                stamps.append(time.perf_counter())

        port = backend.open_input(where, virtual=True, client_name="bench", callback=stamp)
        print("ready", flush=True)
        while not os.path.exists(out + ".done"):
            time.sleep(0.1)
        port.close()
    with open(out, "w") as stream:
        json.dump(stamps, stream)


def play(transport: str, bpm: float, bars: int, seed: int) -> dict:
    """Play ``bars`` bars at ``bpm`` to a receiver process: the latency figures (ms) and CPU seconds per bar."""
    import seqgen
    from seqgen.live import ports
    from seqgen.live.clock import Clock
    from seqgen.live.drummer import Drummer
    from seqgen.live.player import Player
    from seqgen.live.steering import Steering
    from seqgen.loading import default_config

    folder = tempfile.mkdtemp()
    out = os.path.join(folder, "stamps.json")
    where = "9931" if transport == "osc" else "in"
    receiver = subprocess.Popen([sys.executable, __file__, "--receive", transport, where, out],
                                stdout=subprocess.PIPE, text=True)
    assert receiver.stdout.readline().strip() == "ready"
    output = ports.OscOut("127.0.0.1", 9931) if transport == "osc" else ports.MidiOut("bench:in")
    model = seqgen.load(default_config().default_bundle)
    sys.setswitchinterval(0.0002)  # as seqgen live
    player = Player(Clock(bpm), Drummer(model, Steering(), seed=seed), [output], bars)
    cpu = time.process_time()
    player.play()
    cpu = time.process_time() - cpu
    output.close()
    time.sleep(RECEIVE_SECONDS_AFTER)
    open(out + ".done", "w").close()
    receiver.wait(timeout=30)
    with open(out) as stream:
        arrivals = json.load(stream)
    if len(arrivals) != len(player.timing):
        raise SystemExit(f"{transport}: {len(player.timing)} notes sent, {len(arrivals)} received")
    latency = sorted((arrival - scheduled) * 1000 for (scheduled, _), arrival in zip(player.timing, arrivals))
    sending = sorted((sent - scheduled) * 1000 for scheduled, sent in player.timing)
    return {"notes": len(latency), "p50": statistics.median(latency), "p99": latency[int(len(latency) * 0.99)],
            "max": latency[-1], "send_p99": sending[int(len(sending) * 0.99)], "late_bars": player.late_bars,
            "cpu_per_bar": cpu / bars, "bar_seconds": 240.0 / bpm}


def jack_server(period: int):
    """A JACK server of this script's own (dummy driver) and the environment to reach it."""
    name = f"seqgen-bench-{os.getpid()}"
    os.environ.update(JACK_DEFAULT_SERVER=name, JACK_NO_AUDIO_RESERVATION="1", JACK_NO_START_SERVER="1",
                      MIDO_BACKEND="mido.backends.rtmidi/UNIX_JACK")
    server = subprocess.Popen(["jackd", "-n", name, "-d", "dummy", "-r", "48000", "-p", str(period)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["jack_wait", "-s", name, "-w", "-t", "10"], check=True, stdout=subprocess.DEVNULL)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receive", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--bars", type=int, default=64)
    parser.add_argument("--bpm", type=float, nargs="+", default=[120.0, 180.0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--transports", nargs="+", default=["osc", "jack"], choices=["osc", "jack"])
    parser.add_argument("--period", type=int, default=64, help="JACK period in frames at 48 kHz (default 64)")
    args = parser.parse_args()
    if args.receive:
        receive(*args.receive)
        return
    server = jack_server(args.period) if "jack" in args.transports else None
    try:
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        print("| transport | bpm | run | notes | p50 ms | p99 ms | max ms | sent p99 ms | late bars | CPU s/bar | CPU share |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for transport in args.transports:
            for bpm in args.bpm:
                for run in range(args.runs):
                    got = play(transport, bpm, args.bars, seed=run)
                    name = "OSC 127.0.0.1" if transport == "osc" else f"JACK MIDI ({args.period} frames)"
                    print(f"| {name} | {bpm:g} | {run + 1} | {got['notes']} | {got['p50']:.2f} | {got['p99']:.2f} | "
                          f"{got['max']:.2f} | {got['send_p99']:.2f} | {got['late_bars']} | {got['cpu_per_bar']:.4f} | "
                          f"{got['cpu_per_bar'] / got['bar_seconds']:.1%} |", flush=True)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
