"""Self-contained viewer HTML: the viewer's CSS and scripts and the quantised data, all inlined.

Used by ``reportgen.notebook`` (an HTML fragment per notebook output) and ``reportgen export`` (one
standalone ``.html`` file). Nothing in the output is fetched: no CDN, no ``<script src>``, no file.

The data objects are the very ones the site writes to its data files (``render.payload``), pushed onto
the same ``window.RG_DATA`` queue by inline scripts; the viewer never looks for a data file because
every layer it needs is already queued (``layer_files`` is empty, so a missing layer is an error
message, never a request).

Several fragments on one page (a notebook's outputs) do not clash: each has its own container id and
data key, and the viewer script returns at once when a previous output already defined it.
"""
from __future__ import annotations

import html
from functools import lru_cache

from reportgen.render.assets import VIEWER_SCRIPTS, script_files
from reportgen.render.payload import data_chunks, js_json
from reportgen.render.templates import assets_dir

# The viewer's stylesheet; its scripts, in load order, are the example pages' (render/assets.py).
VIEWER_CSS = ("viewer.css",)


@lru_cache(maxsize=1)
def viewer_assets() -> tuple[str, str]:
    """(CSS text, JavaScript text) of the viewer, the files of VIEWER_CSS and VIEWER_JS joined."""
    folder = assets_dir() / "reportgen"
    css = "\n".join((folder / name).read_text(encoding="utf-8") for name in VIEWER_CSS)
    js = "\n;\n".join(path.read_text(encoding="utf-8") for path in script_files(VIEWER_SCRIPTS))
    return css, js


def inline_script(code: str) -> str:
    """``code`` safe inside an inline ``<script>`` element.

    An HTML parser ends a script at ``</script`` and treats ``<!--`` specially, whatever the JavaScript
    means; ``<\\/`` and ``\\x3C!--`` read the same inside JavaScript strings, regular expressions and
    comments, the only places such text can occur.
    """
    return code.replace("</", "<\\/").replace("<!--", "\\x3C!--")


def data_text(objects: list[dict]) -> str:
    """Every object as one ``RG_DATA.push`` statement (``render.payload``: already safe in a script)."""
    return "".join(b"".join(data_chunks(obj)).decode("utf-8") for obj in objects)


_WAITING = ("reportgen viewer: it appears when this output's scripts run (in Jupyter, run the cell or trust "
            "the notebook).")
_WAITING_SHARED = ("reportgen viewer: it appears when this output's scripts run and the viewer code of an earlier "
                   "output (reportgen.notebook.share_code) is on the page; run that cell first, or call "
                   "share_code(False) for self-contained outputs.")


# Runs after the data and the viewer script: waits until the container is in the document (some
# notebook front ends evaluate an output's scripts before attaching it), then asks the viewer to
# pick up new containers and applies the initial state.
_START = """(function () {
  var id = %(id)s, state = %(state)s, tries = 0;
  function start() {
    var root = document.getElementById(id);
    if (!root || !window.ReportGenViewer || !root.isConnected) {
      if (tries++ < 600) { window.setTimeout(start, 50); }
      return;
    }
    window.ReportGenViewer.init();
    if (state) { window.ReportGenViewer.set(root, state); }
  }
  start();
})();
"""


def fragment(data_js: str, example: str, uid: str, state: dict | None = None, dark: bool = False,
             caption: str = "", include_code: bool = True) -> str:
    """One viewer as an HTML fragment: container, inline CSS, data, viewer script and start-up.

    ``data_js``: the viewer data as push statements (``data_text``; meta first, then layers, q/k,
    rollout), whose meta names ``example``. ``uid``: unique on the page (container id ``rg-nb-UID``). ``state``: the viewer's
    initial state (``ReportGenViewer.set``: view, layer, heads, token). ``caption``: HTML shown under
    the viewer (already escaped). ``include_code`` false leaves out the CSS and viewer script, for a
    page that already has them.
    """
    root_id = f"rg-nb-{uid}"
    css, js = viewer_assets() if include_code else ("", "")
    scheme = ' data-md-color-scheme="slate"' if dark else ""
    parts = [f'<div class="rg-nb"{scheme}>']
    if include_code:
        parts.append(f"<style>{css}</style>")
    parts.append(
        f'<div class="rg-viewer" id="{root_id}" data-example="{html.escape(example, quote=True)}" data-base="" '
        f'data-rg-hash="off"><p>{_WAITING if include_code else _WAITING_SHARED}</p></div>')
    if caption:
        parts.append(f'<div class="rg-nb-caption" style="font-size:12px;opacity:.8;margin:-.5em 0 1em">{caption}</div>')
    parts.append("</div>")
    parts.append(f"<script>{inline_script(data_js)}</script>")
    if include_code:
        parts.append(f"<script>{inline_script(js)}</script>")
    parts.append("<script>" + inline_script(_START % {"id": js_json(root_id), "state": js_json(state or None)})
                 + "</script>")
    return "\n".join(parts) + "\n"


def page(body: str, title: str) -> str:
    """A whole HTML document around ``body`` (fragments), for a file that opens from disk."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n"
            "<style>body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1200px;"
            "margin:1em auto;padding:0 1em;color:#222}table.rg-scores{border-collapse:collapse;font-size:13px}"
            "table.rg-scores td,table.rg-scores th{border:1px solid #ddd;padding:2px 6px;text-align:left}</style>\n"
            f"</head>\n<body>\n{body}</body>\n</html>\n")
