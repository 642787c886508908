"""The ``seqgen`` command: one subcommand per module of :mod:`seqgen.commands`.

Command modules stay light at import time (no TensorFlow) so ``seqgen --help`` answers fast.
"""

import argparse
import importlib
import os
import pkgutil
import sys

from seqgen import __version__, commands
from seqgen.errors import SeqgenError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqgen", description="Train and sample sequence models of symbolic music.")
    parser.add_argument("--version", action="version", version=f"seqgen {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"seqgen.commands.{info.name}")
        summary = (module.__doc__ or "").strip().splitlines()[0]
        sub = subparsers.add_parser(info.name, help=summary, description=module.__doc__,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except SeqgenError as error:
        print(f"seqgen {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"seqgen {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
