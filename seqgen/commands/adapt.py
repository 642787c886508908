"""Learn a model from a folder of your own MIDI files in minutes: fine-tune a trained model with adapters.

Converts the MIDI files, extracts tracks with the base model's config, holds out a fifth of the files to
keep the adapters that are best on them, and trains low-rank adapters on the base's frozen weights until
--minutes are spent (Ctrl-C keeps the best so far). The bundle written holds only the adapters, the
base's name and its weights' checksum (a few percent of its size); it loads by path like any bundle
(generate, infill, studio --models, seqgen.load) while the base is installed, without TensorFlow.
"""

from seqgen.commands import non_negative_int, positive_float


def add_arguments(parser) -> None:
    parser.add_argument(
        "sources", nargs="+", metavar="FILES_OR_DIR", help="MIDI files, or folders of them (searched to any depth)"
    )
    parser.add_argument(
        "--from",
        dest="base",
        required=True,
        metavar="MODEL",
        help="the model to adapt: a shipped model's name (e.g. drum_kit_control_gmd) or a bundle",
    )
    parser.add_argument("--bundle_file", required=True, help="the adapted bundle to write, e.g. mine.seqgen")
    parser.add_argument(
        "--minutes", type=positive_float, default=5.0, help="time budget for training, in minutes (default 5)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace --bundle_file if it exists")
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="seed of the held-out choice, initialization, shuffling and dropout (default 0)",
    )


def run(args) -> int:
    from seqgen.adapting import adapt

    adapt(args.sources, args.base, args.bundle_file, minutes=args.minutes, overwrite=args.overwrite, seed=args.seed)
    return 0
