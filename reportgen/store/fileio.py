"""Writing byte chunks to a file: one ``writev`` system call for up to 1,024 chunks.

Builds write thousands of files (cache entries, viewer data). Python's buffered file object costs a
few system calls and some 10-20 us per file beyond the data itself; ``os.open`` + ``os.writev`` +
``os.close`` is the least a write can be.
"""
from __future__ import annotations

import os

_IOV_MAX = 1024  # the least IOV_MAX POSIX systems have


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
