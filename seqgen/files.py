"""Writing files so that a reader never sees one half-written and nothing the user has is lost.

Every output is first written beside its final name, to a hidden ``.NAME.XXXXXXXX.partial`` file that its
writer holds an exclusive ``flock`` on, and put in place in one step: renamed over the old file, or
linked without replacing one. A ``.partial`` file (or a lock file) that no process holds is the leftover of
a killed run: the next writer in that folder removes it (:func:`remove_leftovers`). :class:`OutputSet` puts
several files in place together, one writer at a time; :class:`NumberedFiles` gives a set of files new names.
A full disk ends with :class:`DiskFull`, one line saying what was written, removed and kept.
"""

import contextlib
import errno
import os
import re
import signal
import socket
import stat
import tempfile
import threading
import time

from seqgen.disk_full import DiskFull, is_disk_full, size_text
from seqgen.errors import SeqgenError

PARTIAL_SUFFIX = ".partial"
LOCK_SUFFIX = ".seqgen-lock"
_RANDOM = 8  # tempfile's random part
_PARTIAL = re.compile(rf"\..*\.[a-z0-9_]{{{_RANDOM}}}\.partial", re.S)
_GRACE_SECONDS = 2.0  # a partial file this new may belong to a writer that has not locked it yet
_PLACING = b"placing\n"  # a lock file's note while its holder puts the set in place


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _name_max(folder) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _cut(name: str, room: int) -> str:
    """``name`` cut to at most ``room`` bytes."""
    encoded = os.fsencode(name)
    return name if len(encoded) <= room else os.fsdecode(encoded[:room])


def _hidden_name(folder, name: str, suffix: str) -> str:
    """``.NAME`` + ``suffix``, NAME cut so that the whole fits the folder's limit on a name's bytes."""
    return "." + _cut(name, _name_max(folder) - 1 - len(suffix.encode())) + suffix


#: The descriptors of the partial and lock files this process holds locks through.
_held = set()


def _close_held(fd) -> None:
    _held.discard(fd)
    os.close(fd)


def _forget_held() -> None:
    """In a forked child (a worker process): close the inherited descriptors of the parent's partial and lock
    files, so that its locks end with the parent (a killed parent's leftovers are then seen as such)."""
    for fd in _held:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_held)


@contextlib.contextmanager
def signals_held():
    """Ctrl-C and SIGTERM wait until the block ends (and then raise as usual): a stop never falls between
    making a lock or partial file and recording it, or between putting a set in place and releasing it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # a signal interrupts only the main thread
        return
    caught, previous = [], {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, lambda signum, frame: caught.append(signum))
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        for signum in caught:
            signal.raise_signal(signum)


def _try_lock(fd):
    """Take ``fd``'s exclusive flock without waiting: True, False when another process holds it, None where
    the file system has no locks."""
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except (ImportError, OSError):
        return None


def _new_partial(folder, name: str):
    """``(path, fd)`` of a new partial file for ``name`` in ``folder``, held by this process."""
    prefix = _hidden_name(folder, name, "." + "x" * _RANDOM + PARTIAL_SUFFIX)[: -(_RANDOM + len(PARTIAL_SUFFIX))]
    fd, path = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=PARTIAL_SUFFIX)
    _held.add(fd)
    os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
    _try_lock(fd)
    return path, fd


def remove_leftovers(folder) -> list:
    """Remove the ``.partial`` files and lock files of killed runs in ``folder``: seqgen's by their name, held
    by no process and not brand new (a lock file that still notes an unfinished output is kept: it tells the
    next run that the output may be redone). The paths removed."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    removed = []
    for entry in entries:
        lock = entry.name.endswith(LOCK_SUFFIX) and entry.name.startswith(".")
        if not (lock or _PARTIAL.fullmatch(entry.name)):
            continue
        try:
            info = os.lstat(entry.path)
            if not stat.S_ISREG(info.st_mode) or time.time() - info.st_mtime < _GRACE_SECONDS:
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if _try_lock(fd) is True and not (lock and _PLACING in os.pread(fd, 4096, 0)):  # no live writer
                os.unlink(entry.path)
                removed.append(entry.path)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _exists_error(path, hint) -> SeqgenError:
    return SeqgenError(f"{path} already exists; {hint}")


def _link_new(temporary, path) -> None:
    """Give the file ``temporary`` the new name ``path`` too; FileExistsError when ``path`` exists, even when
    it appeared a moment ago."""
    try:
        os.link(temporary, path)
    except OSError as error:  # a file system without hard links: claim the name, then rename onto it
        if error.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
            raise
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        os.replace(temporary, path)


def _place(temporary, path, replace: bool, hint="remove it or choose another name") -> None:
    """Give the file ``temporary`` the name ``path`` in one step; without ``replace`` an existing ``path``
    is refused and kept."""
    if replace:
        os.replace(temporary, path)
        return
    try:
        _link_new(temporary, path)
    except FileExistsError:
        raise _exists_error(path, hint) from None


def _written(paths) -> int:
    total = 0
    for path in paths:
        try:
            total += os.lstat(path).st_size
        except OSError:
            pass
    return total


def _disk_full(what: str, written: int, kept: str) -> DiskFull:
    return DiskFull(
        f"no space left on the device while writing {what} ({size_text(written)} written); the "
        f"unfinished output was removed and {kept}; free some space or write elsewhere"
    )


def _kept_text(paths) -> str:
    existing = [p for p in paths if os.path.lexists(p)]
    if not existing:
        return "nothing was kept"
    return f"{existing[0]} is kept as it was" + (f" (and {len(existing) - 1} more)" if len(existing) > 1 else "")


class atomic_path:
    """``with atomic_path(path) as temporary:`` write ``temporary``; when the block succeeds it becomes
    ``path`` in one step.

    With ``replace=False`` an existing ``path`` is never replaced, not even one that appeared while the
    block ran. On failure the temporary file is removed and ``path`` is left as it was; a full disk
    raises :class:`DiskFull`.
    """

    def __init__(self, path, replace: bool = True):
        self.path, self.replace = os.fspath(path), replace
        self._fd = self.temporary = None

    def __enter__(self) -> str:
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(folder, exist_ok=True)
            remove_leftovers(folder)
            with signals_held():
                self.temporary, self._fd = _new_partial(folder, os.path.basename(self.path))
        except OSError as error:
            if is_disk_full(error):
                raise _disk_full(self.path, 0, _kept_text([self.path])) from None
            raise
        except BaseException:  # a stop held while the file was made
            self._release()
            raise
        return self.temporary

    def __exit__(self, kind, error, trace):
        written = 0
        try:
            with signals_held():
                try:
                    if kind is None:
                        _place(self.temporary, self.path, self.replace)
                except OSError as failure:
                    if not is_disk_full(failure):
                        raise
                    error = failure
                finally:
                    written = _written([self.temporary])
                    self._release()
        finally:
            self._release()  # when a stop fell before the signals were held
        if is_disk_full(error):
            raise _disk_full(self.path, written, _kept_text([self.path])) from None
        return False

    def _release(self) -> None:
        if self._fd is not None:
            _close_held(self._fd)
            self._fd = None
        if self.temporary is not None and os.path.lexists(self.temporary):
            os.unlink(self.temporary)


def _lock_path(path) -> str:
    return os.path.join(
        os.path.dirname(os.path.abspath(path)),
        _hidden_name(os.path.dirname(os.path.abspath(path)), os.path.basename(path), LOCK_SUFFIX),
    )


def unfinished(path) -> bool:
    """Whether ``path`` was left by a seqgen run killed while putting its outputs in place (its lock file, held
    by no process, still says so): redoing it needs no --overwrite."""
    if not os.path.lexists(path):
        return False
    try:
        fd = os.open(_lock_path(path), os.O_RDWR)
    except OSError:
        return False
    try:
        return _try_lock(fd) is True and _PLACING in os.pread(fd, 4096, 0)
    finally:
        os.close(fd)


def existing_outputs(paths) -> list:
    """The ``paths`` that exist and are not the unfinished output of a killed run."""
    return [path for path in map(os.fspath, paths) if os.path.lexists(path) and not unfinished(path)]


def _busy(path, note: bytes, hint) -> SeqgenError:
    holder = note.decode("utf-8", "replace").replace(_PLACING.decode(), "").strip()
    return SeqgenError(
        f"{path} is being written by another seqgen command{f' ({holder})' if holder else ''}; wait "
        f"for it to end, or {hint}"
    )


def _take_lock(path, hint):
    """``(fd, unfinished)``: ``path``'s lock file, exclusively held (SeqgenError at once when another process
    holds it), and whether its last holder died while putting its outputs in place."""
    lock = _lock_path(path)
    attempts = 10  # another process's unfinished() holds it for an instant
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
        _held.add(fd)
        held = _try_lock(fd)
        note = os.pread(fd, 4096, 0)
        if held is False:
            _close_held(fd)
            attempts -= 1
            if not attempts:
                raise _busy(path, note, hint)
            time.sleep(0.05)
            continue
        try:
            same = held is None or os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:  # its last holder removed it as we opened it: take the new one
            same = False
        if same:
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
            except BaseException:  # e.g. a full disk: leave no lock file behind
                os.unlink(lock)
                _close_held(fd)
                raise
            return fd, _PLACING in note
        _close_held(fd)


class OutputSet:
    """Output files that appear together or not at all, written by one seqgen process at a time.

    Entering takes a lock beside each path (``.NAME.seqgen-lock``), so a second writer is refused at once
    with one line, and refuses a path that exists unless ``overwrite`` (or the path is the unfinished
    output of a killed run). Write each path's :meth:`temporary`; a block that succeeds puts them all in
    place (an existing path appearing meanwhile is still refused, without ``overwrite``), else removes
    them all. ``hint`` says what to do about a path that exists or is busy.
    """

    def __init__(self, paths, overwrite: bool = False, hint: str = "choose another name"):
        self.paths = [os.fspath(path) for path in paths]
        self.overwrite, self.hint = overwrite, hint
        self._locks, self._temporaries, self._replace = {}, {}, {}
        self._placed = False

    def __enter__(self):
        try:
            with signals_held():
                self._make()
        except BaseException as error:
            self._release()
            if is_disk_full(error):
                raise _disk_full(", ".join(self.paths), 0, _kept_text(self.paths)) from None
            raise
        return self

    def _make(self) -> None:
        """Take the locks and make the partial files."""
        for path in self.paths:
            fd, was_placing = self._locks[path] = _take_lock(path, self.hint)
            exists = os.path.lexists(path)
            if exists and not (self.overwrite or was_placing):
                raise SeqgenError(f"{path} already exists; pass --overwrite to replace it, or {self.hint}")
            self._replace[path] = self.overwrite or (exists and was_placing)
        for folder in {os.path.dirname(os.path.abspath(path)) for path in self.paths}:
            remove_leftovers(folder)
        for path in self.paths:
            self._temporaries[path] = _new_partial(os.path.dirname(os.path.abspath(path)), os.path.basename(path))

    def temporary(self, path) -> str:
        """Where to write ``path``'s content."""
        return self._temporaries[os.fspath(path)][0]

    def __exit__(self, kind, error, trace):
        written = 0
        try:
            with signals_held():
                try:
                    if kind is None:
                        self._put_in_place()
                except OSError as failure:
                    if not is_disk_full(failure):
                        raise
                    error = failure
                finally:
                    written = _written(temporary for temporary, _ in self._temporaries.values())
                    self._release()
        finally:
            self._release()  # when a stop fell before the signals were held
        if is_disk_full(error):
            raise _disk_full(", ".join(self.paths), written, _kept_text(self.paths)) from None
        return False

    def _put_in_place(self) -> None:
        for fd, _ in self._locks.values():
            with contextlib.suppress(OSError):  # without the note, a run killed now leaves files that need --overwrite
                os.pwrite(fd, _PLACING, os.fstat(fd).st_size)
        placed = []
        try:
            for path in self.paths:
                _place(
                    self.temporary(path), path, self._replace[path], f"pass --overwrite to replace it, or {self.hint}"
                )
                placed.append(path)
        except BaseException:
            for path in placed:  # the set stays whole: take back what was linked (a replaced file is gone)
                if not self._replace[path]:
                    os.unlink(path)
            raise
        self._placed = True
        for fd, _ in self._locks.values():
            os.ftruncate(fd, 0)

    def _release(self) -> None:
        for temporary, fd in self._temporaries.values():
            _close_held(fd)
            if os.path.lexists(temporary):
                os.unlink(temporary)
        self._temporaries = {}
        for path, (fd, was_placing) in self._locks.items():
            try:
                if was_placing and not self._placed and os.path.lexists(path):
                    os.ftruncate(fd, 0)  # still the unfinished output of a killed run
                    os.pwrite(fd, _PLACING, 0)
                else:
                    os.unlink(_lock_path(path))
            except OSError:
                pass
            _close_held(fd)
        self._locks = {}


class NumberedFiles:
    """A set of new files named by a free run number: ``with NumberedFiles(folder, count) as files:`` write
    each of ``files.temporaries``, then ``files.place(name_of)`` links them as ``name_of(run, index)`` (index
    from 1) for the first run number whose names are all free. A name is claimed by ``os.link``, which never
    replaces a file, so runs of several processes never clash. On failure nothing is kept."""

    def __init__(self, folder, count: int, what="files"):
        self.folder, self.count, self.what = os.fspath(folder), count, what
        self.temporaries, self._fds = [], []

    def __enter__(self):
        try:
            remove_leftovers(self.folder)
            with signals_held():
                for _ in range(self.count):
                    path, fd = _new_partial(self.folder, "new")
                    self.temporaries.append(path)
                    self._fds.append(fd)
        except BaseException as error:
            self._release()
            if is_disk_full(error):
                raise _disk_full(f"{self.count} {self.what} in {self.folder}", 0, "nothing was kept") from None
            raise
        return self

    def place(self, name_of, first_run: int = 1) -> list:
        """Link the files as ``name_of(run, index)``; the paths."""
        run = first_run
        with signals_held():
            while True:
                placed = []
                try:
                    for index, temporary in enumerate(self.temporaries, 1):
                        path = os.path.join(self.folder, name_of(run, index))
                        _link_new(temporary, path)
                        placed.append(path)
                    return placed
                except FileExistsError:
                    pass
                finally:
                    if len(placed) < len(self.temporaries):
                        for path in placed:
                            os.unlink(path)
                run += 1

    def __exit__(self, kind, error, trace):
        written = 0
        try:
            with signals_held():
                written = _written(self.temporaries)
                self._release()
        finally:
            self._release()  # when a stop fell before the signals were held
        if is_disk_full(error):
            raise _disk_full(f"{self.count} {self.what} in {self.folder}", written, "none of them was kept") from None
        return False

    def _release(self) -> None:
        for temporary, fd in zip(self.temporaries, self._fds):
            _close_held(fd)
            if os.path.lexists(temporary):
                os.unlink(temporary)
        self.temporaries, self._fds = [], []
