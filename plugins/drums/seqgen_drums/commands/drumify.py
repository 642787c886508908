"""Drumify MIDI files: a full drum kit groove that follows the rhythm of each file (GrooVAE's Tap2Drum,
Magenta Studio's Drumify).

Each FILE.mid is read as a one-voice rhythm: the onsets of all its notes, or of part --part N only (1 is
the file's first part with notes: a bass line, a melody, a clap track, a tapped rhythm), each on its
16th-note step with its velocity and its offset from the step, through the file's tempo changes. The
drumify model gives each tap its drums, velocities and timing, drawn with --temperature and --seed, and
the groove is written to --output_dir as FILE.mid at the file's first tempo. The model is the shipped
drumify model unless --bundle_file names another (a drumify bundle, run dir or checkpoint).
"""

from seqgen_drums.commands import kit
from seqgen_drums.played.drumify import DEFAULT_MODEL
from seqgen_drums.played.humanize import load_model


def add_arguments(parser) -> None:
    from seqgen.commands import non_negative_float, positive_int

    parser.add_argument("midi_files", nargs="+", metavar="FILE.mid", help="MIDI files whose rhythm to drum to")
    parser.add_argument(
        "--part",
        type=positive_int,
        metavar="N",
        help="drum to part N of each file only (1: the first part with notes; default: all notes)",
    )
    kit.add_output_arguments(parser)
    parser.add_argument(
        "--bundle_file",
        default=DEFAULT_MODEL,
        help=f"drumify model: a bundle, run dir, checkpoint or shipped name (default {DEFAULT_MODEL})",
    )
    parser.add_argument(
        "--temperature",
        type=non_negative_float,
        default=1.0,
        help="sampling temperature of the drums, velocities and timing: 1 as the model learned them, "
        "lower for plainer grooves, 0 for the likeliest drums at their mean timing (default 1)",
    )
    kit.add_seed_argument(parser)


def run(args) -> int:
    from seqgen_drums.events.rhythm import rhythm_from_midi

    kit.check_output(args)
    rhythms = [rhythm_from_midi(path, args.part) for path in args.midi_files]
    model = load_model(args.bundle_file, "drumify", "drumifying", DEFAULT_MODEL)
    targets = kit.output_targets(args.midi_files, args.output_dir, args.overwrite, "drumified")
    grooves = kit.write_outputs(args, targets, lambda: model.drumify_tracks(rhythms, args.temperature, args.seed))
    taps = sum(int(rhythm.taps.sum()) for rhythm in rhythms)
    print(
        f"drumified {len(targets)} file{'s' * (len(targets) > 1)} ({taps} taps, {kit.count_hits(grooves)} "
        f"drum hits) into {args.output_dir}"
    )
    kit.render_outputs(args, model.config, targets)
    return 0
