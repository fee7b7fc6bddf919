"""The "Changes" page of ``reportgen build --compare``: ``changes.md`` plus ``data/changes.json``."""
from __future__ import annotations

import json
from pathlib import Path

from reportgen.analysis.changes import COREF
from reportgen.render.fs import write_text
from reportgen.render.pages import PATTERN_TITLES, fmt, front_matter
from reportgen.render.templates import environment

ROWS_PER_MODEL = 100  # the page lists the largest moves; data/changes.json has them all
SCORE_TITLES = dict(PATTERN_TITLES, **{COREF: "Coreference accuracy"})


def write_changes(root: Path, report: dict) -> dict:
    """Write ``changes.md`` and ``data/changes.json`` under ``root`` for the change report (``analysis.changes``,
    with ``previous_found``); return the report."""
    write_text(Path(root) / "data" / "changes.json",
               json.dumps(report, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    text = environment().get_template("changes.html.j2").render(
        report=report, rows=ROWS_PER_MODEL, titles=SCORE_TITLES, fmt=fmt)
    write_text(Path(root) / "changes.md", front_matter("Changes since the previous run") + text)
    return report
