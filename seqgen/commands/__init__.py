"""Subcommands of ``seqgen``: each module has ``add_arguments(parser)`` and ``run(args)``.

Shared argument helpers live here.
"""


def add_config_arguments(parser, config_required=True) -> None:
    """``--plugin``, ``--config`` and ``--hparams``, with Magenta's flag names."""
    parser.add_argument("--plugin", help="plugin that provides the config (optional: config ids are unique)")
    parser.add_argument("--config", required=config_required, help="config id, e.g. drum_kit")
    parser.add_argument("--hparams", default="",
                        help='hyperparameter overrides, e.g. "batch_size=64,rnn_layer_sizes=[64,64]"')


def config_from_args(args):
    """The Config named by ``--plugin/--config`` with ``--hparams`` applied."""
    from seqgen import plugins

    return plugins.get_config(args.config, args.plugin).with_hparams(args.hparams)


def positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value

