"""The browser tests find Chromium on PATH, and fail instead of skipping when it is missing under CI."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from browser.conftest import find_chromium, missing

ROOT = Path(__file__).resolve().parents[1]


def test_chromium_is_looked_up_on_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_chromium() is None
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n", encoding="utf-8")
    fake.chmod(0o755)
    assert find_chromium() == str(fake)


def test_missing_chromium_skips_locally_and_fails_under_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        missing("no Chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        missing("no Chromium")


def test_browser_test_without_chromium_fails_the_run_under_ci(tmp_path):
    """End to end: a browser test run with no Chromium on PATH and CI set exits non-zero, nothing skipped."""
    env = {**os.environ, "PATH": str(tmp_path), "CI": "true", "PYTHONPATH": str(ROOT)}
    test = "tests/browser/test_viewers_harness.py::test_example_without_data"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0, done.stdout
    assert "CI is set, so the browser tests must run" in done.stdout
    assert "skipped" not in done.stdout.splitlines()[-1]
