"""Self-test of the browser harness, independent of lstm_widget: a plain anywidget defined inline paints a canvas in
the colour of its synced trait ``color``. Proves server + browser + notebook + kernel + widget sync + pixel reading
end to end, in both directions (Python -> page and page -> Python)."""

from __future__ import annotations

import nbformat
import numpy as np
from playwright.sync_api import expect

from lab import (
    canvas_pixels,
    decode_png,
    element_pixels,
    open_notebook,
    run_all_cells,
    run_code,
    set_theme,
    theme_is_light,
    wait_for_widget,
    wait_until,
    write_notebook,
)

PROBE_ESM = r"""
function render({ model, el }) {
  el.classList.add('probe-widget');
  const c = document.createElement('canvas');
  c.className = 'probe';
  c.width = 40; c.height = 30;
  const paint = () => {
    const color = model.get('color');
    const ctx = c.getContext('2d');
    ctx.fillStyle = color;
    ctx.fillRect(0, 0, c.width, c.height);
    c.dataset.color = color;
  };
  model.on('change:color', paint);
  c.addEventListener('click', () => { model.set('color', 'lime'); model.save_changes(); });
  paint();
  el.appendChild(c);
}
export default { render };
"""

SETUP = f"""\
import anywidget, traitlets

class Probe(anywidget.AnyWidget):
    _esm = {PROBE_ESM!r}
    color = traitlets.Unicode("red").tag(sync=True)

w = Probe()
"""

RGBA = {"red": (255, 0, 0, 255), "blue": (0, 0, 255, 255), "lime": (0, 255, 0, 255)}


def probe_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# harness probe"),
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell("w"),
    ]
    return nb


def assert_solid(pixels: np.ndarray, color: str) -> None:
    assert pixels.shape == (30, 40, 4), pixels.shape
    want = np.array(RGBA[color], np.uint8)
    bad = np.any(pixels != want, axis=-1)
    assert not bad.any(), f"{int(bad.sum())} pixels are not {color}; e.g. {pixels[bad][:3].tolist()}"


def test_probe_widget_round_trip(page, jupyter_server):
    name = write_notebook(jupyter_server, probe_notebook(), "harness_probe.ipynb")
    open_notebook(page, jupyter_server, name)
    run_all_cells(page, via="menu")  # the menu route here; the product tests use the command route

    widget = wait_for_widget(page, selector=".probe-widget")
    canvas = widget.locator("canvas.probe")
    expect(canvas).to_have_attribute("data-color", "red")
    assert_solid(canvas_pixels(canvas), "red")

    # Python -> page
    assert run_code(page, "w.color = 'blue'") == ""
    expect(canvas).to_have_attribute("data-color", "blue")
    assert_solid(canvas_pixels(canvas), "blue")
    assert run_code(page, "print(w.color)") == "blue"

    # What is on screen agrees with the backing store (screenshot decoded without Pillow).
    shot = element_pixels(canvas)
    assert shot.shape[0] >= 28 and shot.shape[1] >= 38, shot.shape
    assert (np.abs(shot[5:-5, 5:-5].astype(int) - RGBA["blue"]).max()) <= 2

    # page -> Python (a click in the page sets the trait and syncs it back)
    canvas.click()
    expect(canvas).to_have_attribute("data-color", "lime")
    assert_solid(canvas_pixels(canvas), "lime")
    wait_until(lambda: run_code(page, "print(w.color)") == "lime", timeout=30, message="Python sees w.color == lime")

    # Errors in the kernel surface as exceptions with the traceback.
    try:
        run_code(page, "1/0")
    except AssertionError as exc:
        assert "ZeroDivisionError" in str(exc)
    else:
        raise AssertionError("run_code did not raise on 1/0")

    # Theme switching
    set_theme(page, "dark")
    assert not theme_is_light(page)
    set_theme(page, "light")
    assert theme_is_light(page)


def test_decode_png_filters():
    """The tiny PNG decoder against a PNG written with every filter type (no Pillow needed)."""
    import struct
    import zlib

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (6, 5, 4), dtype=np.uint8)
    raw, prev = b"", np.zeros(20, np.int32)
    for y in range(6):
        f, line = y % 5, img[y].reshape(-1).astype(np.int32)
        enc = np.zeros(20, np.int32)
        for x in range(20):
            a = int(line[x - 4]) if x >= 4 else 0
            b = int(prev[x])
            c = int(prev[x - 4]) if x >= 4 else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            paeth = a if (pa <= pb and pa <= pc) else (b if pb <= pc else c)
            pred = [0, a, b, (a + b) >> 1, paeth][f]
            enc[x] = (line[x] - pred) & 255
        raw += bytes([f]) + enc.astype(np.uint8).tobytes()
        prev = line

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 5, 6, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    assert np.array_equal(decode_png(png), img)
