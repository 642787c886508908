"""Dataset creation on the whole Groove MIDI Dataset: `seqgen convert` then `seqgen create_dataset`.

Whole-process wall time of each command and of both (median of several runs), and the record sizes.
Magenta on the same machine: 17.8 s + 24.0 s = 41.8 s and 341 MB of drum_kit records.
Usage: python bench/dataset.py [--runs 3] [--config drum_kit] [--groove ../shared/datasets/groove]
"""

import argparse
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]


def wall_time(command) -> tuple:
    """Wall seconds and CPU seconds (user + system, all processes) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--config", default="drum_kit")
    parser.add_argument(
        "--groove",
        default=str(REPO.parent / "shared" / "datasets" / "groove"),
        help="the whole Groove MIDI Dataset (the folder holding info.csv)",
    )
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.groove, "info.csv")):
        sys.exit(
            f"bench/dataset.py: no Groove MIDI Dataset at {args.groove} (no info.csv there): download it "
            "from https://magenta.tensorflow.org/datasets/groove and pass its folder as --groove DIR"
        )
    seqgen = shutil.which("seqgen") or sys.exit("seqgen is not installed: pip install -e .")
    load = os.getloadavg()[0]
    converts, creates, totals = [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as work:
            ns_file, out_dir = os.path.join(work, "ns.tfrecord"), os.path.join(work, "out")
            converts.append(
                wall_time([seqgen, "convert", "--input_dir", args.groove, "--output_file", ns_file, "--recursive"])
            )
            creates.append(
                wall_time(
                    [seqgen, "create_dataset", "--config", args.config, "--input", ns_file, "--output_dir", out_dir]
                )
            )
            totals.append(tuple(a + b for a, b in zip(converts[-1], creates[-1])))
            ns_size = os.path.getsize(ns_file)
            record_size = sum(f.stat().st_size for f in pathlib.Path(out_dir).iterdir())
    print(f"load average before: {load:.2f} (2 cores shared: compare CPU seconds when busy)")
    for name, pairs in (("convert", converts), (f"create_dataset {args.config}", creates), ("total", totals)):
        wall = [w for w, _ in pairs]
        print(
            f"{name}: wall median {statistics.median(wall):.2f} s (min {min(wall):.2f}, max {max(wall):.2f}, "
            f"{args.runs} runs); CPU median {statistics.median(c for _, c in pairs):.2f} s"
        )
    print(f"NoteSequence records: {ns_size / 1e6:.1f} MB; {args.config} records: {record_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
