"""Create training and eval records from a TFRecord file of NoteSequences (drums_rnn_create_dataset).

Each NoteSequence is split at time-signature and tempo changes, quantized, and the config's plugin
extracts tracks that become seqgen records. A sequence's split depends only on its id and --seed
(or on --split_csv), so runs are reproducible and adding files never moves others between splits.
"""

from seqgen.commands import add_config_arguments, non_negative_int, positive_int, ratio
from seqgen.version import DISTRIBUTION


def add_arguments(parser) -> None:
    add_config_arguments(parser)
    parser.add_argument("--input", required=True, help="TFRecord file of NoteSequences (from `seqgen convert`)")
    parser.add_argument("--output_dir", required=True, help="directory for the record files")
    parser.add_argument(
        "--eval_ratio",
        type=ratio,
        default=0.1,
        help="fraction of sequences for the eval split, at least 0 and below 1 (default 0.1)",
    )
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the train/eval split (default 0)")
    parser.add_argument(
        "--split_csv",
        help="CSV with 'midi_filename' and 'split' columns (the Groove dataset's info.csv): "
        "one record file per split instead of --eval_ratio",
    )
    parser.add_argument(
        "--ignore_is_drum", action="store_true", help="treat every note as a drum, not only notes on MIDI channel 10"
    )
    parser.add_argument(
        "--split_long_tracks",
        action="store_true",
        help="cut tracks longer than max_steps into windows instead of truncating them",
    )
    parser.add_argument(
        "--min_bars",
        type=positive_int,
        help="keep tracks of at least this many bars (default: the config's, e.g. 7 for drum_kit)",
    )
    parser.add_argument(
        "--runner",
        help="run on Apache Beam with this runner, e.g. DirectRunner (needs `pip install 'seqgen-music[beam]'`)",
    )
    parser.add_argument(
        "--beam_options",
        default="",
        help='more Beam pipeline options, e.g. "--project=P --region=R --temp_location=gs://B/tmp"',
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing record files")


_CONVERT_HINT = "give the file of NoteSequences that `seqgen convert` writes"


def _check_input(path) -> None:
    """--input is a TFRecord file of NoteSequences (not empty, not training records)."""
    from seqgen import paths, tfrecord
    from seqgen.errors import SeqgenError
    from seqgen.noteseq import music_pb2

    paths.check_input_file(path, "--input", "TFRecord file of NoteSequences (from `seqgen convert`)")
    tfrecord.scan(path, hint=_CONVERT_HINT)  # a truncated file or another kind is named before any work
    first = tfrecord.first_record(path, hint=_CONVERT_HINT)
    if first is None:
        raise SeqgenError(f"--input {path} holds no NoteSequences (it is an empty record file); {_CONVERT_HINT}")
    try:
        sequence = music_pb2.NoteSequence.FromString(first)
    except Exception:  # protobuf's DecodeError and friends
        sequence = None
    training = b"\n\x07classes" in first or (b"\n\x06inputs" in first and b"\n\x06labels" in first)
    if training and (sequence is None or not sequence.notes):
        raise SeqgenError(
            f"--input {path} holds training records, not NoteSequences: they go to seqgen train "
            f"or evaluate; {_CONVERT_HINT}"
        )


def _split_csv(path) -> dict:
    import csv

    from seqgen import paths
    from seqgen.errors import SeqgenError
    from seqgen.pipeline import load_split_csv

    paths.check_input_file(path, "--split_csv", "CSV file with 'midi_filename' and 'split' columns")
    try:
        return load_split_csv(path)
    except (UnicodeDecodeError, csv.Error) as error:
        raise SeqgenError(
            f"--split_csv {path} is not a UTF-8 CSV file ({type(error).__name__}); give a CSV with "
            f"'midi_filename' and 'split' columns, such as the Groove dataset's info.csv"
        ) from None


def _check_beam(runner: str, beam_options: str) -> None:
    """--runner names a Beam runner and --beam_options splits like a command line (before anything runs)."""
    import shlex

    from seqgen.errors import SeqgenError

    try:
        shlex.split(beam_options)
    except ValueError as error:
        raise SeqgenError(
            f"--beam_options {beam_options!r} cannot be split into options ({error}); quote it as a "
            f'shell would, e.g. --beam_options="--project=P --region=R"'
        ) from None
    import logging

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # Beam warns on import about BigQuery libraries a local run never uses
    try:
        from apache_beam.runners import runner as beam_runner
    except ImportError:
        raise SeqgenError(f"--runner needs Apache Beam: pip install '{DISTRIBUTION}[beam]'") from None
    finally:
        root.setLevel(level)
    try:
        beam_runner.create_runner(runner)
    except (ValueError, ImportError) as error:
        reason = str(error).split(". ")[0]
        raise SeqgenError(
            f"--runner {runner} is not a Beam runner ({reason}); use e.g. DirectRunner, DataflowRunner, "
            f"FlinkRunner or SparkRunner"
        ) from None


def _options(args, config):
    import attrs

    from seqgen.pipeline import SplitOptions

    extraction = attrs.evolve(
        config.extraction,
        ignore_is_drum=args.ignore_is_drum or config.extraction.ignore_is_drum,
        split_long_tracks=args.split_long_tracks or config.extraction.split_long_tracks,
        min_bars=args.min_bars or config.extraction.min_bars,
    )
    options = SplitOptions(
        eval_ratio=args.eval_ratio, seed=args.seed, csv_splits=_split_csv(args.split_csv) if args.split_csv else None
    )
    return attrs.evolve(config, extraction=extraction), options


def run(args) -> int:
    from seqgen import paths, pipeline
    from seqgen.commands import config_from_args

    config, options = _options(args, config_from_args(args))
    if "://" not in args.input:  # Beam may read and write cloud storage (gs://...): not checked here
        _check_input(args.input)
    if "://" not in args.output_dir:
        paths.check_output_dir(args.output_dir)
        pipeline.check_outputs(args.output_dir, config, options, args.overwrite)
    if args.runner:
        from seqgen import beam_pipeline

        _check_beam(args.runner, args.beam_options)
        counts, paths = beam_pipeline.create_dataset(
            args.input,
            args.output_dir,
            config,
            options,
            runner=args.runner,
            overwrite=args.overwrite,
            beam_options=args.beam_options,
        )
    else:
        counts, paths = pipeline.create_dataset(args.input, args.output_dir, config, options, overwrite=args.overwrite)
    for name in sorted(counts):
        if not name.startswith("examples_"):
            print(f"{name}: {counts[name]}")
    for split, path in paths.items():
        print(f"{split}: {counts[f'examples_{split}']} examples -> {path}")
    if not sum(counts[f"examples_{split}"] for split in paths):
        print(f"no examples were written: {pipeline.explain_empty(counts, config)}")
    return 0
