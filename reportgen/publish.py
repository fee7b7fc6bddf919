"""Publishing helpers: reproducible ``mkdocs build``, the CI cache key of a manifest's models.

- ``source_date_epoch``: the date a site is built "as of". MkDocs stamps the build date into
  ``sitemap.xml`` (``lastmod``, when ``site_url`` is set) and into the gzip header of
  ``sitemap.xml.gz``; it honours ``SOURCE_DATE_EPOCH``. When that is unset we use the newest run date
  of the records (midnight UTC), so rebuilding the same records gives byte-identical ``site/`` trees,
  whatever day it is.
- ``models_key``: a hash of the manifest's hub model ids and requested revisions, for keying the
  Hugging Face download cache in CI (``reportgen models-key MANIFEST``).
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml

from reportgen.incremental import tree_digest

EPOCH_VAR = "SOURCE_DATE_EPOCH"


def date_epoch(date: str) -> int:
    """``YYYY-MM-DD`` -> seconds since 1970 at 00:00 UTC of that day."""
    day = _dt.date.fromisoformat(date)
    return int(_dt.datetime(day.year, day.month, day.day, tzinfo=_dt.timezone.utc).timestamp())


def newest_date(provenances: Iterable[dict]) -> str | None:
    dates = [p.get("date") for p in provenances if isinstance(p, dict) and p.get("date")]
    return max(dates) if dates else None


def epoch_of_runs(runs) -> int | None:
    """Epoch of the newest run date among the models of a build (None when no model ran)."""
    date = newest_date(run.provenance for run in runs if getattr(run, "error", None) is None and run.records)
    return date_epoch(date) if date else None


def epoch_of_site_src(folder: str | os.PathLike) -> int | None:
    """Epoch of the newest run date in the heads files of a built ``site_src/`` (or ``site/``)."""
    root = Path(folder)
    index_path = root / "data" / "index.json"
    if not index_path.is_file():
        return None
    index = json.loads(index_path.read_text(encoding="utf-8"))
    provenances = []
    for model in index.get("models", []):
        if model.get("heads_file"):
            heads = json.loads((root / "data" / model["heads_file"]).read_text(encoding="utf-8"))
            provenances.append(heads.get("provenance") or {})
    date = newest_date(provenances)
    return date_epoch(date) if date else None


@contextlib.contextmanager
def source_date_epoch(epoch: int | None) -> Iterator[str | None]:
    """Set ``SOURCE_DATE_EPOCH`` to ``epoch`` inside the block, unless the user already set it."""
    if os.environ.get(EPOCH_VAR) or epoch is None:
        yield os.environ.get(EPOCH_VAR)
        return
    os.environ[EPOCH_VAR] = str(epoch)
    try:
        yield str(epoch)
    finally:
        os.environ.pop(EPOCH_VAR, None)


def stamp_path(site_dir: Path) -> Path:
    """Where ``mkdocs_build`` notes what ``site_dir`` was built from: ``.SITE.reportgen-stamp`` beside it."""
    return site_dir.parent / f".{site_dir.name}.reportgen-stamp"


def _inputs_digest(config_path: Path, docs_dir: Path, epoch: str | None) -> str:
    versions = {}
    for name in ("mkdocs", "mkdocs-material"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    parts = {"config": hashlib.sha256(Path(config_path).read_bytes()).hexdigest(), "docs": tree_digest(docs_dir),
             "epoch": epoch, "versions": versions}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def _plain_dirs(config_path: Path) -> tuple[Path, Path] | None:
    """(site_dir, docs_dir) read straight from a plain-YAML mkdocs.yml (relative to its folder), else None."""

    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):  # custom tags such as !ENV: leave it to MkDocs
        return None
    if not isinstance(config, dict):
        return None
    base = config_path.resolve().parent
    return base / str(config.get("site_dir", "site")), base / str(config.get("docs_dir", "docs"))


def _site_is_current(config_path: Path, site_dir: Path, docs_dir: Path, epoch: str | None) -> tuple[bool, str]:
    inputs = _inputs_digest(config_path, docs_dir, epoch)
    stamp = stamp_path(site_dir)
    if not (stamp.is_file() and site_dir.is_dir()):
        return False, inputs
    try:
        noted = json.loads(stamp.read_text(encoding="utf-8"))
    except ValueError:
        return False, inputs
    return noted.get("inputs") == inputs and noted.get("site") == tree_digest(site_dir), inputs


def mkdocs_build(config_path: str | os.PathLike, epoch: int | None, force: bool = False) -> tuple[Path, bool]:
    """``mkdocs build --strict`` of ``config_path`` with a reproducible date; return (site folder, built).

    Skipped (``built`` False) when the site folder is exactly what an earlier call built from the same
    mkdocs.yml, docs folder, date and MkDocs/Material versions: a stamp file beside the site folder
    records the digest of those inputs and of the site it produced, and both are checked (before
    MkDocs is even imported, when mkdocs.yml is plain YAML).
    """
    config_path = Path(config_path)
    with source_date_epoch(epoch) as used:
        plain = None if force else _plain_dirs(config_path)
        if plain is not None and plain[1].is_dir() and _site_is_current(config_path, *plain, used)[0]:
            return plain[0], False
        from mkdocs.commands.build import build  # deferred: MkDocs loads only for --site
        from mkdocs.config import load_config  # deferred: MkDocs loads only for --site

        config = load_config(str(config_path), strict=True)
        site_dir, docs_dir = Path(config["site_dir"]), Path(config["docs_dir"])
        current, inputs = _site_is_current(config_path, site_dir, docs_dir, used)
        if current and not force:
            return site_dir, False
        stamp_path(site_dir).unlink(missing_ok=True)
        build(config)
    stamp_path(site_dir).write_text(json.dumps({"inputs": inputs, "site": tree_digest(site_dir)}) + "\n",
                                    encoding="utf-8")
    return site_dir, True


def models_key(manifest) -> str:
    """sha256 (hex) of the sorted (id, requested revision) pairs of the manifest's hub models.

    It changes exactly when the set of weights to download changes, so it keys ``actions/cache`` of
    ``~/.cache/huggingface``. Local and ``package:`` models are not downloaded and do not count.
    """
    pairs = sorted({(m.id, m.revision or "") for m in manifest.models if getattr(m, "kind", "hub") == "hub"})
    blob = json.dumps(pairs, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()
