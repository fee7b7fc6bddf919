"""``heads.csv``: the heads file as one row per head, for spreadsheets."""
from __future__ import annotations

from reportgen.analysis.patterns import PATTERNS


def heads_csv(heads_file: dict) -> str:
    """One row per head: layer, head, every pattern score, coreference accuracy, mass and family-wise adjusted
    p-value, labels."""
    layers, heads = heads_file["model"]["layers"], heads_file["model"]["heads"]
    coref = heads_file.get("coreference")
    columns = ["layer", "head", *PATTERNS, "coref_accuracy", "coref_mass", "coref_p_adjusted", "labels"]
    p_adjusted = {(r["layer"], r["head"]): r.get("p_adjusted") for r in (coref or {}).get("ranking", [])}
    by_head: dict[tuple[int, int], list[str]] = {}
    for item in heads_file["labels"]:
        by_head.setdefault((item["layer"], item["head"]), []).append(item["label"])
    lines = [",".join(columns)]
    for l in range(layers):
        for h in range(heads):
            values = [heads_file["patterns"][name][l][h] for name in PATTERNS]
            values += ([coref["accuracy"][l][h], coref["mass"][l][h], p_adjusted.get((l, h))] if coref
                       else [None, None, None])
            cells = [str(l), str(h)] + ["" if v is None else repr(float(v)) for v in values]
            cells.append(" ".join(by_head.get((l, h), [])))
            lines.append(",".join(cells))
    return "\n".join(lines) + "\n"
