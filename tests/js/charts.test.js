// Smoothing and axis ticks of the training-run charts (runs.js).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const {runs} = require("./load.js");

/** TensorBoard's debiased EMA in closed form: sum_i (1-w) w^(t-i) x_i / (1 - w^(t+1)). */
function closedForm(values, w) {
  return values.map((_, t) => {
    let sum = 0;
    for (let i = 0; i <= t; i++) {
      sum += (1 - w) * Math.pow(w, t - i) * values[i];
    }
    return sum / (1 - Math.pow(w, t + 1));
  });
}

test("smooth is the debiased exponential moving average", () => {
  const values = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
  for (const w of [0.1, 0.6, 0.9, 0.99]) {
    const got = runs.smooth(values, w), want = closedForm(values, w);
    got.forEach((v, t) => assert.ok(Math.abs(v - want[t]) < 1e-12, `w=${w} t=${t}: ${v} != ${want[t]}`));
  }
});

test("smooth keeps the first value, constant series and weight 0 unchanged", () => {
  assert.deepEqual(runs.smooth([2, 8], 0), [2, 8]);
  assert.equal(runs.smooth([7, 1, 1], 0.9)[0], 7);
  runs.smooth([4, 4, 4, 4], 0.8).forEach((v) => assert.ok(Math.abs(v - 4) < 1e-12));
  assert.deepEqual(runs.smooth([], 0.5), []);
});

test("niceTicks steps by 1, 2 or 5 times a power of ten", () => {
  assert.deepEqual(runs.niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(runs.niceTicks(0, 1000, 4), [0, 500, 1000]); // 250 a step asked: 500 is the next round one
  assert.deepEqual(runs.niceTicks(0, 0.9, 3), [0, 0.5]);
  assert.deepEqual(runs.niceTicks(-1, 1, 4), [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(runs.niceTicks(3, 3, 5), [3]);
  // -0.6 + 3 x 0.2 is -5.6e-17 in floating point: the tick at the origin is written as 0
  const ticks = runs.niceTicks(-0.7, 0.7, 7);
  assert.equal(ticks.length, 7);
  assert.ok(Object.is(ticks[3], 0));
  ticks.forEach((v, k) => assert.ok(Math.abs(v - (k - 3) * 0.2) < 1e-12));
});

test("tickText: four significant digits, exponents for very large and very small values", () => {
  assert.equal(runs.tickText(0.5), "0.5");
  assert.equal(runs.tickText(1234.5678), "1235");
  assert.equal(runs.tickText(0), "0");
  assert.equal(runs.tickText(123456), "1.2e+5");
  assert.equal(runs.tickText(0.0001234), "1.2e-4");
});

/** A canvas context that records what is drawn. */
function recorder() {
  const calls = [];
  const ctx = {};
  for (const name of ["save", "restore", "setLineDash", "beginPath", "moveTo", "lineTo", "stroke", "fillText"]) {
    ctx[name] = (...args) => calls.push([name, ...args]);
  }
  return {ctx, calls};
}

test("markBestStep draws the dashed line and its label, on the side with room", () => {
  const box = {left: 10, top: 5, width: 100, height: 50};
  const X = (step) => box.left + step;  // step 0..100 across the box
  const middle = recorder();
  runs.markBestStep(middle.ctx, 40, X, box, 0, 100, "#123", "best step 40");
  assert.deepEqual(middle.calls.find((c) => c[0] === "moveTo"), ["moveTo", 50.5, 5]);
  assert.deepEqual(middle.calls.find((c) => c[0] === "lineTo"), ["lineTo", 50.5, 55]);
  assert.deepEqual(middle.calls.find((c) => c[0] === "fillText"), ["fillText", "best step 40", 54, 8]);
  assert.equal(middle.ctx.textAlign, "left");
  assert.equal(middle.ctx.strokeStyle, "#123");
  assert.equal(middle.ctx.fillStyle, "#123");
  const edge = recorder();
  runs.markBestStep(edge.ctx, 95, X, box, 0, 100, "#123", "best");
  assert.equal(edge.ctx.textAlign, "right");
  assert.deepEqual(edge.calls.find((c) => c[0] === "fillText"), ["fillText", "best", 101, 8]);
  const outside = recorder();
  runs.markBestStep(outside.ctx, 101, X, box, 0, 100, "#123", "best");
  assert.deepEqual(outside.calls, []);
});
