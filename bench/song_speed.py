"""Song speed: a 64-bar song against generating 64 bars plainly, one output, the same model in the same process
(docs/benchmarks.md, "Songs"). Goal: the song within 3x.

The song is ``--form`` (64 bars, each section steered by its density, fills into each change); "plain" is
``Model.generate`` of 1024 steps, without controls and with ``density=16``. Runs are interleaved; medians.
One BLAS thread, as the commands. Usage:
    python bench/song_speed.py [--model drum_kit_control_gmd] [--runs 5]
"""

from seqgen.cli import single_blas_thread

single_blas_thread()  # as the seqgen commands do, before NumPy loads

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import seqgen  # noqa: E402

FORM = "intro:4 verse:16 chorus:8 verse:16 chorus:16 outro:4"
CONTROLS = {"intro": {"density": 8}, "verse": {"density": 12}, "chorus": {"density": 22}, "outro": {"density": 10}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="drum_kit_control_gmd")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    model = seqgen.load(args.model)
    jobs = {
        "plain 64 bars": lambda seed: model.generate(1, 1024, seed=seed),
        "plain 64 bars, density=16": lambda seed: model.generate(1, 1024, seed=seed, controls={"density": 16}),
        f"song {FORM}": lambda seed: model.song(FORM, CONTROLS, fills=True, seed=seed),
    }
    times = {name: [] for name in jobs}
    for run in range(args.runs):
        for name, job in jobs.items():
            began = time.perf_counter()
            job(run)
            times[name].append(time.perf_counter() - began)
    base = statistics.median(times["plain 64 bars"])
    print("| job (1 output) | median s (min, max) | / plain |")
    print("|---|---|---|")
    for name, found in times.items():
        median = statistics.median(found)
        print(f"| {name} | {median:.2f} ({min(found):.2f}, {max(found):.2f}) | {median / base:.1f}x |")


if __name__ == "__main__":
    main()
