"""File writing for the renderer: a staging folder swapped in at the end, deterministic text files."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
from pathlib import Path

from reportgen.store.fileio import atomic_write, write_chunks

def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text with LF newlines (as given), creating folders; via a temp file and rename."""
    atomic_write(path, [text.encode("utf-8")])


def write_staged(folder: Path, files: dict[str, list[bytes]]) -> None:
    """Write several files, each given as byte chunks, into ``folder`` of a staging tree: one mkdir, no temp files.

    Only for folders inside ``StagedDir``: the staging folder is swapped in whole at the end, so a
    half-written file there is never seen.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name, chunks in files.items():
        write_chunks(folder / name, chunks)


@contextlib.contextmanager
def deferred_signals():
    """Hold SIGINT and SIGTERM back while the block runs; one that arrived is handled right after it.

    Python-level (the handlers are swapped), so it works whichever thread the OS delivered the signal to.
    Outside the main thread it does nothing (handlers can only be set there).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    saved = {sig: signal.signal(sig, lambda signum, frame: pending.append(signum))
             for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        if pending:
            handler = saved[pending[0]]
            if callable(handler):
                handler(pending[0], None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), pending[0])


class StagedDir:
    """Build a folder next to its final place and swap it in with renames.

    ``out`` is replaced only by ``commit``; a crash before that leaves the previous ``out`` as it
    was (a crash between the two renames leaves ``.NAME.old``, which the next run restores).
    """

    def __init__(self, out: Path):
        self.out = Path(out)
        self.parent = self.out.parent
        self.path = self.parent / f".{self.out.name}.staging"
        self.old = self.parent / f".{self.out.name}.old"
        recover(self.out)
        if self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)

    def commit(self) -> None:
        """Swap the staging folder in (call it inside ``deferred_signals`` so Ctrl-C cannot split the swap)."""
        if self.old.exists():
            shutil.rmtree(self.old)
        if self.out.exists():
            os.replace(self.out, self.old)
        os.replace(self.path, self.out)
        if self.old.exists():
            shutil.rmtree(self.old)

    def discard(self) -> None:
        if self.path.exists():
            shutil.rmtree(self.path, ignore_errors=True)
        recover(self.out)


def recover(out: Path) -> None:
    """Undo an interrupted swap: if ``out`` is missing but ``.out.old`` exists, put it back."""
    old = out.parent / f".{out.name}.old"
    if old.exists():
        if out.exists():
            shutil.rmtree(old)
        else:
            os.replace(old, out)
