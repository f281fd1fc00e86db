"""The front end's performance goals, measured in a real JupyterLab + headless Chromium (printed figures, one run;
nothing here fails on speed).

    python benchmarks/bench_frontend.py            # T = 10 000 steps × H = 1024 units; about 3-5 minutes
    python benchmarks/bench_frontend.py --quick    # small sizes: a smoke run of every measurement (about 1 minute)
    python benchmarks/bench_frontend.py --stream   # the live stream only, with heavy views hidden in turn (3 min)
    python benchmarks/bench_frontend.py --long     # long sequences only: T = 100 000 × H = 1024 (--long --quick:
                                                   # T = 20 000 × H = 256)

1. Scrub: ms of a full repaint of every view (the root's ``data-frame-ms``) after each → on the focused widget and
   after each move of a drag of the time slider, at T × H; beside it the whole frame (from that repaint to the next
   animation frame: style, layout, canvas raster and commit included).                          goal p95 ≤ 16 ms
2. First render: from submitting the cell that builds the Explorer to the first repaint with the heatmap drawn, for
   preload "auto" / "all" × wire dtype float32 / float16 / uint8; the kernel's share (``Explorer.from_recordings``:
   projection fit, encoding, opening the comm) is timed in the kernel and printed beside it.    goal ≤ 2 s
   Then ``Explorer(model, [x])`` of a real model (an nn.LSTM 32 → H and a Linear head, one sequence of T steps):
   its first render against the model's plain forward on x, timed in the kernel beforehand. goal ≤ forward + 3 s
   (and the construction alone, the kernel's share, ≤ 1.5 × the forward)
3. Live stream: ``ex.stream(x, fps=...)`` of the bundled Japanese Vowels network (the demo's 370 test utterances on
   the page) on a tiled test utterance; repaints per second counted in the page, next to the page's idle
   requestAnimationFrame rate (the ceiling), and steps per second appended. Twice: as a user gets it, and with the
   kernel made to feed every animation frame (one torch thread, batch_ms=8).                    goal ≥ 60 /s
4. Bytes on the wire per value (``_data_h``'s buffer / its values) and per streamed step.       goal ≤ 4 / 2 / 1
5. ``--long`` (long sequences in the page), instead of 1-4: one recording of T = 100 000 × H = 1024, sent as
   float16 and as uint8 (float32 would be 400 MB for h alone; preload "auto" sends only h): first render and bytes
   on the wire per dtype; with float16, the scrub of 1 (→ keys, slider drag) at full zoom-out, where the heatmap
   draws a min/max pyramid level; then zooming in step by step (+), a slider drag while zoomed (the window pans after
   the cursor: every time view redraws its base each frame) and zooming out again (0).   goal p95 ≤ 16 ms

The recordings for 1 and 2 are synthetic (numpy: AR(1) pre-activations through the LSTM cell equations), because a
real ``lw.record`` at 10 000 × 1024 takes ~30 s on a small CPU; the widget cannot tell them apart.

The harness is tests/ui's: JupyterLab from server.py (start_server / stop_server), the notebook driven by lab.py's
helpers, Chromium from server.py's CHROMIUM and CHROMIUM_ARGS -- but spoken to over a bare DevTools connection
(``CdpPage`` below) rather than through Playwright, which copies every websocket frame to its driver (see
``cdp_browser``). ``--playwright`` uses server_and_browser and Playwright instead, for comparison. The machine's
other load is printed with the stream figures: on small shared machines, read the figures with it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
UI = REPO / "tests" / "ui"

DTYPES = ("float32", "float16", "uint8")
GOAL_FRAME_MS = 16.0
GOAL_FIRST_S = 2.0
GOAL_FPS = 60.0
GOAL_BYTES = {"float32": 4, "float16": 2, "uint8": 1}

FULL = dict(T=10_000, H=1024, scrub_keys=200, scrub_drag=100, stream_steps=6000, stream_fps=2000, stream_s=5)
QUICK = dict(T=1000, H=128, scrub_keys=30, scrub_drag=20, stream_steps=1000, stream_fps=1000, stream_s=2)
LONG = dict(T=100_000, H=1024, scrub_keys=200, scrub_drag=100, zoom_steps=8, zoom_drag=60)
LONG_QUICK = dict(T=20_000, H=256, scrub_keys=30, scrub_drag=20, zoom_steps=5, zoom_drag=20)
LONG_DTYPES = ("float16", "uint8")


# ----------------------------------------------------------------------------------------------------------------------
# Synthetic recordings (also imported by the notebook's kernel: keep this part free of browser imports)


def synthetic_recordings(T: int, H: int, D: int = 12, C: int = 9, n: int = 1, seed: int = 0):
    """``n`` one-layer :class:`~lstm_widget.Recording` s of T steps × H units that look like an LSTM's: smooth AR(1)
    pre-activations (units with time constants from 2 to 200 steps) through i, f, o = sigmoid, g = tanh,
    c_t = f_t c_{t-1} + i_t g_t, h_t = o_t tanh(c_t) (c shown as tanh(c_t), in [-1, 1]); D smooth inputs; softmax
    probabilities over C classes."""
    from scipy.signal import lfilter

    from lstm_widget import Recording

    rng = np.random.default_rng(seed)
    alphas = np.array([0.5, 0.9, 0.98, 0.995])

    def smooth(rows, cols):
        """(rows, cols) float32: unit-variance AR(1) noise, column k with time constant alphas[k % 4]."""
        out = np.empty((cols, rows), np.float32)  # filtered along contiguous rows, returned transposed
        for k, a in enumerate(alphas):
            noise = rng.standard_normal((out[k::4].shape[0], rows), dtype=np.float32)
            gain = np.float32((1.0 - a) / np.sqrt((1.0 - a) / (1.0 + a)))
            out[k::4] = lfilter(np.float32([gain]), np.float32([1.0, -a]), noise, axis=1)
        return np.ascontiguousarray(out.T)

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    recs = []
    for _ in range(n):
        bias = rng.normal(0.0, 0.7, size=(4, H)).astype(np.float32)
        i = sigmoid(1.5 * smooth(T, H) + bias[0])
        f = sigmoid(1.5 * smooth(T, H) + bias[1] + 1.5)  # forget gates lean open
        g = np.tanh(1.5 * smooth(T, H) + bias[2])
        o = sigmoid(1.5 * smooth(T, H) + bias[3])
        c = np.empty((T, H), np.float32)
        state = np.zeros(H, np.float32)
        for t in range(T):
            state = f[t] * state + i[t] * g[t]
            c[t] = state
        c = np.tanh(c)  # squashed into [-1, 1] (the cell equations let slow units integrate far beyond)
        h = o * c  # = o_t tanh(c_t) of the unsquashed cell
        inputs = (smooth(T, D) * rng.uniform(0.3, 2.0, D) + rng.normal(0, 1, D)).astype(np.float32)
        logits = 2.0 * smooth(T, C) + np.linspace(0, 3, T, dtype=np.float32)[:, None] * (np.arange(C) == 3)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
        q = {k: v.astype(np.float32)[None] for k, v in dict(h=h, c=c, i=i, f=f, g=g, o=o).items()}
        recs.append(
            Recording(inputs=inputs, logits=logits.astype(np.float32), probs=probs, layer_names=("layer0",), **q)
        )
    return recs


# ----------------------------------------------------------------------------------------------------------------------
# The browser: Chromium driven over the DevTools protocol directly
#
# Playwright enables the DevTools Network domain on every page it drives, so Chromium copies every websocket frame
# to Playwright's driver as base64 text: the kernel's 250 MB widget state (preload="all", float32) runs the driver out
# of memory, and smaller states still cost the page the encoding. The measurements therefore use the same Chromium
# (tests/ui/server.py's CHROMIUM and CHROMIUM_ARGS) through a bare DevTools connection with only Runtime, Page,
# Emulation, Input and Performance in use; `CdpPage` offers the part of Playwright's Page that tests/ui/lab.py's
# helpers call.
# `--playwright` measures through Playwright instead (tests/ui/server.py's server_and_browser), for comparison.


class _CdpKeyboard:
    KEYS = {"ArrowRight": 39, "ArrowLeft": 37, "Home": 36, "End": 35, "+": 187, "-": 189, "0": 48}

    def __init__(self, page):
        self.page = page

    def press(self, key: str) -> None:
        code = self.KEYS[key]
        for kind in ("rawKeyDown", "keyUp"):
            self.page.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=key,
                windowsVirtualKeyCode=code,
                nativeVirtualKeyCode=code,
            )


class _CdpMouse:
    def __init__(self, page):
        self.page, self.x, self.y, self.buttons = page, 0.0, 0.0, 0

    def move(self, x: float, y: float) -> None:
        self.x, self.y = x, y
        self.page.send(
            "Input.dispatchMouseEvent",
            type="mouseMoved",
            x=x,
            y=y,
            buttons=self.buttons,
            button="left" if self.buttons else "none",
        )

    def down(self) -> None:
        self.buttons = 1
        self.page.send(
            "Input.dispatchMouseEvent", type="mousePressed", x=self.x, y=self.y, button="left", buttons=1, clickCount=1
        )

    def up(self) -> None:
        self.buttons = 0
        self.page.send(
            "Input.dispatchMouseEvent", type="mouseReleased", x=self.x, y=self.y, button="left", buttons=0, clickCount=1
        )


class _CdpLocator:
    def __init__(self, page, selector):
        self.page, self.selector = page, selector

    @property
    def first(self):
        return self

    def wait_for(self, state: str = "visible", timeout: float = 30_000) -> None:
        self.page.wait_for_function(
            "(sel) => { const e = document.querySelector(sel); return !!(e && e.getClientRects().length); }",
            arg=self.selector, timeout=timeout,
        )  # fmt: skip


class CdpPage:
    """A page of a Chromium started here, spoken to over one DevTools websocket (no Network domain)."""

    def __init__(self, ws_url: str, viewport: dict):
        import websocket  # websocket-client, a dependency of jupyter_server

        self.ws = websocket.create_connection(ws_url, timeout=600, suppress_origin=True)
        self.seq = 0
        self.keyboard, self.mouse = _CdpKeyboard(self), _CdpMouse(self)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=viewport["width"],
            height=viewport["height"],
            deviceScaleFactor=1,
            mobile=False,
        )
        self.send("Emulation.setFocusEmulationEnabled", enabled=True)
        self.send("Page.bringToFront")

    def send(self, method: str, **params):
        self.seq += 1
        self.ws.send(json.dumps({"id": self.seq, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.seq:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def trace_start(self) -> None:
        """Start a DevTools trace of the page (the timeline's categories), returned as a stream by trace_stop."""
        self.send(
            "Tracing.start",
            categories="devtools.timeline,disabled-by-default-devtools.timeline,v8.execute,blink,cc,gpu,viz",
            transferMode="ReturnAsStream",
        )

    def trace_stop(self) -> list[dict]:
        """End the trace started by trace_start: its events."""
        self.seq += 1
        self.ws.send(json.dumps({"id": self.seq, "method": "Tracing.end", "params": {}}))
        handle = None
        while handle is None:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == "Tracing.tracingComplete":
                handle = msg["params"]["stream"]
        chunks = []
        while True:
            r = self.send("IO.read", handle=handle, size=1 << 20)
            chunks.append(base64.b64decode(r["data"]) if r.get("base64Encoded") else r["data"].encode())
            if r.get("eof"):
                break
        self.send("IO.close", handle=handle)
        data = json.loads(b"".join(chunks))
        return data["traceEvents"] if isinstance(data, dict) else data

    def evaluate(self, fn: str, arg=None):
        # JSON-able results come back as values, anything else (a Lumino widget, say) as None.
        expr = (
            f"Promise.resolve(({fn})({json.dumps(arg)})).then((v) => {{ try {{ return JSON.stringify(v); }} "
            "catch (e) { return undefined; } })"
        )
        r = self.send("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True, userGesture=True)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise RuntimeError(f"page: {d.get('exception', {}).get('description') or d.get('text')}")
        text = r["result"].get("value")
        return None if text is None else json.loads(text)

    def wait_for_function(self, fn: str, arg=None, timeout: float = 30_000, polling: float = 100):
        from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

        deadline = time.monotonic() + timeout / 1000
        while True:
            try:
                value = self.evaluate(fn, arg)
                if value:
                    return value
            except RuntimeError:  # e.g. no execution context yet while navigating
                pass
            if time.monotonic() > deadline:
                raise PlaywrightTimeoutError(f"wait_for_function: not true after {timeout / 1000:.0f}s: {fn[:80]}")
            time.sleep(polling / 1000)

    def goto(self, url: str, wait_until: str = "domcontentloaded") -> None:
        self.send("Page.navigate", url=url)
        time.sleep(0.2)
        self.wait_for_function(
            "() => document.readyState !== 'loading' && location.href !== 'about:blank'", timeout=120_000
        )

    def locator(self, selector: str):
        return _CdpLocator(self, selector)

    def close(self) -> None:
        self.ws.close()


@contextmanager
def cdp_browser(viewport: dict):
    """Chromium (tests/ui/server.py's executable and flags) with a DevTools port; yields a CdpPage on about:blank."""
    import subprocess
    import urllib.request

    from server import CHROMIUM, CHROMIUM_ARGS, _descendants, end_process

    profile = Path(tempfile.mkdtemp(prefix="lw-bench-chromium-"))
    cmd = [
        CHROMIUM,
        "--headless",
        *CHROMIUM_ARGS,
        "--remote-debugging-port=0",
        "--remote-allow-origins=*",
        f"--user-data-dir={profile}",
        f"--window-size={viewport['width']},{viewport['height']}",
        "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows",
        "--disable-dev-shm-usage",
        "--no-default-browser-check",
        "--disable-extensions",
        "--password-store=basic",
        "about:blank",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, start_new_session=True
    )
    page = None
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Chromium did not open a DevTools port ({' '.join(cmd)})")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
            targets = json.loads(resp.read())
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        page = CdpPage(ws_url, viewport)
        yield page
    finally:
        if page is not None:
            page.close()
        end_process(proc, _descendants(proc.pid))
        shutil.rmtree(profile, ignore_errors=True)


# ----------------------------------------------------------------------------------------------------------------------
# Page-side instruments

# Watch for a new widget root: when it appears, and the first repaint (data-frames ≥ 1) with the heatmap drawn at its
# real size (its message hidden, its canvas sized by the layout) -- timed at the end of that repaint's JavaScript,
# and at the start of the next animation frame (that frame's canvas raster and commit done).
WATCH_FIRST_RENDER_JS = r"""
() => {
  const seen = new Set(document.querySelectorAll('.lstm-widget'));
  const w = {mount: null, first: null, next: null, frames: null, frameMs: null};
  window.__lwFirst = w;
  const drawn = (root) => {
    const hm = root.querySelector('.lw-heatmap');
    const msg = hm && hm.querySelector('.lw-message');
    const c = hm && hm.querySelector('canvas.lw-base');
    // sized by the layout (before that, a plot is 10 px wide and the heatmap leaves its image undrawn)
    return !!(msg && msg.hidden && c && parseFloat(c.style.width || '0') > 61);
  };
  const check = () => {
    for (const root of document.querySelectorAll('.lstm-widget')) {
      if (seen.has(root)) continue;
      if (w.mount === null) w.mount = performance.now();
      if (+(root.dataset.frames || 0) >= 1 && drawn(root)) {
        Object.assign(w, {first: performance.now(), frames: +root.dataset.frames, frameMs: +root.dataset.frameMs});
        requestAnimationFrame(() => { w.next = performance.now(); });  // that frame's raster and commit done
        mo.disconnect();
        return;
      }
    }
  };
  const mo = new MutationObserver(check);
  mo.observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-frames']});
}
"""

# The widget root: the last one on the page (the benchmark shows one widget at a time).
LAST_ROOT = "[...document.querySelectorAll('.lstm-widget')].pop()"

# Arm before an input: window.__lwNext resolves with [data-frame-ms, data-frames, whole frame ms] once the root has
# repainted (data-frames went up). "Whole frame" runs from the start of that repaint to the start of the next
# animation frame: what the frame cost the main thread in all (the widget's JavaScript, then style, layout, canvas
# raster and commit), plus any wait for the next vsync.
ARM_NEXT_FRAME_JS = (
    r"""
() => {
  const root = %s;
  const n = +root.dataset.frames;
  window.__lwNext = new Promise((resolve) => {
    const mo = new MutationObserver(() => {
      if (+root.dataset.frames <= n) return;
      mo.disconnect();
      const ms = +root.dataset.frameMs, frames = +root.dataset.frames, t = performance.now();
      requestAnimationFrame(() => resolve([ms, frames, ms + performance.now() - t]));
    });
    mo.observe(root, {attributes: true, attributeFilter: ['data-frames']});
  });
  return n;
}
"""
    % LAST_ROOT
)

ROOT_INFO_JS = (
    r"""
(scroll) => {
  const root = %s;
  if (!root) return null;
  if (scroll) root.scrollIntoView({block: 'start'});
  const r = root.querySelector('.lw-timeline input[type=range]').getBoundingClientRect();
  return {frames: +root.dataset.frames, t: +root.querySelector('.lw-timeline').dataset.t,
          slider: {x: r.x, y: r.y, width: r.width, height: r.height}};
}
"""
    % LAST_ROOT
)

RAF_RATE_JS = r"""
(ms) => new Promise((resolve) => {
  let n = 0, t0 = null;
  const f = (now) => {
    if (t0 === null) t0 = now; else n++;
    if (now - t0 < ms) requestAnimationFrame(f); else resolve(n * 1000 / (now - t0));
  };
  requestAnimationFrame(f);
})
"""

# Every animation frame: [time, repaints so far, steps of the shown sequence, shown sequence, last repaint's ms].
SAMPLER_START_JS = (
    r"""
() => {
  const root = %s;
  const slider = root.querySelector('.lw-timeline input[type=range]');
  const pick = root.querySelector('.lw-picker select');
  const s = window.__lwSampler = {on: true, rows: []};
  const f = (now) => {
    s.rows.push([now, +root.dataset.frames, +slider.max + 1, pick ? +pick.value : 0, +root.dataset.frameMs]);
    if (s.on) requestAnimationFrame(f);
  };
  requestAnimationFrame(f);
}
"""
    % LAST_ROOT
)


def wait_root(page, timeout: float = 180_000) -> dict:
    """Wait for a widget root that has repainted at least once; scroll it to the top; its frames, t and slider box."""
    page.wait_for_function(
        f"() => {{ const r = {LAST_ROOT}; return !!(r && +r.dataset.frames >= 1); }}", timeout=timeout
    )
    info = page.evaluate(ROOT_INFO_JS, True)
    from lab import next_frames

    next_frames(page, 2)
    return page.evaluate(ROOT_INFO_JS, False) or info


# ----------------------------------------------------------------------------------------------------------------------
# Helpers


def cpu_snapshot() -> dict:
    """CPU seconds used so far by this script's descendants, grouped (kernel, jupyter server, chromium, playwright),
    and by the whole machine (every process, other users' too): from /proc."""
    import os

    from server import _descendants

    tick = os.sysconf("SC_CLK_TCK")
    out = {"kernel": 0.0, "server": 0.0, "chromium": 0.0, "other": 0.0}
    for pid in _descendants(os.getpid()):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        used = (int(stat[11]) + int(stat[12])) / tick  # utime + stime
        group = (
            "kernel"
            if "ipykernel" in cmd
            else "server"
            if "jupyter" in cmd and " lab" in cmd
            else "chromium"
            if "chrom" in cmd
            else "other"
        )
        out[group] += used
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    out["machine_busy"] = (sum(fields) - fields[3] - fields[4]) / tick  # all but idle and iowait
    out["wall"] = time.monotonic()
    return out


def cpu_between(a: dict, b: dict) -> dict:
    """Cores used on average between two snapshots, per group."""
    wall = b["wall"] - a["wall"]
    return {k: (b[k] - a[k]) / wall for k in a if k != "wall"}


def page_metrics(page) -> dict:
    """Chromium's cumulative main-thread times of the page's renderer (s): Task (all work), Script, Layout,
    RecalcStyle (DevTools Performance.getMetrics)."""
    if isinstance(page, CdpPage):
        send = page.send
    else:  # Playwright: a DevTools session of its own
        if not hasattr(page, "_lw_cdp"):
            page._lw_cdp = page.context.new_cdp_session(page)
        send = page._lw_cdp.send
    if not getattr(page, "_lw_perf", False):
        send("Performance.enable")
        page._lw_perf = True
    got = send("Performance.getMetrics")
    m = {x["name"]: x["value"] for x in got["metrics"]}
    out = {k: m.get(k + "Duration", 0.0) for k in ("Task", "Script", "Layout", "RecalcStyle")}
    out["wall"] = time.monotonic()
    return out


def pct(values, q):
    return float(np.percentile(np.asarray(values, float), q)) if len(values) else float("nan")


def kernel_json(page, code: str) -> dict:
    from lab import run_code

    out = run_code(page, code)
    m = re.search(r"JSON=(\{.*\})", out)
    if not m:
        raise RuntimeError(f"no JSON in the kernel's answer: {out!r}")
    return json.loads(m.group(1))


def clear_outputs(page) -> None:
    from lab import _wait_run

    run_id = page.evaluate("() => window.__lwh.start('notebook:clear-all-cell-outputs')")
    _wait_run(page, run_id, 60_000, "Clear All Outputs")


def close_explorer(page) -> None:
    from lab import next_frames, run_code

    run_code(page, "if 'ex' in globals():\n    ex.close(); del ex\n_ = gc.collect()")
    clear_outputs(page)
    next_frames(page, 3)


# ----------------------------------------------------------------------------------------------------------------------
# The measurements


def timed_render(page, build: str, what: str) -> dict:
    """Submit a cell that runs ``build`` (which makes ``ex``) and shows ``ex``; time the first full render in the page
    and, in the kernel, ``build`` itself."""
    from lab import start_code, wait_code, wait_until

    page.evaluate(WATCH_FIRST_RENDER_JS)
    code = f"_t0 = time.perf_counter()\n{build}\nprint(f'BUILD_S={{time.perf_counter() - _t0:.4f}}')\nex"
    handle = start_code(page, code)
    w = wait_until(
        lambda: (lambda v: v if v and v["next"] is not None else None)(page.evaluate("() => window.__lwFirst")),
        timeout=300, interval=0.05, message=f"first render ({what})",
    )  # fmt: skip
    out = wait_code(page, handle, timeout=300_000)
    build_s = float(re.search(r"BUILD_S=([0-9.]+)", out).group(1))
    total = (w["first"] - handle["t0"]) / 1000
    return dict(
        total_s=total,
        kernel_s=build_s,
        browser_s=total - build_s,
        mount_s=(w["mount"] - handle["t0"]) / 1000 if w["mount"] is not None else float("nan"),
        frames=w["frames"],
        frame_ms=w["frameMs"],
        next_s=(w["next"] - handle["t0"]) / 1000,
    )


def first_render(page, dtype: str, preload: str) -> dict:
    """Submit the cell that builds the Explorer from the synthetic recordings; time the first full render."""
    r = timed_render(
        page,
        f"ex = Explorer.from_recordings(recs, wire_dtype={dtype!r}, preload={preload!r}, "
        "selected_units=list(range(10)))",
        f"{dtype}, preload={preload}",
    )
    info = kernel_json(
        page,
        "import json\n"
        "_b = {k: v.nbytes for k, v in [(q, getattr(ex, '_data_' + q)) for q in 'hcifgo'] if v is not None}\n"
        "_b.update({'_arrays.' + k: v.nbytes for k, v in ex._arrays.items() if v is not None})\n"
        "print('JSON=' + json.dumps({'h_bytes': ex._data_h.nbytes, "
        "'h_values': int(np.prod(ex._data_h.shape)), 'state_bytes': sum(_b.values()), "
        "'loaded': ex.loaded_quantities}))",
    )
    return dict(dtype=dtype, preload=preload, **r, **info)


def model_render(page, T: int, H: int, D: int = 32) -> dict:
    """``Explorer(model, [x])`` of a real model (bench_record.py's Classifier: an nn.LSTM D → H and a Linear head on
    its last step) on one sequence of T steps, from submitting the cell to the first full render; the model's plain
    forward on the same x is timed in the kernel just before (median of 3)."""
    fwd = kernel_json(
        page,
        "import json, statistics, torch\n"
        "from bench_record import Classifier\n"
        "torch.manual_seed(0)\n"
        f"model, x = Classifier({D}, {H}).eval(), torch.randn(1, {T}, {D})\n"
        "_f = []\n"
        "for _ in range(3):\n"
        "    _t0 = time.perf_counter()\n"
        "    with torch.no_grad():\n"
        "        model(x)\n"
        "    _f.append(time.perf_counter() - _t0)\n"
        "print('JSON=' + json.dumps({'forward_s': statistics.median(_f)}))",
    )
    r = timed_render(page, "ex = Explorer(model, [x[0].numpy()], selected_units=list(range(10)))", f"model {T}×{H}")
    return dict(r, forward_s=fwd["forward_s"], T=T, H=H, D=D)


def scrub(page, keys: int, drag: int) -> dict:
    """Repaint times while stepping with → (one key per repaint) and while dragging the slider."""
    from lab import next_frames, run_code

    run_code(page, "ex.t = 0")
    wait_root(page)
    page.evaluate(f"() => {LAST_ROOT}.focus()")
    next_frames(page, 3)

    def step(act):
        """[data-frame-ms, frames, whole frame ms] of the repaint after act(), or None if none came within 2 s."""
        page.evaluate(ARM_NEXT_FRAME_JS)
        act()
        return page.evaluate(
            "() => Promise.race([window.__lwNext, new Promise((r) => setTimeout(() => r(null), 2000))])"
        )

    key_ms, key_frame, missed = [], [], 0
    for _ in range(keys):
        got = step(lambda: page.keyboard.press("ArrowRight"))
        if got is None:
            missed += 1
            continue
        key_ms.append(got[0])
        key_frame.append(got[2])
    info = page.evaluate(ROOT_INFO_JS, False)
    t_after_keys, box = info["t"], info["slider"]
    # Grab the thumb where it is (t after the keys), then drag it to the right end.
    T = page.evaluate(f"() => +{LAST_ROOT}.querySelector('.lw-timeline input[type=range]').max")
    y = box["y"] + box["height"] / 2
    x0 = box["x"] + 8 + (box["width"] - 16) * t_after_keys / max(1, T)
    x1 = box["x"] + box["width"] - 2
    page.mouse.move(x0, y)
    step(page.mouse.down)
    drag_ms, drag_frame = [], []
    for k in range(1, drag + 1):
        got = step(lambda k=k: page.mouse.move(x0 + (x1 - x0) * k / drag, y))
        if got is None:
            missed += 1
            continue
        drag_ms.append(got[0])
        drag_frame.append(got[2])
    page.mouse.up()
    t_after_drag = page.evaluate(ROOT_INFO_JS, False)["t"]
    return dict(
        keys=key_ms,
        drag=drag_ms,
        keys_frame=key_frame,
        drag_frame=drag_frame,
        t_after_keys=t_after_keys,
        t_after_drag=t_after_drag,
        missed=missed,
    )


HEATMAP_STATE_JS = (
    r"""
() => { const h = %s.querySelector('.lw-heatmap');
        return {window: h.dataset.window, lod: +h.dataset.lod, pyramid_ms: +(h.dataset.pyramidMs || 'NaN')}; }
"""
    % LAST_ROOT
)


def repaint_after(page, act):
    """[data-frame-ms, frames, whole frame ms] of the repaint after act(), or None if none came within 5 s."""
    page.evaluate(ARM_NEXT_FRAME_JS)
    act()
    return page.evaluate("() => Promise.race([window.__lwNext, new Promise((r) => setTimeout(() => r(null), 5000))])")


def zoom_pan(page, steps: int, drag: int) -> dict:
    """The long-sequence views: repaint ms after each + (zoom in ×2 around the cursor, from every step shown), while
    dragging the slider across the whole sequence with the views zoomed in (the window follows the cursor), and after
    0 (every step again)."""
    from lab import next_frames, run_code

    run_code(page, "ex.t = len(ex.recordings[0]) // 3")
    wait_root(page)
    page.evaluate(f"() => {LAST_ROOT}.focus()")
    next_frames(page, 3)
    zoom = []
    for _ in range(steps):
        got = repaint_after(page, lambda: page.keyboard.press("+"))
        zoom.append(dict(ms=got[0] if got else float("nan"), **page.evaluate(HEATMAP_STATE_JS)))
    info = page.evaluate(ROOT_INFO_JS, False)
    box = info["slider"]
    y = box["y"] + box["height"] / 2
    x0 = (
        box["x"]
        + 8
        + (box["width"] - 16)
        * info["t"]
        / max(1, page.evaluate(f"() => +{LAST_ROOT}.querySelector('.lw-timeline input[type=range]').max"))
    )
    x1 = box["x"] + box["width"] - 2
    page.mouse.move(x0, y)
    repaint_after(page, page.mouse.down)
    drag_ms, missed = [], 0
    for k in range(1, drag + 1):
        got = repaint_after(page, lambda k=k: page.mouse.move(x0 + (x1 - x0) * k / drag, y))
        if got is None:
            missed += 1
        else:
            drag_ms.append(got[0])
    page.mouse.up()
    after_drag = page.evaluate(HEATMAP_STATE_JS)
    page.evaluate(f"() => {LAST_ROOT}.focus()")
    got = repaint_after(page, lambda: page.keyboard.press("0"))
    out_ms = got[0] if got else float("nan")
    return dict(
        zoom=zoom,
        drag=drag_ms,
        after_drag=after_drag,
        out_ms=out_ms,
        out=page.evaluate(HEATMAP_STATE_JS),
        missed=missed,
    )


def cdp_lab(stack: ExitStack, log: Path):
    """JupyterLab (in a temporary directory) and a Chromium page over a bare DevTools connection, both closed with
    ``stack``: (server, page)."""
    sys.path.insert(0, str(UI))
    from server import VIEWPORT, start_server, stop_server

    base = Path(tempfile.mkdtemp(prefix="lw-bench-lab-"))
    stack.callback(shutil.rmtree, base, True)
    server = start_server(base, log)
    stack.callback(stop_server, server)
    return server, stack.enter_context(cdp_browser(VIEWPORT))


def open_warm_notebook(page, server, nb, filename: str, timeout: float | None = None) -> None:
    """Write ``nb`` (setup_notebook's) to the server, open it, run its cells and close the warm-up widget (the page
    has loaded the module by then)."""
    sys.path.insert(0, str(UI))
    from lab import open_notebook, run_all_cells, run_code, write_notebook

    name = write_notebook(server, nb, filename)
    open_notebook(page, server, name)
    run_all_cells(page, **({} if timeout is None else {"timeout": timeout}))
    wait_root(page)
    run_code(page, "warm.close(); del warm")


#: --stream: the views hidden one at a time (display: none, so the page neither lays them out nor rasters their
#: canvases; their JS still runs) to see which view's drawing the live stream's repaint rate pays for.
STREAM_HIDE = (None, ".lw-trajectory", ".lw-heatmap", ".lw-inputs,.lw-traces,.lw-probs,.lw-gates")
HIDE_JS = """(sel) => {
  for (const e of document.querySelectorAll('.lw-hidden-by-bench')) {
    e.classList.remove('lw-hidden-by-bench');
    e.style.display = '';
  }
  if (sel) for (const e of document.querySelectorAll(sel)) {
    e.classList.add('lw-hidden-by-bench');
    e.style.display = 'none';
  }
}"""


def run_stream(args) -> int:
    """--stream: the live stream only (3. of the module's docstring, the kernel feeding every animation frame), once
    with every view shown and once with each of STREAM_HIDE hidden."""
    cfg = QUICK if args.quick else FULL
    print(
        "lstm_widget front-end benchmark, live stream only: the Japanese Vowels explorer, ex.stream(x, "
        f"fps={cfg['stream_fps']}, batch_ms=8), one torch thread; Chromium through a bare DevTools connection"
    )
    results = []
    with ExitStack() as stack:
        server, page = cdp_lab(stack, args.log)
        open_warm_notebook(page, server, setup_notebook(200, 16), "bench_stream.ipynb")
        jv_explorer(page)
        idle_raf = page.evaluate(RAF_RATE_JS, 2000)
        hides = STREAM_HIDE[:1] if args.all_shown else STREAM_HIDE
        for hide in hides + tuple(args.hide):
            page.evaluate(HIDE_JS, hide)
            print(f"  hidden: {hide or 'none'} ...", flush=True)
            results.append(
                (hide, stream(page, cfg["stream_steps"], cfg["stream_fps"], cfg["stream_s"], 1, 8, args.trace))
            )
    print()
    print(
        f"Live stream repaints per second (rAF ceiling with nothing happening {idle_raf:.1f} /s; goal ≥ {GOAL_FPS:.0f})"
    )
    for hide, s in results:
        m, c = s["main"], s["cpu"]
        print(
            f"  hidden {hide or 'none':45s} {s['fps']:5.1f} /s (worst 1 s {s['fps_worst_1s']:5.1f}); "
            f"{s['steps_per_s']:.0f} steps/s; page main thread busy {m['Task']:.0%} (script {m['Script']:.0%}, "
            f"style {m['RecalcStyle']:.0%}, layout {m['Layout']:.0%}); "
            f"cores: kernel {c['kernel']:.2f}, chromium {c['chromium']:.2f}"
        )
        ms, n = s["view_ms"] or {}, max(s["repaints"], 1)
        shares = sorted(ms.items(), key=lambda kv: -kv[1])
        print("    JS ms per repaint by view: " + ", ".join(f"{k} {v / n:.2f}" for k, v in shares))
        if s["trace"]:
            per_s = 1 / max(s["trace_s"], 1e-9)
            tr = s["trace"]
            print(
                "    trace, ms per s busy by thread: "
                + ", ".join(f"{k} {v * per_s:.0f}" for k, v in tr["busy"].items())
            )
            print(
                "    trace, main thread self ms per s: " + ", ".join(f"{k} {v * per_s:.0f}" for k, v in tr["main_self"])
            )
    return 0


def run_long(args) -> int:
    """--long: first render, bytes, scrub and zoom at T = 100 000 × H = 1024 (see the module's docstring, 5.)."""
    cfg = LONG_QUICK if args.quick else LONG
    T, H = cfg["T"], cfg["H"]
    print(
        f"lstm_widget front-end benchmark, long sequences{' (--quick)' if args.quick else ''}: T = {T} steps × "
        f"H = {H} units, 1 layer, one sequence; Chromium through a bare DevTools connection, viewport 1280×1000"
    )
    t_start = time.perf_counter()
    nb = setup_notebook(T, H)
    renders, scrubbed, zoomed = [], None, None
    with ExitStack() as stack:
        server, page = cdp_lab(stack, args.log)
        print("  JupyterLab is up; building the recording in the kernel ...", flush=True)
        open_warm_notebook(page, server, nb, "bench_long.ipynb", timeout=900_000)
        clear_outputs(page)
        for dtype in LONG_DTYPES:
            print(f"  first render: {dtype}, preload=auto ...", flush=True)
            r = first_render(page, dtype, "auto")
            r.update(page.evaluate(HEATMAP_STATE_JS))
            renders.append(r)
            print(
                f"    {r['total_s']:.2f} s (kernel {r['kernel_s']:.2f} s; repaint #{r['frames']} took "
                f"{r['frame_ms']:.0f} ms, the pyramid {r['pyramid_ms']:.0f} ms of it; _data_h "
                f"{r['h_bytes'] / 2**20:.1f} MiB)",
                flush=True,
            )
            if dtype == "float16":
                print(
                    f"  scrub, zoomed out: {cfg['scrub_keys']} × → and {cfg['scrub_drag']} slider positions ...",
                    flush=True,
                )
                scrubbed = scrub(page, cfg["scrub_keys"], cfg["scrub_drag"])
                print(f"  zoom: {cfg['zoom_steps']} × +, a slider drag zoomed in, 0 ...", flush=True)
                zoomed = zoom_pan(page, cfg["zoom_steps"], cfg["zoom_drag"])
            close_explorer(page)

    print()
    print(
        f"Scrub at T = {T} × H = {H} (float16, preload=auto: h only, 10 units selected, every step shown: the "
        f"heatmap from its pyramid level of {renders[0]['lod']} steps); data-frame-ms of the repaint after each "
        "input:"
    )
    rows = []
    for what, key in (("→ key (1 step)", "keys"), ("slider drag", "drag")):
        v, f = scrubbed[key], scrubbed[key + "_frame"]
        print(
            f"  {what:16s} n={len(v):4d}  p50 {pct(v, 50):6.2f} ms   p95 {pct(v, 95):6.2f} ms   max {max(v):6.2f} ms"
            f"   (whole frame: p50 {pct(f, 50):.1f} ms, p95 {pct(f, 95):.1f} ms)"
        )
        rows.append(
            (
                f"scrub repaint p95, {what}, zoomed out",
                f"{pct(v, 95):.2f} ms (p50 {pct(v, 50):.2f})",
                f"≤ {GOAL_FRAME_MS:.0f} ms",
                pct(v, 95) <= GOAL_FRAME_MS,
            )
        )
    print(f"  ({scrubbed['missed']} inputs brought no repaint within 2 s)")
    print()
    print("Zoom (+ on the focused widget: ×2 around the cursor); repaint ms, window shown, heatmap source block:")
    for z in zoomed["zoom"]:
        print(f"  window {z['window']:>14s}  lod {z['lod']:5d}  {z['ms']:7.2f} ms")
    v = zoomed["drag"]
    w = zoomed["after_drag"]
    print(
        f"  slider drag zoomed in (window {w['window']}, lod {w['lod']} at the end; every time view redrawn per "
        f"frame): n={len(v)} p50 {pct(v, 50):.2f} ms  p95 {pct(v, 95):.2f} ms  "
        f"max {max(v) if v else float('nan'):.2f} ms"
    )
    print(f"  0 (every step again, from the cached pyramid): {zoomed['out_ms']:.2f} ms")
    zms = [z["ms"] for z in zoomed["zoom"]]
    rows.append(
        (
            "zoom-in repaint p95 (heatmap + lines rebuilt)",
            f"{pct(zms, 95):.2f} ms (max {max(zms):.2f})",
            f"≤ {GOAL_FRAME_MS:.0f} ms",
            pct(zms, 95) <= GOAL_FRAME_MS,
        )
    )
    rows.append(
        (
            "slider drag zoomed in, repaint p95",
            f"{pct(v, 95):.2f} ms (p50 {pct(v, 50):.2f})",
            f"≤ {GOAL_FRAME_MS:.0f} ms",
            pct(v, 95) <= GOAL_FRAME_MS,
        )
    )
    print()
    print(f"First render and bytes at T = {T} × H = {H} (float32 would be {T * H * 4 / 2**20:.0f} MiB for h alone)")
    for r in renders:
        print(
            f"  {r['dtype']:8s} total {r['total_s']:6.2f} s (kernel {r['kernel_s']:.2f} s, browser "
            f"{r['browser_s']:.2f} s; that repaint {r['frame_ms']:.0f} ms incl. the pyramid "
            f"{r['pyramid_ms']:.0f} ms); _data_h "
            f"{r['h_bytes']:,} B = {r['h_bytes'] / r['h_values']:.3f} B/value; all arrays {r['state_bytes']:,} B"
        )
        rows.append((f"first render, {r['dtype']}", f"{r['total_s']:.2f} s (kernel {r['kernel_s']:.2f})", "–", None))
        rows.append(
            (
                f"bytes _data_h, {r['dtype']}",
                f"{r['h_bytes'] / 2**20:.1f} MiB ({r['h_bytes'] / r['h_values']:.3f} B/value)",
                f"≤ {GOAL_BYTES[r['dtype']]} B/value",
                r["h_bytes"] / r["h_values"] <= GOAL_BYTES[r["dtype"]],
            )
        )
    header = ("figure", "measured", "goal", "ok?")
    table = [header] + [(a, b, c, "–" if ok is None else ("yes" if ok else "NO")) for a, b, c, ok in rows]
    widths = [max(len(str(r[k])) for r in table) for k in range(4)]
    print()
    print(
        f"Summary (long: T = {T} × H = {H}{', --quick' if args.quick else ''}; {time.perf_counter() - t_start:.0f} s)"
    )
    print(fmt_row(header, widths))
    print(fmt_row(["-" * w for w in widths], widths))
    for r in table[1:]:
        print(fmt_row(r, widths))
    return 0


def jv_explorer(page) -> None:
    """The Japanese Vowels explorer of the demo notebook (370 test utterances, 10 units selected)."""
    from lab import run_code

    run_code(
        page,
        "from lstm_widget.models import japanese_vowels_net\n"
        "from lstm_widget.datasets import japanese_vowels, JAPANESE_VOWELS_CLASS_NAMES, JAPANESE_VOWELS_FEATURE_NAMES\n"
        "net = japanese_vowels_net()\n"
        "X, y = japanese_vowels('test')\n"
        "ex = Explorer(net, X, labels=y, class_names=JAPANESE_VOWELS_CLASS_NAMES, "
        "feature_names=JAPANESE_VOWELS_FEATURE_NAMES, selected_units=list(range(10)))\n"
        "ex",
        timeout=300_000,
    )
    wait_root(page)


def trace_summary(events: list[dict], top: int = 14) -> dict:
    """Of a DevTools trace: per thread name, the ms its top-level events took; on the page's main thread
    (CrRendererMain with the most events), the self ms of each event name, the `top` largest."""
    names, threads = {}, {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[(e["pid"], e["tid"])] = e["args"]["name"]
        elif e.get("ph") == "X" and "dur" in e:
            threads.setdefault((e["pid"], e["tid"]), []).append(e)
    busy, self_ms, main, most = {}, {}, None, -1
    for key, evs in threads.items():
        name = names.get(key, "?")
        if name == "CrRendererMain" and len(evs) > most:
            main, most = key, len(evs)
    for key, evs in threads.items():
        name = re.sub(r"\d+$", "", names.get(key, "?"))
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []  # [end, name, child time]
        for e in evs:
            while stack and stack[-1][0] <= e["ts"]:
                end, n, child, dur = stack.pop()
                if key == main:
                    self_ms[n] = self_ms.get(n, 0.0) + (dur - child) / 1e3
            if not stack:
                busy[name] = busy.get(name, 0.0) + e["dur"] / 1e3
            else:
                stack[-1][2] += e["dur"]
            stack.append([e["ts"] + e["dur"], e["name"], 0, e["dur"]])
        while stack:
            end, n, child, dur = stack.pop()
            if key == main:
                self_ms[n] = self_ms.get(n, 0.0) + (dur - child) / 1e3
            if stack:
                pass
    top_self = sorted(self_ms.items(), key=lambda kv: -kv[1])[:top]
    return {"busy": dict(sorted(busy.items(), key=lambda kv: -kv[1])[:8]), "main_self": top_self}


def stream(
    page,
    steps: int,
    fps: float,
    max_s: float,
    threads: int | None = None,
    batch_ms: float | None = None,
    trace: bool = False,
) -> dict:
    """ex.stream of a tiled test utterance at ``fps``: repaints and steps per second seen in the page. ``steps`` is cut
    to what the kernel steps in about ``max_s`` seconds (timed first); ``threads`` sets torch's threads first;
    ``batch_ms`` is passed on (None: stream's default)."""
    from lab import next_frames, run_code, start_code, wait_code

    info = json.loads(
        re.search(
            r"JSON=(\{.*\})",
            run_code(
                page,
                "import json, torch, lstm_widget as lw\n"
                + (f"torch.set_num_threads({threads})\n" if threads else "")
                + "_st = lw.Stepper(net)\n"
                "_t0 = time.perf_counter()\n"
                "for _k in range(100): _st.step(X[0][_k % len(X[0])])\n"
                "_rate = 100 / (time.perf_counter() - _t0)\n"
                f"_n = int(max(100, min({steps}, {max_s} * min(_rate, {fps}))))\n"
                "x = np.tile(X[0], (-(-_n // len(X[0])), 1))[:_n]\n"
                "print('JSON=' + json.dumps({'n_seq': len(ex.recordings), 'steps': _n, 'step_rate': _rate, "
                "'threads': torch.get_num_threads()}))",
            ),
        ).group(1)
    )
    n_seq, steps = info["n_seq"], info["steps"]
    next_frames(page, 5)
    page.evaluate(SAMPLER_START_JS)
    page.evaluate("() => { globalThis.__lwViewMs = {}; }")  # js/src/loop.js: ms of each view's render, summed
    cpu0, main0 = cpu_snapshot(), page_metrics(page)
    if trace:
        page.trace_start()
    handle = start_code(
        page,
        "_t0 = time.perf_counter()\n"
        f"_ = ex.stream(x, fps={fps}{'' if batch_ms is None else f', batch_ms={batch_ms}'})\n"
        "print(f'STREAM_S={time.perf_counter() - _t0:.4f}')",
    )
    # CPU and the page's main thread while the steps arrive (the traits' resync after the stream left out).
    page.wait_for_function(
        f"() => {{ const r = {LAST_ROOT}; const p = r.querySelector('.lw-picker select'); "
        f"return +p.value === {n_seq} && +r.querySelector('.lw-timeline input[type=range]').max + 1 >= {steps}; }}",
        timeout=300_000, polling=250,
    )  # fmt: skip
    cpu = cpu_between(cpu0, cpu_snapshot())
    main1 = page_metrics(page)
    traced = trace_summary(page.trace_stop()) if trace else None
    main = {k: (main1[k] - main0[k]) / (main1["wall"] - main0["wall"]) for k in main0 if k != "wall"}
    out = wait_code(page, handle, timeout=300_000)
    next_frames(page, 3)
    rows = page.evaluate("() => { window.__lwSampler.on = false; return window.__lwSampler.rows; }")
    view_ms = page.evaluate("() => { const v = globalThis.__lwViewMs; globalThis.__lwViewMs = null; return v; }")
    kernel_s = float(re.search(r"STREAM_S=([0-9.]+)", out).group(1))
    a = np.asarray(rows, float)  # time, frames, T of shown sequence, shown sequence, frame ms
    live = np.flatnonzero(a[:, 3] == n_seq)
    if not live.size:
        raise RuntimeError("the page never showed the streamed sequence")
    first = live[0]
    full = np.flatnonzero((a[:, 3] == n_seq) & (a[:, 2] >= steps))
    last = full[0] if full.size else live[-1]
    w = a[first : last + 1]
    t, frames, T = w[:, 0], w[:, 1], w[:, 2]
    dt = (t[-1] - t[0]) / 1000
    fps_mean = (frames[-1] - frames[0]) / dt if dt > 0 else float("nan")
    steps_per_s = (T[-1] - T[0]) / dt if dt > 0 else float("nan")
    # "Sustained": the worst 1-s window (stepped by samples) of repaints per second.
    worst = fps_mean
    for k in range(len(t)):
        j = np.searchsorted(t, t[k] + 1000)
        if j >= len(t):
            break
        worst = min(worst, (frames[j] - frames[k]) * 1000 / (t[j] - t[k]))
    new_frame = np.flatnonzero(np.diff(frames) > 0) + 1
    frame_ms = w[new_frame, 4] if new_frame.size else np.array([np.nan])
    return dict(
        fps=fps_mean,
        fps_worst_1s=worst,
        steps_per_s=steps_per_s,
        window_s=dt,
        kernel_s=kernel_s,
        steps=steps,
        stream_fps=fps,
        raf_ticks=len(t) - 1,
        ticks_with_repaint=int(new_frame.size),
        n_sequences=n_seq,
        step_rate=info["step_rate"],
        threads=info["threads"],
        batch_ms=batch_ms,
        frame_ms_p50=pct(frame_ms, 50),
        frame_ms_p95=pct(frame_ms, 95),
        raf_rate=(len(t) - 1) / dt,
        cpu=cpu,
        main=main,
        view_ms=view_ms,
        repaints=int(frames[-1] - a[0, 1]),
        trace=traced,
        trace_s=main1["wall"] - main0["wall"],
    )


def stream_bytes(steps: int = 200) -> dict:
    """Bytes of the "append" messages of ex.stream per step, per dtype (kernel side, no browser): the Japanese Vowels
    explorer with the default preload (every quantity loaded), ``send`` captured."""
    import lstm_widget as lw
    from lstm_widget.datasets import japanese_vowels
    from lstm_widget.models import japanese_vowels_net

    net = japanese_vowels_net()
    X, y = japanese_vowels("test")
    x = np.tile(X[0], (-(-steps // len(X[0])), 1))[:steps]
    out = {}
    for dtype in DTYPES:
        ex = lw.Explorer(net, X[:20], wire_dtype=dtype)
        sent = []
        ex.send = lambda content, buffers=None, sent=sent: sent.append((content, buffers or []))
        ex.stream(x)
        appends = [(c, b) for c, b in sent if c.get("type") == "append"]
        buf = sum(memoryview(v).nbytes for _, b in appends for v in b)
        header = sum(len(json.dumps(c)) for c, _ in appends)
        values = sum(int(np.prod(f["shape"])) for c, _ in appends for f in c["fields"])
        out[dtype] = dict(
            buffer_per_step=buf / steps,
            header_per_msg=header / len(appends),
            per_value=buf / values,
            values_per_step=values / steps,
        )
        ex.close()
    return out


# ----------------------------------------------------------------------------------------------------------------------
# Report


def setup_notebook(T: int, H: int):
    """The benchmark's notebook: one cell that builds synthetic recordings of T × H in the kernel (``recs``) and
    shows a tiny explorer first, so that imports and the page's module load before anything is timed."""
    import nbformat

    setup = (
        "import gc, sys, time\n"
        "import numpy as np\n"
        f"sys.path.insert(0, {str(HERE)!r})\n"
        "from bench_frontend import synthetic_recordings\n"
        "from lstm_widget import Explorer\n"
        "_t0 = time.perf_counter()\n"
        f"recs = synthetic_recordings({T}, {H})\n"
        "print(f'synthetic recordings built in {time.perf_counter() - _t0:.1f} s')\n"
        "warm = Explorer.from_recordings(synthetic_recordings(50, 8))  # imports and the page's module, not timed\n"
        "warm"
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(setup)]
    return nb


def fmt_row(cells, widths):
    return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every measurement")
    ap.add_argument(
        "--playwright",
        action="store_true",
        help="drive Chromium through Playwright (tests/ui's server_and_browser) instead of a bare DevTools "
        "connection: Playwright copies every websocket frame to its driver (skips float32 "
        "preload=all, which runs the driver out of memory)",
    )
    ap.add_argument(
        "--long",
        action="store_true",
        help="long sequences only: T = 100 000 × H = 1024 as float16 and uint8; scrub, zoom, bytes",
    )
    ap.add_argument(
        "--log",
        type=Path,
        default=UI / "artifacts" / "bench-frontend-server.log",
        help="JupyterLab's log (default: %(default)s)",
    )
    ap.add_argument(
        "--stream",
        action="store_true",
        help="the live stream only, with every view shown and with the heavy ones hidden in turn",
    )
    ap.add_argument(
        "--hide",
        action="append",
        default=[],
        metavar="SELECTOR",
        help="with --stream: one more run with the elements matching SELECTOR hidden (repeatable)",
    )
    ap.add_argument(
        "--trace",
        action="store_true",
        help="with --stream: take a DevTools trace of each run and print where the page's threads spend the time",
    )
    ap.add_argument(
        "--all-shown",
        action="store_true",
        help="with --stream: only the run with every view shown (no runs with views hidden)",
    )
    args = ap.parse_args(argv)
    if args.long:
        return run_long(args)
    if args.stream:
        return run_stream(args)
    cfg = QUICK if args.quick else FULL
    T, H = cfg["T"], cfg["H"]

    sys.path.insert(0, str(UI))
    from lab import watch_console
    from server import VIEWPORT, server_and_browser

    print(
        f"lstm_widget front-end benchmark{' (--quick)' if args.quick else ''}: T = {T} steps × H = {H} units, "
        f"1 layer, D = 12 inputs, C = 9 classes; Chromium through "
        f"{'Playwright' if args.playwright else 'a bare DevTools connection'}, viewport 1280×1000"
    )
    print(
        "  recordings for scrub / first render are synthetic (numpy: AR(1) pre-activations through the LSTM cell "
        "equations; a real lw.record at 10 000 × 1024 takes ~30 s on this CPU)"
    )
    t_start = time.perf_counter()

    print("  bytes per streamed step (kernel side) ...", flush=True)
    sbytes = stream_bytes()

    nb = setup_notebook(T, H)

    renders, scrubbed, streamed, console, skipped = [], None, [], [], []
    with ExitStack() as stack:
        if args.playwright:
            server, browser = stack.enter_context(server_and_browser(args.log))
            context = browser.new_context(viewport=VIEWPORT)
            stack.callback(context.close)
            page = context.new_page()
            console = watch_console(page)
        else:
            server, page = cdp_lab(stack, args.log)
        try:
            print("  JupyterLab is up; opening the notebook, building the recordings in the kernel ...", flush=True)
            open_warm_notebook(page, server, nb, "bench_frontend.ipynb")
            clear_outputs(page)

            for dtype in DTYPES:
                for preload in ("auto", "all"):
                    if args.playwright and preload == "all" and dtype == "float32" and not args.quick:
                        skipped.append((dtype, preload))  # Playwright's driver runs out of memory (see cdp_browser)
                        continue
                    print(f"  first render: {dtype}, preload={preload} ...", flush=True)
                    r = first_render(page, dtype, preload)
                    renders.append(r)
                    print(
                        f"    {r['total_s']:.2f} s (kernel {r['kernel_s']:.2f} s, widget root after "
                        f"{r['mount_s']:.2f} s, repaint #{r['frames']} took {r['frame_ms']:.1f} ms; "
                        f"{r['state_bytes'] / 2**20:.1f} MiB of arrays: {','.join(r['loaded'])})",
                        flush=True,
                    )
                    if (dtype, preload) == ("float32", "auto"):
                        print(
                            f"  scrub: {cfg['scrub_keys']} × → and {cfg['scrub_drag']} slider positions ...", flush=True
                        )
                        scrubbed = scrub(page, cfg["scrub_keys"], cfg["scrub_drag"])
                    close_explorer(page)

            print(f"  first render of Explorer(model, [x]), a real 1 × {T} × 32 → {H} model ...", flush=True)
            modeled = model_render(page, T, H)
            close_explorer(page)

            print("  live stream: the Japanese Vowels explorer ...", flush=True)
            jv_explorer(page)
            idle_raf = page.evaluate(RAF_RATE_JS, 2000)
            # As a user gets it (torch's threads as they are, stream's default batching); then the kernel made to
            # feed every animation frame (one torch thread: tiny per-step ops, no thread hand-offs; a message every
            # 8 ms), so that the page's own rate shows.
            for threads, batch_ms in ((None, None), (1, 8)):
                print(
                    f"  live stream: ex.stream(x, fps={cfg['stream_fps']}"
                    f"{'' if batch_ms is None else f', batch_ms={batch_ms}'}), torch threads "
                    f"{threads or 'as they are'} ...",
                    flush=True,
                )
                streamed.append(
                    stream(page, cfg["stream_steps"], cfg["stream_fps"], cfg["stream_s"], threads, batch_ms)
                )
        finally:
            if console:
                print("  browser console:\n    " + "\n    ".join(console[-20:]))

    # ---- report ----------------------------------------------------------------------------------------------------
    print()
    print(
        f"Scrub at T = {T} × H = {H} (float32, preload=auto, 10 units selected); data-frame-ms of the repaint "
        "after each input:"
    )
    for what, key in (("→ key (1 step)", "keys"), ("slider drag", "drag")):
        v, f = scrubbed[key], scrubbed[key + "_frame"]
        print(
            f"  {what:16s} n={len(v):4d}  p50 {pct(v, 50):6.2f} ms   p95 {pct(v, 95):6.2f} ms   max {max(v):6.2f} ms"
            f"   (whole frame, repaint → next animation frame: p50 {pct(f, 50):.1f} ms, p95 {pct(f, 95):.1f} ms)"
        )
    print(
        f"  (cursor at t = {scrubbed['t_after_keys']} after the keys, t = {scrubbed['t_after_drag']} after the drag; "
        f"{scrubbed['missed']} inputs brought no repaint within 2 s)"
    )

    print()
    print(f"First render at T = {T} × H = {H}: cell submitted → first repaint with the heatmap drawn")
    print(
        "  dtype     preload  total    kernel   browser  (root mounted; that repaint's JS; next frame, i.e. after its"
        " raster; arrays sent)"
    )
    for r in renders:
        print(
            f"  {r['dtype']:8s}  {r['preload']:7s}  {r['total_s']:5.2f} s  {r['kernel_s']:5.2f} s  "
            f"{r['browser_s']:5.2f} s  ({r['mount_s']:.2f} s; {r['frame_ms']:.0f} ms; {r['next_s']:.2f} s; "
            f"{r['state_bytes'] / 2**20:.1f} MiB)"
        )
    for dtype, preload in skipped:
        print(f"  {dtype:8s}  {preload:7s}  not measured through Playwright (its driver runs out of memory)")
    print(
        "  (kernel = Explorer.from_recordings: the trajectory's projection fitted on the (T, H) states, the traits "
        "encoded, the comm opened with them)"
    )
    m = modeled
    print(
        f"  Explorer(model, [x]), 1 × {m['T']} × {m['D']} → {m['H']} LSTM + head: {m['total_s']:.2f} s (kernel "
        f"{m['kernel_s']:.2f} s = {m['kernel_s'] / m['forward_s']:.2f} × the plain forward's {m['forward_s']:.2f} s; "
        f"browser {m['browser_s']:.2f} s: root mounted {m['mount_s']:.2f} s, that repaint's JS {m['frame_ms']:.0f} ms, "
        f"next frame {m['next_s']:.2f} s)"
    )

    print()
    s0 = streamed[0]
    print(
        f"Live stream: Japanese Vowels net (12 → LSTM 100 → 9), {s0['n_sequences']} test utterances shown, "
        f"ex.stream(x, fps={s0['stream_fps']}) of a tiled utterance (cut to ~{cfg['stream_s']} s of the kernel's "
        "stepping rate)"
    )
    print(f"  page requestAnimationFrame rate with nothing happening (the ceiling): {idle_raf:.1f} /s")
    for s in streamed:
        print(
            f"  torch threads {s['threads']}, batch_ms {s['batch_ms'] or '16 (default)'}: Stepper.step "
            f"{1e3 / s['step_rate']:.2f} ms/step alone; {s['steps']} steps streamed in {s['kernel_s']:.2f} s"
        )
        print(
            f"    repaints {s['fps']:.1f} /s (worst 1-s window {s['fps_worst_1s']:.1f}; {s['ticks_with_repaint']} "
            f"of {s['raf_ticks']} animation frames repainted; repaint p50 {s['frame_ms_p50']:.1f} ms, p95 "
            f"{s['frame_ms_p95']:.1f} ms) over {s['window_s']:.2f} s; {s['steps_per_s']:.0f} steps/s appended"
        )
        c, m = s["cpu"], s["main"]
        ours = c["kernel"] + c["server"] + c["chromium"] + c["other"]
        print(
            f"    animation frames in the page {s['raf_rate']:.1f} /s; the page's main thread busy {m['Task']:.0%} "
            f"of the time (script {m['Script']:.0%}, layout {m['Layout']:.0%}, style {m['RecalcStyle']:.0%})"
        )
        share = sorted(s["view_ms"].items(), key=lambda kv: -kv[1])[:5]
        per = ", ".join(f"{k[3:]} {v / max(1, s['repaints']):.1f} ms" for k, v in share)
        print(f"    JS per repaint by view: {per}")
        print(
            f"    cores busy (of {os.cpu_count()}): kernel {c['kernel']:.2f}, jupyter server {c['server']:.2f}, "
            f"chromium {c['chromium']:.2f}, this script {c['other']:.2f}; the rest of the machine "
            f"{max(0.0, c['machine_busy'] - ours):.2f}"
        )

    print()
    print("Bytes on the wire")
    by_dtype = {r["dtype"]: r for r in renders if r["preload"] == "auto"}
    for d in DTYPES:
        r, b = by_dtype[d], sbytes[d]
        print(
            f"  {d:8s} _data_h: {r['h_bytes'] / r['h_values']:.3f} B/value ({r['h_bytes'] / 2**20:.1f} MiB); "
            f"stream: {b['per_value']:.3f} B/value, {b['buffer_per_step']:.0f} B/step of arrays "
            f"({b['values_per_step']:.0f} values: h c i f g o × 100, 12 inputs, 9 probs, 2 traj) "
            f"+ {b['header_per_msg']:.0f} B of JSON per message"
        )

    # ---- table -----------------------------------------------------------------------------------------------------
    rows = []
    for what, key in (("→ key", "keys"), ("slider drag", "drag")):
        v = scrubbed[key]
        rows.append(
            (
                f"scrub repaint p95, {what}",
                f"{pct(v, 95):.2f} ms (p50 {pct(v, 50):.2f}, max {max(v):.2f})",
                f"≤ {GOAL_FRAME_MS:.0f} ms",
                pct(v, 95) <= GOAL_FRAME_MS,
            )
        )
    for r in renders:
        rows.append(
            (
                f"first render, {r['dtype']}, preload={r['preload']}",
                f"{r['total_s']:.2f} s (kernel {r['kernel_s']:.2f} + browser {r['browser_s']:.2f})",
                f"≤ {GOAL_FIRST_S:.0f} s",
                r["total_s"] <= GOAL_FIRST_S,
            )
        )
    m = modeled
    rows.append(
        (
            f"first render, Explorer(model, [x]) 1 × {m['T']} × {m['D']} → {m['H']}",
            f"{m['total_s']:.2f} s (forward {m['forward_s']:.2f} + {m['total_s'] - m['forward_s']:.2f})",
            f"≤ forward + 3 s = {m['forward_s'] + 3:.2f} s",
            m["total_s"] <= m["forward_s"] + 3,
        )
    )
    rows.append(
        (
            "  its construction / plain forward",
            f"{m['kernel_s'] / m['forward_s']:.2f} ({m['kernel_s']:.2f} s / {m['forward_s']:.2f} s)",
            "≤ 1.5",
            m["kernel_s"] / m["forward_s"] <= 1.5,
        )
    )
    for s in streamed:
        how = f"torch threads {s['threads']}, batch_ms {s['batch_ms'] or 16}"
        rows.append(
            (
                f"live stream repaints/s, {how}",
                f"{s['fps']:.1f} (worst 1 s {s['fps_worst_1s']:.1f}; rAF ceiling {idle_raf:.1f})",
                f"≥ {GOAL_FPS:.0f}",
                s["fps_worst_1s"] >= GOAL_FPS,
            )
        )
        rows.append((f"live stream steps/s appended, {how}", f"{s['steps_per_s']:.0f}", "–", None))
    for d in DTYPES:
        r = by_dtype[d]
        v = r["h_bytes"] / r["h_values"]
        rows.append((f"bytes/value _data_h, {d}", f"{v:.3f}", f"≤ {GOAL_BYTES[d]}", v <= GOAL_BYTES[d]))
    for d in DTYPES:
        b = sbytes[d]
        rows.append(
            (
                f"bytes/step stream, {d}",
                f"{b['buffer_per_step']:.0f} + {b['header_per_msg']:.0f}/message ({b['per_value']:.3f} B/value)",
                f"≤ {GOAL_BYTES[d]} B/value",
                b["per_value"] <= GOAL_BYTES[d],
            )
        )
    header = ("figure", "measured", "goal", "ok?")
    table = [header] + [(a, b, c, "–" if ok is None else ("yes" if ok else "NO")) for a, b, c, ok in rows]
    widths = [max(len(str(r[k])) for r in table) for k in range(4)]
    print()
    print(f"Summary (T = {T} × H = {H}{', --quick' if args.quick else ''}; {time.perf_counter() - t_start:.0f} s)")
    print(fmt_row(header, widths))
    print(fmt_row(["-" * w for w in widths], widths))
    for r in table[1:]:
        print(fmt_row(r, widths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
