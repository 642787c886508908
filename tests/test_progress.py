"""Progress: a bar on a terminal, plain lines (or nothing, for jobs that log) otherwise."""

import fcntl
import io
import os
import select
import signal
import struct
import termios

import pytest

from seqgen import stops
from seqgen.progress import Progress


def test_a_terminal_gets_a_bar():
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
    with open(slave, "w") as terminal:
        with Progress(3, "train", unit="step", stream=terminal, interval=None) as progress:
            for _ in range(3):
                progress.update()
        terminal.flush()
        shown = ""
        while select.select([master], [], [], 1)[0]:
            shown += os.read(master, 4096).decode()
    os.close(master)
    assert "train:" in shown and "/3 [" in shown and "step/s" in shown


def test_unknown_totals_count_without_a_percentage():
    stream = io.StringIO()
    with Progress(0, "train", unit="step", stream=stream, interval=0) as progress:
        progress.update()
        progress.update()
    assert stream.getvalue().splitlines() == ["train: 1 steps", "train: 2 steps"]


def test_jobs_that_log_get_no_plain_lines():
    stream = io.StringIO()
    with Progress(5, "train", unit="step", stream=stream, interval=None) as progress:
        for _ in range(5):
            progress.update()
    assert stream.getvalue() == ""


class _SignalledWhenCollected:
    def __del__(self):
        signal.raise_signal(signal.SIGINT)  # Ctrl-C lands in a finalizer: Python prints its exception and drops it


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_lost_in_a_finalizer_still_stops_the_job_at_its_next_report():
    previous = stops.install()  # as the command line does
    try:
        _SignalledWhenCollected()  # collected at once; the KeyboardInterrupt raised in its __del__ is lost
        with Progress(5, "generate", stream=io.StringIO()) as progress:
            with pytest.raises(KeyboardInterrupt):
                progress.update()
    finally:
        stops.forget()
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])
