"""The example run's labelled task: English subject-verb agreement, acceptable (1) or not (0), CoLA style.

    python examples/runs/agreement_data.py     # rewrites agreement/train.tsv and agreement/dev.tsv

Each sentence is "the NOUN [PREPOSITION the ATTRACTOR] VERB [ADVERB] ." with a singular or plural subject;
the label says whether the verb agrees with the subject (not with the attractor, the noun in between,
which has the other number half of the time: the classic agreement-attraction test). To tell the two
apart a model has to relate the verb to the first noun: a job for attention. Deterministic (seed 0);
the TSV files (``sentence<TAB>label``) are what the training script reads.
"""
from __future__ import annotations

import random
from pathlib import Path

NOUNS = [("cat", "cats"), ("dog", "dogs"), ("teacher", "teachers"), ("child", "children"), ("bird", "birds"),
         ("friend", "friends"), ("neighbour", "neighbours"), ("student", "students"), ("farmer", "farmers"),
         ("doctor", "doctors"), ("girl", "girls"), ("boy", "boys")]
ATTRACTORS = [("tree", "trees"), ("house", "houses"), ("key", "keys"), ("car", "cars"), ("garden", "gardens"),
              ("window", "windows")]
PREPOSITIONS = ["near", "behind", "with", "beside"]
VERBS = [("sleeps", "sleep"), ("runs", "run"), ("sings", "sing"), ("waits", "wait"), ("smiles", "smile"),
         ("laughs", "laugh"), ("works", "work"), ("eats", "eat")]
ADVERBS = ["", " today", " again", " quietly", " often"]
FOLDER = Path(__file__).resolve().parent / "agreement"


def sentences(count: int, seed: int) -> list[tuple[str, int]]:
    """``count`` distinct (sentence, label) pairs, half acceptable, drawn with ``random.Random(seed)``."""
    rng = random.Random(seed)
    out: dict[str, int] = {}
    while len(out) < count:
        plural = rng.random() < 0.5
        noun = rng.choice(NOUNS)[plural]
        middle = ""
        if rng.random() < 0.7:
            middle = f" {rng.choice(PREPOSITIONS)} the {rng.choice(ATTRACTORS)[rng.random() < 0.5]}"
        label = int(rng.random() < 0.5)
        plural_verb = plural if label else not plural
        verb = rng.choice(VERBS)[int(plural_verb)]
        out.setdefault(f"The {noun}{middle} {verb}{rng.choice(ADVERBS)}.", label)
    return list(out.items())


def write(folder: Path = FOLDER, train: int = 3000, dev: int = 300, seed: int = 0) -> None:
    pairs = sentences(train + dev, seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train.tsv", pairs[:train]), ("dev.tsv", pairs[train:])):
        (folder / name).write_text("sentence\tlabel\n" + "".join(f"{s}\t{y}\n" for s, y in rows), encoding="utf-8")


def read(path: Path) -> list[tuple[str, int]]:
    """(sentence, label) rows of a TSV written by ``write``."""
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [(s, int(y)) for s, y in (line.split("\t") for line in lines if line.strip())]


if __name__ == "__main__":
    write()
    print(FOLDER)
