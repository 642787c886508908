"""Compare what drum tracks play with real drumming: per-class hit rates, their L1 distance, empty steps
and groove consistency.

Each FOLDER of MIDI files (e.g. what `seqgen generate --output_dir` wrote; subfolders included) is measured
against --reference: a record file of a drum config (from `seqgen create_dataset`, e.g. the Groove test
split, whose --where name=value,... keeps only the records with those controls, e.g. fill=no for its beats)
or another folder of MIDI files. Prints a Markdown table: per set of tracks the share of steps on which each
of the nine drum classes is struck, the L1 distance of those nine rates to the reference's, the share of
empty steps and the groove consistency of consecutive bars (1 minus the share of the 9 x 16 onset grid's
cells that differ between a bar and the next), each beside the reference's. See docs/models.md, "What the
models play".
"""

import os

from seqgen.errors import SeqgenError


def add_arguments(parser) -> None:
    parser.add_argument("outputs", nargs="+", metavar="FOLDER", help="folders of drum MIDI files to measure")
    parser.add_argument(
        "--reference",
        required=True,
        metavar="RECORDS_OR_FOLDER",
        help="real drumming: a drum record file (seqgen create_dataset) or a folder of MIDI files",
    )
    parser.add_argument(
        "--where",
        metavar="CONTROLS",
        help="keep the reference records with these control values, e.g. fill=no or style=jazz "
        "(a number keeps the values within half its bin's width of it)",
    )


def run(args) -> int:
    from seqgen import controls

    from seqgen_drums.evaluation import fidelity

    where = controls.parse(args.where) if args.where is not None else None
    if os.path.isdir(args.reference):
        if where:
            raise SeqgenError(
                "--where selects records by their controls; give a record file as --reference, "
                "or leave --where out for a folder of MIDI files"
            )
        reference = fidelity.midi_folder_tracks(args.reference)
    else:
        reference = fidelity.record_tracks(args.reference, where)
    reference = fidelity.statistics(reference)
    rows = [(f"reference: {args.reference}" + (f" ({args.where})" if where else ""), reference, None)]
    rows += [(folder, fidelity.statistics(fidelity.midi_folder_tracks(folder)), reference) for folder in args.outputs]
    print(fidelity.table(rows))
    return 0
