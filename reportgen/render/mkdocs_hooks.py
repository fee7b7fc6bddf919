"""MkDocs hook that reportgen copies to ``site_src/.reportgen/mkdocs_hooks.py`` and lists in mkdocs.yml.

reportgen writes ``site_name`` into mkdocs.yml already HTML-escaped, because themes print it raw in the
page title and header. Material also prints it once more through Jinja's ``e`` filter (the logo's
tooltip), which would show ``&lt;`` instead of ``<``; marking the value as markup stops that second
escaping. Nothing else is changed. (MkDocs skips folders whose name starts with a dot, so this file is
not copied into the site.)
"""
from markupsafe import Markup


def on_config(config, **kwargs):
    config["site_name"] = Markup(config["site_name"])
    return config
