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

test("pageSpan: the rows of one page, the page clamped, at least one page", () => {
  assert.deepEqual(tables.pageSpan(250, 0, 100), {page: 0, pages: 3, start: 0, end: 100});
  assert.deepEqual(tables.pageSpan(250, 2, 100), {page: 2, pages: 3, start: 200, end: 250});
  assert.deepEqual(tables.pageSpan(250, 7, 100), {page: 2, pages: 3, start: 200, end: 250});
  assert.deepEqual(tables.pageSpan(250, -1, 100), {page: 0, pages: 3, start: 0, end: 100});
  assert.deepEqual(tables.pageSpan(0, 0, 100), {page: 0, pages: 1, start: 0, end: 0});
  assert.deepEqual(tables.pageSpan(100, 1, 100), {page: 0, pages: 1, start: 0, end: 100});
});
