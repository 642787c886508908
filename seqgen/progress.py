"""Progress of long jobs: a tqdm bar on a terminal, a plain line every few seconds otherwise."""

import sys
import time

from seqgen import stops


class Progress:
    """Counts finished items of ``total`` (0: unknown); use as a context manager and call :meth:`update`.

    ``interval=None`` prints no plain lines, for jobs that already log their progress.
    """

    def __init__(self, total: int, description: str, unit: str = "item", stream=None, interval=5.0):
        self.total, self.description, self.unit = total, description, unit
        self.stream = stream or sys.stderr
        self.interval = interval
        self.done = 0
        self._bar = None
        self._next_line = time.monotonic() + (interval if interval is not None else float("inf"))
        if self.stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(
                total=total or None, desc=description, unit=unit, file=self.stream, leave=False, dynamic_ncols=True
            )

    def update(self, count: int = 1) -> None:
        stops.check()
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
        elif time.monotonic() >= self._next_line:
            self._next_line = time.monotonic() + self.interval
            of = f"/{self.total} {self.unit}s ({100 * self.done // self.total}%)" if self.total else f" {self.unit}s"
            print(f"{self.description}: {self.done}{of}", file=self.stream, flush=True)

    @property
    def showing_bar(self) -> bool:
        """Whether a bar is shown (on a terminal) rather than plain lines."""
        return self._bar is not None

    def note(self, text: str) -> None:
        """Show ``text`` after the bar (e.g. the latest loss); plain lines leave it to the job's own log."""
        if self._bar is not None:
            self._bar.set_postfix_str(text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
