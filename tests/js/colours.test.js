// Colour scales, number and token text (dom.js) and the weight levels links are drawn at (links.js).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const {dom, links} = require("./load.js");

test("mix is a linear scale between two colours, rounded", () => {
  assert.deepEqual(dom.mix([255, 255, 255], [0, 0, 0], 0), [255, 255, 255]);
  assert.deepEqual(dom.mix([255, 255, 255], [0, 0, 0], 1), [0, 0, 0]);
  assert.deepEqual(dom.mix([255, 255, 255], [0, 0, 0], 0.5), [128, 128, 128]); // 127.5 rounds up
  assert.deepEqual(dom.mix([0, 100, 200], [100, 100, 0], 0.25), [25, 100, 150]);
});

test("heatColour clips weights above 1", () => {
  const bg = [255, 255, 255], heat = [29, 78, 216];
  assert.deepEqual(dom.heatColour(bg, heat, 0), bg);
  assert.deepEqual(dom.heatColour(bg, heat, 1), heat);
  assert.deepEqual(dom.heatColour(bg, heat, 1.7), heat); // word rows can sum a little over 1
  assert.deepEqual(dom.heatColour(bg, heat, 0.5), [142, 167, 236]);
});

test("divergingColour: sign picks the colour, size picks the share", () => {
  const bg = [255, 255, 255], pos = [198, 40, 40], neg = [21, 101, 192];
  assert.deepEqual(dom.divergingColour(bg, pos, neg, 2, 2), pos);
  assert.deepEqual(dom.divergingColour(bg, pos, neg, -2, 2), neg);
  assert.deepEqual(dom.divergingColour(bg, pos, neg, -9, 2), neg); // clipped at -1
  assert.deepEqual(dom.divergingColour(bg, pos, neg, 0, 2), bg);
  assert.deepEqual(dom.divergingColour(bg, pos, neg, 1, 2), [227, 148, 148]);
});

test("headColour: 16 distinct palette colours, then hues 137.508 degrees apart", () => {
  const first = Array.from({length: 16}, (_, h) => dom.headColour(h));
  assert.equal(new Set(first).size, 16);
  first.forEach((c) => assert.match(c, /^#[0-9a-f]{6}$/));
  assert.equal(dom.headColour(16), "hsl(40, 62%, 50%)"); // 16 * 137.508 = 2200.128 = 6 * 360 + 40.128
  assert.equal(dom.headColour(17), "hsl(178, 62%, 50%)"); // 2337.636 - 2160 = 177.636
});

test("weightLevel puts weights on the uint8 grid round(255 w), within 1..255", () => {
  assert.equal(links.weightLevel(1), 255);
  assert.equal(links.weightLevel(0.5), 128);
  assert.equal(links.weightLevel(100 / 255), 100);
  assert.equal(links.weightLevel(links.MIN_WEIGHT), 1); // the smallest stored weight, 1/255 after rounding up
  assert.equal(links.weightLevel(0), 1);
  assert.equal(links.weightLevel(1.2), 255);
  assert.equal(links.MIN_WEIGHT, 0.5 / 255);
});

test("selectLinks keeps the strongest links within the pixel budget", () => {
  const candidates = [[0, 0, 1, 1.0], [1, 1, 2, 0.5], [2, 2, 0, 0.1], [3, 0, 2, 0.5]];
  const each = (visit) => candidates.forEach((c) => visit(c[0], c[1], c[2], c[3]));
  const all = links.selectLinks(each, () => 10, 1e9);
  assert.equal(all.drawn, 4);
  assert.equal(all.skipped, 0);
  // 10 px for the strongest; the two links at level 128 would bring it to 30 > 25: they and fainter ones go
  const some = links.selectLinks(each, () => 10, 25);
  assert.equal(some.drawn, 1);
  assert.equal(some.skipped, 3);
  assert.deepEqual(some.levels[255], [0, 0, 1]);
  assert.equal(some.minWeight, (129 - 0.5) / 255);
  // the strongest level is always drawn, even over budget
  assert.equal(links.selectLinks(each, () => 10, 1).drawn, 1);
});

test("number and token text", () => {
  assert.equal(dom.fixed(-0.0001, 3), "0.000");
  assert.equal(dom.fixed(-0.0006, 3), "-0.001");
  assert.equal(dom.smallNumber(0), "0");
  assert.equal(dom.smallNumber(0.00123456), "0.00123");
  assert.equal(dom.smallNumber(4.5e-7), "4.5e-7");
  assert.equal(dom.tokenText(""), "\u2205");
  assert.equal(dom.tokenText("a\nb\tc\u0001\u007f"), "a\u21b5b\u21e5c\ufffd\ufffd");
  assert.equal(dom.xmlEscape("<a href=\"x\">&'\u0002"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;\ufffd");
  assert.equal(dom.slugPart("all-MiniLM/L6 v2 (bf16)"), "all-MiniLM_L6_v2_bf16_");
  assert.equal(dom.clamp(5, 0, 3), 3);
});

test("topShareCut: the smallest of the strongest weights that reach the share", () => {
  // row 0.5, 0.3, 0.15, 0.05: 50% is reached by 0.5 alone, 80% by 0.5 + 0.3, 100% needs all four
  const row = () => [0.15, 0.5, 0.05, 0.3];
  assert.equal(links.topShareCut(row(), 1, 50), 0.5);
  assert.equal(links.topShareCut(row(), 1, 80), 0.3);
  assert.equal(links.topShareCut(row(), 1, 81), 0.15);
  assert.equal(links.topShareCut(row(), 1, 100), 0.05);
  assert.equal(links.topShareCut([], 0, 50), Infinity); // nothing to show
});
