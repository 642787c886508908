"""Evaluate drumify models and baselines on groove records: each performance is collapsed to its rhythm,
drummed to, and the output compared with the performance.

The records come from `seqgen create_dataset --config groove` (e.g. the test split of the Groove MIDI
Dataset with --split_csv). Prints a Markdown table: per drum class the onset F1 of the output's hits
against the performance's, the F1 over all classes, the number of onsets and the share within 20 ms of a
tap; rows: each --model (sampled at --temperature with --seed) and the baselines: a kick on every tap
and, with --baselines_from, the most common bar of the training records.
"""

from seqgen.errors import SeqgenError


def add_arguments(parser) -> None:
    from seqgen.commands import non_negative_float, non_negative_int

    parser.add_argument("--sequence_example_file", nargs="+", required=True, metavar="FILE",
                        help="groove records to evaluate on, e.g. groove/test_drum_tracks.tfrecord")
    parser.add_argument("--model", nargs="*", default=None, metavar="MODEL",
                        help="drumify models: bundles, run dirs, checkpoints or shipped names (default: the shipped "
                             "drumify model; none with --model given alone)")
    parser.add_argument("--baselines_from", nargs="+", metavar="FILE",
                        help="training groove records for the most-common-bar baseline")
    parser.add_argument("--temperature", type=non_negative_float, default=1.0,
                        help="sampling temperature of the models (0: the likely drums at their means; default 1)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed of the sampling (default 0)")


def run(args) -> int:
    from seqgen import plugins

    from seqgen_drums import drumify_eval, groove_eval
    from seqgen_drums.drumify import DEFAULT_MODEL
    from seqgen_drums.humanize import load_model

    config = plugins.get_config("groove", "drums")
    performances = groove_eval.read_performances(args.sequence_example_file, config)
    if not performances:
        raise SeqgenError(f"{' '.join(args.sequence_example_file)} hold no groove records")
    train = groove_eval.read_performances(args.baselines_from, config) if args.baselines_from else None
    if train is not None and not train:
        raise SeqgenError(f"--baselines_from {' '.join(args.baselines_from)} hold no groove records")
    sources = [DEFAULT_MODEL] if args.model is None else args.model
    models = [drumify_eval.ModelPlayer(load_model(source, "drumify", "evaluate_drumify", DEFAULT_MODEL), source,
                                       args.temperature, args.seed) for source in sources]
    print(drumify_eval.table(drumify_eval.evaluate(performances, train, models)))
    return 0
