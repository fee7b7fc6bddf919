"""Where pages are rendered: Jinja pages, viewer data files and mkdocs.yml."""
