"""Manifest and tokenizer text as HTML text: escaped, and safe through Markdown and the HTML parser.

``html_text`` is what every page template and every title (front matter, nav, ``site_name``) uses:
- ``& < > " '`` become entities, so no text is ever read as a tag, attribute or entity;
- control characters become numeric character references (``&#9;`` for a tab, ...): Python-Markdown
  expands tabs and deletes U+0002/U+0003 in its input, but leaves references alone, and the browser
  turns them back into the same characters;
- U+0000 cannot exist in an HTML document (the parser drops it or makes it U+FFFD), so it is shown as
  the symbol U+2400 (SYMBOL FOR NULL).
Jinja syntax needs nothing: values are data, never templates.
"""
from __future__ import annotations

import math
import re

from markupsafe import Markup, escape

NULL_SYMBOL = "\u2400"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _reference(match: re.Match) -> str:
    char = match.group()
    return NULL_SYMBOL if char == "\0" else f"&#{ord(char)};"


def html_text(value) -> Markup:
    """``value`` (text, or anything printable) as HTML text; Markup passes through unchanged."""
    if isinstance(value, Markup):
        return value
    return Markup(_CONTROL.sub(_reference, str(escape(str(value)))))


def shown_text(text: str) -> str:
    """The text a browser shows for ``html_text(text)`` (what tests compare with): NUL becomes U+2400."""
    return text.replace("\0", NULL_SYMBOL)


def finalize(value):
    """Jinja ``finalize``: text printed by a template goes through ``html_text``; other values as they are."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return html_text(value)
    return value


def fmt(value, digits: int = 3, signed: bool = False) -> str:
    """A number as pages print it: ``digits`` decimals (with a sign when ``signed``), "–" for None, NaN
    or infinity, and no "-0.000" for a value that rounds to zero."""
    if value is None or not math.isfinite(float(value)):
        return "–"
    value = float(value)
    if abs(value) < 0.5 * 10 ** -digits:
        value = 0.0
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def fmt_rho(value) -> str:
    """A correlation coefficient: signed, 2 decimals; "–" when there is none."""
    return "–" if value is None or not math.isfinite(value) else f"{value:+.2f}"
