"""How pages name a head and link into the viewer at it (shared by the atlas, model and probe views)."""
from __future__ import annotations

from urllib.parse import quote


def exbert(layer: int, head: int) -> str:
    """exBERT's 1-based name of a head, ``<layer,head>``."""
    return f"<{layer + 1},{head + 1}>"


def viewer_href(prefix: str, example: str | None, model: str, layer: int, head: int,
                token: int | None = None) -> str | None:
    """Link to an example page opened on the head view at one head (the viewer reads the hash).

    ``token``: the token to pin (coreference links pin the pronoun's first token).
    """
    if example is None:
        return None
    return (f"{prefix}examples/{quote(example)}.html#model={quote(model)}&view=head"
            f"&layer={layer}&head={head}" + (f"&token={token}" if token is not None else ""))


HEADS_DIR = "heads"


def head_page(slug: str, layer: int, head: int) -> str:
    """Path (relative to site_src) of the page of one head."""
    return f"{HEADS_DIR}/{slug}/{layer}-{head}.md"


def head_href(prefix: str, slug: str, layer: int, head: int) -> str:
    """Link to the page of one head (``head_page``) from a page ``prefix`` below the site root."""
    return prefix + quote(head_page(slug, layer, head)[:-3]) + ".html"
