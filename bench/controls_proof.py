"""Do the controls steer? The figures of docs/models.md, "Controls: do they steer?", as markdown tables.

- style: a style classifier (the drums plugin's ``drum_style`` config, trained on the train split's windows)
  judges real held-out windows and windows of tracks generated with ``style=S``, the same number for
  every style; its accuracy beside chance (the largest style's share, and 1 / number of styles);
- density: tracks generated with ``density=D`` for requests across the data's range; the hits per bar they
  have (Spearman rank correlation with the request over all outputs; mean per request);
- fill: hits of toms and crash per bar of tracks generated with ``fill=yes`` and ``fill=no``, beside the same
  in held-out Groove tracks labelled fill and beat.

Generated tracks continue the default primer (one kick); every window of ``--window`` steps is judged alone,
on real and generated tracks alike. Usage:

    python bench/controls_proof.py --model RUN_OR_BUNDLE --classifier RUN_OR_BUNDLE \\
        --style_records test_windows.tfrecord --fill_records test_short.tfrecord [--per_style 10 ...]
"""

import argparse
import collections
import time

from seqgen.cli import single_blas_thread

single_blas_thread()  # as `seqgen generate` does, before NumPy loads

import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

import seqgen  # noqa: E402
from seqgen.loading import guidance_base  # noqa: E402
from seqgen_drums.evaluation import fidelity  # noqa: E402
from seqgen_drums.events.controls import STYLES, density  # noqa: E402
from seqgen_drums.events.encoding import DRUM_KIT_PARTS, DRUM_KIT_PITCHES, DrumEncoding  # noqa: E402

TOMS = [DRUM_KIT_PARTS.index(name) for name in ("tom_low", "tom_mid", "tom_high")]
CRASH = DRUM_KIT_PARTS.index("crash")
KIT = DrumEncoding(DRUM_KIT_PITCHES)
STEPS_PER_BAR = 16


def read_tracks(path, encoding):
    """``[(events, {control: value})]`` of a record file with controls (unset ones left out)."""
    return [
        ([encoding.class_to_event(int(c)) for c in classes], values)
        for classes, values in fidelity.labelled_tracks(path)
    ]


def windows(events, length):
    """The consecutive windows of ``length`` steps of a track (a remainder shorter than one is left out)."""
    return [events[start : start + length] for start in range(0, len(events) - length + 1, length)]


def percent(part, whole) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "-"


def judge_real(classifier, real_tracks, window) -> tuple:
    """(windows right, windows) per style of the labelled ``real_tracks``, cut into windows."""
    real = [
        (cut, values["style"]) for events, values in real_tracks if "style" in values for cut in windows(events, window)
    ]
    guesses = [STYLES[k] for k in classifier.style_probabilities([cut for cut, _ in real]).argmax(1)]
    right = collections.Counter(label for (_, label), guess in zip(real, guesses) if guess == label)
    return right, collections.Counter(label for _, label in real)


def real_line(classifier, real_tracks, args) -> None:
    right, count = judge_real(classifier, real_tracks, args.window)
    per_style = {style: right[style] / count[style] for style in STYLES if count[style]}
    print(
        f"Classifier on the real windows of {args.window} steps of {args.style_records}: "
        f"{percent(sum(right.values()), sum(count.values()))} of {sum(count.values())} right; per-style mean "
        f"{100 * np.mean(list(per_style.values())):.1f}% over {len(per_style)} styles "
        f"({', '.join(f'{style} {100 * value:.0f}%' for style, value in per_style.items())}).\n"
    )


def style_table(model, classifier, real_tracks, args) -> None:
    real_right, real_count = judge_real(classifier, real_tracks, args.window)
    total = sum(real_count.values())
    generated_right, generated_count, predicted_as = collections.Counter(), collections.Counter(), {}
    started = time.monotonic()
    for index, style in enumerate(STYLES):
        tracks = model.generate(
            num_outputs=args.per_style,
            num_steps=args.num_steps,
            controls={"style": style},
            guidance=args.guidance,
            guidance_base=args.base,
            seed=args.seed + index,
        )
        cut = [window for track in tracks for window in windows(track.events, args.window)]
        guesses = [STYLES[k] for k in classifier.style_probabilities(cut).argmax(1)]
        generated_count[style] = len(cut)
        generated_right[style] = sum(guess == style for guess in guesses)
        predicted_as[style] = collections.Counter(guesses).most_common(1)[0]
    unset = model.generate(
        num_outputs=args.unset, num_steps=args.num_steps, seed=args.seed + len(STYLES), guidance_base=args.base
    )
    unset_cut = [window for track in unset for window in windows(track.events, args.window)]
    unset_judged = collections.Counter(STYLES[k] for k in classifier.style_probabilities(unset_cut).argmax(1))
    seconds = time.monotonic() - started
    majority, majority_count = real_count.most_common(1)[0]
    print(f"## Style: the classifier's accuracy on windows of {args.window} steps\n")
    print(
        f"Real windows: {total} of the held-out records; generated: {args.per_style} tracks of "
        f"{args.num_steps} steps per style (seeds {args.seed}..{args.seed + len(STYLES) - 1}, one per style), "
        f"{sum(generated_count.values())} windows; and {args.unset} tracks with no control set (seed "
        f"{args.seed + len(STYLES)}), {len(unset_cut)} windows; generated in {seconds:.0f} s.\n"
    )
    print(
        "| style | real windows | accuracy on real | generated windows | accuracy on generated "
        "| generated, most often judged | judged this style, no control set |"
    )
    print("|---|---:|---:|---:|---:|---|---:|")
    for style in STYLES:
        guess, times = predicted_as[style]
        print(
            f"| {style} | {real_count[style]} | {percent(real_right[style], real_count[style])} | "
            f"{generated_count[style]} | {percent(generated_right[style], generated_count[style])} | "
            f"{guess} ({times}) | {percent(unset_judged[style], len(unset_cut))} |"
        )
    styles_in_real = [s for s in STYLES if real_count[s]]
    balanced_real = np.mean([real_right[s] / real_count[s] for s in styles_in_real])
    balanced_generated_same = np.mean([generated_right[s] / generated_count[s] for s in styles_in_real])
    print(
        f"| **all** | {total} | {percent(sum(real_right.values()), total)} "
        f"(per-style mean {100 * balanced_real:.1f}%) | {sum(generated_count.values())} | "
        f"{percent(sum(generated_right.values()), sum(generated_count.values()))} "
        f"(the {len(styles_in_real)} styles of the real windows: {100 * balanced_generated_same:.1f}%) | | |"
    )
    print(
        f"\nChance: the largest style of the real windows ({majority}) is {percent(majority_count, total)} "
        f"of them; 1 / {len(STYLES)} styles = {100 / len(STYLES):.1f}% (the generated windows are the same "
        f"number per style, so always one style scores 1 / {len(STYLES)} on them).\n"
    )


def density_table(model, real_tracks, args) -> None:
    measured = {
        request: [
            density(track.events)
            for track in model.generate(
                num_outputs=args.per_density,
                num_steps=args.num_steps,
                controls={"density": request},
                guidance=args.guidance,
                guidance_base=args.base,
                seed=args.seed + index,
            )
        ]
        for index, request in enumerate(args.densities)
    }
    requests = [request for request, values in measured.items() for _ in values]
    values = [value for values in measured.values() for value in values]
    rho = spearmanr(requests, values).statistic
    real = np.array([values["density"] for _, values in real_tracks if "density" in values])
    print(f"## Density: hits per bar of {args.per_density} tracks of {args.num_steps} steps per request\n")
    print("| requested | mean measured | off by | median | min - max |")
    print("|---:|---:|---:|---:|---:|")
    for request, found in measured.items():
        mean = float(np.mean(found))
        print(
            f"| {request:g} | {mean:.1f} | {100 * (mean - request) / request:+.1f}% | {np.median(found):.1f} | "
            f"{min(found):.1f} - {max(found):.1f} |"
        )
    print(
        f"\nSpearman rank correlation of request and measured hits per bar over all {len(values)} outputs: "
        f"{rho:.3f}. The held-out records' tracks have {np.percentile(real, 5):.1f} to {np.percentile(real, 95):.1f} "
        f"hits per bar (5th to 95th percentile; median {np.median(real):.1f}).\n"
    )


def per_bar(events) -> tuple:
    """(tom hits, crash hits, all hits) per bar of a track."""
    bars = len(events) / STEPS_PER_BAR
    hits = {k: 0 for k in TOMS + [CRASH]}
    total = 0
    for event in events:
        kinds = {KIT.drum_type(pitch) for pitch in event} - {None}
        total += len(kinds)
        for k in kinds & set(hits):
            hits[k] += 1
    return sum(hits[k] for k in TOMS) / bars, hits[CRASH] / bars, total / bars


def fill_table(model, fill_tracks, args) -> None:
    rows = []
    for index, fill in enumerate(("yes", "no")):
        tracks = model.generate(
            num_outputs=args.per_fill,
            num_steps=args.fill_steps,
            controls={"fill": fill},
            guidance=args.guidance,
            guidance_base=args.base,
            seed=args.seed + index,
        )
        rows.append((f"generated, fill={fill}", [per_bar(track.events) for track in tracks]))
    for fill in ("yes", "no"):
        real = [per_bar(events) for events, values in fill_tracks if values.get("fill") == fill]
        rows.append((f"held-out Groove, {'fill' if fill == 'yes' else 'beat'} (fill={fill})", real))
    print(f"## Fill: hits per bar (generated: {args.per_fill} tracks of {args.fill_steps} steps each)\n")
    print("| tracks | count | toms per bar | crash per bar | toms + crash per bar | all hits per bar |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, found in rows:
        toms, crash, total = np.mean(found, axis=0) if found else (np.nan,) * 3
        print(f"| {name} | {len(found)} | {toms:.2f} | {crash:.2f} | {toms + crash:.2f} | {total:.1f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="the model with controls (run dir, checkpoint or bundle)")
    parser.add_argument("--classifier", required=True, help="the drum_style model (run dir or bundle)")
    parser.add_argument("--style_records", required=True, help="held-out records with controls, for style and density")
    parser.add_argument("--fill_records", required=True, help="held-out records with controls, fills included")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--guidance", type=float, help="classifier-free guidance (default: seqgen's)")
    parser.add_argument(
        "--guidance_base", metavar="MODEL", help="anchor guidance on this model, or none (generate --guidance_base)"
    )
    parser.add_argument("--num_steps", type=int, default=128, help="steps of each generated track")
    parser.add_argument("--window", type=int, default=64, help="steps of each window the classifier judges")
    parser.add_argument("--per_style", type=int, default=20, help="tracks generated per style")
    parser.add_argument("--unset", type=int, default=80, help="tracks generated with no control set")
    parser.add_argument("--densities", type=float, nargs="+", default=[8, 12, 16, 20, 24, 28])
    parser.add_argument("--per_density", type=int, default=20, help="tracks generated per density")
    parser.add_argument("--per_fill", type=int, default=40, help="tracks generated per fill value")
    parser.add_argument(
        "--fill_steps",
        type=int,
        default=32,
        help="steps of each generated fill (Groove's fills are mostly one or two bars)",
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        default=["style", "density", "fill"],
        choices=["real", "style", "density", "fill"],
        help="what to print (real: only the classifier's accuracy on --style_records)",
    )
    args = parser.parse_args()
    model, classifier = seqgen.load(args.model), seqgen.load(args.classifier)
    args.base = guidance_base(args.guidance_base)
    print(f"Model: {args.model} ({model.description or model.source}); classifier: {args.classifier}.\n")
    real_tracks = read_tracks(args.style_records, model.config.encoding)
    if "real" in args.parts:
        real_line(classifier, real_tracks, args)
    if "style" in args.parts:
        style_table(model, classifier, real_tracks, args)
    if "density" in args.parts:
        density_table(model, real_tracks, args)
    if "fill" in args.parts:
        fill_table(model, read_tracks(args.fill_records, model.config.encoding), args)


if __name__ == "__main__":
    main()
