"""Humanize drum MIDI files with a groove model: velocities and timing for every hit (GrooVAE's Humanize).

Each FILE.mid is read as a score (its drum hits on the 16th-note grid, each with the file's own velocity
and timing), every hit gets a velocity and an offset from the grid drawn from what the groove model
predicts from the whole score (--temperature, --seed), and moves --amount of the way from the file's own
to those (0: the file as written, 1: fully played), with the off-beat 16ths delayed by --swing of a step; the
result is written to --output_dir as FILE.mid, at the file's tempo. The model is the shipped groove model unless
--bundle_file names another (a groove bundle, run dir or checkpoint). `seqgen generate --humanize` does
the same to freshly generated drums (with --amount, --swing and --humanize_temperature).
"""

from seqgen_drums.commands import kit
from seqgen_drums.played.humanize import DEFAULT_MODEL, add_feel_arguments, load_groove_model, read_score


def add_arguments(parser) -> None:
    parser.add_argument("midi_files", nargs="+", metavar="FILE.mid", help="drum MIDI files to humanize")
    kit.add_output_arguments(parser)
    parser.add_argument(
        "--bundle_file",
        default=DEFAULT_MODEL,
        help=f"groove model: a bundle, run dir, checkpoint or shipped name (default {DEFAULT_MODEL})",
    )
    add_feel_arguments(parser, "--temperature")
    kit.add_seed_argument(parser)


def run(args) -> int:
    kit.check_output(args)
    model = load_groove_model(args.bundle_file)
    scores = [read_score(path, model.config.steps_per_quarter) for path in args.midi_files]
    targets = kit.output_targets(args.midi_files, args.output_dir, args.overwrite, "humanized")
    played = kit.write_outputs(
        args, targets, lambda: model.humanize_tracks(scores, args.temperature, args.seed, args.amount, args.swing)
    )
    print(
        f"humanized {len(targets)} drum file{'s' * (len(targets) > 1)} ({kit.count_hits(played)} hits) into "
        f"{args.output_dir}"
    )
    kit.render_outputs(args, model.config, targets)
    return 0
