"""Ctrl-C and SIGTERM that are never lost. Python drops an exception raised inside a finalizer (a ``__del__``
that the garbage collector happens to run when the signal lands), so the command line's handlers also remember
the stop, and :func:`check` (called by every progress report) raises it again."""

import signal

from seqgen.errors import Terminated

_requested: list[type[KeyboardInterrupt]] = []


def _stop(signum, frame):
    stop = Terminated if signum == signal.SIGTERM else KeyboardInterrupt
    _requested.append(stop)
    raise stop()


def install() -> tuple:
    """Handle Ctrl-C and SIGTERM as stops (KeyboardInterrupt, Terminated); the handlers they had before."""
    forget()
    return signal.signal(signal.SIGINT, _stop), signal.signal(signal.SIGTERM, _stop)


def forget() -> None:
    """A new command begins (or the stop was reported): no stop is requested."""
    _requested.clear()


def check() -> None:
    """Raise the stop requested since :func:`install`, should the signal's own exception have been lost."""
    if _requested:
        raise _requested[-1]()
