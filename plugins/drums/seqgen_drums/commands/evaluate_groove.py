"""Evaluate groove (humanize) models and baselines on groove records: velocity and timing errors per hit,
and how the outputs vary against the drummers' per drum class.

The records come from `seqgen create_dataset --config groove` (e.g. the test split of the Groove MIDI
Dataset with --split_csv). Each performance's hits, quantized, are the input; the drummer's velocities
and offsets from the grid are the truth. Prints two Markdown tables. First, mean absolute errors over all
hits: velocity (MIDI units), timing (milliseconds and fractions of a 16th-note step). Second, per drum
class: the ratio of the outputs' standard deviation to the drummers' (velocity and offset) and the
Wasserstein-1 distance between the two distributions. Rows: each --model (sampled at --temperature with
--seed; 0: the mean) and the baselines: velocity 100 on the grid (Magenta's output) and, with
--baselines_from, the per-drum means, the per-drum x position-in-bar means and random draws of each
drum's training hits.
"""

from seqgen.errors import SeqgenError


def add_arguments(
    parser, kind: str = "groove", baselines: str = "the per-drum baselines", temperature_zero: str = "their means"
) -> None:
    """The flags of ``evaluate_groove``, and of ``evaluate_drumify`` (``kind`` drumify)."""
    from seqgen.commands import non_negative_float, non_negative_int

    parser.add_argument(
        "--sequence_example_file",
        nargs="+",
        required=True,
        metavar="FILE",
        help="groove records to evaluate on, e.g. groove/test_drum_tracks.tfrecord",
    )
    parser.add_argument(
        "--model",
        nargs="*",
        default=None,
        metavar="MODEL",
        help=f"{kind} models: bundles, run dirs, checkpoints or shipped names (default: the shipped "
        f"{kind} model{'s' * (kind == 'groove')}; none with --model given alone)",
    )
    parser.add_argument("--baselines_from", nargs="+", metavar="FILE", help=f"training groove records for {baselines}")
    parser.add_argument(
        "--temperature",
        type=non_negative_float,
        default=1.0,
        help=f"sampling temperature of the models (0: {temperature_zero}; default 1)",
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed of the sampling (default 0)")


def read_records(args) -> tuple:
    """``(performances, training performances or None)`` of --sequence_example_file and --baselines_from."""
    from seqgen import plugins

    from seqgen_drums.evaluation import groove

    config = plugins.get_config("groove", "drums")
    performances = groove.read_performances(args.sequence_example_file, config)
    if not performances:
        raise SeqgenError(f"{' '.join(args.sequence_example_file)} hold no groove records")
    train = groove.read_performances(args.baselines_from, config) if args.baselines_from else None
    if train is not None and not train:
        raise SeqgenError(f"--baselines_from {' '.join(args.baselines_from)} hold no groove records")
    return performances, train


def run(args) -> int:
    from seqgen_drums.evaluation import groove
    from seqgen_drums.played.humanize import DEFAULT_MODEL, load_groove_model

    performances, train = read_records(args)
    sources = [DEFAULT_MODEL, "groove_gmd"] if args.model is None else args.model
    models = [
        groove.ModelPredictor(load_groove_model(source), source, args.temperature, args.seed) for source in sources
    ]
    errors, spreads = groove.evaluate(performances, train, models)
    print(groove.table(errors))
    print()
    print(groove.spread_table(spreads))
    return 0
