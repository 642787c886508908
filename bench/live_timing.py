"""Timing of `seqgen live`: for each note, its arrival at a receiver in another process minus its scheduled moment,
p50 / p99 / max over --bars bars at each tempo, while the default model generates each next bar; through OSC on
127.0.0.1 and through a JACK MIDI port (a JACK server of this script's own, dummy driver, --period frames at
48 kHz); CPU time per bar of the playing process (the player and the generating thread).

The player runs in this process (seqgen.live, as `seqgen live` runs it); the receiver is a second process that
stamps each message on arrival with time.perf_counter (CLOCK_MONOTONIC on Linux, the same clock in both).

The player's and the drummer's threads run real-time (SCHED_FIFO, as `seqgen live` asks where the user may) and
so does the receiver (as a DAW's MIDI thread), or all ordinary.

Usage: python bench/live_timing.py [--bars 64] [--bpm 120 180] [--runs 3] [--transports osc jack] [--period 64]
                                   [--scheduling realtime ordinary]
"""

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

RECEIVE_SECONDS_AFTER = 1.0


def receive(transport: str, scheduling: str, out: str) -> None:
    """The receiver process: stamp every note-on until the sender's end marker, then write the stamps."""
    from seqgen.live.realtime import PLAYER, realtime

    if scheduling == "realtime":
        realtime(PLAYER)  # as a DAW's MIDI thread
    stamps = []
    if transport == "osc":
        from pythonosc import dispatcher, osc_server

        handler = dispatcher.Dispatcher()
        handler.map("/seqgen/note", lambda address, *args: stamps.append((time.perf_counter(), args[0])))
        server = osc_server.BlockingOSCUDPServer(("127.0.0.1", 0), handler)
        print("ready", server.server_address[1], flush=True)
        server.timeout = 0.2
        while not os.path.exists(out + ".done"):
            server.handle_request()
        server.server_close()
    else:
        import mido

        backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK", load=True)

        def stamp(message):
            if message.type == "note_on" and message.velocity:
                stamps.append((time.perf_counter(), message.note))

        port = backend.open_input("in", virtual=True, client_name="bench", callback=stamp)
        print("ready", flush=True)
        while not os.path.exists(out + ".done"):
            time.sleep(0.1)
        port.close()
    with open(out, "w") as stream:
        json.dump(stamps, stream)


def play(transport: str, bpm: float, bars: int, seed: int, scheduling: bool) -> dict:
    """Play ``bars`` bars at ``bpm`` to a receiver process: the latency figures (ms) and CPU seconds per bar."""
    import seqgen
    from seqgen.live import ports
    from seqgen.live.clock import Clock
    from seqgen.live.drummer import Drummer
    from seqgen.live.player import Player
    from seqgen.live.realtime import PLAYER, realtime
    from seqgen.live.steering import Steering
    from seqgen.loading import default_config

    folder = tempfile.mkdtemp()
    out = os.path.join(folder, "stamps.json")
    receiver = subprocess.Popen(
        [sys.executable, __file__, "--receive", transport, "realtime" if scheduling else "ordinary", out],
        stdout=subprocess.PIPE,
        text=True,
    )
    ready = receiver.stdout.readline().split()
    output = ports.OscOut("127.0.0.1", int(ready[1])) if transport == "osc" else ports.MidiOut("bench:in")
    model = seqgen.load(default_config().default_bundle)
    sys.setswitchinterval(0.0002)  # as seqgen live
    player = Player(Clock(bpm), Drummer(model, Steering(), seed=seed, realtime=scheduling), [output], bars)
    gc.freeze()  # as seqgen live
    granted = realtime(PLAYER) if scheduling else False
    cpu = time.process_time()
    player.play()
    cpu = time.process_time() - cpu
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))  # the next run starts ordinary
    output.close()
    time.sleep(RECEIVE_SECONDS_AFTER)
    open(out + ".done", "w").close()
    receiver.wait(timeout=30)
    with open(out) as stream:
        arrivals = json.load(stream)
    by_pitch = {}
    for scheduled, _, pitch in player.timing:
        by_pitch.setdefault(pitch, ([], []))[0].append(scheduled)
    for arrival, pitch in arrivals:
        if pitch not in by_pitch:
            raise SystemExit(f"{transport}: a note of pitch {pitch} arrived that was not sent")
        by_pitch[pitch][1].append(arrival)
    matched = [pair for due, came in by_pitch.values() for pair in pair_up(due, came)]
    latency = sorted((arrival - scheduled) * 1000 for scheduled, arrival in matched)
    sending = sorted((sent - scheduled) * 1000 for scheduled, sent, _ in player.timing)
    return {
        "notes": len(player.timing),
        "lost": len(player.timing) - len(matched),
        "p50": statistics.median(latency),
        "p99": latency[int(len(latency) * 0.99)],
        "max": latency[-1],
        "send_p99": sending[int(len(sending) * 0.99)],
        "late_bars": player.late_bars,
        "cpu_per_bar": cpu / bars,
        "bar_seconds": 240.0 / bpm,
        "realtime": granted,
    }


def pair_up(due: list, came: list) -> list:
    """(moment due, arrival) of each arrival of one pitch, in order, with the notes due: the pairing of least total
    latency in which none arrives before it was due; the notes left unpaired were lost (notes of one moment may
    arrive in another order through JACK, and a missed JACK cycle loses its notes)."""
    inf = float("inf")
    # cost[i][j]: the least total latency pairing the first j arrivals with notes among the first i due.
    cost = [[0.0] + [inf] * len(came)]
    for i, moment in enumerate(due):
        row = list(cost[i])  # note i lost
        for j, arrival in enumerate(came):
            if arrival >= moment and cost[i][j] + arrival - moment < row[j + 1]:
                row[j + 1] = cost[i][j] + arrival - moment
        cost.append(row)
    if cost[-1][-1] == inf:
        raise SystemExit("a note arrived before it was due, or more arrived than were sent")
    pairs, j = [], len(came)
    for i in range(len(due), 0, -1):  # back from the end: note i - 1 paired where that was the cheaper way
        if j and cost[i][j] != cost[i - 1][j]:
            pairs.append((due[i - 1], came[j - 1]))
            j -= 1
    return pairs[::-1]


def jack_server(period: int):
    """A JACK server of this script's own (dummy driver) and the environment to reach it."""
    name = f"seqgen-bench-{os.getpid()}"
    os.environ.update(
        JACK_DEFAULT_SERVER=name,
        JACK_NO_AUDIO_RESERVATION="1",
        JACK_NO_START_SERVER="1",
        MIDO_BACKEND="mido.backends.rtmidi/UNIX_JACK",
    )
    server = subprocess.Popen(
        ["jackd", "-n", name, "-d", "dummy", "-r", "48000", "-p", str(period)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    subprocess.run(
        ["jack_wait", "-s", name, "-w", "-t", "10"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--receive", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--bars", type=int, default=64)
    parser.add_argument("--bpm", type=float, nargs="+", default=[120.0, 180.0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--transports", nargs="+", default=["osc", "jack"], choices=["osc", "jack"])
    parser.add_argument("--period", type=int, default=64, help="JACK period in frames at 48 kHz (default 64)")
    parser.add_argument(
        "--scheduling",
        nargs="+",
        default=["realtime", "ordinary"],
        choices=["realtime", "ordinary"],
        help="the player's and drummer's threads real-time (as seqgen live asks, where allowed) or ordinary",
    )
    args = parser.parse_args()
    if args.receive:
        receive(*args.receive)
        return
    server = jack_server(args.period) if "jack" in args.transports else None
    try:
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        print(
            "| transport | threads | bpm | run | notes | lost | p50 ms | p99 ms | max ms | sent p99 ms | late bars | "
            "CPU s/bar | CPU share |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for transport in args.transports:
            for scheduling in args.scheduling:
                for bpm in args.bpm:
                    for run in range(args.runs):
                        got = play(transport, bpm, args.bars, run, scheduling == "realtime")
                        name = "OSC 127.0.0.1" if transport == "osc" else f"JACK MIDI ({args.period} frames)"
                        player = "real-time" if got["realtime"] else "ordinary"
                        print(
                            f"| {name} | {player} | {bpm:g} | {run + 1} | {got['notes']} | {got['lost']} | "
                            f"{got['p50']:.2f} | "
                            f"{got['p99']:.2f} | {got['max']:.2f} | {got['send_p99']:.2f} | {got['late_bars']} | "
                            f"{got['cpu_per_bar']:.4f} | {got['cpu_per_bar'] / got['bar_seconds']:.1%} |",
                            flush=True,
                        )
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
