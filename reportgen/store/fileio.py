"""Writing byte chunks to a file: one ``writev`` system call for up to 1,024 chunks, and atomically; and
letting the kernel drop a written file from memory.

Builds write thousands of files (cache entries, viewer data). Python's buffered file object costs a
few system calls and some 10-20 us per file beyond the data itself; ``os.open`` + ``os.writev`` +
``os.close`` is the least a write can be.
"""
from __future__ import annotations

import itertools
import os
from pathlib import Path

_IOV_MAX = 1024  # the least IOV_MAX POSIX systems have
_TMP_COUNTER = itertools.count()


def write_chunks(path, chunks) -> None:
    """Create or truncate ``path`` and write the bytes-like ``chunks`` one after another (short writes
    are resumed). No temporary file: callers that need atomicity write to a temporary name and rename."""
    views = [memoryview(chunk).cast("B") for chunk in chunks]
    views = [view for view in views if len(view)]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)
    try:
        while views:
            written = os.writev(fd, views[:_IOV_MAX]) if hasattr(os, "writev") else os.write(fd, views[0])
            done = 0
            while done < len(views) and written >= len(views[done]):
                written -= len(views[done])
                done += 1
            del views[:done]
            if written:
                views[0] = views[0][written:]
    finally:
        os.close(fd)


def temp_name(path: Path) -> Path:
    """A temporary name next to ``path``, unique per process and call (``.NAME.PID.N.tmp``)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{next(_TMP_COUNTER)}.tmp")


def atomic_write(path, chunks) -> None:
    """Write the bytes-like ``chunks`` to ``path`` through a temporary file in the same folder and a
    rename, creating missing folders; on any failure the temporary file is removed.

    No fsync: a killed process leaves the file whole or as it was (the rename is atomic and the kernel
    keeps what was written). Only a power cut can leave a damaged file; the cache's checksums turn that
    into a recomputation, and syncing every file would cost more than computing it.
    """
    path = Path(path)
    tmp = temp_name(path)
    try:
        try:
            write_chunks(tmp, chunks)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_chunks(tmp, chunks)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


def release(path) -> None:
    """Advise the kernel that ``path`` is not needed in memory soon (``posix_fadvise`` DONTNEED).

    Pages already written to disk leave the page cache at once; pages still dirty are queued for writing
    and stay, so a second call after the write-out frees them. Advice only: a missing file, a system
    without ``posix_fadvise`` (macOS, Windows) or any error changes nothing.
    """
    if not hasattr(os, "posix_fadvise"):
        return
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass
    finally:
        os.close(fd)
