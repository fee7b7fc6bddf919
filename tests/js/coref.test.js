// Coreference marks (coref.js): which pair is shown and which role each token gets.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const coref = require(path.join(__dirname, "..", "..", "templates", "assets", "reportgen", "coref.js"));

const PAIRS = [
  {pronoun: [9], antecedent: [1, 2], candidates: [[1, 2], [5]], antecedent_index: 0},
  {pronoun: [14, 15], antecedent: [5], candidates: [[1, 2], [5], [11]], antecedent_index: 1},
];

test("pairFor picks the pair whose pronoun holds the pinned token, else the first", () => {
  assert.equal(coref.pairFor(PAIRS, 15), 1);
  assert.equal(coref.pairFor(PAIRS, 9), 0);
  assert.equal(coref.pairFor(PAIRS, 3), 0);
  assert.equal(coref.pairFor(PAIRS, -1), 0);
  assert.equal(coref.pairFor([], 3), -1);
  assert.equal(coref.pairFor(undefined, 3), -1);
});

test("roleOfTokens: pronoun, antecedent, the other candidates; nothing else", () => {
  assert.deepEqual(coref.roleOfTokens(PAIRS[1]),
    {1: "candidate", 2: "candidate", 5: "antecedent", 11: "candidate", 14: "pronoun", 15: "pronoun"});
  assert.deepEqual(coref.roleOfTokens(null), {});
});

test("unitRole: a merged word takes its strongest role", () => {
  const roles = {3: "candidate", 4: "antecedent", 7: "pronoun"};
  assert.equal(coref.unitRole(roles, [3, 4]), "antecedent");
  assert.equal(coref.unitRole(roles, [4, 7, 3]), "pronoun");
  assert.equal(coref.unitRole(roles, [3]), "candidate");
  assert.equal(coref.unitRole(roles, [0, 1]), "");
});

test("tokenMarks: marked tokens in order, only those inside the sequence", () => {
  const roles = {14: "pronoun", 5: "antecedent", 1: "candidate", 40: "candidate"};
  assert.deepEqual(coref.tokenMarks(roles, 20),
    [{token: 1, role: "candidate"}, {token: 5, role: "antecedent"}, {token: 14, role: "pronoun"}]);
  assert.deepEqual(coref.tokenMarks(roles, 10).map((m) => m.token), [1, 5]);
  assert.deepEqual(coref.tokenMarks({}, 10), []);
  assert.deepEqual(coref.tokenMarks(undefined, 10), []);
});
