"""Hostile and unusual text on a real built site.

``tests/data/hostile.yaml`` puts HTML, ``</script>``, ``<img onerror>``, quotes, backticks, Markdown,
Jinja, a null byte, a tab, a 500-letter word, Arabic, Hebrew, combining marks, emoji, Turkish ı/İ and
German ß into the title, the model name, example ids, sentences and coreference words. The tiny BERT
gets some of those strings as whole added tokens, so they reach the viewers as tokens too. The site
is built with MkDocs (Material) and opened from file://: any dialog, console error, non-file request
or injected element fails the test, and every text must show exactly as written (a null byte shows as
U+2400, see ``reportgen.render.text``).
"""
from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from reportgen.cli import main
from reportgen.manifest import load_manifest
from reportgen.render.text import shown_text

DATA = Path(__file__).resolve().parents[1] / "data" / "hostile.yaml"
ADDED_TOKENS = ["</script><script>alert(1)</script>", "<img src=x onerror=alert(1)>", "{{ 7*7 }}",
                "\u0627\u0644\u0642\u0637\u0629", "\u05d4\u05d7\u05ea\u05d5\u05dc"]  # القطة, החתול
RTL_TOKENS = ADDED_TOKENS[3:]


def hostile_tiny_bert(source: Path, folder: Path) -> None:
    """The tiny BERT with the hostile strings as added tokens (embeddings resized)."""
    from transformers import AutoModel, AutoTokenizer

    shutil.copytree(source, folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.add_tokens(ADDED_TOKENS)
    model = AutoModel.from_pretrained(folder, attn_implementation="eager")
    model.resize_token_embeddings(len(tokenizer))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


@pytest.fixture(scope="module")
def site(tiny_models, tmp_path_factory):
    """(site folder, validated manifest) of the hostile manifest built with --site."""
    work = tmp_path_factory.mktemp("hostile")
    hostile_tiny_bert(tiny_models["bert"], work / "tiny-bert")
    manifest_path = work / "hostile.yaml"
    shutil.copy(DATA, manifest_path)
    assert main(["build", str(manifest_path), "--cache", str(work / "cache"), "--quiet", "--site",
                 "--out", str(work / "site_src"), "--config", str(work / "mkdocs.yml")]) == 0
    return work / "site", load_manifest(manifest_path)


def read_data(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    prefix = "(window.RG_DATA=window.RG_DATA||[]).push("
    assert text.startswith(prefix) and text.endswith(");\n")
    return json.loads(text[len(prefix):-3])


INJECTED = """() => ({
  // the iframe-worker shim runs the search worker in one empty hidden iframe; nothing else may embed
  embedded: [...document.querySelectorAll('img, iframe, object, embed, frame')]
    .filter(e => !(e.tagName === 'IFRAME' && e.hidden && !e.getAttribute('src') && !e.getAttribute('srcdoc'))).length,
  alertScripts: [...document.scripts].filter(s => /alert|7\\*7/.test(s.textContent)).length,
  handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => /^on/i.test(a.name))).length,
  jsLinks: [...document.querySelectorAll('a[href]')].filter(a => /^\\s*javascript:/i.test(a.getAttribute('href'))).length,
  articleH1: document.querySelectorAll('.md-content article h1').length,
  bold: [...document.querySelectorAll('article b, article em, .md-header b, .md-nav b')].length,
})"""


def assert_nothing_injected(page) -> None:
    found = page.evaluate(INJECTED)
    assert found == {"embedded": 0, "alertScripts": 0, "handlers": 0, "jsLinks": 0, "articleH1": 1, "bold": 0}, found


def texts(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.textContent)")


def chrome_checks(page, manifest) -> None:
    """Title bar, header, logo tooltip and nav show the title and model name as written."""
    title = shown_text(manifest.title)
    assert page.title().endswith(" - " + " ".join(title.split())) or page.title() == " ".join(title.split())
    header = [t.strip() for t in texts(page, ".md-header__topic .md-ellipsis")]
    assert header[0] == title, header
    assert page.get_attribute(".md-header__button.md-logo", "title") == title
    assert page.get_attribute(".md-header__button.md-logo", "aria-label") == title
    nav = [t.strip() for t in texts(page, ".md-nav--primary .md-nav__link")]
    assert shown_text(manifest.models[0].name) in nav, nav


def test_home_page(open_page, site):
    folder, manifest = site
    page, requests, errors = open_page((folder / "index.html").as_uri(), wait_ready=False)
    page.wait_for_timeout(300)
    assert not errors and all(url.startswith("file:") for url in requests), (errors, requests)
    assert_nothing_injected(page)
    chrome_checks(page, manifest)
    assert page.inner_text(".md-content article h1") == " ".join(shown_text(manifest.title).split())
    assert texts(page, ".md-content article h1") == [shown_text(manifest.title)]
    sentences = texts(page, "article span[dir=auto]")
    expected = []
    for example in manifest.examples:
        expected += [shown_text(example.a)] + ([shown_text(example.b)] if example.b is not None else [])
    assert sentences == expected
    links = texts(page, "article a[href^='examples/']")
    assert links == [shown_text(e.id) for e in manifest.examples]
    assert texts(page, "article a[href^='models/']") == [shown_text(manifest.models[0].name)]
    for arabic in page.locator("article span[dir=auto]", has_text="\u0627\u0644\u0642\u0637\u0629").all():
        assert arabic.evaluate("e => getComputedStyle(e).direction") == "rtl"


def test_model_page(open_page, site):
    folder, manifest = site
    spec = manifest.models[0]
    page, requests, errors = open_page((folder / "models" / f"{spec.slug}.html").as_uri(), wait_ready=False)
    page.wait_for_timeout(300)
    assert not errors and all(url.startswith("file:") for url in requests), (errors, requests)
    assert_nothing_injected(page)
    chrome_checks(page, manifest)
    assert texts(page, ".md-content article h1") == [shown_text(spec.name)]
    examples = texts(page, "article a[href^='../examples/']")
    assert [shown_text(e.id) for e in manifest.examples] == examples


@pytest.mark.parametrize("index", range(7))
def test_example_page_and_viewer(open_page, site, index):
    folder, manifest = site
    example = manifest.examples[index]
    spec = manifest.models[0]
    page, requests, errors = open_page((folder / "examples" / f"{example.slug}.html").as_uri())
    page.wait_for_timeout(300)
    assert not errors and all(url.startswith("file:") for url in requests), (errors, requests)
    assert page.get_attribute(".rg-viewer", "data-rg-error") is None
    assert_nothing_injected(page)
    chrome_checks(page, manifest)
    assert texts(page, ".md-content article h1") == [shown_text(example.id)]
    spans = texts(page, "article .rg-example span[dir=auto]")
    expected = [shown_text(example.a)] + ([shown_text(example.b)] if example.b is not None else [])
    for pair in example.coref:
        expected += [pair.pronoun_text, pair.antecedent_text, *pair.candidate_texts]
    assert spans == expected
    # the viewer shows the tokenizer's tokens as text, right-to-left ones with dir=auto
    meta = read_data(folder / "data" / spec.slug / example.slug / "meta.js")
    shown = texts(page, ".rgv-col.rgv-from .rgv-tok")
    assert shown == [t.replace("\0", "\ufffd") for t in meta["tokens"]]
    for token in meta["tokens"]:
        if token in RTL_TOKENS:
            tok = page.locator(".rgv-col.rgv-from .rgv-tok", has_text=token).first
            assert tok.get_attribute("dir") == "auto"
            assert tok.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert not errors


def test_hostile_tokens_reach_the_viewer_as_tokens(site):
    """The added tokens really are single tokens of the first example (so the viewer test above means something)."""
    folder, manifest = site
    meta = read_data(folder / "data" / manifest.models[0].slug / manifest.examples[0].slug / "meta.js")
    assert ADDED_TOKENS[0] in meta["tokens"] and ADDED_TOKENS[1] in meta["tokens"]
    raw = (folder / "data" / manifest.models[0].slug / manifest.examples[0].slug / "meta.js").read_text(encoding="utf-8")
    assert "<" not in raw and ">" not in raw  # escaped as \u003c / \u003e inside the script
    he = next(e for e in manifest.examples if e.language == "he")
    assert RTL_TOKENS[1] in read_data(folder / "data" / manifest.models[0].slug / he.slug / "meta.js")["tokens"]


ALLOWED_TAGS = {"p", "code", "pre", "li", "ol", "ul", "sub", "sup", "mark"}


def test_search_index_carries_no_raw_markup(site):
    folder, manifest = site
    index = json.loads((folder / "search" / "search_index.json").read_text(encoding="utf-8"))
    for doc in index["docs"]:
        for field in ("title", "text"):
            tags = {m.lower() for m in re.findall(r"<\s*/?\s*([A-Za-z][\w-]*)", doc[field])}
            assert tags <= ALLOWED_TAGS, (doc["location"], field, tags, doc[field][:300])
    home = next(d for d in index["docs"] if d["location"] == "index.html")
    assert html.unescape(home["title"]) == shown_text(manifest.title)


from .material import search  # noqa: E402


def test_search_shows_hostile_titles_as_text(open_page, site):
    folder, manifest = site
    page, requests, errors = open_page((folder / "index.html").as_uri(), wait_ready=False)
    assert search(page, "alert"), "search found nothing"
    page.wait_for_timeout(300)
    titles = [" ".join(t.split()) for t in texts(page, ".md-search-result__item h1, .md-search-result__item h2")]
    script_example = shown_text(manifest.examples[0].id)
    assert script_example in titles, titles
    assert_nothing_injected(page)
    assert not errors and all(url.startswith("file:") for url in requests), (errors, requests)


def test_site_files_hold_no_raw_markup_from_the_manifest(site):
    """Belt and braces on the built HTML: the hostile strings appear only escaped."""
    folder, _ = site
    for page in folder.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for raw in ("<script>alert", "<img src=x", "<b>B</b>", 'href="javascript:', "onerror=alert(1)>"):
            assert raw not in text, (page, raw)
    home = (folder / "index.html").read_text(encoding="utf-8")
    assert "{{ 7*7 }}" in home and "{% raw %}" in home  # Jinja syntax is data, never evaluated
