"""Paths the user gives on the command line, checked before any work is done.

Each check raises :class:`SeqgenError` with one line naming the flag, what is wrong and what to do: a
file where a folder is meant and the reverse, a place under a regular file, a place that cannot be
written (tried with an unnamed temporary file, so the check leaves nothing behind and is right for root
and read-only file systems too), a file that does not exist.
"""

import errno
import os
import stat
import tempfile

from seqgen.errors import SeqgenError


def _named(flag, path) -> str:
    return f"{flag} {path}" if flag else str(path)


def _existing_ancestor(path: str) -> str:
    """``path`` itself when it exists, else its nearest existing ancestor."""
    path = os.path.abspath(path)
    while not os.path.lexists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _writable_folder(folder: str):
    """None when a file can be created in ``folder``, else the reason it cannot."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as error:
        return error.strerror or type(error).__name__


def check_output_dir(path, flag="--output_dir") -> None:
    """``path`` is a folder, or can be created as one, and files can be written in it."""
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise SeqgenError(f"{_named(flag, path)} is a file; give a directory")
    found = _existing_ancestor(path)
    _check_writable(found, "write to" if found == os.path.abspath(path) else "create", _named(flag, path))


def _check_writable(found, verb: str, named: str) -> None:
    """``found``, the nearest existing folder of a place to write, is a folder that can be written."""
    if not os.path.isdir(found):
        raise SeqgenError(f"cannot {verb} {named}: {found} is a file, not a directory; choose another place")
    reason = _writable_folder(found)
    if reason:
        raise SeqgenError(f"cannot {verb} {named}: {reason}; choose a writable place")


def make_dir(path, flag="--output_dir") -> None:
    """Create the folder ``path`` (and its parents), with :func:`check_output_dir`'s messages."""
    check_output_dir(path, flag)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise SeqgenError(f"cannot create {_named(flag, path)}: {error.strerror}; choose a writable place") from None


def check_output_file(path, flag="--output_file") -> None:
    """``path`` is not a folder and can be written (its folder exists or can be created)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise SeqgenError(f"{_named(flag, path)} is a directory; give a file name")
    _check_writable(_existing_ancestor(os.path.dirname(os.path.abspath(path))), "write", _named(flag, path))


def check_input_file(path, flag, kind: str) -> None:
    """``path`` is an existing file (not a folder); ``kind`` names what it should be, e.g. 'MIDI file'."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise SeqgenError(f"{_named(flag, path)} is a directory; give a {kind}")
    if not os.path.exists(path):
        raise SeqgenError(f"{_named(flag, path)} {why_missing(path)}; give a {kind}")
    if not os.path.isfile(path):
        raise SeqgenError(
            f"{_named(flag, path)} is {special_kind(os.stat(path).st_mode)}, not a regular file; give a {kind}"
        )


def why_missing(path) -> str:
    """Why ``path``, which cannot be reached, cannot: 'does not exist', 'is a symlink loop', ..."""
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "is a symlink loop (or a chain of more than 40 symlinks)"
        if error.errno == errno.ENOENT and os.path.islink(path):
            return f"is a broken symlink (to {os.readlink(path)}, which does not exist)"
        if error.errno not in (errno.ENOENT, errno.ENOTDIR):
            return f"cannot be read ({error.strerror})"
    return "does not exist"


def special_kind(mode: int) -> str:
    """What a file of ``mode`` (from stat) is, in words: 'a FIFO', 'a character device', ..."""
    for test, words in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a directory"),
    ):
        if test(mode):
            return words
    return "a regular file" if stat.S_ISREG(mode) else "a special file"
