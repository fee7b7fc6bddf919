"""View models for "pieces per word" (model pages and the compare page); numbers from the build's analysis
(``analysis.stage.ModelAnalysis.pieces``)."""
from __future__ import annotations

from reportgen.analysis.pieces import MANY_PIECES


def pieces_view(model) -> list[dict]:
    """Per language of one model: examples, words, pieces, pieces per word and the most split word."""
    out = []
    for item in model.pieces if model is not None else []:
        lang = item["totals"]
        out.append({"language": lang.language, "examples": lang.examples, "words": lang.words, "pieces": lang.pieces,
                    "per_word": f"{lang.per_word:.2f}" if lang.words else "–", "many": lang.many,
                    "word": item["word"], "word_pieces": item["pieces"]})
    return out


def pieces_table(context) -> dict:
    """Every model x language: pieces per word, and the (model, language) pairs cut into many pieces."""
    models = []
    languages: list[str] = []
    for run in context.runs:
        if run.error is not None or not run.records:
            continue
        rows = pieces_view(context.analysis.models.get(run.spec.slug))
        for row in rows:
            if row["language"] not in languages:
                languages.append(row["language"])
        models.append({"name": run.spec.name, "slug": run.spec.slug, "by_language": {r["language"]: r for r in rows}})
    warnings = [{"model": m["name"], "language": lang, "per_word": r["per_word"], "word": r["word"],
                 "word_pieces": r["word_pieces"]}
                for m in models for lang, r in m["by_language"].items() if r["many"]]
    return {"models": models, "languages": languages, "warnings": warnings, "threshold": f"{MANY_PIECES:g}"}
