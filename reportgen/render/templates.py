"""Locate the shipped templates and build the Jinja environment.

Installed, the templates are package data at ``reportgen/templates``; in a source checkout they are
the top-level ``templates/`` folder.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

from reportgen.render.text import finalize

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _shipped(name: str) -> Path:
    for candidate in (PACKAGE_ROOT / name, PACKAGE_ROOT.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"reportgen is installed without its {name}/ folder")


def templates_dir() -> Path:
    return _shipped("templates")


def examples_dir() -> Path:
    return _shipped("examples")


def assets_dir() -> Path:
    return templates_dir() / "assets"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """Autoescaping environment: every value from a manifest or tokenizer is HTML-escaped."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "pages")),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, finalize=finalize,  # text -> html_text (control characters too)
    )
    return env
