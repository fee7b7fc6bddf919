// URL hash parsing and formatting (state.js).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const {state} = require("./load.js");

test("parseHash decodes names and values, '+' as a space, and skips malformed escapes", () => {
  assert.deepEqual(state.parseHash("#model=all%2Fminilm&view=head&layer=2&x=a+b&bad=%E0%A4%A&flag"),
    {model: "all/minilm", view: "head", layer: "2", x: "a b", flag: ""});
  assert.deepEqual(state.parseHash(""), {});
  assert.deepEqual(state.parseHash(undefined), {});
  assert.deepEqual(state.parseHash("#&&view=model&"), {view: "model"});
});

test("formatHash writes the fields in a fixed order and only what is set", () => {
  assert.equal(state.formatHash({model: "m/x y", example: "e", view: "neuron", layer: 3, head: 5, token: 7, dir: "to"}),
    "#model=m%2Fx%20y&example=e&view=neuron&layer=3&head=5&token=7&dir=to");
  assert.equal(state.formatHash({model: "m", example: "e", view: "head", layer: 0, head: null, token: -1, dir: "from"}),
    "#model=m&example=e&view=head&layer=0");
  assert.equal(state.formatHash({model: "m", example: "e", view: "head", layer: 1, head: 0, token: 4, dir: "from"}),
    "#model=m&example=e&view=head&layer=1&head=0&token=4");
});

test("parseHash reads back what formatHash wrote", () => {
  const names = ["bert-base", "türkçe & co", "a=b", "50%", "\u0645\u0631\u062d\u0628\u0627"];
  for (const model of names) {
    const text = state.formatHash({model, example: model + "!", view: "matrix", layer: 11, head: 2, token: 9, dir: "to"});
    assert.deepEqual(state.parseHash(text),
      {model, example: model + "!", view: "matrix", layer: "11", head: "2", token: "9", dir: "to"});
  }
});

test("intOr accepts integers spelled in full, else the fallback", () => {
  assert.equal(state.intOr("7", null), 7);
  assert.equal(state.intOr(" -3 ", null), -3);
  assert.equal(state.intOr(4, null), 4);
  for (const bad of ["", "1.5", "2x", "x", undefined, null]) {
    assert.equal(state.intOr(bad, "fallback"), "fallback", String(bad));
  }
});
