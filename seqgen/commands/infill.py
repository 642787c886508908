"""Regenerate part of a track and keep the rest: bars (counted from 1, as in a DAW) or steps, and, where
the plugin's events have them, only some instruments.

A model that learned to fill in the middle reads both sides of the gap (--method middle, its default);
with any other model candidates are sampled left to right and those under which the kept steps after the
gap are most likely are kept (--method rescore, its default). Every kept step and instrument is written
exactly as it was.
"""

import os

from seqgen.commands import (
    add_control_argument,
    add_model_arguments,
    at_most,
    model_and_midi_track,
    seed_number,
    temperature,
    write_midi_files,
)


def add_arguments(parser) -> None:
    parser.add_argument("midi_file", metavar="FILE.mid", help="the track to change (a MIDI file)")
    add_model_arguments(parser)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--bars", help="bars to regenerate, counted from 1, e.g. 3-4 or 5 (default: all bars)")
    where.add_argument("--steps", help="steps to regenerate, counted from 1, e.g. 33-64")
    parser.add_argument(
        "--instruments", help="regenerate only these instruments, e.g. hihat_closed,hihat_open (default: all)"
    )
    parser.add_argument("--output_dir", default="generated", help="where the MIDI files go (default ./generated)")
    parser.add_argument("--num_outputs", type=at_most(1000), default=4, help="how many versions (default 4)")
    parser.add_argument(
        "--temperature",
        type=temperature,
        default=1.0,
        help="randomness of the new steps: below 1 safer, above 1 wilder (default 1.0)",
    )
    parser.add_argument(
        "--seed",
        type=seed_number,
        help="the same seed gives the same outputs",
    )
    parser.add_argument(
        "--method",
        choices=("rescore", "middle", "left"),
        help="how the gap sees what follows it: middle (a model trained to fill in the middle reads "
        "both sides; its default), rescore (draw candidates left to right and keep those that "
        "lead best into the kept steps after the gap; slower; the default of other models) or "
        "left (ignore what follows)",
    )
    add_control_argument(parser)


def run(args) -> int:
    model, track, steps_per_bar = model_and_midi_track(args, "to keep")
    tracks = model.infill(
        track,
        bars=args.bars,
        steps=args.steps,
        instruments=args.instruments,
        num_outputs=args.num_outputs,
        temperature=args.temperature,
        seed=args.seed,
        controls=args.control,
        steps_per_bar=steps_per_bar,
        method=args.method,
    )
    paths = write_midi_files(tracks, args.output_dir)
    what = f"bars {args.bars}" if args.bars else f"steps {args.steps}" if args.steps else "every bar"
    if args.instruments:
        what += f" ({args.instruments})"
    print(
        f"wrote {len(paths)} versions of {os.path.basename(args.midi_file)} with {what} regenerated to "
        f"{args.output_dir}: {os.path.basename(paths[0])}"
        + (f" .. {os.path.basename(paths[-1])}" if len(paths) > 1 else "")
    )
    return 0
