"""Word splitting and reference resolution."""
import pytest

from reportgen.manifest import Span, Word, is_punct_text, split_words
from reportgen.manifest.words import (
    RefError,
    default_candidates,
    example_words,
    parse_reference,
    resolve_reference,
    span_text,
)


def texts(s: str) -> list[str]:
    return [w.text for w in split_words(s)]


def test_english_offsets():
    words = split_words("The cat is sad.")
    assert [w.text for w in words] == ["The", "cat", "is", "sad", "."]
    assert words[1] == Word("cat", 4, 7, 0)
    assert all("The cat is sad."[w.start : w.end] == w.text for w in words)


def test_segment_is_recorded():
    assert {w.segment for w in split_words("a b", segment=1)} == {1}


def test_turkish():
    assert texts("Kedi çok üzgün.") == ["Kedi", "çok", "üzgün", "."]
    assert texts("Iğdır'da ılık İstanbul") == ["Iğdır", "'", "da", "ılık", "İstanbul"]


def test_german():
    assert texts("Weil sie zu viel gegessen hat") == ["Weil", "sie", "zu", "viel", "gegessen", "hat"]
    assert texts("Straße, größer!") == ["Straße", ",", "größer", "!"]


def test_combining_marks_stay_in_the_word():
    decomposed = "cafe\u0301 noir"  # e + COMBINING ACUTE ACCENT
    assert texts(decomposed) == ["cafe\u0301", "noir"]
    assert texts("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]  # Devanagari vowel signs are M*


def test_apostrophes_split():
    assert texts("doesn't") == ["doesn", "'", "t"]
    assert texts("it\u2019s") == ["it", "\u2019", "s"]


def test_emoji_and_symbols_are_single_words():
    assert texts("I ❤ cats 😀😀!") == ["I", "❤", "cats", "😀", "😀", "!"]
    assert texts("$5 + 3%") == ["$", "5", "+", "3", "%"]


def test_digits_and_letters_run_together():
    assert texts("COVID19 ٣٤ x2") == ["COVID19", "٣٤", "x2"]


def test_whitespace_kinds_and_hostile_text():
    assert texts("a\u00a0b\tc\n d\u3000e") == ["a", "b", "c", "d", "e"]
    assert texts("</script><b>") == ["<", "/", "script", ">", "<", "b", ">"]
    assert texts("x\x00y") == ["x", "\x00", "y"]
    assert texts("") == [] and texts("   ") == []


def test_rtl():
    assert texts("القط حزين.") == ["القط", "حزين", "."]


def test_is_punct_text():
    assert is_punct_text(".") and is_punct_text("«»") and is_punct_text("'") and is_punct_text("¿")
    assert not is_punct_text("") and not is_punct_text("a.") and not is_punct_text("$")
    assert not is_punct_text("😀") and not is_punct_text("+")


def test_span_words():
    assert Span(2, 5).words == 3
    assert Span(0, 2).overlaps(Span(1, 3)) and not Span(0, 2).overlaps(Span(2, 3))


# ---- references

WORDS = example_words("The cat saw the cat.", "Then it ran to the cat.")
# joint:               0   1   2   3   4  5      6    7  8   9  10  11 12


def test_example_words_joint_numbering():
    assert [w.segment for w in WORDS] == [0] * 6 + [1] * 7
    assert WORDS[6] == Word("Then", 0, 4, 1)


def test_parse_reference():
    assert parse_reference("the cat#2") == ("the cat", 2)
    assert parse_reference("cat") == ("cat", None)
    assert parse_reference("#") == ("#", None)
    assert parse_reference("C#") == ("C#", None)
    for bad in ("cat#0", "cat#-1", "cat#x"):
        with pytest.raises(RefError):
            parse_reference(bad)


def test_single_word_and_occurrences():
    assert resolve_reference("saw", WORDS) == Span(2, 3)
    assert resolve_reference("cat#1", WORDS) == Span(1, 2)
    assert resolve_reference("cat#2", WORDS) == Span(4, 5)
    assert resolve_reference("cat#3", WORDS) == Span(11, 12)  # k counts over a then b


def test_phrase():
    assert resolve_reference("The cat", WORDS) == Span(0, 2)
    assert resolve_reference("the cat#2", WORDS) == Span(10, 12)
    assert resolve_reference("cat .#2", WORDS) == Span(11, 13)
    assert span_text(WORDS, Span(10, 13), "The cat saw the cat.", "Then it ran to the cat.") == "the cat."


def test_phrase_never_spans_a_and_b():
    with pytest.raises(RefError, match="matches no word"):
        resolve_reference("cat . Then", WORDS)
    assert resolve_reference(". Then#1", example_words("a.", "b. Then")) == Span(3, 5)


def test_reference_errors():
    with pytest.raises(RefError, match="matches no word"):
        resolve_reference("dog", WORDS)
    with pytest.raises(RefError, match="did you mean 'The'"):
        resolve_reference("THE", WORDS)
    with pytest.raises(RefError, match="matches 3 times") as exc:
        resolve_reference("cat", WORDS)
    assert "'cat#1'" in exc.value.fix and "#3" in exc.value.fix
    with pytest.raises(RefError, match="occurrence 4"):
        resolve_reference("cat#4", WORDS)


def test_default_candidates_skip_punctuation_pronoun_and_antecedent():
    words = example_words("The cat is sad.", "Because it could not eat.")
    pron = resolve_reference("it", words)
    ante = resolve_reference("The cat", words)
    cands = default_candidates(words, pron, ante)
    got = [" ".join(w.text for w in words[s.first : s.last]) for s in cands]
    assert got == ["The cat", "is", "sad", "Because", "could", "not", "eat"]
    # symbols and emoji are not punctuation, so they stay candidates
    words = example_words("A $ cat 😀 .", None)
    cands = default_candidates(words, Span(0, 1), Span(2, 3))
    assert [words[s.first].text for s in cands] == ["$", "cat", "😀"]


def test_default_candidates_keep_joint_order_with_later_antecedent():
    words = example_words("It saw the dog", None)
    cands = default_candidates(words, Span(0, 1), Span(3, 4))
    assert cands == [Span(1, 2), Span(2, 3), Span(3, 4)]


def test_ascii_fast_path_splits_like_the_general_rule():
    """ASCII text goes through a regular expression; it must give the words of the per-character rule."""
    import random

    from reportgen.manifest.words import _split_slow

    rng = random.Random(7)
    alphabet = [chr(c) for c in range(128)]
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert split_words(text, 1) == _split_slow(text, 1), repr(text)
    assert [w.text for w in split_words("a_b\x1cc3")] == ["a", "_", "b", "c3"]  # \x1c is whitespace


def test_any_text_splits_like_the_general_rule():
    """Non-ASCII text goes through a regular expression and joins combining marks; it must give the words
    of the per-character rule: on random text mixing letters, digits, marks, spaces and punctuation of
    many scripts, and on every code point's category (the expression's premise)."""
    import random
    import re
    import sys
    import unicodedata

    from reportgen.manifest.words import _split_any, _split_slow

    everything = [chr(c) for c in range(sys.maxunicode + 1)]
    letters_digits = re.compile(r"[^\W_]")
    assert [c for c in everything if bool(letters_digits.match(c)) != (unicodedata.category(c)[0] in "LN")] == []
    assert [c for c in everything if bool(re.match(r"\S", c)) == c.isspace()] == []
    by_kind: dict[str, list[str]] = {}
    for c in everything[:0x3000] + everything[0x1F300:0x1F700]:
        by_kind.setdefault(unicodedata.category(c)[0], []).append(c)
    pools = [by_kind["L"], by_kind["N"], by_kind["M"], by_kind["P"], by_kind["S"], by_kind["Z"] + [" ", "\t", "\n"],
             list("çğıöşüÇĞİÖŞÜäßé"), ["_"]]
    rng = random.Random(11)
    for _ in range(3000):
        text = "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, 30)))
        assert _split_any(text, 1) == _split_slow(text, 1), repr(text)
    text = "\u0301e\u0301t\u00e9 caf\u0065\u0301! x_\u0301y"  # marks leading, inside and after words, after "_"
    assert [w.text for w in _split_any(text, 0)] == ["\u0301e\u0301t\u00e9", "caf\u0065\u0301", "!", "x", "_", "\u0301y"]
