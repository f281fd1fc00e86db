"""Standalone HTML export: one file that plays an explorer back with no kernel and no network.

The page holds three things, all inline: the widget's saved state as JSON (binary buffers as base64), the front end
bundled as a classic script (``static/export.js``, built from ``js/src/export.js``), and one line that mounts the
one onto the other. Nothing is fetched — no CDN, no font, no image — so it opens from ``file://`` and from a course
site alike. User strings (class, feature and sequence names, the title) only ever travel inside JSON or are
HTML-escaped, so markup in them shows as text.
"""

from __future__ import annotations

import base64
import html
import json
import re

from .._core.files import write_atomic
from .._wire import WireArray
from .static import bundle

#: The ``type`` of the script element that carries a widget's state (js/src/export.js looks for it).
STATE_TYPE = "application/vnd.lstm-widget+json"

#: What a page holds beside its arrays and the front end (markup, styles, the JSON of traits and names), counted
#: generously when ``Explorer.save_html`` chooses how many sequences fit ``lstm_widget.EXPORT_BUDGET``.
EXPORT_PAGE_BYTES = 64 * 2**10

# A page of its own needs the colours JupyterLab would give: light by default, dark when the reader's system is.
_PAGE_CSS = """
:root { color-scheme: light dark;
  --jp-layout-color0: #ffffff; --jp-layout-color1: #ffffff; --jp-layout-color2: #eeeeee;
  --jp-ui-font-color0: rgba(0,0,0,1); --jp-ui-font-color1: rgba(0,0,0,0.87); --jp-ui-font-color2: rgba(0,0,0,0.54);
  --jp-ui-font-color3: rgba(0,0,0,0.38); --jp-border-color1: #bdbdbd; --jp-border-color2: #e0e0e0;
  --jp-brand-color1: #1976d2; --jp-ui-inverse-font-color0: #ffffff; }
@media (prefers-color-scheme: dark) { :root {
  --jp-layout-color0: #111111; --jp-layout-color1: #212121; --jp-layout-color2: #424242;
  --jp-ui-font-color0: rgba(255,255,255,1); --jp-ui-font-color1: rgba(255,255,255,0.87);
  --jp-ui-font-color2: rgba(255,255,255,0.54); --jp-ui-font-color3: rgba(255,255,255,0.38);
  --jp-border-color1: #616161; --jp-border-color2: #424242; --jp-brand-color1: #64b5f6;
  --jp-ui-inverse-font-color0: #000000; } }
body { margin: 0; padding: 16px 20px; background: var(--jp-layout-color0); color: var(--jp-ui-font-color1);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 17px; font-weight: 600; margin: 0 0 4px; }
.lw-export-note { font-size: 12px; color: var(--jp-ui-font-color2); margin: 0 0 12px; }
main { max-width: 1400px; margin: 0 auto; }
"""


def _jsonable(value):
    """``value`` with every bytes-like buffer replaced by ``{"$b64": text}`` (js/src/offline.js decodes it)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def wire_arrays(value):
    """Every :class:`~lstm_widget._wire.WireArray` nested in ``value`` (dicts and lists), in order."""
    if isinstance(value, WireArray):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from wire_arrays(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from wire_arrays(v)


def state_json(state: dict) -> str:
    """The state as JSON that is safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` are written as unicode
    escapes, so no name can close the element or open markup."""
    text = json.dumps(_jsonable(state), ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _inline_script(code: str) -> str:
    """Bundled JavaScript made safe to inline: a ``</script`` or ``<!--`` inside it (in a string) is escaped."""
    code = re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)
    return code.replace("<!--", "<\\!--")


def export_bundle() -> str:
    """The export front end (``static/export.js``) as text."""
    return bundle("export.js").read_text(encoding="utf-8")


def standalone_html(state: dict, title: str = "LSTM explorer", note: str | None = None) -> str:
    """A complete HTML page that shows the widget saved in ``state`` (trait name → value, as synced)."""
    note_html = f'<p class="lw-export-note">{html.escape(note)}</p>' if note else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # No request may leave the page: forbid every fetch except what is inline.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline' blob:; "
        "style-src 'unsafe-inline'; img-src data: blob:\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_PAGE_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{html.escape(title)}</h1>\n{note_html}\n"
        '<div class="lw-export-host"></div>\n'
        f'<script type="{STATE_TYPE}">{state_json(state)}</script>\n'
        "</main>\n"
        f"<script>{_inline_script(export_bundle())}</script>\n"
        "<script>lstmWidgetExport.renderPage(document);</script>\n"
        "</body>\n</html>\n"
    )


def write_html(path, state: dict, title: str = "LSTM explorer", note: str | None = None) -> int:
    """Write :func:`standalone_html` to ``path`` (UTF-8) atomically — a failure leaves an existing file as it was;
    returns its size in bytes."""
    return write_atomic(path, standalone_html(state, title, note).encode("utf-8"))
