"""Whole-process wall time of one `seqgen` command, median of several runs.

Usage: python bench/command_time.py [--runs 5] -- generate --bundle_file X.mag --output_dir /tmp/out
(each run gets its own empty --output_dir when the command has one). The `seqgen` that runs is the one
Python finds first (PYTHONPATH), so bench/side_by_side.sh can time old and new code with it.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the seqgen command and its flags, after --")
    args = parser.parse_args()
    command = [part for part in args.command if part != "--"]
    if not command:
        sys.exit("bench/command_time.py: give a seqgen command after --, e.g. -- generate --num_outputs 10")
    times = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as out:
            full = [out if part == "OUT" else part for part in command]
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "seqgen", *full],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            times.append(time.perf_counter() - start)
    print(
        f"seqgen {' '.join(command)}: median {statistics.median(times):.3f} s "
        f"(min {min(times):.3f}, max {max(times):.3f}, {args.runs} runs)"
    )


if __name__ == "__main__":
    main()
