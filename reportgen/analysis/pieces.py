"""Pieces per word: how finely a model's tokenizer cuts the words of each language.

A word is a word of reportgen's own splitting (``manifest.words``: a run of letters, digits and combining
marks, or one other non-space character such as a punctuation mark), so the count does not depend on the
tokenizer. Pieces per word = non-special tokens / words, over the tokens a model actually ran (truncated
text counts up to the cut). Rust et al. (ACL 2021, "How Good is Your Tokenizer?") call this fertility and
find that multilingual models with a higher fertility on a language tend to do worse on it; the number
below which we call a language's split fine is ours, not theirs.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

#: our choice: above two pieces per word on average, most content words are cut into fragments and a head's
#: attention "to a word" is spread over pieces that mean nothing alone. On the demo's examples
#: all-MiniLM-L6-v2 gives 1.0 on English, 1.7 on German, 2.5 on Turkish; multilingual-e5-small 1.1, 1.3, 1.5.
MANY_PIECES = 2.0


@dataclass(frozen=True)
class WordPieces:
    """One example on one model: ``pieces`` non-special tokens covering ``words`` words; ``longest`` is the
    joint word index cut into the most pieces and ``longest_pieces`` that count."""

    pieces: int
    words: int
    longest: int
    longest_pieces: int


def example_pieces(word: np.ndarray, special: np.ndarray) -> WordPieces:
    """Count the pieces and words of one record (``word``: word index per token, -1 for special tokens)."""
    word = np.asarray(word)
    keep = (~np.asarray(special, dtype=bool)) & (word >= 0)
    ids = word[keep]
    if ids.size == 0:
        return WordPieces(0, 0, -1, 0)
    values, counts = np.unique(ids, return_counts=True)
    top = int(np.argmax(counts))  # first (lowest word index) among the most split
    return WordPieces(int(ids.size), int(values.size), int(values[top]), int(counts[top]))


@dataclass(frozen=True)
class LanguagePieces:
    language: str
    examples: int
    words: int
    pieces: int

    @property
    def per_word(self) -> float:
        """Pieces per word (NaN when there are no words)."""
        return self.pieces / self.words if self.words else float("nan")

    @property
    def many(self) -> bool:
        return self.words > 0 and self.per_word > MANY_PIECES


def by_language(rows: Iterable[tuple[str, WordPieces]]) -> list[LanguagePieces]:
    """Sum (language, example counts) rows per language; languages in order of first appearance."""
    totals: dict[str, list[int]] = {}
    for language, counts in rows:
        t = totals.setdefault(language, [0, 0, 0])
        t[0] += 1
        t[1] += counts.words
        t[2] += counts.pieces
    return [LanguagePieces(lang, e, w, p) for lang, (e, w, p) in totals.items()]
