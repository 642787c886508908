"""Convert a Magenta .mag bundle into a seqgen bundle, which loads without TensorFlow.

The hparams follow from the checkpoint's variable shapes; the description is kept unless
--bundle_description replaces it.
"""

from seqgen.errors import SeqgenError


def add_arguments(parser) -> None:
    parser.add_argument("--mag_file", required=True, help="the Magenta .mag bundle to read")
    parser.add_argument("--bundle_file", required=True, help="the .seqgen bundle to write (must not exist)")
    parser.add_argument("--bundle_description", help="description to store instead of the .mag's")


def run(args) -> int:
    import os

    from seqgen import bundle, magenta_bundle, paths

    paths.check_output_file(args.bundle_file, "--bundle_file")
    if os.path.exists(args.bundle_file):
        raise SeqgenError(f"{args.bundle_file} already exists; choose another --bundle_file or remove it first")
    paths.check_input_file(args.mag_file, "--mag_file", "Magenta .mag bundle")
    config, weights, description = magenta_bundle.load(args.mag_file)
    if args.bundle_description is not None:
        description = args.bundle_description
    bundle.save(args.bundle_file, config, weights, description)
    hparams = ",".join(f"{k}={v}".replace(" ", "") for k, v in config.hparams.to_dict().items())
    print(f"wrote {args.bundle_file}: {config.plugin}/{config.id}, {hparams}")
    return 0
