"""Do songs hold together? The figures of docs/models.md, "Songs, loops and variations", as markdown tables.

Songs of ``--form`` (each section steered by its density, all at tempo 100) made three ways, ``--songs`` of each:

- **song**: ``Model.song`` (sections, then each seam's last bar filled in reading both sides, a fill with
  ``fills=True``, a crash with the kick on each section's first step);
- **continuation** (baseline): one track continued section by section, each section generated after
  everything before it with its own controls (the controls changed at each boundary);
- **joined** (baseline): every section generated on its own, the sections joined as they are.

Measures (bars of 16 steps; the onset grid is 9 instruments x 16 steps):

1. density: hits per bar of each section (its last bar, the fill's, left out) against the request;
2. fills: toms and crash per bar in the last bar of each section but the last against the other bars (each
   section's first step left out: the song puts a crash there), beside the Groove test split's bars of
   takes labelled fill and beat; and how many sections after the first start with a crash;
3. seams: how well the bar after a boundary follows the bar before it: the model's log-likelihood per step
   of the second bar given the first (controls unset, in nats), the onset grid's Hamming distance and the
   hit count difference, across each section boundary (also of songs whose sections all ask the same density,
   without fills: the seam alone), inside sections, across a ``--loop_bars`` loop's wrap (the loop's last
   bar then its first, for ``Model.loop`` and for plain generated tracks of that length), and for real
   consecutive bars of the Groove test split's 4/4 beats;
4. repetition: the onset grid's similarity (1 - Hamming / 144) per bar of the second verse to the first
   (its last bar left out) at variation 0, 0.3 and 1; and of ``Model.vary`` outputs to their clip (the test
   split's 4/4 beats, first 8 bars) at amounts 0, 0.25, 0.5 and 1.

Usage: python bench/song_proof.py [--model drum_kit_control_gmd] [--groove /work/shared/datasets/groove]
           [--songs 10] [--seed 1]
"""

from seqgen.cli import single_blas_thread

single_blas_thread()  # as the seqgen commands do, before NumPy loads

import argparse  # noqa: E402
import csv  # noqa: E402
import math  # noqa: E402
import pathlib  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import seqgen  # noqa: E402
from seqgen.form import parse_form  # noqa: E402
from seqgen.errors import SeqgenError  # noqa: E402
from seqgen.generator import log_softmax  # noqa: E402
from seqgen_drums.events.primer import primer_from_midi  # noqa: E402

BAR = 16
FORM = "intro:4 verse:8 chorus:8 verse:8 chorus:8 outro:4"
DENSITY = {"intro": 8, "verse": 12, "chorus": 22, "outro": 10}
EVEN = 16  # every section's density in the seams' second set of songs
FILL_BITS = (4, 5, 6, 7)  # tom_low, tom_mid, tom_high, crash of the drum kit's classes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="drum_kit_control_gmd")
    parser.add_argument("--groove", default="/work/shared/datasets/groove", help="the Groove MIDI Dataset")
    parser.add_argument("--songs", type=int, default=10, help="songs made each way (default 10)")
    parser.add_argument("--loop_bars", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    began = time.perf_counter()
    model = seqgen.load(args.model)
    sections = parse_form(FORM)
    controls = {name: {"density": value, "tempo": 100} for name, value in DENSITY.items()}
    made = {
        "song": [s.events for s in model.song(sections, controls, True, 0.0, args.songs, seed=args.seed)],
        "continuation": continued(model, sections, controls, args.songs, args.seed),
        "joined": joined(model, sections, controls, args.songs, args.seed),
    }
    classes = {
        way: [model.config.encoding.events_to_classes(events) for events in tracks] for way, tracks in made.items()
    }
    even = {name: {"density": EVEN, "tempo": 100} for name in DENSITY}  # no change at the boundaries
    same = {
        "song": [s.events for s in model.song(sections, even, False, 0.0, args.songs, seed=args.seed)],
        "continuation": continued(model, sections, even, args.songs, args.seed),
        "joined": joined(model, sections, even, args.songs, args.seed),
    }
    same = {way: [model.config.encoding.events_to_classes(events) for events in tracks] for way, tracks in same.items()}
    takes = groove_takes(args.groove, model)
    density_table(sections, classes)
    fill_table(sections, classes, takes)
    seam_table(model, sections, classes, same, takes, args)
    repetition_table(model, sections, controls, takes, args)
    print(
        f"(model {args.model}, {args.songs} songs of each way, seed {args.seed}, {time.perf_counter() - began:.0f} s)"
    )


def continued(model, sections, controls, count, seed) -> list:
    """The first baseline: each section generated after all the sections before it, with its own controls."""
    tracks = [list(model.primer()) for _ in range(count)]
    for index, section in enumerate(sections):
        for k in range(count):
            length = len(tracks[k]) if index else 0
            tracks[k] = model.generate(
                1,
                length + section.bars * BAR,
                tracks[k],
                seed=seed * 1000 + index * 10 + k,
                controls=controls[section.name],
            )[0].events
    return tracks


def joined(model, sections, controls, count, seed) -> list:
    """The second baseline: every section generated on its own, joined."""
    parts = [
        model.generate(count, s.bars * BAR, seed=seed * 1000 + i, controls=controls[s.name])
        for i, s in enumerate(sections)
    ]
    return [[event for part in parts for event in part[k].events] for k in range(count)]


def firsts(sections) -> list:
    return np.cumsum([0] + [s.bars * BAR for s in sections])[:-1].tolist()


def hits(classes) -> np.ndarray:
    """Hits per step: drums struck."""
    return ((np.asarray(classes)[:, None] >> np.arange(9)) & 1).sum(axis=1)


def fill_hits(classes) -> int:
    return int(((np.asarray(classes)[:, None] >> np.array(FILL_BITS)) & 1).sum())


def onsets(classes) -> np.ndarray:
    return (np.asarray(classes)[:, None] >> np.arange(9)) & 1 == 1


def interval(values) -> str:
    values = np.asarray(values, float)
    half = 1.96 * values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return f"{values.mean():.2f} ± {half:.2f}"


def groove_takes(root, model) -> dict:
    """The Groove test split's 4/4 takes: ``{"beat": [classes...], "fill": [classes...]}``."""
    root = pathlib.Path(root)
    takes = {"beat": [], "fill": []}
    with open(root / "info.csv", newline="") as stream:
        for row in csv.DictReader(stream):
            if row["split"] != "test" or row["time_signature"] != "4-4":
                continue
            try:
                events = primer_from_midi(str(root / row["midi_filename"]), 4).events
            except SeqgenError:
                continue
            events = events[: len(events) // BAR * BAR]
            if events:
                takes[row["beat_type"]].append(model.config.encoding.events_to_classes(events))
    return takes


def density_table(sections, classes) -> None:
    print("### Density: hits per bar of each section (its fill bar left out) against the request\n")
    names = list(DENSITY)
    print("| way | " + " | ".join(f"{n} (asked {DENSITY[n]})" for n in names) + " | largest miss |")
    print("|---|" + "---|" * (len(names) + 1))
    for way, tracks in classes.items():
        per = {name: [] for name in names}
        for track in tracks:
            for section, first in zip(sections, firsts(sections)):
                body = track[first : first + max(section.bars - 1, 1) * BAR]
                per[section.name].append(hits(body).sum() / (len(body) / BAR))
        misses = [abs(np.mean(per[n]) - DENSITY[n]) / DENSITY[n] for n in names]
        print(f"| {way} | " + " | ".join(interval(per[n]) for n in names) + f" | {max(misses):.0%} |")
    print()


def fill_table(sections, classes, takes) -> None:
    print("### Fills: toms and crash per bar, the last bar of each section but the last against the others\n")
    print("| bars | last bar of a section | other bars | sections starting with a crash |")
    print("|---|---|---|---|")
    starts = firsts(sections)
    for way, tracks in classes.items():
        last, other, crashes = [], [], []
        for track in tracks:
            marked = track.copy()
            for first in starts:
                marked[first] = 0  # the song's own crash and kick: not counted
            for bar in range(len(track) // BAR):
                (last if (bar + 1) * BAR in starts[1:] else other).append(
                    fill_hits(marked[bar * BAR : (bar + 1) * BAR])
                )
            crashes += [bool(track[first] >> 7 & 1) for first in starts[1:]]
        print(f"| {way} | {interval(last)} | {interval(other)} | {np.mean(crashes):.0%} |")
    for label, kind in (("Groove test split, takes labelled fill", "fill"), ("Groove test split, beats", "beat")):
        bars = [fill_hits(take[k : k + BAR]) for take in takes[kind] for k in range(0, len(take), BAR)]
        print(f"| {label} ({len(bars)} bars) | | {interval(bars)} | |")
    print()


def pair_measures(model, pairs) -> dict:
    """``{"ll", "hamming", "hits"}`` lists over ``pairs`` of (bar before, bar after) classes."""
    stacked = np.array([np.concatenate(pair) for pair in pairs])
    log_probs = []
    for chunk in range(0, len(stacked), 64):
        rows = stacked[chunk : chunk + 64]
        scored = log_softmax(model.generator.logits(rows[:, :-1]))
        picked = np.take_along_axis(scored, rows[:, 1:, None], -1)[..., 0]
        log_probs += picked[:, BAR - 1 :].mean(axis=1).tolist()
    return {
        "ll": log_probs,
        "hamming": [float((onsets(a) != onsets(b)).sum()) for a, b in pairs],
        "hits": [float(abs(int(hits(a).sum()) - int(hits(b).sum()))) for a, b in pairs],
    }


def seam_table(model, sections, classes, same, takes, args) -> None:
    print("### Seams: the bar after a boundary against the bar before it\n")
    print(
        "| pairs of bars | pairs | log-likelihood per step of the second given the first (nats) | onset grid "
        "Hamming distance (cells of 144) | hit count difference |"
    )
    print("|---|---|---|---|---|")
    rows = {}
    starts = firsts(sections)
    for way, tracks in classes.items():
        rows[f"{way}: across each section boundary"] = [
            (t[f - BAR : f], t[f : f + BAR]) for t in tracks for f in starts[1:]
        ]
    rows["song: consecutive bars inside its sections"] = [
        (t[k - BAR : k], t[k : k + BAR]) for t in classes["song"] for k in range(BAR, len(t), BAR) if k not in starts
    ]
    for way, tracks in same.items():
        rows[f"{way}, every section at density {EVEN}, no fills: across each boundary"] = [
            (t[f - BAR : f], t[f : f + BAR]) for t in tracks for f in starts[1:]
        ]
    steps = args.loop_bars * BAR
    loops = model.loop(args.loop_bars, num_outputs=args.songs * 4, seed=args.seed)
    plain = model.generate(args.songs * 4, steps, seed=args.seed)
    for label, tracks in (("Model.loop", loops), ("plain generated tracks", plain)):
        encoded = [model.config.encoding.events_to_classes(t.events) for t in tracks]
        rows[f"{label}: across the wrap of {args.loop_bars}-bar loops"] = [(c[steps - BAR :], c[:BAR]) for c in encoded]
    rows["Groove test split: real consecutive bars of beats"] = [
        (take[k - BAR : k], take[k : k + BAR])
        for take in takes["beat"]
        for k in range(BAR, min(len(take), 17 * BAR), BAR)
    ]
    for label, pairs in rows.items():
        found = pair_measures(model, pairs)
        print(
            f"| {label} | {len(pairs)} | {interval(found['ll'])} | {interval(found['hamming'])} "
            f"| {interval(found['hits'])} |"
        )
    print()


def similarity(a, b) -> tuple:
    """(per bar, 1 - the onset grids' Hamming distance / 144, averaged; the share of bars identical)."""
    bars = [(onsets(a[k : k + BAR]) != onsets(b[k : k + BAR])).sum() for k in range(0, len(a), BAR)]
    return float(np.mean([1 - cells / (9 * BAR) for cells in bars])), float(np.mean([cells == 0 for cells in bars]))


def repetition_table(model, sections, controls, takes, args) -> None:
    print("### Repetition: similarity of the onset grids (1 - Hamming distance / 144, per bar)\n")
    print("| what | similarity | bars identical |")
    print("|---|---|---|")
    starts, encode = firsts(sections), model.config.encoding.events_to_classes
    verses = [k for k, s in enumerate(sections) if s.name == "verse"]
    body = (sections[verses[0]].bars - 1) * BAR
    for variation in (0.0, 0.3, 1.0):
        songs = model.song(sections, controls, True, variation, args.songs, seed=args.seed)
        found = [
            similarity(
                encode(s.events[starts[verses[0]] : starts[verses[0]] + body]),
                encode(s.events[starts[verses[1]] : starts[verses[1]] + body]),
            )
            for s in songs
        ]
        print(
            f"| second verse to the first, variation {variation:g} | {interval([f[0] for f in found])} "
            f"| {interval([f[1] for f in found])} |"
        )
    clips = [take[: 8 * BAR] for take in takes["beat"] if len(take) >= 8 * BAR][: args.songs]
    decode = model.config.encoding.class_to_event
    for amount in (0.0, 0.25, 0.5, 1.0):
        found = []
        for k, clip in enumerate(clips):
            for output in model.vary([decode(int(c)) for c in clip], amount, num_outputs=2, seed=args.seed + k):
                found.append(similarity(encode(output.events), clip))
        print(
            f"| `vary` output to its clip ({len(clips)} Groove beats of 8 bars), amount {amount:g} | "
            f"{interval([f[0] for f in found])} | {interval([f[1] for f in found])} |"
        )
    print()


if __name__ == "__main__":
    main()
