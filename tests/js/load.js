// Loads the viewer's pure helpers into node the way a page loads the scripts: one after another, each
// registering its part on globalThis.ReportGenViewer.parts (no DOM needed until a helper draws).
"use strict";

const path = require("node:path");

const ASSETS = path.join(__dirname, "..", "..", "templates", "assets", "reportgen");

module.exports = {
  core: require(path.join(ASSETS, "core.js")),
  dom: require(path.join(ASSETS, "dom.js")),
  links: require(path.join(ASSETS, "links.js")),
  state: require(path.join(ASSETS, "state.js")),
  runs: require(path.join(ASSETS, "runs.js")),
};
