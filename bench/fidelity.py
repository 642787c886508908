"""What the drum models play against what the drummers played: docs/models.md, "What the models play".

For each model, ``--outputs`` tracks of ``--num_steps`` steps (temperature 1, the default primer: one kick),
measured by :mod:`seqgen_drums.evaluation.fidelity` (the nine hit rates and their L1 distance, empty steps, groove
consistency of consecutive bars) against the Groove test split's records (``--records``, from ``seqgen
create_dataset ... --min_bars 1``, fills included):

- every model with its controls unset, against the whole split;
- the default model (``--default``, or every model that takes controls) with one control set per row,
  against the split's tracks of that value: ``fill=no`` against its beats, ``fill=yes`` (``--fill_steps``:
  fills are one or two bars) against its fills, ``style=S`` against its tracks of style S (each style that
  has test tracks), ``density=D`` and ``tempo=T`` against its beats within half a bin of D and T (a window
  centred on the number: generation reads a number on the edge of two bins as both);
- its songs (``Model.song``, a quarter as many per row: they are longer): one 8-bar verse without fills, and
  ``intro:4 verse:8 chorus:8 verse:8`` with fills, against the split's beats.

Prints the references, then one Markdown table per model. ``--floor`` first measures the same selection of
another split (the train split's records) against each row's reference: how far the drummers themselves are
from it, so how near any model can be expected to come on that row. Usage:

    python bench/fidelity.py --records gmd/short/test_drum_tracks.tfrecord [--models drum_kit_control_gmd]
        [--guidance 1] [--candidates 1] [--rows unset fill style density tempo song]
        [--floor gmd/short/train_drum_tracks.tfrecord]
"""

import argparse
import time

import attrs

from seqgen.cli import single_blas_thread

single_blas_thread()  # as `seqgen generate` does, before NumPy loads

import seqgen  # noqa: E402
from seqgen.loading import guidance_base  # noqa: E402
from seqgen_drums.evaluation import fidelity  # noqa: E402
from seqgen_drums.events.controls import STYLES  # noqa: E402

SHIPPED = ["drum_kit_control_gmd", "drum_kit_transformer_gmd", "drum_kit_gmd"]
#: The songs measured: (form, fills).
SONGS = (("verse:8", False), ("intro:4 verse:8 chorus:8 verse:8", True))


def requests(args, records) -> list:
    """``[(controls, steps, reference name, reference tracks)]`` of the rows asked for by ``--rows``, from
    ``records`` (the test split's records, or ``--floor``'s)."""
    labelled = fidelity.labelled_tracks(records)
    rows = [({}, args.num_steps, "the test split", fidelity.select(labelled, {}))]
    for fill, steps, name in (("no", args.num_steps, "beats"), ("yes", args.fill_steps, "fills")):
        rows.append(({"fill": fill}, steps, f"the test split's {name}", fidelity.select(labelled, {"fill": fill})))
    for style in STYLES:
        if any(values.get("style") == style for _, values in labelled):  # the styles of the test split
            rows.append(
                (
                    {"style": style},
                    args.num_steps,
                    f"the test split's {style}",
                    fidelity.select(labelled, {"style": style}),
                )
            )
    for name, values in (("density", args.densities), ("tempo", args.tempos)):
        for value in values:
            rows.append(
                (
                    {name: value},
                    args.num_steps,
                    f"the test split's beats around {name} {value:g}",
                    fidelity.select(labelled, {"fill": "no", name: value}),
                )
            )
    for form, fills in SONGS:
        rows.append(
            ({"song": form, "fills": fills}, 0, "the test split's beats", fidelity.select(labelled, {"fill": "no"}))
        )
    kinds = set(args.rows)
    return [row for row in rows if (next(iter(row[0]), "unset") in kinds)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", required=True, help="the Groove test split's records with controls")
    parser.add_argument(
        "--models", nargs="*", default=SHIPPED, help="models: names, bundles, run dirs (none: only the references)"
    )
    parser.add_argument("--outputs", type=int, default=100)
    parser.add_argument("--num_steps", type=int, default=128)
    parser.add_argument("--fill_steps", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--guidance", type=float, help="classifier-free guidance (default: seqgen's)")
    parser.add_argument(
        "--guidance_base", metavar="MODEL", help="anchor guidance on this model, or none (generate --guidance_base)"
    )
    parser.add_argument(
        "--candidates",
        type=int,
        help="first bars drawn per output for a per-bar number (seqgen.generator.BAR_CANDIDATES)",
    )
    parser.add_argument("--floor", metavar="RECORDS", help="the same rows of these records against the references")
    parser.add_argument("--densities", type=float, nargs="+", default=[12, 18, 24])
    parser.add_argument("--tempos", type=float, nargs="+", default=[90, 120])
    parser.add_argument(
        "--rows",
        nargs="+",
        default=["unset", "fill", "style", "density", "tempo", "song"],
        choices=["unset", "fill", "style", "density", "tempo", "song"],
    )
    args = parser.parse_args()
    args.base = guidance_base(args.guidance_base)
    if args.candidates:
        from seqgen import generator

        generator.BAR_CANDIDATES = args.candidates
    rows = requests(args, args.records)
    references = {name: fidelity.statistics(tracks) for _, _, name, tracks in rows}
    print(f"References: {args.records}\n")
    print(fidelity.table([(name, found, None) for name, found in references.items()]) + "\n")
    if args.floor:
        floor = [row for row in requests(args, args.floor) if row[2] in references]  # the test split's styles
        print(f"### The floor: {args.floor} against the references\n")
        print(fidelity.table([(name, fidelity.statistics(tracks), references[name]) for _, _, name, tracks in floor]))
        print()
    for source in args.models:
        model = seqgen.load(source)
        table, started = [], time.monotonic()
        for controls, steps, name, _ in rows:
            if (controls or args.base) and not model.controls:
                continue
            if "song" in controls:
                if args.base or args.guidance:
                    continue  # songs take the bundle's own base and guidance, or (--guidance_base none) no base
                songwriter = attrs.evolve(model, guidance_base=None) if args.base is False else model
                tracks = songwriter.song(
                    controls["song"], fills=controls["fills"], num_outputs=args.outputs // 4, seed=args.seed
                )
                asked = f"song {controls['song']}, fills {'yes' if controls['fills'] else 'no'}"
            else:
                tracks = model.generate(
                    num_outputs=args.outputs,
                    num_steps=steps,
                    seed=args.seed,
                    controls=controls,
                    guidance=args.guidance if controls else None,
                    guidance_base=args.base,
                )
                asked = (
                    ", ".join(
                        f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
                        for key, value in controls.items()
                    )
                    or "controls unset"
                )
            found = fidelity.statistics([model.config.encoding.events_to_classes(track.events) for track in tracks])
            table.append((f"{asked} (against {name})", found, references[name]))
        print(
            f"### {source}: {args.outputs} outputs per row, guidance {args.guidance or 'default'}, "
            f"{time.monotonic() - started:.0f} s\n"
        )
        print(fidelity.table(table) + "\n")


if __name__ == "__main__":
    main()
