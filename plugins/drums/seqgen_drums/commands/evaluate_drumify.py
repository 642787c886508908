"""Evaluate drumify models and baselines on groove records: each performance is collapsed to its rhythm,
drummed to, and the output compared with the performance.

The records come from `seqgen create_dataset --config groove` (e.g. the test split of the Groove MIDI
Dataset with --split_csv). Prints a Markdown table: per drum class the onset F1 of the output's hits
against the performance's, the F1 over all classes, the number of onsets and the share within 20 ms of a
tap; rows: each --model (sampled at --temperature with --seed) and the baselines: a kick on every tap
and, with --baselines_from, the most common bar of the training records.
"""


def add_arguments(parser) -> None:
    from seqgen_drums.commands import evaluate_groove

    evaluate_groove.add_arguments(parser, "drumify", "the most-common-bar baseline", "the likely drums at their means")


def run(args) -> int:
    from seqgen_drums.commands.evaluate_groove import read_records
    from seqgen_drums.evaluation import drumify
    from seqgen_drums.played.drumify import DEFAULT_MODEL
    from seqgen_drums.played.humanize import load_model

    performances, train = read_records(args)
    sources = [DEFAULT_MODEL] if args.model is None else args.model
    models = [
        drumify.ModelPlayer(
            load_model(source, "drumify", "evaluate_drumify", DEFAULT_MODEL), source, args.temperature, args.seed
        )
        for source in sources
    ]
    print(drumify.table(drumify.evaluate(performances, train, models)))
    return 0
