"""Does infilling see both sides? Two measures on the Groove test split's windows (docs/models.md, "Infilling").

Each window is cut to its first ``--bars`` bars (windows shorter than that are left out); gaps of 1 and 2
bars start at each of ``--positions`` (bars counted from 1).

1. The log-likelihood of the true gap given both sides (``Generator.gap_log_likelihoods(both_sides=True)``,
   fill-in-the-middle) against given the left side only (``both_sides=False``), in bits per step, for the
   infilling model and for the left-only shipped transformer; and given both sides with the next window's
   right side in place of the true one (a model that reads the right side does worse then), and with the
   right side cut to its first bar (which brings the bars before the gap closer to it in the stream).
2. The seam: how well the last infilled bar leads into the kept bar after it, against the same for the
   real bars there. Two per-bar measures of the 9 instruments x 16 steps onset grid: the Hamming distance
   (cells that differ) and the difference of hit counts. Lower is more alike; real consecutive bars of a
   groove are close. Infills: ``--outputs`` per gap and method (middle, left, rescore) of the infilling model,
   and left and rescore of the shipped transformer (which cannot fill in the middle).

Prints markdown tables: mean over windows, with a 95% interval (1.96 standard errors over windows).
Usage: python bench/infill_proof.py [--model drum_kit_control_gmd]
           [--left_model drum_kit_transformer_gmd] [--records /work/gmd/windows/test_drum_tracks.tfrecord]
"""

from seqgen.cli import single_blas_thread

single_blas_thread()  # as the seqgen commands do, before NumPy loads

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import seqgen  # noqa: E402
from seqgen.evaluation import read_class_sequences  # noqa: E402
from seqgen_drums.evaluation.fidelity import bar_distance  # noqa: E402
from seqgen_drums.events.groove import hits_of_classes  # noqa: E402

STEPS_PER_BAR = 16
#: The seam's infills: --ways names them (the model, then the method) as these keys.
WAYS = {
    "infilling_middle": "infilling model, middle (both sides)",
    "infilling_left": "infilling model, left (left side only)",
    "infilling_rescore": "infilling model, rescore (8 left-to-right candidates)",
    "shipped_left": "shipped transformer, left",
    "shipped_rescore": "shipped transformer, rescore",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="drum_kit_control_gmd", help="the infilling model")
    parser.add_argument("--left_model", default="drum_kit_transformer_gmd", help="a left-only model")
    parser.add_argument("--records", default="/work/gmd/windows/test_drum_tracks.tfrecord")
    parser.add_argument("--bars", type=int, default=16, help="bars of each window read (default 16)")
    parser.add_argument("--positions", default="3,8,13", help="first bars of the gaps (default 3,8,13)")
    parser.add_argument("--outputs", type=int, default=2, help="infills per gap and method for the seam")
    parser.add_argument("--seam_windows", type=int, default=0, help="infill only the first N windows (0: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tables", default="likelihood,seam", help="which tables (default both)")
    parser.add_argument(
        "--ways",
        default=",".join(WAYS),
        help=f"the seam's infills, by model and method (default all: {','.join(WAYS)})",
    )
    args = parser.parse_args()

    began = time.perf_counter()
    infilling, left_only = seqgen.load(args.model), seqgen.load(args.left_model)
    if not infilling.generator.prompt.infill:
        raise SystemExit(f"{args.model} did not learn to fill in the middle")
    encoding = infilling.config.encoding
    length = args.bars * STEPS_PER_BAR
    windows = [w[:length] for w in read_class_sequences([args.records], encoding.num_classes) if len(w) >= length]
    tracks = [[encoding.class_to_event(int(c)) for c in w] for w in windows]
    gaps = [(bars, first) for bars in (1, 2) for first in map(int, args.positions.split(","))]
    for bars, first in gaps:
        if first < 2 or first + bars > args.bars:
            raise SystemExit(f"a gap of {bars} bars from bar {first} needs a kept bar on each side")
    print(
        f"infilling model: {checkpoint_of(infilling)}; left-only model: {args.left_model}; "
        f"{len(windows)} windows of {args.bars} bars from {args.records}\n"
    )

    tables = args.tables.split(",")
    if "likelihood" in tables:
        likelihood_table(infilling, left_only, tracks, gaps)
    if "seam" in tables:
        seam_tracks = tracks[: args.seam_windows] if args.seam_windows else tracks
        ways = [
            (WAYS[way], infilling if way.startswith("infilling") else left_only, way.split("_")[-1])
            for way in args.ways.split(",")
        ]
        seam_table(ways, encoding, seam_tracks, windows[: len(seam_tracks)], gaps, args.outputs, args.seed)
    print(f"\n({time.perf_counter() - began:.0f} s)")


def checkpoint_of(model) -> str:
    """The checkpoint a model was read from (a run dir's latest, when given a run dir)."""
    import os

    from seqgen import run_dir

    return run_dir.latest_checkpoint(model.source) if os.path.isdir(model.source) else model.source


def interval(per_window) -> str:
    values = np.asarray(per_window, np.float64)
    half = 1.96 * values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return f"{values.mean():.3f} ± {half:.3f}"


def likelihood_table(infilling, left_only, tracks, gaps) -> None:
    print("### Log-likelihood of the true gap (bits per step; lower is better)\n")
    print(
        "| gap | infilling model, both sides | infilling model, left side only | both sides minus left "
        "| both sides, another window's right side | both sides, right side cut to 1 bar "
        "| shipped transformer, left side only |"
    )
    print("|---|---|---|---|---|---|---|")
    rows = {"both": [], "left": [], "other": [], "near": [], "shipped": []}
    for bars, first in gaps:
        start, end = (first - 1) * STEPS_PER_BAR, (first - 1 + bars) * STEPS_PER_BAR
        bits = -1.0 / ((end - start) * math.log(2))
        both = infilling.generator.gap_log_likelihoods(tracks, start, end, both_sides=True) * bits
        left = infilling.generator.gap_log_likelihoods(tracks, start, end, both_sides=False) * bits
        # The same gap and left side with the next window's right side: worse when the right side is read.
        swapped = [track[:end] + tracks[(w + 1) % len(tracks)][end:] for w, track in enumerate(tracks)]
        other = infilling.generator.gap_log_likelihoods(swapped, start, end, both_sides=True) * bits
        # Only one bar after the gap: the bars before the gap come closer to it in the stream.
        cut = [track[: end + STEPS_PER_BAR] for track in tracks]
        near = infilling.generator.gap_log_likelihoods(cut, start, end, both_sides=True) * bits
        shipped = left_only.generator.gap_log_likelihoods(tracks, start, end, both_sides=False) * bits
        for name, values in (("both", both), ("left", left), ("other", other), ("near", near), ("shipped", shipped)):
            rows[name].append(values)
        print(
            f"| {bars} bar{'s' if bars > 1 else ''} from bar {first} | {interval(both)} | {interval(left)} "
            f"| {interval(both - left)} | {interval(other)} | {interval(near)} | {interval(shipped)} |"
        )
    mean = {name: np.mean(values, axis=0) for name, values in rows.items()}  # per window, over the gaps
    print(
        f"| every gap (per window) | {interval(mean['both'])} | {interval(mean['left'])} "
        f"| {interval(mean['both'] - mean['left'])} | {interval(mean['other'])} | {interval(mean['near'])} "
        f"| {interval(mean['shipped'])} |\n"
    )


def seam(classes, end) -> tuple:
    """(Hamming distance, |hit count difference|) between the bar ending at ``end`` and the bar after it."""
    before, after = classes[end - STEPS_PER_BAR : end], classes[end : end + STEPS_PER_BAR]
    hits = [int(hits_of_classes(bar).sum()) for bar in (before, after)]
    return float(bar_distance(before, after)), float(abs(hits[0] - hits[1]))


def seam_table(ways, encoding, tracks, windows, gaps, outputs, seed) -> None:
    """``ways``: (name, model, method) of the infills compared with the real bars."""
    # [way][window] -> list of (hamming, density) over gaps and outputs; "real": the true bars.
    found = {name: [[] for _ in tracks] for name, _, _ in ways}
    found["real consecutive bars"] = [[] for _ in tracks]
    timing = {name: 0.0 for name, _, _ in ways}
    for w, (events, classes) in enumerate(zip(tracks, windows)):
        for bars, first in gaps:
            start, end = (first - 1) * STEPS_PER_BAR, (first - 1 + bars) * STEPS_PER_BAR
            found["real consecutive bars"][w].append(seam(classes, end))
            for name, model, method in ways:
                began = time.perf_counter()
                filled = model.generator.infill(
                    events, start, end, num_outputs=outputs, method=method, seed=seed + w * 1000 + first * 10 + bars
                )
                timing[name] += time.perf_counter() - began
                for output in filled:
                    found[name][w].append(seam(encoding.events_to_classes(output), end))
    print(
        f"### The seam: the last infilled bar against the kept bar after it ({len(tracks)} windows, "
        f"{outputs} infills per gap and method; lower is closer)\n"
    )
    print(
        "| bars before the kept bar | onset grid Hamming distance (cells of 144) | hit count difference "
        "| infilling time (s) |"
    )
    print("|---|---|---|---|")
    for name, per_window in found.items():
        hamming = [np.mean([h for h, _ in cells]) for cells in per_window]
        density = [np.mean([d for _, d in cells]) for cells in per_window]
        spent = f"{timing[name]:.0f}" if name in timing else ""
        print(f"| {name} | {interval(hamming)} | {interval(density)} | {spent} |")


if __name__ == "__main__":
    main()
