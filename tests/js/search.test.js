// Search order (search.js): which query terms are hyphenated, which titles hold them, the new order.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const search = require(path.join(__dirname, "..", "..", "templates", "assets", "reportgen", "search.js"));

const page = (title, location) => [{location: location || title, title}];

test("hyphenTerms: whole hyphenated terms only, lower-case, without query syntax", () => {
  assert.deepEqual(search.hyphenTerms("3-1"), ["3-1"]);
  assert.deepEqual(search.hyphenTerms(" head  WSC-016 "), ["wsc-016"]);
  assert.deepEqual(search.hyphenTerms("+3-1* \"all-MiniLM-L6-v2\" 2-0^2"), ["3-1", "all-minilm-l6-v2", "2-0"]);
  for (const partial of ["3-", "wsc-", "-1", "3--1", "3", "coreference", "", null, undefined]) {
    assert.deepEqual(search.hyphenTerms(partial), [], String(partial));
  }
});

test("titleHolds: the term as a whole word, not inside a longer one; markup ignored", () => {
  assert.equal(search.titleHolds("Head 3-1 of all-MiniLM-L6-v2", "3-1"), true);
  assert.equal(search.titleHolds("Head <mark>3</mark>-<mark>1</mark> of x", "3-1"), true);
  assert.equal(search.titleHolds("3-1", "3-1"), true);
  for (const other of ["Head 3-10 of x", "Head 13-1 of x", "Head 3-1-2", "Head 1-3 of x", "step-3-1", ""]) {
    assert.equal(search.titleHolds(other, "3-1"), false, other);
  }
  assert.equal(search.titleHolds("Head 0-0 of all-MiniLM-L6-v2 (bfloat16)", "all-minilm-l6-v2"), true);
});

test("promote: groups whose title holds a term first, lunr's order kept on both sides", () => {
  const groups = [page("Head 3-10 of a"), page("Head 3-1 of b"), page("Head 1-3 of a"), page("Head 3-1 of a"),
    [{location: "c.html", title: "c"}, {location: "c.html#x", title: "Head 3-1 table"}]];
  assert.deepEqual(search.promote(groups, "3-1").map((g) => g[0].title),
    ["Head 3-1 of b", "Head 3-1 of a", "c", "Head 3-10 of a", "Head 1-3 of a"]);
  assert.equal(search.promote(groups, "3-"), groups); // nothing to promote: the same list
  assert.equal(search.promote(groups, "7-7"), groups);
  assert.equal(search.promote(groups, ""), groups);
  assert.deepEqual(search.promote([], "3-1"), []);
});
