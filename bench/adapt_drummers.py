"""Your own drummer, with the Groove MIDI Dataset's drummers as the users: ``seqgen adapt`` on at most 20 of a
drummer's train-split beats, then the perplexity of the base and the adapted model on that drummer's test-split
files and on the other drummers' (what is forgotten), with the time taken. ``--method full`` fine-tunes all the
weights instead, under the same budget, learning rate and held-out choice (the baseline).

Usage:
    python bench/adapt_drummers.py --groove /work/shared/datasets/groove --out /tmp/adapt_proof \\
        [--drummers drummer1 drummer3 drummer5 drummer7 drummer8] [--files 20] [--minutes 5] [--method full]

Perplexity is exp of the mean cross-entropy per predicted event of the test files' tracks (drum_kit tracks of
at least 7 bars, cut into windows of 32 bars), read as plain streams with no control set, with the NumPy
models (as ``seqgen evaluate`` scores). Prints a Markdown table.
"""

import argparse
import csv
import math
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groove", required=True, help="the Groove MIDI Dataset's folder (with info.csv)")
    parser.add_argument("--out", required=True, help="folder for the adapted bundles")
    parser.add_argument("--base", default="drum_kit_control_gmd")
    parser.add_argument("--drummers", nargs="+", default=["drummer1", "drummer3", "drummer5", "drummer7", "drummer8"])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--method", choices=["adapters", "full"], default="adapters")
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    import seqgen
    from seqgen import adapting, evaluation
    from seqgen.model import Model

    with open(os.path.join(args.groove, "info.csv"), newline="") as stream:
        rows = list(csv.DictReader(stream))

    def files(drummer, split, beats_only=False):
        return sorted(
            os.path.join(args.groove, row["midi_filename"])
            for row in rows
            if row["drummer"] == drummer and row["split"] == split and (row["beat_type"] == "beat" or not beats_only)
        )

    base = seqgen.load(args.base)
    config = base.config

    def tracks(paths):
        found = adapting.read_tracks(adapting.midi_files(paths), config)
        return [
            np.array(tf.train.Example.FromString(record).features.feature["classes"].int64_list.value)
            for records_ in found.values()
            for record in records_
        ]

    def perplexity(model, sequences):
        sums = evaluation.model_sums(model.config, model.weights, sequences)
        return math.exp(sums["loss_sum"] / sums["tokens"])

    os.makedirs(args.out, exist_ok=True)
    tests = {drummer: tracks(files(drummer, "test")) for drummer in args.drummers}
    tuned = "adapted" if args.method == "adapters" else "fully fine-tuned"
    print(
        f"| drummer | train-split beats given | tuned on | held out | time | own test tracks | base ppl, own | "
        f"{tuned} ppl, own | other drummers' test tracks | base ppl, others | {tuned} ppl, others |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for drummer in args.drummers:
        chosen = files(drummer, "train", beats_only=True)[: args.files]
        start = time.monotonic()
        if args.method == "adapters":
            out = os.path.join(args.out, f"{drummer}.seqgen")
            result = adapting.adapt(chosen, args.base, out, minutes=args.minutes, overwrite=True, log=lambda line: None)
            adapted = seqgen.load(out)
        else:
            result, adapted = full_fine_tune(adapting, Model, base, chosen, args.minutes)
        seconds = time.monotonic() - start
        others = [t for other, found in tests.items() if other != drummer for t in found]
        own = tests[drummer]
        print(
            f"| {drummer} | {len(chosen)} | {result.training_files} | {result.held_out_files} | "
            f"{seconds:.0f} s (step {result.best_step} of {result.steps} kept) | {len(own)} | "
            f"{perplexity(base, own):.3f} | {perplexity(adapted, own):.3f} | {len(others)} | "
            f"{perplexity(base, others):.3f} | {perplexity(adapted, others):.3f} |",
            flush=True,
        )


def full_fine_tune(adapting, Model, base, chosen, minutes):
    """(Result, Model) of all of ``base``'s weights fine-tuned on the files ``chosen`` as seqgen adapt would."""
    import attrs

    by_file = adapting.read_tracks(adapting.midi_files(chosen), base.config)
    training, held_out = adapting.split_files(list(by_file))
    with tempfile.TemporaryDirectory() as folder:
        training_file = adapting.write_records(folder, "training", [r for n in training for r in by_file[n]])
        held_out_file = adapting.write_records(folder, "held_out", [r for n in held_out for r in by_file[n]])
        result, weights = adapting.fine_tune(
            base, (), 0, training_file, held_out_file if held_out else None, minutes * 60.0, log=lambda line: None
        )
    result = attrs.evolve(result, training_files=len(training), held_out_files=len(held_out))
    return result, Model(base.config, weights)


if __name__ == "__main__":
    main()
