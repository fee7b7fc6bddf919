"""Content-addressed cache of records.

An entry lives at ``ROOT/a/abcdef....rgc`` where the name is the sha256 of everything that changes
the record (see ``cache_key``), in one of 16 folders by its first hex digit (a first build creates
16 folders, not 256: creating a folder costs as much as writing a few hundred KB on some disks). File layout: ``b"RGC2"``, the payload's CRC-32 and its length
(little-endian uint32 and uint64), then the payload. Entries are written to a temporary file and
renamed into place (atomic); on read the length and checksum are verified and a damaged entry is
reported as missing (the caller recomputes it). CRC-32 detects the damage a cache meets (a cut-off
write, flipped bits) at twice the speed of sha256 (about 4 GB/s here); the file name already is
sha256 of the record's inputs.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

from reportgen.store.fileio import atomic_write

MAGIC = b"RGC2"
HEADER = struct.Struct("<4sIQ")  # magic, CRC-32 of the payload, payload length
ENV_VAR = "REPORTGEN_CACHE"


def default_cache_dir() -> Path:
    """``$REPORTGEN_CACHE``, else ``$XDG_CACHE_HOME/reportgen``, else ``~/.cache/reportgen``."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "reportgen"


def cache_key(parts: dict) -> str:
    """sha256 (hex) of the canonical JSON of ``parts``."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


def entry_payload(blob: bytes) -> bytes | None:
    """The payload of an entry's bytes, or None when its magic, length or checksum is wrong."""
    if len(blob) < HEADER.size:
        return None
    magic, crc, length = HEADER.unpack_from(blob)
    payload = blob[HEADER.size:]
    if magic != MAGIC or length != len(payload) or zlib.crc32(payload) != crc:
        return None
    return payload


@dataclass
class CacheStats:
    entries: int
    bytes: int


class Cache:
    """Get and put payloads by key; ``hits``/``misses``/``corrupt`` count what happened."""

    def __init__(self, root: str | os.PathLike | None = None, enabled: bool = True):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self.corrupt = 0

    def path(self, key: str) -> Path:
        return self.root / key[:1] / f"{key}.rgc"

    def get(self, key: str) -> bytes | None:
        if not self.enabled:
            return None
        path = self.path(key)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            self.misses += 1
            return None
        except OSError as exc:  # unreadable (permissions, a folder in its place, I/O error): recompute
            self.corrupt += 1
            warnings.warn(f"cache entry {path} cannot be read ({exc}); recomputing it", stacklevel=2)
            return None
        payload = entry_payload(blob)
        if payload is None:
            self.corrupt += 1
            warnings.warn(f"cache entry {path} is damaged (checksum mismatch); recomputing it", stacklevel=2)
            try:
                path.unlink()
            except OSError:
                pass
            return None
        self.hits += 1
        try:
            os.utime(path)  # last use, for pruning
        except OSError:
            pass
        return payload

    def check(self, key: str) -> bool:
        """True when the entry exists and its checksum verifies (nothing is counted, warned or deleted)."""
        if not self.enabled:
            return False
        try:
            blob = self.path(key).read_bytes()
        except OSError:
            return False
        return entry_payload(blob) is not None

    def put(self, key: str, payload: bytes | list) -> None:
        """Store ``payload``: bytes, or a list of bytes-like chunks (``Record.to_chunks``) written in order."""
        if not self.enabled:
            return
        chunks = [payload] if isinstance(payload, (bytes, bytearray, memoryview)) else list(payload)
        crc, length = 0, 0
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            length += memoryview(chunk).nbytes
        atomic_write(self.path(key), [HEADER.pack(MAGIC, crc, length)] + chunks)

    def entries(self) -> list[Path]:
        if not self.root.exists():
            return []
        # ``??/``: entries of the older two-digit layout, listed so that ``cache prune`` can remove them
        return sorted([*self.root.glob("?/*.rgc"), *self.root.glob("??/*.rgc")])

    def stats(self) -> CacheStats:
        files = self.entries()
        return CacheStats(len(files), sum(f.stat().st_size for f in files))

    def prune(self, older_than_days: float | None = None, max_bytes: int | None = None) -> CacheStats:
        """Delete entries unused for ``older_than_days`` and then the least recently used beyond ``max_bytes``."""
        files = sorted(self.entries(), key=lambda f: f.stat().st_mtime)
        removed = CacheStats(0, 0)
        now = time.time()
        keep = []
        for f in files:
            st = f.stat()
            if older_than_days is not None and now - st.st_mtime > older_than_days * 86400:
                removed = CacheStats(removed.entries + 1, removed.bytes + st.st_size)
                f.unlink()
            else:
                keep.append((f, st.st_size))
        if max_bytes is not None:
            total = sum(size for _, size in keep)
            for f, size in keep:
                if total <= max_bytes:
                    break
                f.unlink()
                total -= size
                removed = CacheStats(removed.entries + 1, removed.bytes + size)
        for tmp in [*self.root.glob("?/.*.tmp"), *self.root.glob("??/.*.tmp")] if self.root.exists() else []:
            tmp.unlink()
        return removed


class TeeCache(Cache):
    """A cache that also copies every entry it serves or stores into a second folder, ``export``.

    A shard run (``reportgen build --shard K/N --shard-out DIR``) uses it so that DIR holds exactly
    that shard's records, in cache layout, ready to upload as a CI artifact; the merge job copies all
    shard folders into one cache folder. ``export`` is written even when the cache itself is disabled.
    """

    def __init__(self, root: str | os.PathLike | None, enabled: bool, export: str | os.PathLike):
        super().__init__(root, enabled)
        self.export = Cache(export)

    def get(self, key: str) -> bytes | None:
        payload = super().get(key)
        if payload is not None:
            self.export.put(key, payload)
        return payload

    def put(self, key: str, payload: bytes | list) -> None:
        super().put(key, payload)
        self.export.put(key, payload)
