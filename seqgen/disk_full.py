"""A full disk (or quota), said in one line: :class:`DiskFull`, how to recognise it in an OSError or in
TensorFlow's errors, and sizes as a person reads them."""

import contextlib
import errno
import re

from seqgen.errors import SeqgenError


class DiskFull(SeqgenError):
    """No space (or quota) left while writing an output."""


@contextlib.contextmanager
def kept_before(what: str):
    """Add to a :class:`DiskFull` line raised in the block what earlier steps of the command kept."""
    try:
        yield
    except DiskFull as error:
        raise DiskFull(f"{error} ({what} kept)") from None


_NO_SPACE = re.compile(r"(?:(\S+); )?(?:No space left on device|Disk quota exceeded)")


def is_disk_full(error) -> bool:
    """Whether ``error`` says the disk (or the quota) is full: an OSError, or TensorFlow's errors, which say so
    in their text."""
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))  # no EDQUOT on Windows
    return bool(_NO_SPACE.search(str(error)))


def disk_full_path(error):
    """The path a disk-full ``error`` names, or None."""
    if isinstance(error, OSError):
        return error.filename
    found = _NO_SPACE.search(str(error))
    return found.group(1) if found else None


def size_text(size: int) -> str:
    """``123 bytes``, ``45.6 kB``, ``7.8 MB``."""
    if size < 1000:
        return f"{size} bytes"
    return f"{size / 1000:.1f} kB" if size < 1_000_000 else f"{size / 1_000_000:.1f} MB"
