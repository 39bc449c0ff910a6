"""Reading a small file a hostile repository may have planted: never hang, never read unbounded.

``open()`` on a FIFO blocks until a writer comes; ``read()`` on ``/dev/zero`` never ends; a
sparse file can claim gigabytes. :func:`read_regular` opens without blocking, checks that what
it opened is a regular file no bigger than a limit, and reads at most that much.

Stdlib only: the hook and :mod:`keytrap.gitrun` use it.
"""

from __future__ import annotations

import os
import stat

MIB = 1024 * 1024


class Refused(Exception):
    """Not a regular file, or bigger than the limit; ``str()`` says which, for one line."""


def describe(mode: int) -> str:
    """What a non-regular file is, in a few words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def not_regular(mode: int) -> str:
    """``"a FIFO, not a regular file"``, ``"not a regular file"``…"""
    what = describe(mode)
    return what if what == "not a regular file" else f"{what}, not a regular file"


def check(st: os.stat_result, limit: int) -> None:
    """Raise :class:`Refused` unless ``st`` is a regular file of at most ``limit`` bytes."""
    if not stat.S_ISREG(st.st_mode):
        raise Refused(not_regular(st.st_mode))
    if st.st_size > limit:
        raise Refused(f"larger than the {_size(limit)} limit ({st.st_size} bytes)")


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file ``path`` (symlinks followed), at most ``limit`` of them.

    Raises :class:`Refused` for anything else (a FIFO, a device, a folder, a file over the
    limit, or one that grew past it while read) and ``OSError`` when it cannot be opened
    (``FileNotFoundError`` when it does not exist).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        check(os.fstat(fd), limit)
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise Refused(f"larger than the {_size(limit)} limit")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _size(n: int) -> str:
    return f"{n // MIB} MiB" if n % MIB == 0 else f"{n} byte"
