"""View models for "pieces per word" (model pages and the compare page); numbers from ``analysis.pieces``."""
from __future__ import annotations

from reportgen.analysis.pieces import MANY_PIECES, by_language, example_pieces


def pieces_view(run, records: dict) -> list[dict]:
    """Per language of one model: examples, words, pieces, pieces per word and the most split word."""
    rows = []
    sample: dict[str, tuple[int, str, list[str]]] = {}
    for example in run.examples:
        record = records.get((run.spec.slug, example.slug))
        if record is None:
            continue
        counts = example_pieces(record.word, record.special)
        rows.append((example.language, counts))
        best = sample.get(example.language)
        if counts.longest >= 0 and (best is None or counts.longest_pieces > best[0]):
            words = example.words()
            text = words[counts.longest].text if counts.longest < len(words) else "?"
            pieces = [t for t, w in zip(record.tokens, record.word.tolist()) if w == counts.longest]
            sample[example.language] = (counts.longest_pieces, text, pieces)
    out = []
    for lang in by_language(rows):
        _, word, pieces = sample.get(lang.language, (0, "", []))
        out.append({"language": lang.language, "examples": lang.examples, "words": lang.words, "pieces": lang.pieces,
                    "per_word": f"{lang.per_word:.2f}" if lang.words else "–", "many": lang.many,
                    "word": word, "word_pieces": pieces})
    return out


def pieces_table(context) -> dict:
    """Every model x language: pieces per word, and the (model, language) pairs cut into many pieces."""
    models = []
    languages: list[str] = []
    for run in context.runs:
        if run.error is not None or not run.records:
            continue
        rows = pieces_view(run, context.records)
        for row in rows:
            if row["language"] not in languages:
                languages.append(row["language"])
        models.append({"name": run.spec.name, "slug": run.spec.slug, "by_language": {r["language"]: r for r in rows}})
    warnings = [{"model": m["name"], "language": lang, "per_word": r["per_word"], "word": r["word"],
                 "word_pieces": r["word_pieces"]}
                for m in models for lang, r in m["by_language"].items() if r["many"]]
    return {"models": models, "languages": languages, "warnings": warnings, "threshold": f"{MANY_PIECES:g}"}
