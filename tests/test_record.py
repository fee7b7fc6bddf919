"""The record container (store.record): exact round trip, malformed bytes refused with ValueError."""
import numpy as np
import pytest

from reportgen.store.record import Record, pack_arrays, unpack_arrays


def sample() -> Record:
    rng = np.random.default_rng(0)
    return Record(
        model="m", example="kedi-üzgün", tokens=["[CLS]", "ke", "##di", "</script>", "[SEP]"],
        special=np.array([1, 0, 0, 0, 1], dtype=bool), segment=np.array([-1, 0, 0, 0, -1], dtype=np.int8),
        word=np.array([-1, 0, 0, 1, -1], dtype=np.int32), punct=np.zeros(5, dtype=bool),
        full_length=7, truncated=True, causal=False,
        sums_num=rng.random((9, 2, 3)), sums_count=np.arange(9.0),
        coref=[rng.random((2, 3, 2)), np.zeros((0,))],
        attention_q=rng.integers(0, 256, (2, 3, 5, 5), dtype=np.uint8),
        extras={"pred_status": np.array("ok"), "q": rng.random((2, 3, 5, 4)).astype(np.float16),
                "provenance": np.frombuffer(b'{"x": 1}', dtype=np.uint8), "strided": np.arange(10)[::3]},
    )


def test_round_trip_is_exact():
    record = sample()
    again = Record.from_bytes(record.to_bytes())
    assert again.to_bytes() == record.to_bytes()
    assert (again.model, again.example, again.tokens) == (record.model, record.example, record.tokens)
    assert (again.full_length, again.truncated, again.causal) == (7, True, False)
    for name in ("special", "segment", "word", "punct", "sums_num", "sums_count", "attention_q"):
        mine, theirs = getattr(again, name), getattr(record, name)
        assert mine.dtype == theirs.dtype and mine.shape == theirs.shape
        np.testing.assert_array_equal(mine, theirs)
    assert [c.shape for c in again.coref] == [(2, 3, 2), (0,)]
    assert str(again.extras["pred_status"]) == "ok" and again.extras["pred_status"].shape == ()
    np.testing.assert_array_equal(again.extras["strided"], [0, 3, 6, 9])
    assert again.extras["q"].dtype == np.float16
    again.sums_num += 1  # fresh, writable arrays
    assert again.attention_q.flags.writeable


@pytest.mark.parametrize("damage", ["magic", "truncate", "header", "length"])
def test_malformed_bytes_raise_value_error(damage):
    blob = bytearray(sample().to_bytes())
    if damage == "magic":
        blob[:4] = b"PK\x03\x04"
    elif damage == "truncate":
        del blob[len(blob) // 2:]
    elif damage == "header":
        blob[9] = ord("}")
    else:
        blob[4:8] = (10**6).to_bytes(4, "little")
    with pytest.raises(ValueError):
        Record.from_bytes(bytes(blob))


def test_object_arrays_are_refused():
    with pytest.raises(ValueError, match="object"):
        pack_arrays({"x": np.array([{"a": 1}], dtype=object)})
    assert unpack_arrays(b"".join(pack_arrays({}))) == {}


def test_chunks_reference_the_arrays_and_join_to_the_bytes():
    """``pack_arrays`` hands out views of the arrays (nothing copied); joined, they read back exactly."""
    rng = np.random.default_rng(5)
    arrays = {"u8": rng.integers(0, 255, (2, 3, 5, 5), dtype=np.uint8), "f16": rng.random((3, 7)).astype(np.float16),
              "flags": rng.random(9) < 0.5, "text": np.array("héllo"), "words": np.array(["a", "bcd"]),
              "empty": np.zeros((2, 0, 0), dtype=np.uint8), "strided": np.arange(20.0)[::3]}
    chunks = pack_arrays(arrays)
    assert any(isinstance(c, memoryview) and c.obj is not None for c in chunks)
    back = unpack_arrays(b"".join(bytes(c) for c in chunks))
    assert back.keys() == arrays.keys()
    for name, value in arrays.items():
        assert back[name].dtype == value.dtype and back[name].shape == value.shape
        np.testing.assert_array_equal(back[name], value)
