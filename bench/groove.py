"""Speed of humanize and drumify in NumPy (no TensorFlow), in process: medians of several runs of one
128-step track, ten 128-step tracks and one 512-step track, for each model given.

Usage: python bench/groove.py [--runs 5] [--models groove_gmd groove_sampling_gmd drumify_gmd]
A groove model is timed with ``model.humanize_tracks``, a drumify model with ``model.drumify_tracks`` (the
rhythm of the same drum tracks); a model the code does not know is skipped, so the script runs on old code
too (bench/side_by_side.sh OLD_REV 3 "$PWD/bench/groove.py").
"""

import argparse
import statistics
import time

import seqgen
from seqgen.errors import SeqgenError

PATTERN = [(36, 42), (), (42,), (), (38, 42), (), (42,), (36,), (36, 42), (), (42,), (), (38, 42), (), (42, 46), ()]


def tracks(num_tracks: int, num_steps: int) -> list:
    events = [frozenset(step) for step in PATTERN]
    return [[events[i % len(events)] for i in range(num_steps)] for _ in range(num_tracks)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["groove_gmd", "groove_sampling_gmd", "drumify_gmd"])
    args = parser.parse_args()
    for name in args.models:
        try:
            model = seqgen.load(name)
        except SeqgenError as error:
            print(f"{name}: skipped ({error})")
            continue
        operation = model.humanize_tracks if model.config.model == "groove" else model.drumify_tracks
        for num_tracks, num_steps in ((1, 128), (10, 128), (1, 512)):
            inputs = tracks(num_tracks, num_steps)
            operation(inputs)  # warm-up
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                operation(inputs)
                times.append(time.perf_counter() - start)
            print(
                f"{name} {operation.func.__name__} {num_tracks} x {num_steps} steps: median "
                f"{statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}, {args.runs} runs)"
            )


if __name__ == "__main__":
    main()
