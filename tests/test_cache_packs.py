"""Cache packs: a build stores each batch's records in one file (``store.cache``, ``Cache.put_many``).

Unit checks of the pack format (lookup, damage, discard), and two builds sharing one cache at the same
time: both finish, nothing is lost or damaged, and a third build computes nothing.
"""
from __future__ import annotations

import subprocess
import time

import pytest

from reportgen.store.cache import Cache, read_pack_index
from test_crash import EXAMPLES, command, env, project, tree  # noqa: F401 - project is a fixture

KEYS = [f"{i:x}" * 64 for i in range(1, 6)]


def test_pack_round_trip_and_lookup(tmp_path):
    cache = Cache(tmp_path)
    payloads = {key: bytes([i]) * (100 + i) for i, key in enumerate(KEYS)}
    cache.put_many([(key, [payloads[key][:10], payloads[key][10:]]) for key in KEYS[:3]])
    cache.put_many([(key, payloads[key]) for key in KEYS[3:]])
    assert len(cache.packs()) == 2 and cache.entries() == []
    fresh = Cache(tmp_path)
    assert fresh.keys() == sorted(KEYS) and fresh.stats().entries == 5
    for key in KEYS:
        assert fresh.check(key) and fresh.get(key) == payloads[key]
    assert fresh.get("f" * 64) is None and fresh.hits == 5 and fresh.misses == 1
    # the same records again give the same pack name: an identical file replaces it
    cache.put_many([(key, payloads[key]) for key in KEYS[3:]])
    assert len(cache.packs()) == 2


def test_damaged_pack_entries_are_missing_and_counted(tmp_path):
    cache = Cache(tmp_path)
    cache.put_many([(key, bytes(range(200))) for key in KEYS])
    (pack,) = cache.packs()
    entries = read_pack_index(pack)
    blob = bytearray(pack.read_bytes())
    blob[entries[KEYS[1]].offset + 7] ^= 0x01
    pack.write_bytes(bytes(blob[: entries[KEYS[4]].offset + 5]))  # and the last entry cut short
    fresh = Cache(tmp_path)
    with pytest.warns(UserWarning, match="damaged"):
        assert fresh.get(KEYS[1]) is None
    with pytest.warns(UserWarning, match="damaged"):
        assert fresh.get(KEYS[4]) is None
    assert fresh.get(KEYS[0]) == bytes(range(200)) and fresh.corrupt == 2
    assert not fresh.check(KEYS[1]) and fresh.check(KEYS[2])
    # a newer pack with the recomputed entry wins over the damaged one
    fresh.put_many([(KEYS[1], b"again")])
    assert Cache(tmp_path).get(KEYS[1]) == b"again"
    # a pack whose header or index is damaged holds nothing readable
    pack.write_bytes(b"RGP1" + b"\0" * 4)
    assert KEYS[0] not in Cache(tmp_path).keys()


def test_discard_rewrites_the_pack_without_the_entry(tmp_path):
    cache = Cache(tmp_path)
    cache.put_many([(key, key.encode()) for key in KEYS])
    cache.discard(KEYS[2])
    fresh = Cache(tmp_path)
    assert fresh.keys() == sorted(KEYS[:2] + KEYS[3:]) and len(fresh.packs()) == 1
    assert all(fresh.get(key) == key.encode() for key in fresh.keys())


def test_two_builds_sharing_one_cache_at_once(project, tmp_path):  # noqa: F811 - the fixture
    """Both builds compute (slowly, so their pack writes interleave), both finish with the same site; the
    cache then holds every record once per pack name, all intact, and a third build computes nothing."""
    cache = tmp_path / "cache"
    runs = [subprocess.Popen(command(project, tmp_path / f"out{i}", cache), env=env(0.05), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for i in (1, 2)]
    started = time.time()
    results = [run.communicate(timeout=600) for run in runs]
    for run, (_, err) in zip(runs, results):
        assert run.returncode == 0 and "Traceback" not in err and "damaged" not in err, err
    assert time.time() - started < 600
    strip = lambda snapshot: {k: v for k, v in snapshot.items() if k != "mkdocs.yml"}  # noqa: E731 - names its out folder
    assert strip(tree(tmp_path / "out1")) == strip(tree(tmp_path / "out2"))
    store = Cache(cache)
    assert len(store.keys()) == len(EXAMPLES)
    assert all(store.get(key) is not None for key in store.keys()) and store.corrupt == 0
    third = subprocess.run(command(project, tmp_path / "out3", cache), env=env(), capture_output=True, text=True,
                           timeout=600)
    assert third.returncode == 0, third.stderr
    assert f"{len(EXAMPLES)} from cache" in third.stdout and "damaged" not in third.stderr


def test_a_build_lets_the_kernel_drop_its_older_packs(tmp_path, monkeypatch):
    """Each pack is released when written (its write-out starts) and again RELEASE_AFTER packs later (its
    pages go); the newest packs stay in memory."""
    import reportgen.store.cache as cache_module

    released = []

    def release(path):
        assert path.is_file() and not list(path.parent.glob(".*.tmp"))  # after the rename: a whole pack
        released.append(path.name)

    monkeypatch.setattr(cache_module, "release", release)
    cache = Cache(tmp_path)
    names = []
    for key in KEYS[:4]:
        cache.put_many([(key, b"payload " + key.encode())])
        names.append(f"{cache_module._pack_name([key])}.rgp")
    assert cache_module.RELEASE_AFTER == 2
    assert released == [names[0], names[1], names[2], names[0], names[3], names[1]]
    assert all(Cache(tmp_path).get(key) == b"payload " + key.encode() for key in KEYS[:4])
