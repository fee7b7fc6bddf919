// float16 decoding, base64 and the unpacking of causal models' lower triangles (core.js).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const {core} = require("./load.js");

/** Independent float16 decoder: rebuild the float32 bit pattern and let the platform read it. */
function viaFloat32(bits) {
  const sign = (bits >> 15) & 1, exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff;
  const view = new DataView(new ArrayBuffer(4));
  if (exponent === 0x1f) {
    view.setUint32(0, ((sign << 31) | (0xff << 23) | (fraction << 13)) >>> 0);
    return view.getFloat32(0);
  }
  if (exponent === 0) { // subnormal: fraction * 2^-24 is exact in float64
    return (sign ? -1 : 1) * fraction / 16777216;
  }
  view.setUint32(0, ((sign << 31) | ((exponent - 15 + 127) << 23) | (fraction << 13)) >>> 0);
  return view.getFloat32(0);
}

test("float16 decodes known bit patterns", () => {
  assert.equal(core.float16(0x3c00), 1);
  assert.equal(core.float16(0xc000), -2);
  assert.equal(core.float16(0x7bff), 65504); // largest finite half
  assert.equal(core.float16(0x0400), Math.pow(2, -14)); // smallest normal
  assert.equal(core.float16(0x0001), Math.pow(2, -24)); // smallest subnormal
  assert.equal(core.float16(0x3555), 0.333251953125);
  assert.equal(core.float16(0x7c00), Infinity);
  assert.equal(core.float16(0xfc00), -Infinity);
  assert.ok(Number.isNaN(core.float16(0x7e00)));
  assert.ok(Object.is(core.float16(0x8000), -0));
});

test("float16 agrees with a float32-based decoder on all 65,536 bit patterns", () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    const want = viaFloat32(bits), got = core.float16(bits);
    if (Number.isNaN(want)) {
      assert.ok(Number.isNaN(got), `0x${bits.toString(16)}`);
    } else {
      assert.ok(Object.is(got, want), `0x${bits.toString(16)}: ${got} != ${want}`);
    }
  }
});

test("float16Array reads little-endian pairs of bytes", () => {
  const bytes = Uint8Array.from([0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00]);
  assert.deepEqual(Array.from(core.float16Array(bytes)), [1, -2, Math.pow(2, -24)]);
});

test("base64Bytes matches node's decoder", () => {
  const data = Uint8Array.from({length: 300}, (_, i) => (i * 37 + 11) % 256);
  const text = Buffer.from(data).toString("base64");
  assert.deepEqual(Array.from(core.base64Bytes(text)), Array.from(data));
});

test("unpackLower rebuilds [H, n, n] from packed lower triangles", () => {
  const heads = 2, n = 4, full = new Uint8Array(heads * n * n), packed = [];
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        const value = 1 + h * 100 + i * 10 + j;
        full[(h * n + i) * n + j] = value;
        packed.push(value);
      }
    }
  }
  assert.deepEqual(Array.from(core.unpackLower(Uint8Array.from(packed), heads, n)), Array.from(full));
});

test("decodeLayer checks the byte count and unpacks causal layers", () => {
  const meta = {key: "m/e", n: 3, heads: 1, causal: true};
  const packed = Uint8Array.from([255, 128, 127, 85, 85, 85]);
  const item = {layer: 0, data: Buffer.from(packed).toString("base64")};
  assert.deepEqual(Array.from(core.decodeLayer(meta, item)), [255, 0, 0, 128, 127, 0, 85, 85, 85]);
  const full = {layer: 0, data: Buffer.from(new Uint8Array(9)).toString("base64")};
  assert.throws(() => core.decodeLayer(meta, full), /holds 9 bytes; expected 6/);
  assert.equal(core.isLower({causal: true, quant: {packing: "full"}}), false);
  assert.equal(core.isLower({causal: false, quant: {packing: "lower"}}), true);
});
