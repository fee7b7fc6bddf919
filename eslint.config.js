// ESLint (flat config) for the viewer's classic browser scripts and their node unit tests.
// Run: npx eslint (after `npm ci`); .ci/test.sh runs it.
"use strict";

const js = require("@eslint/js");

const browser = {
  window: "readonly", document: "readonly", globalThis: "readonly", Promise: "readonly", URL: "readonly",
  Blob: "readonly", MutationObserver: "readonly",
  module: "readonly", // the pure helpers are also exported to node: `if (typeof module !== 'undefined') ...`
};

module.exports = [
  {ignores: ["node_modules/", "site/", "site_src/", "templates/assets/vendor/", "tests/artifacts/", "build/"]},
  js.configs.recommended,
  {
    files: ["templates/assets/reportgen/**/*.js"],
    languageOptions: {ecmaVersion: 2017, sourceType: "script", globals: browser},
    rules: {
      "strict": ["error", "function"],
      "no-unused-vars": ["error", {caughtErrors: "none"}],
      "eqeqeq": "error",
      "no-implicit-globals": "error",
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
    },
  },
  {
    files: ["tests/js/**/*.js", "eslint.config.js"],
    languageOptions: {
      ecmaVersion: 2022, sourceType: "commonjs",
      globals: {require: "readonly", module: "writable", __dirname: "readonly", globalThis: "readonly", Buffer: "readonly"},
    },
  },
];
