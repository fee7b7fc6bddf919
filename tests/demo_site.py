"""The built-in demo site (examples/demo.yaml), built once per test session for the browser tests
(tests/browser/test_atlas.py and tests/browser/test_beyond.py).

Its model runs go to the session's shared demo cache (``<basetemp>/demo-cache``, also used by
tests/test_build_demo.py and tests/test_atlas_demo.py), so the models run once per session.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def build(base: Path) -> Path:
    """Build the demo into ``base / "demo-site"`` (once; later calls reuse it); return that folder."""
    work = base / "demo-site"
    if (work / "site" / "index.html").is_file():
        return work
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    result = subprocess.run([sys.executable, "-m", "reportgen", "build", "--cache", str(base / "demo-cache"), "--site",
                             "--out", str(work / "site_src"), "--config", str(work / "mkdocs.yml")],
                            cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return work
