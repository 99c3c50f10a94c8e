"""Writing an output file: atomically, only ever a regular file, never the spec it came from.

A temp file in the target's folder is renamed over the target, so a reader never sees half a
file and a failed write (a full disk, a file-size limit) leaves nothing behind. Renaming over a
symbolic link, a FIFO or a device would replace it with a regular file, so those are refused.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from .errors import UsageError

__all__ = ["write_file", "OutputError", "describe_os_error"]


class OutputError(UsageError):
    """The output file cannot be written (not a regular file, no such folder, disk full…)."""


_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def write_file(path: str | os.PathLike[str], data: str | bytes,
               protect: str | os.PathLike[str] | None = None) -> None:
    """Write `data` to `path` atomically; refuse anything but a regular file or a new path,
    and refuse `protect` (the spec being read) itself.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_file(folder / "out.txt", "hello")
    >>> (folder / "out.txt").read_text()
    'hello'
    """
    target = Path(path)
    shown = str(path)
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"-o {shown}: {describe_os_error(exc)}") from None
    if st is not None:
        kind = next((name for test, name in _KINDS if test(st.st_mode)), None)
        if kind is not None:
            hint = ("name the file it points to" if kind == "a symbolic link"
                    else "name a regular file, or use -o - to write to standard output")
            raise OutputError(f"-o {shown} is {kind}; pathgrad writes only regular files",
                              None, hint)
        if protect is not None and os.path.exists(protect) and os.path.samefile(target, protect):
            raise OutputError(f"-o {shown} is the spec itself; choose another output file")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"-o {shown}: folder '{folder}' does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"-o {shown}: cannot create a file in '{folder}': "
                          f"{describe_os_error(exc)}") from None
    try:
        binary = isinstance(data, bytes)
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as fh:
            fh.write(data)
        # mkstemp makes 0600 files; give the output the mode a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, (st.st_mode & 0o7777) if st is not None else 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        _remove(tmp)
        raise OutputError(f"-o {shown}: {describe_os_error(exc)}; nothing was written") from None
    except BaseException:
        _remove(tmp)
        raise


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


def describe_os_error(exc: OSError) -> str:
    """An OSError as a short phrase: 'no space left on the device', 'file too large' …"""
    known = {errno.ENOSPC: "no space left on the device", errno.EFBIG: "the file is too large "
             "(a file-size limit)", errno.EACCES: "permission denied",
             errno.EROFS: "the file system is read-only", errno.EDQUOT: "disk quota exceeded"}
    return known.get(exc.errno, exc.strerror or type(exc).__name__)
