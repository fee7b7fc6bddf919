"""The viewer's scripts and which page loads which, in one place.

The viewer is split by concern into classic scripts under ``templates/assets/reportgen/`` (no ES
modules: pages opened from ``file://`` cannot load them). A page loads only the scripts it uses, in
the order listed here: each script registers its part on ``window.ReportGenViewer.parts`` and uses the
parts of the scripts before it. Templates, the browser-test harness and any other exporter of viewer
pages take the lists from here.
"""
from __future__ import annotations

import posixpath
from pathlib import Path

from reportgen.render.templates import assets_dir

ASSET_DIR = "assets/reportgen"  # inside docs_dir (site_src/), copied from templates/assets/reportgen/

# Shared by every page with scripts: the data queue, decoding and loading (core), DOM and colour helpers.
BASE_SCRIPTS: tuple[str, ...] = ("core.js", "dom.js")

# Example pages: the attention viewers. The views register in this order, which is their tabs' order.
VIEWER_SCRIPTS: tuple[str, ...] = BASE_SCRIPTS + (
    "links.js", "viewer.js", "state.js", "coref.js",
    "views/head.js", "views/model.js", "views/neuron.js", "views/matrix.js", "views/rollout.js",
    "views/predictions.js",
    "keyboard.js", "export.js", "boot.js",
)

# Pages with sortable or filterable tables (example lists, model pages, atlases, head pages): no viewer.
TABLE_SCRIPTS: tuple[str, ...] = ("tables.js",)

# Training-run pages: the run charts and the heads-across-checkpoints charts.
RUN_SCRIPTS: tuple[str, ...] = BASE_SCRIPTS + ("runs.js", "run-heads.js")

# Every page of the site, in <head> before Material's bundle: mkdocs.yml lists them in extra.polyfills
# after the iframe-worker shim (render.mkdocs_config). search.js orders Material's search results.
SITE_SCRIPTS: tuple[str, ...] = ("search.js",)


def script_srcs(scripts: tuple[str, ...], to_root: str) -> list[str]:
    """The ``src`` of each script for a page whose path back to the site root is ``to_root`` ("../")."""
    return [posixpath.join(to_root, ASSET_DIR, name) for name in scripts]


def script_files(scripts: tuple[str, ...]) -> list[Path]:
    """The shipped file of each script, in load order (for exporters that inline the scripts)."""
    return [assets_dir() / "reportgen" / name for name in scripts]
