"""Writing files so that a reader never sees one half-written, and existing files are kept when asked."""

import contextlib
import os
import tempfile

from seqgen.errors import SeqgenError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path, replace: bool = True):
    """Yield a temporary path beside ``path``; when the block succeeds it becomes ``path`` in one step.

    With ``replace=False`` an existing ``path`` is never replaced, not even one that appeared while the
    block ran. On failure the temporary file is removed and ``path`` is left as it was.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".partial")
    os.close(handle)
    os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
    try:
        yield temporary
        if replace:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                raise SeqgenError(f"{path} already exists; remove it or choose another name") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
