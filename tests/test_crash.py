"""Crash safety: killed builds leave nothing corrupt and resume to the same site.

A build of a tiny BERT on 12 examples, in small batches (one cache pack each), runs as a subprocess with
``REPORTGEN_TEST_SLOW`` (a pause after each computed record) so it can be killed after k records: the
cache directory is polled and the process gets SIGKILL (or SIGINT / SIGTERM) once at least k entries exist. Afterwards the previous
``site_src/`` must be exactly as before, and a re-run must give a ``site_src/`` and ``mkdocs.yml``
byte-identical to those of one uninterrupted build, with every cache entry intact.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reportgen.store.cache import MAGIC, Cache
from reportgen.store.record import Record

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [
    ("en", "The cat is very sad.", "Because it could not find food to eat."),
    ("en", "The cat did not eat the food because it was not fresh.", None),
    ("en", "The trophy does not fit into the suitcase because it is too large.", None),
    ("en", "I went to the store.", "At the store, I bought fresh strawberries."),
    ("tr", "Kedi çok üzgün.", "Çünkü o her zamanki gibi çok fazla yemek yedi."),
    ("tr", "İstanbul'da güzel bir gün; ağaçlar yeşil, kuşlar şarkı söylüyor.", None),
    ("tr", "Öğretmen öğrencilere ödevlerini ışıkta okumalarını söyledi.", None),
    ("de", "Die Katze ist sehr traurig.", "Weil sie zu viel gegessen hat."),
    ("de", "Die Straße ist groß, und die Bäume sind grün.", None),
    ("de", "Müller heißt der Fußballspieler aus München.", None),
    ("en", "The cat is sad.", None),
    ("de", "Die Bäume sind grün.", "Die Straße ist groß."),
]
SLOW = 0.3  # seconds of pause after each record in the runs that get killed


def manifest_text() -> str:
    lines = ["title: Crash test", "models:", "  - id: ./model", "examples:"]
    for i, (language, a, b) in enumerate(EXAMPLES, 1):
        lines += [f"  - id: e{i:02d}", f"    language: {language}", f'    a: "{a}"']
        if b is not None:
            lines.append(f'    b: "{b}"')
        if i == 1:
            lines += ["    coref:", "      - pronoun: it", "        antecedent: cat"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory, tiny_models):
    root = tmp_path_factory.mktemp("crash")
    shutil.copytree(tiny_models["bert"], root / "model")
    (root / "m.yaml").write_text(manifest_text(), encoding="utf-8")
    return root


def env(slow: float = 0.0) -> dict:
    out = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", SOURCE_DATE_EPOCH="1700000000",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out.pop("REPORTGEN_TEST_SLOW", None)
    if slow:
        out["REPORTGEN_TEST_SLOW"] = str(slow)
    return out


def command(project: Path, out: Path, cache: Path) -> list[str]:
    return [sys.executable, "-m", "reportgen", "build", str(project / "m.yaml"), "--out", str(out / "site_src"),
            "--config", str(out / "mkdocs.yml"), "--cache", str(cache), "--quiet", "--max-tokens", "64"]


def build(project: Path, out: Path, cache: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(command(project, out, cache), env=env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def tree(out: Path) -> dict[str, bytes | None]:
    """Every path under ``out`` (dot files included) with its bytes (None for folders).

    Files under ``site_src/assets/`` are copied verbatim from the templates; only their names are compared,
    so that editing the viewer while this module runs does not fail it. The up-to-date stamp beside
    ``site_src/`` (``reportgen.incremental``) is bookkeeping, not site, and names absolute paths: left out.
    """
    return {p.relative_to(out).as_posix(): (p.read_bytes() if p.is_file() and "site_src/assets/" not in p.as_posix()
                                            else None)
            for p in sorted(out.rglob("*")) if not p.name.endswith(".reportgen-stamp")}


def entries(cache: Path) -> list[str]:
    """Keys of the entries stored (single files and packs)."""
    return Cache(cache).keys() if cache.exists() else []


def damage_two_entries(cache: Path) -> list[Path]:
    """Cut the last entry of one pack short and flip a bit in the first entry of another; their packs."""
    from reportgen.store.cache import read_pack_index

    packs = Cache(cache).packs()
    assert len(packs) >= 2
    last = max(read_pack_index(packs[0]).values(), key=lambda e: e.offset)
    with open(packs[0], "r+b") as handle:
        handle.truncate(last.offset + last.length // 2)
    first = min(read_pack_index(packs[1]).values(), key=lambda e: e.offset)
    blob = bytearray(packs[1].read_bytes())
    blob[first.offset + first.length // 2] ^= 0x10
    packs[1].write_bytes(bytes(blob))
    return packs[:2]


def interrupt_after(project: Path, out: Path, cache: Path, k: int, sig: int) -> tuple[int, str, int]:
    """Start a slow build, send ``sig`` once the cache holds k entries; return (exit code, stderr, entries)."""
    proc = subprocess.Popen(command(project, out, cache), env=env(SLOW), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 600
    try:
        while len(entries(cache)) < k:
            if proc.poll() is not None:
                pytest.fail(f"the build ended before {k} records: {proc.communicate()[1]}")
            if time.time() > deadline:
                pytest.fail(f"no {k} records after 600 s")
            time.sleep(0.01)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err, len(entries(cache))


def assert_cache_intact(cache: Path, expected: int) -> None:
    keys = entries(cache)
    assert len(keys) == expected
    store = Cache(cache)
    for key in keys:
        payload = store.get(key)
        assert payload is not None, key
        Record.from_bytes(payload)
    assert store.corrupt == 0 and store.hits == expected


def _sources_stamp() -> tuple:
    """mtimes of everything that shapes a site (code, templates, assets)."""
    files = sorted((ROOT / "reportgen").rglob("*.py")) + sorted((ROOT / "templates").rglob("*"))
    return tuple((str(p), p.stat().st_mtime_ns) for p in files if p.is_file())


class Reference:
    """site_src/ and mkdocs.yml of one uninterrupted build, rebuilt if the sources changed meanwhile
    (other people may be editing templates in the same checkout while this module runs)."""

    def __init__(self, project: Path, work: Path):
        self.project, self.work, self.stamp, self.tree, self.count = project, work, None, None, 0

    def get(self) -> dict:
        stamp = _sources_stamp()
        if stamp != self.stamp:
            self.count += 1
            work = self.work / f"build-{self.count}"
            build(self.project, work / "out", work / "cache")
            assert len(entries(work / "cache")) == len(EXAMPLES)
            self.stamp, self.tree = stamp, tree(work / "out")
        return self.tree


@pytest.fixture(scope="module")
def reference(project, tmp_path_factory):
    return Reference(project, tmp_path_factory.mktemp("reference"))


def previous_site(out: Path) -> dict:
    """An older site_src/ and mkdocs.yml in ``out``; returns its snapshot."""
    (out / "site_src" / "data").mkdir(parents=True)
    (out / "site_src" / "index.md").write_text("an older build\n", encoding="utf-8")
    (out / "site_src" / "data" / "index.json").write_text('{"schema": "reportgen.index/1", "models": []}\n')
    (out / "mkdocs.yml").write_text("site_name: older\n", encoding="utf-8")
    return tree(out)


@pytest.mark.parametrize("k", [1, 12])
def test_sigkill_after_k_records_then_rerun_gives_identical_site(project, reference, tmp_path, k):
    out, cache = tmp_path / "out", tmp_path / "cache"
    before = previous_site(out)
    code, _, stored = interrupt_after(project, out, cache, k, signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert k <= stored <= len(EXAMPLES)
    # the previous site is exactly as it was; at most a staging folder was left next to it
    left = {path: data for path, data in tree(out).items() if not path.startswith(".site_src.staging")}
    assert left == before
    assert_cache_intact(cache, stored)
    result = build(project, out, cache)
    assert f"{stored} from cache" in result.stdout
    assert tree(out) == reference.get()
    assert_cache_intact(cache, len(EXAMPLES))


def test_killed_twice_then_resumed(project, reference, tmp_path):
    """A resumed build that is killed again still resumes to the same site."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    before = previous_site(out)
    for k in (4, 9):
        code, _, stored = interrupt_after(project, out, cache, k, signal.SIGKILL)
        assert code == -signal.SIGKILL and stored >= k
        assert {p: d for p, d in tree(out).items() if not p.startswith(".site_src.staging")} == before
    build(project, out, cache)
    assert tree(out) == reference.get()
    assert_cache_intact(cache, len(EXAMPLES))


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_sigint_sigterm_clean_up_and_keep_previous_output(project, tmp_path, sig, code):
    out, cache = tmp_path / "out", tmp_path / "cache"
    before = previous_site(out)
    returncode, err, stored = interrupt_after(project, out, cache, 4, sig)
    assert returncode == code, err
    assert "Traceback" not in err
    assert "interrupted; the previous output is untouched" in err
    assert tree(out) == before  # staging removed too
    assert_cache_intact(cache, stored)


def test_damaged_cache_entries_are_detected_and_recomputed(project, reference, tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    build(project, out, cache)
    truncated, flipped = damage_two_entries(cache)
    result = build(project, out, cache)
    assert f"{len(EXAMPLES) - 2} from cache" in result.stdout
    damaged = [line for line in result.stderr.splitlines() if "is damaged" in line]
    assert len(damaged) == 2, result.stderr
    assert any(truncated.name in line for line in damaged) and any(flipped.name in line for line in damaged)
    assert tree(out) == reference.get()
    assert_cache_intact(cache, len(EXAMPLES))


def test_cache_detects_truncation_and_bit_flips(tmp_path):
    cache = Cache(tmp_path)
    payload = bytes(range(256)) * 40
    key = "ab" + "0" * 62
    for damage in ("empty", "header", "truncated", "flipped", "magic"):
        cache.put(key, payload)
        path = cache.path(key)
        blob = bytearray(path.read_bytes())
        assert blob[:4] == MAGIC
        if damage == "empty":
            blob = bytearray()
        elif damage == "header":
            blob = blob[:20]
        elif damage == "truncated":
            blob = blob[:-1]
        elif damage == "flipped":
            blob[100] ^= 0x01
        else:
            blob[0:4] = b"XXXX"
        path.write_bytes(bytes(blob))
        with pytest.warns(UserWarning, match="damaged"):
            assert cache.get(key) is None
        assert not path.exists()  # removed, so the next put rewrites it
    assert cache.corrupt == 5
    cache.put(key, payload)
    assert cache.get(key) == payload


def test_atomic_writes_leave_no_temporary_files(project, reference, tmp_path):
    """Temporary names are unique per process (``.NAME.PID.N.tmp``) and never survive a finished build."""
    from reportgen.render.fs import write_text
    from reportgen.store.fileio import temp_name

    target = tmp_path / "x" / "file.txt"
    names = {temp_name(target) for _ in range(3)}
    assert len(names) == 3 and all(str(os.getpid()) in n.name and n.name.startswith(".file.txt.") for n in names)
    write_text(target, "one\n")
    write_text(target, "two\n")
    assert target.read_text() == "two\n" and sorted(p.name for p in target.parent.iterdir()) == ["file.txt"]
    assert not [p for p in reference.get() if p.endswith(".tmp")]


def test_interrupted_swap_is_recovered(tmp_path):
    """A crash between the two renames of the swap leaves ``.site_src.old``: the next run puts it back."""
    from reportgen.render.fs import StagedDir, deferred_signals

    out = tmp_path / "site_src"
    out.mkdir()
    (out / "index.md").write_text("old\n")
    os.replace(out, tmp_path / ".site_src.old")  # as if killed right after the first rename
    stage = StagedDir(out)
    assert (out / "index.md").read_text() == "old\n" and not (tmp_path / ".site_src.old").exists()
    (stage.path / "index.md").write_text("new\n")
    with deferred_signals():
        stage.commit()
    assert (out / "index.md").read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site_src"]
    # an aborted build after the first rename restores the old folder at once
    stage = StagedDir(out)
    os.replace(out, stage.old)
    stage.discard()
    assert (out / "index.md").read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site_src"]


def test_deferred_signals_hold_sigint_until_the_block_ends():
    from reportgen.render.fs import deferred_signals

    done = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_signals():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            done.append("swap finished")
    assert done == ["swap finished"]
