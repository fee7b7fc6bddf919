"""Word splitting and coreference reference resolution.

Definitions:
- A word is a maximal run of letters (Unicode category L*), digits (N*) and combining marks (M*),
  or a single other non-space character (punctuation, symbol, emoji, control character, ...).
- A reference is a word or a phrase of consecutive words, written exactly as in the text
  (case-sensitive; whitespace between words does not matter), optionally followed by `#k` (k >= 1)
  to pick the k-th occurrence in joint order (sentence `a` first, then `b`). A phrase never spans
  the two sentences.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    """One word: `text[start:end]` of sentence `a` (segment 0) or `b` (segment 1).

    A word is a maximal run of letters (Unicode L*), digits (N*) and combining marks (M*),
    or a single other non-space character.
    """

    text: str
    start: int
    end: int
    segment: int = 0


@dataclass(frozen=True)
class Span:
    """Joint word indices `[first, last)`; a span never crosses from `a` into `b`."""

    first: int
    last: int

    @property
    def words(self) -> int:
        """Number of words in the span."""
        return self.last - self.first

    def overlaps(self, other: "Span") -> bool:
        """True when the two spans share at least one word."""
        return self.first < other.last and other.first < self.last


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNM"


# In ASCII text the word characters are exactly the letters and digits, and ``\S`` is ``not str.isspace``.
_ASCII_WORDS = re.compile(r"[A-Za-z0-9]+|\S")
# In any text ``[^\W_]`` is exactly the letters and digits (L*, N*; tests/test_words.py checks every code
# point), and ``\S`` is ``not str.isspace``. Combining marks (M*) come out one by one and are joined to
# the word characters they touch.
_ANY_WORDS = re.compile(r"[^\W_]+|\S")


def split_words(text: str, segment: int = 0) -> list[Word]:
    """Split `text` into words; offsets are character offsets into `text`."""
    if text.isascii():
        return [Word(m.group(), m.start(), m.end(), segment) for m in _ASCII_WORDS.finditer(text)]
    return _split_any(text, segment)


def _split_any(text: str, segment: int) -> list[Word]:
    """``split_words`` for any text: runs of letters and digits from the regular expression, then every
    piece of word characters (letters, digits, marks) that touches the previous one joins it."""
    words: list[Word] = []
    joinable = False  # the last word is made of word characters
    for match in _ANY_WORDS.finditer(text):
        start, end = match.span()
        wordlike = end - start > 1 or _is_word_char(text[start])
        if wordlike and joinable and words[-1].end == start:
            last = words[-1]
            words[-1] = Word(text[last.start:end], last.start, end, segment)
        else:
            words.append(Word(match.group(), start, end, segment))
        joinable = wordlike
    return words


def _split_slow(text: str, segment: int) -> list[Word]:
    """The definition, character by character (the reference ``tests/test_words.py`` checks against)."""
    words: list[Word] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        j = i + 1
        if _is_word_char(ch):
            while j < n and _is_word_char(text[j]):
                j += 1
        words.append(Word(text[i:j], i, j, segment))
        i = j
    return words


def example_words(a: str, b: str | None) -> list[Word]:
    """Words of `a` (segment 0) followed by words of `b` (segment 1)."""
    return split_words(a, 0) + (split_words(b, 1) if b is not None else [])


def is_punct_text(s: str) -> bool:
    """True if `s` is non-empty and every character is Unicode punctuation (category P*)."""
    return bool(s) and all(unicodedata.category(c)[0] == "P" for c in s)


def span_text(words: list[Word], span: Span, a: str, b: str | None) -> str:
    """The text a span covers in its sentence, from its first word's start to its last word's end."""
    first, last = words[span.first], words[span.last - 1]
    source = a if first.segment == 0 else (b or "")
    return source[first.start:last.end]


class RefError(ValueError):
    """A reference that cannot be resolved; `problem` and `fix` form the message."""

    def __init__(self, problem: str, fix: str):
        super().__init__(f"{problem}; {fix}")
        self.problem = problem
        self.fix = fix


def show(s: str, limit: int = 60) -> str:
    """Quote text for a one-line message: control and line-break characters escaped, long text cut."""
    out = []
    for ch in s:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch == "'":
            out.append("\\'" if ch == "'" else ascii(ch)[1:-1])
        else:
            out.append(ch)
    text = "".join(out)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


_SUFFIX = re.compile(r"-?\d+")


def parse_reference(ref: str) -> tuple[str, int | None]:
    """Split a reference into (phrase, k). `k` is None without a `#k` suffix.

    The suffix is the text after the last `#` when both sides are non-empty; otherwise the `#` is part
    of the phrase (so `#`, `C#` and `##` are plain references). Raises RefError for `#0`, `#-1`, `#x`.
    """
    base, sep, suffix = ref.rpartition("#")
    if not sep or not suffix or not base.strip():
        return ref, None
    if not _SUFFIX.fullmatch(suffix.strip()):
        raise RefError(
            f"{show('#' + suffix)} is not an occurrence number",
            f"write {show(base.strip() + '#1')} for the first occurrence "
            f"(to match text that contains '#', add the number anyway, e.g. {show(ref + '#1')})",
        )
    k = int(suffix.strip())
    if k < 1:
        raise RefError(f"occurrence number #{k} is not allowed", f"occurrences count from 1: write {show(base.strip() + '#1')}")
    return base, k


def find_occurrences(words: list[Word], phrase: list[str], *, fold: bool = False) -> list[Span]:
    """All spans whose word texts equal `phrase`, in joint order; never crossing from a into b."""
    m = len(phrase)
    key = [p.casefold() for p in phrase] if fold else phrase
    found = []
    for i in range(len(words) - m + 1):
        window = words[i : i + m]
        if window[0].segment != window[-1].segment:
            continue
        texts = [w.text.casefold() for w in window] if fold else [w.text for w in window]
        if texts == key:
            found.append(Span(i, i + m))
    return found


def resolve_reference(ref: str, words: list[Word]) -> Span:
    """Resolve one reference to a span of `words` (joint numbering), or raise RefError."""
    base, k = parse_reference(ref)
    phrase = [w.text for w in split_words(base)]
    if not phrase:
        raise RefError("empty reference", "write a word or phrase from a or b")
    spans = find_occurrences(words, phrase)
    written = show(base.strip())
    if not spans:
        near = find_occurrences(words, phrase, fold=True)
        if near:
            hint = " ".join(w.text for w in words[near[0].first : near[0].last])
            fix = f"references are case-sensitive: did you mean {show(hint)}?"
        else:
            fix = "write a word or phrase exactly as it appears in a or b (case-sensitive)"
        raise RefError(f"{written} matches no word", fix)
    if k is None:
        if len(spans) > 1:
            options = ", ".join(show(f"{base.strip()}#{i}") for i in range(1, min(len(spans), 5) + 1))
            more = " ..." if len(spans) > 5 else ""
            raise RefError(
                f"{written} matches {len(spans)} times",
                f"pick one occurrence with #k: {options}{more} (up to #{len(spans)})",
            )
        return spans[0]
    if k > len(spans):
        raise RefError(
            f"{show(ref)} asks for occurrence {k} but {written} occurs {len(spans)} time{'s' if len(spans) > 1 else ''}",
            f"use #1..#{len(spans)}",
        )
    return spans[k - 1]


def default_candidates(words: list[Word], pronoun: Span, antecedent: Span) -> list[Span]:
    """The antecedent plus every other non-punctuation single word overlapping neither pronoun nor
    antecedent, sorted in joint word order."""
    out = [antecedent]
    for i, w in enumerate(words):
        s = Span(i, i + 1)
        if is_punct_text(w.text) or s.overlaps(pronoun) or s.overlaps(antecedent):
            continue
        out.append(s)
    return sorted(out, key=lambda s: (s.first, s.last))
