// Sortable and filterable tables (tables.js): sort keys, their order, row filters.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const tables = require(path.join(__dirname, "..", "..", "templates", "assets", "reportgen", "tables.js"));

function sorted(texts) {
  return texts.map((t, i) => ({t, i, k: tables.sortKey(t)}))
    .sort((a, b) => tables.compareKeys(a.k, b.k) || a.i - b.i).map((x) => x.t);
}

test("numbers sort by value, before text; empty cells go last", () => {
  assert.deepEqual(sorted(["10", "9", "-1", "0.5", "", "wsc-2", "Anna", "12 of 72", "\u22122"]),
    ["\u22122", "-1", "0.5", "9", "10", "12 of 72", "Anna", "wsc-2", ""]);
});

test("sortKey reads a leading number and lower-cases text", () => {
  assert.deepEqual(tables.sortKey(" 0.512 "), {num: 0.512, text: "0.512"});
  assert.deepEqual(tables.sortKey("1e-3"), {num: 0.001, text: "1e-3"});
  assert.deepEqual(tables.sortKey("Katze"), {num: null, text: "katze"});
  assert.deepEqual(tables.sortKey(null), {num: null, text: ""});
});

test("rowMatches: every chosen filter must be among the row's values; '' keeps all", () => {
  const row = {language: "de", models: "minilm splade", annotation: "coref"};
  assert.equal(tables.rowMatches(row, {language: "de", models: "splade"}), true);
  assert.equal(tables.rowMatches(row, {language: "en"}), false);
  assert.equal(tables.rowMatches(row, {models: "spl"}), false);
  assert.equal(tables.rowMatches(row, {language: "", models: "", annotation: ""}), true);
  assert.equal(tables.rowMatches({}, {annotation: "coref"}), false);
});
