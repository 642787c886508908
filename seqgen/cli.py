"""The ``seqgen`` command: one subcommand per registered command (seqgen's own and plugins').

Commands stay light at import time (no TensorFlow) so ``seqgen --help`` answers fast.
"""

import argparse
import os
import sys

from seqgen import __version__, plugins
from seqgen.errors import SeqgenError

#: What the ``train`` extra brings; a command that needs one of them says how to install it.
TRAINING_MODULES = {"tensorflow", "keras", "note_seq"}


BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def single_blas_thread() -> None:
    """Use one BLAS thread unless the user chose a number; called before plugins (and so NumPy) load.

    Generation multiplies batch-sized matrices one step at a time: a second thread gains little when the
    machine is idle and stalls every step when another process holds a core (10x slower, measured).
    TensorFlow's own thread pools are not BLAS's and keep every core.
    """
    if not any(name in os.environ for name in BLAS_THREAD_VARIABLES):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


class _Parser(argparse.ArgumentParser):
    """Bad flags get one line (what is wrong, where to look), not the whole usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="seqgen", description="Train and sample sequence models of symbolic music.")
    parser.add_argument("--version", action="version", version=f"seqgen {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in sorted(plugins.commands().items()):
        sub = subparsers.add_parser(name, help=command.help, description=command.description,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        command.add_arguments(sub)
        plugins.extend_command(name, sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv=None) -> int:
    single_blas_thread()
    try:
        parser = build_parser()
    except SeqgenError as error:
        print(f"seqgen: error: {error}", file=sys.stderr)
        return 1
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, --version or a bad flag (already explained on stderr)
        return exit.code
    try:
        return args.run(args) or 0
    except SeqgenError as error:
        print(f"seqgen {args.command}: error: {error}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in TRAINING_MODULES:
            raise
        print(f"seqgen {args.command}: error: this needs {error.name.split('.')[0]}, which the light install "
              f"leaves out; install the training extra: pip install 'seqgen[train]'", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"seqgen {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
