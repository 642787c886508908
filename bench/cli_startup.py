"""Whole-process wall time of the commands that must answer fast: `seqgen --help`, `seqgen plugins --json`.

Usage: python bench/cli_startup.py [--runs 7]
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def wall_time(command) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    seqgen = shutil.which("seqgen") or sys.exit("seqgen is not installed: pip install -e .")
    for args in (["--help"], ["plugins", "--json"]):
        times = [wall_time([seqgen, *args]) for _ in range(runs)]
        print(
            f"seqgen {' '.join(args)}: median {statistics.median(times):.3f} s "
            f"(min {min(times):.3f}, max {max(times):.3f}, {runs} runs)"
        )


if __name__ == "__main__":
    main()
