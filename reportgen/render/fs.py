"""File writing for the renderer: a staging folder swapped in at the end, deterministic text files."""
from __future__ import annotations

import os
import shutil
from pathlib import Path


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text with LF newlines, creating folders; written via a temp file and rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.replace(tmp, path)


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


def recover(out: Path) -> None:
    """Undo an interrupted swap: if ``out`` is missing but ``.out.old`` exists, put it back."""
    old = out.parent / f".{out.name}.old"
    if old.exists():
        if out.exists():
            shutil.rmtree(old)
        else:
            os.replace(old, out)
