"""Evaluate groove (humanize) models and baselines on groove records: velocity and timing errors per hit.

The records come from `seqgen create_dataset --config groove` (e.g. the test split of the Groove MIDI
Dataset with --split_csv). Each performance's hits, quantized, are the input; the drummer's velocities
and offsets from the grid are the truth. Prints a Markdown table of mean absolute errors: velocity
(MIDI units), timing (milliseconds and fractions of a 16th-note step), for each --model and for the
baselines: velocity 100 on the grid (Magenta's output) and, with --baselines_from, the per-drum means
and per-drum x position-in-bar means of the training records.
"""

from seqgen.errors import SeqgenError


def add_arguments(parser) -> None:
    parser.add_argument("--sequence_example_file", nargs="+", required=True, metavar="FILE",
                        help="groove records to evaluate on, e.g. groove/test_drum_tracks.tfrecord")
    parser.add_argument("--model", nargs="*", default=None, metavar="MODEL",
                        help="groove models: bundles, run dirs, checkpoints or shipped names (default: the shipped "
                             "groove model; none with --model given alone)")
    parser.add_argument("--baselines_from", nargs="+", metavar="FILE",
                        help="training groove records for the per-drum baselines")


def run(args) -> int:
    from seqgen import plugins

    from seqgen_drums import groove_eval
    from seqgen_drums.humanize import DEFAULT_MODEL, load_groove_model

    config = plugins.get_config("groove", "drums")
    performances = groove_eval.read_performances(args.sequence_example_file, config)
    if not performances:
        raise SeqgenError(f"{' '.join(args.sequence_example_file)} hold no groove records")
    train = groove_eval.read_performances(args.baselines_from, config) if args.baselines_from else None
    if train is not None and not train:
        raise SeqgenError(f"--baselines_from {' '.join(args.baselines_from)} hold no groove records")
    sources = [DEFAULT_MODEL] if args.model is None else args.model
    models = [groove_eval.ModelPredictor(load_groove_model(source), source) for source in sources]
    print(groove_eval.table(groove_eval.evaluate(performances, train, models)))
    return 0
