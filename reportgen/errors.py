"""Error types and their exit codes.

`UserError` (exit 2): the input is wrong; the message says where and how to fix it, no traceback.
`RunError` (exit 1): a model or run failed although the input was valid.
"""
from __future__ import annotations

import unicodedata


def one_line(text: str) -> str:
    """``text`` with control characters, line and paragraph separators and lone surrogates written as
    Python escapes (``\\n``, ``\\u2028``, ...): a message stays one line whatever text it quotes."""
    return "".join(ascii(c)[1:-1] if unicodedata.category(c) in ("Cc", "Zl", "Zp", "Cs") else c for c in text)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class ReportgenError(Exception):
    exit_code = 1


class UserError(ReportgenError):
    """Bad input. `lines` are one-line messages, each naming file, place and fix."""

    exit_code = 2

    def __init__(self, lines: list[str] | str):
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


class RunError(ReportgenError):
    """A model could not be loaded or a run produced unusable attention."""

    exit_code = 1
