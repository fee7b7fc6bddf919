"""MkDocs hook that reportgen copies to ``site_src/.reportgen/mkdocs_hooks.py`` and lists in mkdocs.yml.

reportgen writes ``site_name`` into mkdocs.yml already HTML-escaped, because themes print it raw in the
page title and header. Material also prints it once more through Jinja's ``e`` filter (the logo's
tooltip), which would show ``&lt;`` instead of ``<``; marking the value as markup stops that second
escaping. 404.html gets URLs relative to the site root (see on_post_template); table cells get a space
after them for readable search snippets (on_page_content). (MkDocs skips folders whose name starts with a dot, so this file is
not copied into the site.)
"""
import re

from markupsafe import Markup


def on_config(config, **kwargs):
    config["site_name"] = Markup(config["site_name"])
    return config


_CELL_END = re.compile(r"(</(?:td|th|tr|li|dt|dd|summary|caption)>)(?=<)")


def on_page_content(html, page, config, files, **kwargs):
    """A space after every table cell, row and list item, so that search snippets read "Language en
    Sentence A The cat" instead of "Languageen Sentence AThe cat" (the page looks the same)."""
    return _CELL_END.sub(r"\1 ", html)


_ROOT_URL = re.compile(r'((?:href|src)=")/(?!/)')


def on_post_template(output, template_name, config, **kwargs):
    """404.html: MkDocs writes it with root-absolute URLs (``/assets/...``) because a server may show it
    for any missing path. Opened from ``file://`` or served under a sub-path (GitHub Pages:
    ``/REPO/``) those URLs miss every asset. It lies at the site root, so URLs relative to the root work
    in both cases."""
    if template_name != "404.html":
        return output
    output = _ROOT_URL.sub(r"\1", output)
    return output.replace('"base": "/"', '"base": "."').replace('"search": "/', '"search": "')
