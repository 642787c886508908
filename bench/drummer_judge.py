"""Does an adapted model play like its drummer? A judge of drummer identity, trained on real windows, reads the
adapted models' outputs beside the base model's (issue 33's last column; docs/models.md, "Five drummers").

1. Real windows: the drummers' 4/4 beats of the Groove MIDI Dataset (CC BY 4.0), read as the base model reads a
   MIDI file (its Tracks' ``primer_from_midi``), cut into windows of ``--bars`` bars of 16 steps (the last,
   shorter one and windows with no hit left out). The train split trains the judge, validation+test measure it.
2. The judge: multinomial logistic regression (NumPy: softmax, L2, gradient descent, standardized features,
   each drummer weighed alike) on what a generated track also has, the quantized onset grid: each instrument's
   onset rate at each of the 16 positions of a bar, hits per bar (mean, spread), each instrument's hits per
   bar, two instruments struck on the same step, how much consecutive bars differ. Its L2 weight is chosen on
   a fifth of the train-split files (by file), then it is fit on them all.
3. Each adapted bundle (``--adapted``/DRUMMER.seqgen) and the base generate ``--tracks`` tracks of one window
   (seed ``--seed``, temperature 1.0, no controls, the default primer); the share the judge gives the drummer
   (mean probability; share of windows judged that drummer) with 95% intervals, beside chance (1 / drummers).

Usage:
    python bench/drummer_judge.py --groove /work/shared/datasets/groove --adapted /tmp/adapt_proof \\
        [--base drum_kit_control_gmd] [--drummers drummer1 drummer3 drummer5 drummer7 drummer8] [--tracks 1000]
Prints Markdown tables.
"""

import argparse
import csv
import os
import time

from seqgen.cli import single_blas_thread

single_blas_thread()  # as `seqgen generate` does, before NumPy loads

import numpy as np  # noqa: E402

import seqgen  # noqa: E402

STEPS_PER_BAR = 16
L2_CHOICES = (1e-3, 1e-2, 1e-1, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groove", required=True, help="the Groove MIDI Dataset's folder (with info.csv)")
    parser.add_argument("--adapted", required=True, help="folder of the adapted bundles, DRUMMER.seqgen")
    parser.add_argument("--base", default="drum_kit_control_gmd")
    parser.add_argument("--drummers", nargs="+", default=["drummer1", "drummer3", "drummer5", "drummer7", "drummer8"])
    parser.add_argument("--bars", type=int, default=4)
    parser.add_argument("--tracks", type=int, default=1000, help="generated tracks per model")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    start = time.monotonic()
    base = seqgen.load(args.base)
    rows = base.config.tracks.grid_rows(base.config)
    row_of = {pitch: index for index, (_, pitches) in enumerate(rows) for pitch in pitches}
    length = args.bars * STEPS_PER_BAR
    train = real_windows(args, base.config, row_of, ("train",), length)
    test = real_windows(args, base.config, row_of, ("validation", "test"), length)
    judge = fit_judge(*train, len(args.drummers))
    print_real(args, judge, train, test)

    def judged(model):
        tracks = model.generate(num_outputs=args.tracks, num_steps=length, seed=args.seed)
        return probabilities(judge, np.array([features(grid(track.events, row_of, len(rows))) for track in tracks]))

    print_generated(
        args, judged(base), {d: judged(seqgen.load(os.path.join(args.adapted, f"{d}.seqgen"))) for d in args.drummers}
    )
    print(f"\nTime taken: {time.monotonic() - start:.0f} s.")


def real_windows(args, config, row_of, splits, length) -> tuple:
    """(features [windows, n], drummer index [windows], file index [windows]) of the drummers' 4/4 beats."""
    with open(os.path.join(args.groove, "info.csv"), newline="") as stream:
        files = sorted(
            (row["midi_filename"], args.drummers.index(row["drummer"]))
            for row in csv.DictReader(stream)
            if row["drummer"] in args.drummers
            and row["split"] in splits
            and row["beat_type"] == "beat"
            and row["time_signature"] == "4-4"
        )
    found, labels, file_of = [], [], []
    for number, (name, label) in enumerate(files):
        events = config.tracks.primer_from_midi(os.path.join(args.groove, name), config).events
        for begin in range(0, len(events) - length + 1, length):
            window = grid(events[begin : begin + length], row_of, len(set(row_of.values())))
            if window.any():
                found.append(features(window))
                labels.append(label)
                file_of.append(number)
    return np.array(found), np.array(labels), np.array(file_of)


def grid(events, row_of, instruments) -> np.ndarray:
    """[bars, 16, instruments] of 0/1: which instrument (grid row) is struck at each step of ``events``."""
    hits = np.zeros((len(events), instruments))
    for step, pitches in enumerate(events):
        for pitch in pitches:
            if pitch in row_of:
                hits[step, row_of[pitch]] = 1.0
    return hits.reshape(-1, STEPS_PER_BAR, instruments)


def features(hits) -> np.ndarray:
    """A window's features, from its onset grid alone (no velocity, no timing)."""
    steps = hits.reshape(-1, hits.shape[2])
    together = (steps.T @ steps / len(steps))[np.triu_indices(hits.shape[2], 1)]
    per_bar = hits.sum(axis=(1, 2))
    change = np.abs(np.diff(hits, axis=0)).sum(axis=(1, 2)).mean() if len(hits) > 1 else 0.0
    return np.concatenate(
        [
            hits.mean(axis=0).reshape(-1),
            [per_bar.mean(), per_bar.std(), change],
            hits.sum(axis=1).mean(axis=0),
            together,
        ]
    )


def fit_judge(x, y, file_of, classes) -> dict:
    """The judge fit on all of (x, y), its L2 weight the best of L2_CHOICES on every fifth file held out."""
    held = file_of % 5 == 0
    accuracy = {
        l2: np.mean(balanced_hits(fit(x[~held], y[~held], classes, l2), x[held], y[held], classes)) for l2 in L2_CHOICES
    }
    l2 = max(accuracy, key=accuracy.get)
    return {**fit(x, y, classes, l2), "l2": l2, "choice": accuracy}


def fit(x, y, classes, l2, steps=1500) -> dict:
    """Softmax regression by gradient descent on standardized x, each class weighed alike, step 1 / Lipschitz."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    target = np.eye(classes)[y]
    weight = (len(y) / (classes * np.bincount(y, minlength=classes)))[y][:, None] / len(y)
    rate = 1.0 / (0.5 * np.linalg.eigvalsh(z.T @ (z * weight))[-1] + l2)
    w = np.zeros((z.shape[1], classes))
    for _ in range(steps):
        gradient = z.T @ ((softmax(z @ w) - target) * weight) + l2 * np.vstack([w[:-1], np.zeros((1, classes))])
        w -= rate * gradient
    return {"mean": mean, "scale": scale, "w": w}


def softmax(logits) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def probabilities(judge, x) -> np.ndarray:
    z = np.hstack([(x - judge["mean"]) / judge["scale"], np.ones((len(x), 1))])
    return softmax(z @ judge["w"])


def balanced_hits(judge, x, y, classes) -> list:
    """Each class's recall: the share of its windows judged it."""
    guesses = probabilities(judge, x).argmax(axis=1)
    return [np.mean(guesses[y == k] == k) for k in range(classes)]


def wilson(hits, n) -> str:
    """A share with its 95% Wilson interval, in percent."""
    p, z = hits / n, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return f"{100 * p:.1f}% ({100 * (centre - half):.1f}-{100 * (centre + half):.1f})"


def mean_interval(values) -> str:
    """A mean with its 95% normal interval, in percent."""
    half = 1.96 * values.std(ddof=1) / np.sqrt(len(values))
    return f"{100 * values.mean():.1f}% ({100 * (values.mean() - half):.1f}-{100 * (values.mean() + half):.1f})"


def print_real(args, judge, train, test) -> None:
    x, y, file_of = test
    classes = len(args.drummers)
    guesses = probabilities(judge, x).argmax(axis=1)
    recall = balanced_hits(judge, x, y, classes)
    print(f"## The judge on real windows of {args.bars} bars\n")
    print(
        f"Trained on {len(train[1])} windows of {len(set(train[2]))} train-split files; L2 weight {judge['l2']} "
        f"(per-drummer mean accuracy on the held-out fifth: "
        + ", ".join(f"{l2}: {100 * a:.1f}%" for l2, a in judge["choice"].items())
        + ").\n"
    )
    print(
        f"Validation+test: {len(y)} windows of {len(set(file_of))} files; accuracy "
        f"{wilson(np.sum(guesses == y), len(y))}, per-drummer mean {100 * np.mean(recall):.1f}%; "
        f"chance {100 / classes:.0f}%.\n"
    )
    print("| real drummer | windows | " + " | ".join(f"judged {d}" for d in args.drummers) + " | right |")
    print("|---|---:|" + "---:|" * (classes + 1))
    for k, drummer in enumerate(args.drummers):
        counts = np.bincount(guesses[y == k], minlength=classes)
        print(f"| {drummer} | {np.sum(y == k)} | " + " | ".join(map(str, counts)) + f" | {100 * recall[k]:.0f}% |")


def print_generated(args, base, adapted) -> None:
    """The share of the base's and each adapted model's windows the judge gives each drummer."""
    n, classes = len(base), len(args.drummers)
    print(f"\n## Generated windows judged ({n} per model, seed {args.seed}, temperature 1.0, no controls)\n")
    print(
        "| drummer | adapted: mean P(drummer) | base: mean P(drummer) | adapted: judged drummer | "
        "base: judged drummer | adapted − base, judged drummer | adapted judged most often as |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for k, drummer in enumerate(args.drummers):
        mine, theirs = adapted[drummer].argmax(axis=1) == k, base.argmax(axis=1) == k
        difference = mine.mean() - theirs.mean()
        half = 1.96 * np.sqrt(mine.var() / n + theirs.var() / n)
        most = np.bincount(adapted[drummer].argmax(axis=1), minlength=classes)
        print(
            f"| {drummer} | {mean_interval(adapted[drummer][:, k])} | {mean_interval(base[:, k])} | "
            f"{wilson(mine.sum(), n)} | {wilson(theirs.sum(), n)} | {100 * difference:+.1f} points "
            f"({100 * (difference - half):+.1f} to {100 * (difference + half):+.1f}) | "
            f"{args.drummers[most.argmax()]} ({most.max()}) |"
        )
    print(
        f"\nChance: {100 / classes:.0f}%. The base's windows judged as: "
        + ", ".join(f"{d} {100 * np.mean(base.argmax(axis=1) == k):.0f}%" for k, d in enumerate(args.drummers))
        + "."
    )


if __name__ == "__main__":
    main()
