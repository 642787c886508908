"""Train a model on record files, or with --eval evaluate its checkpoints as they appear (drums_rnn_train).

Checkpoints and TensorBoard summaries go to RUN_DIR/train (eval summaries to RUN_DIR/eval);
RUN_DIR/run.json records the config and hparams. Running again with the same --run_dir resumes from
the latest checkpoint. Several workers: set TF_CONFIG (MultiWorkerMirroredStrategy); several local
GPUs are used automatically. A model family whose weights are counted or solved rather than trained by
gradient is fitted instead (seqgen.fitting), with the same run dir, checkpoints, summaries and resuming.
"""

import contextlib

from seqgen.commands import add_config_arguments, bounded_int, non_negative_float, non_negative_int, positive_int


def add_arguments(parser) -> None:
    add_config_arguments(parser, config_required=False)
    parser.add_argument("--run_dir", required=True, help="directory for run.json, checkpoints and summaries")
    parser.add_argument(
        "--sequence_example_file",
        nargs="+",
        required=True,
        metavar="FILE",
        help="record files (seqgen's or Magenta's) or globs, e.g. 'dataset/training_*.tfrecord'",
    )
    parser.add_argument(
        "--num_training_steps",
        type=non_negative_int,
        default=0,
        help="global step to stop at (default 0: until interrupted)",
    )
    _add_checkpoint_arguments(parser)
    parser.add_argument(
        "--seed",
        type=bounded_int(0, 2**32 - 1, "a non-negative integer below 2**32"),
        help="seed for initialization, shuffling and dropout",
    )
    parser.add_argument(
        "--micro_batch_size",
        type=non_negative_int,
        default=0,
        help="compute each batch's gradient in slices of this many tracks to bound memory "
        "(same result; default 0: automatic, slices small enough for about 3 GB with "
        "drum_kit's defaults, or on a GPU the whole batch)",
    )
    parser.add_argument(
        "--warm_start",
        help="a new run starts from this model's weights (a bundle, shipped model, run dir or "
        "checkpoint of the same family): weights of the same name and shape are copied, an "
        "embedding that grew (e.g. new prompt tokens) keeps the old rows; the rest starts fresh",
    )
    _add_eval_arguments(parser)


def _add_checkpoint_arguments(parser) -> None:
    """How often a run writes summaries and checkpoints, and how many it keeps."""
    parser.add_argument(
        "--summary_frequency",
        type=positive_int,
        default=10,
        help="log and write summaries every this many steps (default 10)",
    )
    parser.add_argument(
        "--save_checkpoint_secs",
        type=non_negative_float,
        default=60.0,
        help="save a checkpoint this often, in seconds (default 60; 0: by steps only)",
    )
    parser.add_argument(
        "--save_checkpoint_steps",
        type=non_negative_int,
        default=0,
        help="also save a checkpoint every this many steps (default 0: by time only)",
    )
    parser.add_argument(
        "--num_checkpoints",
        type=non_negative_int,
        default=10,
        help="most recent checkpoints to keep (default 10; 0 keeps all)",
    )


def _add_eval_arguments(parser) -> None:
    """--eval: a second process evaluating each new checkpoint."""
    parser.add_argument(
        "--eval", action="store_true", help="evaluate each new checkpoint of RUN_DIR/train instead of training"
    )
    parser.add_argument(
        "--num_eval_examples",
        type=non_negative_int,
        default=0,
        help="with --eval: use only this many examples (default 0: all)",
    )
    parser.add_argument(
        "--eval_timeout_secs",
        type=non_negative_float,
        default=300.0,
        help="with --eval: stop after this long without a new checkpoint (default 300)",
    )


def _config(args):
    """The config from --config/--hparams, or from RUN_DIR/run.json when --config is not given."""
    import os

    from seqgen import run_dir
    from seqgen.commands import config_from_args
    from seqgen.errors import SeqgenError

    if args.config:
        return config_from_args(args)
    if not os.path.exists(os.path.join(args.run_dir, run_dir.RUN_FILE)):
        raise SeqgenError(
            f"--config is required for a new run ({args.run_dir} has no {run_dir.RUN_FILE} yet), e.g. --config drum_kit"
        )
    config = run_dir.load_config(args.run_dir)
    return config.with_hparams(args.hparams) if args.hparams else config


def _warm_start(source, config):
    """(source, weights) of the --warm_start model, refused in one line when it is another family's."""
    if not source:
        return None
    from seqgen.errors import SeqgenError
    from seqgen.loading import load

    model = load(source)
    if model.config.model != config.model:
        raise SeqgenError(
            f"--warm_start {source} is a {model.config.model} model; this run trains a {config.model} model"
        )
    return source, model.weights


def run(args) -> int:
    from seqgen import fitting, paths, run_dir, training
    from seqgen.commands import record_files

    config = _config(args)
    # A family trained by gradient goes through the shared loop; a counted or solved one is fitted.
    learner = training if config.family.trained_by_gradient else fitting
    paths.check_output_dir(args.run_dir, "--run_dir")
    run_dir.check_run(args.run_dir, config)
    if not args.eval:
        run_dir.check_unlocked(args.run_dir)  # refused at once, before the records are read
    files = record_files(args.sequence_example_file, config.encoding.num_classes)
    if args.eval:  # beside a trainer of the same run dir: no lock
        run_dir.save_run(args.run_dir, config)  # refuses a config that differs from the run's
        learner.evaluate(config, args.run_dir, files, args.num_eval_examples, args.eval_timeout_secs)
        return 0
    options = training.TrainOptions(
        num_training_steps=args.num_training_steps,
        summary_frequency=args.summary_frequency,
        save_checkpoint_secs=args.save_checkpoint_secs,
        save_checkpoint_steps=args.save_checkpoint_steps,
        num_checkpoints=args.num_checkpoints,
        seed=args.seed,
        micro_batch_size=args.micro_batch_size,
        warm_start=_warm_start(args.warm_start, config),
    )
    if learner is fitting:
        with run_dir.training_lock(args.run_dir):
            fitting.fit(config, args.run_dir, files, options)
        return 0
    # Only the chief trains in R/train: the other workers of a TF_CONFIG cluster share the run dir.
    with run_dir.training_lock(args.run_dir) if training.is_chief() else contextlib.nullcontext():
        training.train(config, args.run_dir, files, options)
    return 0
