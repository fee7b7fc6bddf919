"""reportgen.store.fileio.write_chunks: every byte of every chunk, in order, whatever the kernel takes per call."""
import os

import numpy as np
import pytest

from reportgen.store.fileio import write_chunks


def _chunks():
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, size=int(n), dtype=np.uint8) for n in rng.integers(0, 40, size=2500)]
    chunks = [a.data if i % 3 else a.tobytes() for i, a in enumerate(arrays)]  # memoryviews and bytes, some empty
    chunks.append(np.arange(6, dtype=np.float64).reshape(2, 3).data)  # a 2-d float view: written as its bytes
    return chunks, b"".join(bytes(memoryview(c).cast("B")) for c in chunks)


def test_writes_every_chunk_in_order_past_the_per_call_limit(tmp_path):
    chunks, want = _chunks()
    assert len(chunks) > 2048
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * (len(want) + 100))  # longer than what follows: truncated
    write_chunks(path, chunks)
    assert path.read_bytes() == want


def test_short_writes_are_resumed(tmp_path, monkeypatch):
    chunks, want = _chunks()
    real = os.writev
    calls = []

    def stingy(fd, buffers):  # the kernel may take fewer bytes than offered
        calls.append(len(buffers))
        first = bytes(buffers[0])[:7]
        return real(fd, [first]) if first else 0

    monkeypatch.setattr(os, "writev", stingy)
    path = tmp_path / "f.bin"
    write_chunks(path, chunks)
    assert path.read_bytes() == want
    assert len(calls) > len([c for c in chunks if len(memoryview(c).cast("B"))])


def test_a_missing_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_chunks(tmp_path / "no" / "f.bin", [b"a"])


def test_atomic_write_creates_folders_and_leaves_nothing_behind_on_failure(tmp_path, monkeypatch):
    from reportgen.store.fileio import atomic_write

    target = tmp_path / "a" / "b" / "f.bin"
    atomic_write(target, [b"one", b"two"])
    assert target.read_bytes() == b"onetwo" and [p.name for p in target.parent.iterdir()] == ["f.bin"]

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        atomic_write(target, [b"three"])
    assert target.read_bytes() == b"onetwo" and [p.name for p in target.parent.iterdir()] == ["f.bin"]


def _resident_pages(path) -> int:
    """Pages of ``path`` in the page cache, from the kernel (mincore on a private read mapping)."""
    import ctypes
    import mmap

    libc = ctypes.CDLL(None, use_errno=True)
    size = os.path.getsize(path)
    pages = -(-size // mmap.PAGESIZE)
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), size, access=mmap.ACCESS_COPY) as mapped:
        anchor = ctypes.c_char.from_buffer(mapped)
        vector = (ctypes.c_ubyte * pages)()
        try:
            if libc.mincore(ctypes.c_void_p(ctypes.addressof(anchor)), ctypes.c_size_t(size), vector) != 0:
                raise OSError(ctypes.get_errno(), "mincore failed")
        finally:
            del anchor
    return sum(byte & 1 for byte in vector)


@pytest.mark.skipif(not hasattr(os, "posix_fadvise") or not os.path.exists("/proc/mounts"),
                    reason="page-cache advice is Linux's")
def test_release_drops_a_written_file_from_memory():
    import tempfile
    from pathlib import Path

    from reportgen.store.fileio import release

    import mmap

    # A folder on the repository's disk (tests/artifacts, ignored by git): tmpfs, a common /tmp, keeps its
    # pages whatever the advice.
    artifacts = Path(__file__).parent / "artifacts"
    artifacts.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=artifacts) as folder:
        kept, dropped = Path(folder) / "kept.bin", Path(folder) / "dropped.bin"
        data = os.urandom(1 << 20)
        for path in (kept, dropped):
            write_chunks(path, [data])
            fd = os.open(path, os.O_RDONLY)
            os.fsync(fd)  # written out: clean pages, which the advice drops at once
            os.close(fd)
        release(dropped)
        assert _resident_pages(kept) == len(data) // mmap.PAGESIZE
        assert _resident_pages(dropped) == 0
        assert dropped.read_bytes() == data  # nothing lost: read back from disk


def test_release_is_only_advice(tmp_path, monkeypatch):
    from reportgen.store.fileio import release

    release(tmp_path / "missing.bin")  # no error for a missing file
    monkeypatch.delattr(os, "posix_fadvise", raising=False)  # as on macOS and Windows
    path = tmp_path / "f.bin"
    write_chunks(path, [b"abc"])
    release(path)
    assert path.read_bytes() == b"abc"
