// Keyboard moves of the viewer (keyboard.js).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const keyboard = require(path.join(__dirname, "..", "..", "templates", "assets", "reportgen", "keyboard.js"));

test("nextIndex moves one step, stops at the ends, jumps with Home/End", () => {
  assert.equal(keyboard.nextIndex("ArrowDown", 3, 10, true), 4);
  assert.equal(keyboard.nextIndex("ArrowUp", 0, 10, true), 0);
  assert.equal(keyboard.nextIndex("ArrowDown", 9, 10, true), 9);
  assert.equal(keyboard.nextIndex("ArrowRight", 2, 6, false), 3);
  assert.equal(keyboard.nextIndex("ArrowLeft", 2, 6, false), 1);
  assert.equal(keyboard.nextIndex("Home", 5, 6, false), 0);
  assert.equal(keyboard.nextIndex("End", 1, 6, true), 5);
});

test("nextIndex ignores other keys and the other axis", () => {
  assert.equal(keyboard.nextIndex("ArrowRight", 2, 6, true), null);
  assert.equal(keyboard.nextIndex("ArrowDown", 2, 6, false), null);
  assert.equal(keyboard.nextIndex("a", 2, 6, true), null);
  assert.equal(keyboard.nextIndex("ArrowDown", 0, 0, true), null);
});
