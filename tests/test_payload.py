"""Viewer data files: the script wrapper, escaping, and arrays written as base64."""
import base64
import json

import numpy as np

from reportgen.render.payload import Base64, data_script, layer_object, qk_object

PREFIX = "(window.RG_DATA=window.RG_DATA||[]).push("


def parse(script: str) -> dict:
    assert script.startswith(PREFIX) and script.endswith(");\n")
    return json.loads(script[len(PREFIX):-3])


def test_arrays_round_trip_and_other_fields_stay_json():
    q = np.linspace(-3, 3, 2 * 5 * 4, dtype=np.float32).reshape(2, 5, 4)
    k = q[::-1].copy()
    obj = parse(data_script(qk_object("m/e", 3, q, k)))
    assert obj["kind"] == "qk" and obj["layer"] == 3 and (obj["heads"], obj["n"], obj["d"]) == (2, 5, 4)
    got_q = np.frombuffer(base64.b64decode(obj["q"]), dtype="<f2").reshape(2, 5, 4)
    got_k = np.frombuffer(base64.b64decode(obj["k"]), dtype="<f2").reshape(2, 5, 4)
    assert np.array_equal(got_q, q.astype(np.float16)) and np.array_equal(got_k, k.astype(np.float16))
    attention = np.arange(2 * 3 * 4 * 4, dtype=np.uint8).reshape(2, 3, 4, 4)
    layer = parse(data_script(layer_object("m/e", 1, attention, False)))
    assert np.array_equal(np.frombuffer(base64.b64decode(layer["data"]), dtype=np.uint8), attention[1].ravel())


def test_text_next_to_arrays_is_escaped():
    hostile = "</script><script>alert(1)</script>&\u2028"
    script = data_script({"key": hostile, "data": Base64(np.zeros(3, dtype=np.uint8)), hostile: 1})
    assert "</script>" not in script and "\u2028" not in script and "&" not in script.replace("\\u0026", "")
    obj = parse(script)
    assert obj["key"] == hostile and obj[hostile] == 1 and obj["data"] == "AAAA"


def test_object_with_only_an_array():
    assert parse(data_script({"data": Base64(np.array([1, 2], dtype=np.uint8))})) == {"data": "AQI="}


def test_small_examples_keep_all_layers_in_one_file():
    from reportgen.render.payload import PACK_BYTES, PACK_QK_BYTES, layer_file_names, qk_file_names

    layers, heads = 6, 12
    n = int((PACK_BYTES / (layers * heads)) ** 0.5)  # largest n whose full attention fits
    assert layer_file_names(np.zeros((layers, heads, n, n), np.uint8), False) == ["L.js"] * layers
    assert layer_file_names(np.zeros((layers, heads, n + 1, n + 1), np.uint8), False) == [f"L{k}.js" for k in range(layers)]
    # causal attention is stored as lower triangles: a longer example still fits
    assert layer_file_names(np.zeros((layers, heads, n + 1, n + 1), np.uint8), True) == ["L.js"] * layers
    d = 32
    fits = PACK_QK_BYTES // (2 * 2 * layers * heads * d)  # q and k, float16
    assert fits == 113
    assert set(qk_file_names(np.zeros((layers, heads, fits, d), np.float16)).values()) == {"Q.js"}
    assert qk_file_names(np.zeros((layers, heads, fits + 1, d), np.float16)) == {str(k): f"Q{k}.js" for k in range(layers)}
