"""Up-to-date check of a build: when nothing that feeds ``site_src/`` changed, do not rewrite it.

A successful build writes a stamp beside its output folder (``.site_src.reportgen-stamp`` next to
``site_src/``) holding
- ``inputs``: sha256 of everything the pages are made of: the loaded manifest, the cache key of every
  (model, example) record (model id, resolved revision, text, settings, data-format version), the
  reportgen code and templates, the output and config paths, the ``--compare`` baseline and threshold;
- ``output``: sha256 of the ``site_src/`` tree and of ``mkdocs.yml`` as written.

The next build with the same inputs, whose output is still exactly as written and whose cache holds
every record intact (checksums verified, no parsing), is skipped. Anything else (a changed example, a
damaged or missing cache entry, an edited page, a new reportgen) takes the normal path, which reuses
every intact record and recomputes the rest.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy

from reportgen.errors import ReportgenError
from reportgen.plan import diff_members, examples_for, record_key
from reportgen.render.templates import templates_dir
from reportgen.store.fileio import atomic_write

STAMP_VERSION = 1
PACKAGE_DIR = Path(__file__).resolve().parent


def stamp_path(out: Path) -> Path:
    out = Path(out)
    return out.parent / f".{out.name}.reportgen-stamp"


def tree_digest(folder: Path) -> str:
    """sha256 over the relative names and contents of every file under ``folder`` (sorted)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def code_digest() -> str:
    """sha256 of reportgen's own Python files, templates and assets: a new reportgen rebuilds."""

    digest = hashlib.sha256()
    for root in (PACKAGE_DIR, templates_dir()):
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                           and p.suffix != ".pyc"):
            digest.update(str(path.relative_to(root)).encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _runs_digest(manifest) -> list:
    """sha256 of every training-run log the manifest lists (file, or every file of a TensorBoard folder)."""
    out = []
    for run in getattr(manifest, "runs", ()):
        path = Path(run.path)
        try:
            out.append(tree_digest(path) if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest())
        except OSError:
            out.append(None)
    return out


def _output_digest(out: Path, config_path: Path) -> str | None:
    if not out.is_dir() or not config_path.is_file():
        return None
    return hashlib.sha256((tree_digest(out) + hashlib.sha256(config_path.read_bytes()).hexdigest()).encode()).hexdigest()


@dataclass
class BuildStamp:
    out: Path
    config_path: Path
    inputs: str
    keys: list[str]
    records: int
    models: int
    examples: int

    @classmethod
    def for_build(cls, manifest, options, previous=None) -> "BuildStamp | None":
        """The stamp this build would write; None when it cannot be known cheaply (a model that does not resolve)."""
        from reportgen.models.load import peek_revision  # deferred: looked up at call time, so tests can substitute it

        base_dir = Path(manifest.path).parent if manifest.path else None
        keys = []
        try:
            for spec in manifest.models:
                _, revision = peek_revision(spec.id, spec.revision, base_dir)
                diff = spec.slug in diff_members(manifest)
                keys += [record_key(revision, spec, e, manifest.settings, options.dtype, diff)
                         for e in examples_for(spec, manifest.examples)]
        except (ReportgenError, OSError):
            return None
        parts = {
            "version": STAMP_VERSION, "code": code_digest(), "manifest": repr(manifest), "keys": keys,
            "out": os.path.abspath(options.out), "config": os.path.abspath(options.config_path),
            "dtype": options.dtype, "python": platform.python_version(), "numpy": numpy.__version__,
            "runs": _runs_digest(manifest),
            "compare": None if previous is None else [
                previous.found, options.compare_threshold,
                hashlib.sha256(json.dumps(previous.models, sort_keys=True).encode("utf-8")).hexdigest()],
        }
        inputs = hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
        return cls(Path(options.out), Path(options.config_path), inputs, keys, len(keys), len(manifest.models),
                   len(manifest.examples))

    def is_current(self, cache) -> bool:
        """Same inputs as the last successful build, its output untouched, every record intact in ``cache``."""
        path = stamp_path(self.out)
        try:
            noted = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if noted.get("inputs") != self.inputs:
            return False
        if not all(cache.check(key) for key in self.keys):
            return False
        return noted.get("output") == _output_digest(self.out, self.config_path)

    def forget(self) -> None:
        stamp_path(self.out).unlink(missing_ok=True)

    def write(self) -> None:
        text = json.dumps({"inputs": self.inputs, "output": _output_digest(self.out, self.config_path)}) + "\n"
        atomic_write(stamp_path(self.out), [text.encode("utf-8")])
