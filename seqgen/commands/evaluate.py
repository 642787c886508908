"""Measure a model on record files: loss, perplexity and accuracies as Magenta defines them.

The model comes from the same flags as `seqgen generate` (the shipped model when none is given). With
--unigram_from TRAIN_FILES the model is replaced by the unigram baseline (each class's frequency in those
files); with --untrained, by a freshly initialized network of --config and --hparams.
"""

import json

from seqgen.commands import bounded_int, record_files
from seqgen.commands import add_model_arguments
from seqgen.errors import SeqgenError


def add_arguments(parser) -> None:
    add_model_arguments(parser)
    parser.add_argument(
        "--sequence_example_file",
        nargs="+",
        required=True,
        metavar="FILE",
        help="record files (seqgen's or Magenta's) or globs to measure on",
    )
    baseline = parser.add_mutually_exclusive_group()
    baseline.add_argument(
        "--unigram_from",
        nargs="+",
        metavar="FILE",
        help="measure the unigram baseline estimated from these training record files",
    )
    baseline.add_argument(
        "--untrained", action="store_true", help="measure a freshly initialized network of --config/--hparams"
    )
    parser.add_argument(
        "--seed",
        type=bounded_int(0, 2**32 - 1, "a non-negative integer below 2**32"),
        default=0,
        help="initialization seed for --untrained",
    )
    parser.add_argument(
        "--given_controls",
        action="store_true",
        help="give a model with controls each record's true controls (default: all unset)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON object")


def _untrained(args):
    from seqgen.commands import config_from_args

    if not args.config:
        raise SeqgenError("--untrained needs --config (and optionally --hparams)")
    config = config_from_args(args)
    import keras

    keras.utils.set_random_seed(args.seed)
    return config, config.family.weights(config.family.build(config))


def run(args) -> int:
    from seqgen import evaluation
    from seqgen.loading import load_model
    from seqgen.metrics import summarize

    calibration = None
    if args.untrained:
        config, weights = _untrained(args)
        what = f"untrained {config.id}"
    elif args.unigram_from:
        from seqgen import plugins

        if not args.config:
            raise SeqgenError("--unigram_from needs --config, to know the classes")
        config, weights = plugins.get_config(args.config, args.plugin), None
        what = "unigram baseline"
    else:
        model = load_model(args)
        config, weights, calibration = model.config, model.weights, model.calibration
        what = f"{config.id} model" + (" (calibrated)" if calibration and calibration.own else "")
    num_classes = config.encoding.num_classes
    files = record_files(args.sequence_example_file, num_classes)
    train_files = record_files(args.unigram_from, num_classes) if weights is None else None
    sequences = evaluation.read_class_sequences(files, num_classes)
    if not sequences:
        raise SeqgenError(f"no records in {' '.join(args.sequence_example_file)}")
    if weights is None:
        train = evaluation.read_class_sequences(train_files, num_classes)
        log_probs = evaluation.unigram_log_probs(train, num_classes)
        sums = evaluation.unigram_sums(log_probs, sequences, config.encoding.no_event_class)
    else:
        controls = None
        if args.given_controls:
            if not config.family.takes_controls(config):
                raise SeqgenError("--given_controls needs a model with controls; this one takes none")
            controls = evaluation.read_controls(files, config)
            what += " given the records' controls"
        sums = evaluation.model_sums(config, weights, sequences, controls=controls, calibration=calibration)
    metrics = {name.split("/")[-1]: value for name, value in summarize(sums).items()}
    if args.json:
        print(json.dumps({"model": what, "tracks": len(sequences), "tokens": int(sums["tokens"]), **metrics}))
        return 0
    print(
        f"{what} on {len(sequences)} tracks ({int(sums['tokens'])} predicted steps): "
        + ", ".join(f"{name} = {value:.4f}" for name, value in metrics.items())
    )
    return 0
