"""The ``seqgen`` command: one subcommand per registered command (seqgen's own and plugins').

Commands stay light at import time (no TensorFlow) so ``seqgen --help`` answers fast.
"""

import argparse
import contextlib
import importlib.abc
import importlib.util
import os
import re
import signal
import sys
import tempfile

from seqgen import plugins, stops
from seqgen.errors import SeqgenError, Terminated
from seqgen.disk_full import disk_full_path, is_disk_full
from seqgen.version import DISTRIBUTION, __version__

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


#: Set to 1 (or give ``--verbose``) to see TensorFlow's C++ log lines; a TF_CPP_MIN_LOG_LEVEL of the
#: user's own is kept as it is.
VERBOSE_VARIABLE = "SEQGEN_VERBOSE"
_TF_LEVEL = "TF_CPP_MIN_LOG_LEVEL"
_level_set_here = False  # whether TF_CPP_MIN_LOG_LEVEL is ours (a later main() in the process may change it)

#: What TensorFlow's C++ libraries print while they load, before TF_CPP_MIN_LOG_LEVEL is read: absl's
#: notice, oneDNN's and the CPU feature guard's lines (absl's ``I0000 00:00:... file.cc:N] ...`` format).
_TF_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] .*"
    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.)\s*$"
)


def _tensorflow_logs_wanted(verbose: bool) -> bool:
    global _level_set_here

    if verbose or os.environ.get(VERBOSE_VARIABLE, "").strip() not in ("", "0"):
        if _level_set_here:
            os.environ.pop(_TF_LEVEL, None)
            _level_set_here = False
        return True
    return _TF_LEVEL in os.environ and not _level_set_here


@contextlib.contextmanager
def _filtered_stderr():
    """Send what is written to file descriptor 2 to a scratch file, then pass on all but TensorFlow's
    C++ log lines (Python's own warnings and errors, and fatal C++ lines, still reach stderr)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as scratch:
        os.dup2(scratch.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            scratch.seek(0)
            lines = scratch.read().decode("utf-8", "replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not _TF_LOG_LINE.match(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


class _QuietLoader(importlib.abc.Loader):
    """Runs the wrapped loader of ``tensorflow`` inside :func:`_filtered_stderr`."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader  # the module keeps its own loader
        with _filtered_stderr():
            self.loader.exec_module(module)


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    """While installed, the first ``import tensorflow`` runs with TensorFlow's C++ start-up lines hidden."""

    def __init__(self):
        self._finding = False

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow" or self._finding:
            return None
        self._finding = True
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self._finding = False
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


@contextlib.contextmanager
def quiet_tensorflow(verbose: bool = False):
    """Hide TensorFlow's C++ log lines (oneDNN notices, the CPU feature guard, absl's start-up notice) unless
    ``verbose``, SEQGEN_VERBOSE=1 or the user's own TF_CPP_MIN_LOG_LEVEL asks for them. Works only when
    TensorFlow is imported inside the block."""
    global _level_set_here

    if _tensorflow_logs_wanted(verbose) or "tensorflow" in sys.modules:
        yield
        return
    os.environ[_TF_LEVEL] = "3"  # read by TensorFlow's C++ logging when it starts: INFO to ERROR hidden
    _level_set_here = True
    finder = _QuietTensorFlow()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


class _Parser(argparse.ArgumentParser):
    """Bad flags get one line (what is wrong, where to look), not the whole usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="seqgen", description="Train and sample sequence models of symbolic music.")
    parser.add_argument("--version", action="version", version=f"seqgen {__version__}")
    verbose_help = f"show TensorFlow's C++ log lines (hidden by default; or set {VERBOSE_VARIABLE}=1)"
    parser.add_argument("--verbose", action="store_true", help=verbose_help)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in sorted(plugins.commands().items()):
        sub = subparsers.add_parser(
            name,
            help=command.help,
            description=command.description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(sub)
        if not any("--verbose" in action.option_strings for action in sub._actions):
            sub.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=verbose_help)
        plugins.extend_command(name, sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv=None) -> int:
    """Run the command line ``argv`` (default: the program's own); the exit status."""
    previous = None
    if _in_main_thread():
        previous = stops.install()
    command = "seqgen"
    try:
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
        command = f"seqgen {args.command}"
        return _run(args)
    except KeyboardInterrupt as stop:
        _ignore_signals()  # a second Ctrl-C while this line is printed changes nothing
        stops.forget()
        terminated = isinstance(stop, Terminated)
        print(f"{command}: {'stopped by SIGTERM' if terminated else 'interrupted'}", file=sys.stderr)
        return 143 if terminated else 130
    finally:
        if argv is None:  # the program ends here: no traceback from a signal while Python exits
            _ignore_signals()
        elif previous is not None:  # called from Python (tests): its handlers back
            for signum, handler in zip((signal.SIGINT, signal.SIGTERM), previous):
                if handler is not None:
                    signal.signal(signum, handler)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _ignore_signals() -> None:
    if _in_main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _run(args) -> int:
    """Run the parsed command; its errors as one line and an exit status."""
    try:
        with quiet_tensorflow(args.verbose):
            return args.run(args) or 0
    except SeqgenError as error:
        print(f"seqgen {args.command}: error: {error}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in TRAINING_MODULES:
            raise
        print(
            f"seqgen {args.command}: error: this needs {error.name.split('.')[0]}, which the light install "
            f"leaves out; install the training extra: pip install '{DISTRIBUTION}[train]'",
            file=sys.stderr,
        )
        return 1
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as error:  # OSError, or TensorFlow's ResourceExhaustedError where nothing else caught it
        if not is_disk_full(error):
            raise
        where = f" while writing {disk_full_path(error)}" if disk_full_path(error) else ""
        print(
            f"seqgen {args.command}: error: no space left on the device{where}; free some space or write elsewhere",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
