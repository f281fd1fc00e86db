"""Drive the dev harness in headless Chromium (Playwright for Python, system Chromium).

Serve the repository root first:   python -m http.server -b 127.0.0.1 8765
Then:  python js/dev/drive.py shot  "data=small" out.png      # screenshot
       python js/dev/drive.py scrub "data=big"                 # frame times while scrubbing (p50/p95)
       python js/dev/drive.py check "data=small"               # keyboard / click linking / data-t checks
"""

import itertools
import json
import statistics
import sys

from playwright.sync_api import sync_playwright

BASE = "http://127.0.0.1:8765/js/dev/harness.html?"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def open_page(p, query, width=1220, height=1000):
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
    page = browser.new_page(viewport={"width": width, "height": height})
    errors = []
    page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.goto(BASE + query)
    page.wait_for_selector(".lstm-widget", timeout=120_000)
    page.wait_for_function("document.querySelector('.lstm-widget').dataset.frameMs !== '0'", timeout=120_000)
    page.wait_for_timeout(400)
    return browser, page, errors


def percentiles(xs):
    xs = sorted(xs)
    if not xs:
        return {"n": 0}

    def q(f):
        return xs[min(len(xs) - 1, int(round(f * (len(xs) - 1))))]

    return {"n": len(xs), "p50": q(0.5), "p95": q(0.95), "max": xs[-1], "mean": statistics.fmean(xs)}


SCRUB_JS = """
async ({steps, mode}) => {
  const root = document.querySelector('.lstm-widget');
  const slider = root.querySelector('.lw-timeline input[type=range]');
  const T = Number(slider.max) + 1;
  const out = [];
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  for (let k = 0; k < steps; k++) {
    if (mode === 'key') {
      root.focus();
      root.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true, cancelable: true}));
    } else {
      slider.value = String(Math.floor((k * 7919) % T));
      slider.dispatchEvent(new Event('input', {bubbles: true}));
    }
    await frame();
    await frame();
    out.push(Number(root.dataset.frameMs));
  }
  return out;
}
"""


PLAY_JS = """
async () => {
  const root = document.querySelector('.lstm-widget');
  harness.model.kernelSet('t', 0);
  harness.model.kernelSet('speed', 1024);
  harness.model.kernelSet('playing', true);
  const frame = [], interval = [];
  let last = performance.now();
  const t0 = last;
  while (performance.now() - t0 < 2500) {
    if (!harness.model.get('playing')) {  // short sequences: play them again
      harness.model.kernelSet('t', 0);
      harness.model.kernelSet('playing', true);
    }
    await new Promise(r => requestAnimationFrame(() => r()));
    const now = performance.now();
    interval.push(now - last); last = now;
    frame.push(Number(root.dataset.frameMs));
  }
  harness.model.kernelSet('playing', false);
  harness.model.kernelSet('speed', 8);
  return {frame: frame.slice(2), interval: interval.slice(2)};
}
"""


REBUILD_JS = """
async () => {
  const root = document.querySelector('.lstm-widget');
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  const out = {};
  const pick = async (label, value, name) => {
    const sel = root.querySelector(`.lw-heatmap select[aria-label='${label}']`);
    sel.value = value;
    sel.dispatchEvent(new Event('change', {bubbles: true}));
    await frame(); await frame();
    const msg = root.querySelector('.lw-heatmap .lw-message');
    for (let k = 0; k < 600 && !msg.hidden; k++) await frame();  // a quantity not loaded yet: wait for the kernel
    out[name] = Number(root.dataset.frameMs);
  };
  await pick('Quantity', 'c', 'quantity c (float16)');
  await pick('Quantity', 'f', 'quantity f (uint8)');
  await pick('Unit order', 'peak', 'order peak');
  await pick('Unit order', 'variance', 'order variance');
  await pick('Unit order', 'clustered', 'order clustered');
  await pick('Unit order', 'index', 'order index');
  const picker = root.querySelector('.lw-picker select');
  if (picker.options.length > 1) {
    picker.value = '1'; picker.dispatchEvent(new Event('change', {bubbles: true}));
    await frame(); await frame();
    out['switch sequence'] = Number(root.dataset.frameMs);
  }
  return out;
}
"""


def main():
    cmd, query = sys.argv[1], sys.argv[2]
    with sync_playwright() as p:
        browser, page, errors = open_page(
            p, query, *([int(sys.argv[4]), int(sys.argv[5])] if len(sys.argv) > 5 else [])
        )
        if cmd == "shot":
            page.screenshot(path=sys.argv[3], full_page=True)
        elif cmd == "scrub":
            info = page.evaluate("({gen: window.harness.genMs, mount: window.harness.mountMs})")
            frames = page.evaluate(
                SCRUB_JS, {"steps": int(sys.argv[3]) if len(sys.argv) > 3 else 120, "mode": "slider"}
            )
            keys = page.evaluate(SCRUB_JS, {"steps": 60, "mode": "key"})
            cadence = page.evaluate(PLAY_JS)
            rebuild = page.evaluate(REBUILD_JS)
            print(
                json.dumps(
                    {
                        "load": info,
                        "scrub_slider": percentiles(frames),
                        "scrub_keys": percentiles(keys),
                        "playing_1024_steps_per_s": {
                            "frame_ms": percentiles(cadence["frame"]),
                            "raf_interval_ms": percentiles(cadence["interval"]),
                        },
                        "rebuild_frames_ms": rebuild,
                    },
                    indent=1,
                )
            )
        print("\n".join(errors) or "no console errors")
        browser.close()


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] in ("shot", "scrub"):
    main()


class Checks:
    """``ok(name, cond, detail)`` prints a PASS or FAIL line and counts the failures in ``ok.fails``."""

    def __init__(self):
        self.fails = 0

    def __call__(self, name, cond, detail=""):
        print(("PASS " if cond else "FAIL ") + name + (f"  ({detail})" if detail else ""))
        self.fails += 0 if cond else 1


def check(query="data=small"):
    """Behaviour checks in a real browser; prints PASS/FAIL lines and returns the number of failures."""
    ok = Checks()

    with sync_playwright() as p:
        browser, page, errors = open_page(p, query)
        dts = "() => [...document.querySelectorAll('.lstm-widget .lw-view')].filter(v => !v.hidden).map(v => v.className.split(' ')[0] + '=' + v.dataset.t)"
        root = page.locator(".lstm-widget")
        ok("root tabindex", root.get_attribute("tabindex") == "0")
        for v in ["timeline", "heatmap", "traces", "trajectory", "inputs", "probs", "gates", "picker"]:
            ok(f"view lw-{v} present", page.locator(f".lw-{v}").count() == 1)
        root.focus()
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        page.wait_for_timeout(120)
        vals = page.evaluate(dts)
        ok("ArrowRight x3 -> every view data-t=3", all(v.endswith("=3") for v in vals), str(vals))
        ok("model t = 3", page.evaluate("harness.model.get('t')") == 3)
        page.keyboard.press("End")
        page.wait_for_timeout(120)
        T = page.evaluate("harness.model.get('_meta').lengths[harness.model.get('sequence')]")
        ok("End -> t = T-1", page.evaluate("harness.model.get('t')") == T - 1, f"T={T}")
        page.keyboard.press("Home")
        page.wait_for_timeout(120)
        ok("Home -> t = 0", page.evaluate("harness.model.get('t')") == 0)
        scroll0 = page.evaluate("window.scrollY")
        page.keyboard.press(" ")
        page.wait_for_timeout(60)
        ok("space -> playing (model)", page.evaluate("harness.model.get('playing')") is True)
        page.wait_for_timeout(700)
        page.keyboard.press(" ")
        page.wait_for_timeout(120)
        t_after = page.evaluate("harness.model.get('t')")
        ok("playing advanced t at ~8 steps/s", 3 <= t_after <= 9, f"t={t_after}")
        ok("space -> paused (model)", page.evaluate("harness.model.get('playing')") is False)
        ok("space did not scroll the page", page.evaluate("window.scrollY") == scroll0)
        # play to the end stops there
        page.evaluate("harness.model.kernelSet('speed', 200)")
        page.keyboard.press(" ")
        page.wait_for_timeout(600)
        ok(
            "play stops at the end",
            page.evaluate("harness.model.get('playing')") is False and page.evaluate("harness.model.get('t')") == T - 1,
            "t=" + str(page.evaluate("harness.model.get('t')")),
        )
        # throttling of t writes during fast play
        page.evaluate("harness.model.kernelSet('t', 0); harness.model.kernelSet('speed', 1000)")
        page.evaluate("harness.model.writes.length = 0; harness.model.kernelSet('playing', true)")
        page.wait_for_timeout(500)
        writes = page.evaluate("harness.model.writes.filter(w => w.key === 't').map(w => [w.time, w.value])")
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(writes)]
        ok(
            "t writes throttled (>= ~50 ms apart), final value sent",
            (not gaps or min(gaps) >= 45) and page.evaluate("harness.model.get('t')") == T - 1,
            f"{len(writes)} writes, min gap {min(gaps) if gaps else None}",
        )
        page.evaluate("harness.model.kernelSet('speed', 8)")
        # the kernel pauses and seeks while the page plays: page writes still queued in the kernel must not win
        for speed in (4, 16, 64):
            page.evaluate(
                f"harness.model.kernelSet('t', 0); harness.model.kernelSet('speed', {speed}); harness.model.kernelSet('playing', true)"
            )
            page.wait_for_timeout(400)
            res = page.evaluate("""() => new Promise((done) => {
              const m = harness.model;
              const cell = performance.now();
              // Page writes of the last 120 ms are still in flight: the kernel processes them after the cell
              // (ex.playing = False; ex.t = 0), whose updates reach the page now.
              const inflight = m.outbox.filter((x) => x.time > cell - 120).length;
              const done0 = m.outbox.length - inflight;
              m.kernelSet('playing', false);
              m.kernelSet('t', 0);
              setTimeout(() => {
                const k = {};
                m.outbox.slice(0, done0).forEach((x) => Object.assign(k, x.state));
                Object.assign(k, {playing: false, t: 0});
                const after = m.outbox.slice(done0);
                after.forEach((x) => Object.assign(k, x.state));
                done({page: m.get('t'), kernel: k.t, inflight, after: after.map((x) => JSON.stringify(x.state))});
              }, 300);
            })""")
            ok(
                f"kernel pause+seek while playing at {speed}/s wins over queued page writes",
                res["page"] == 0 and res["kernel"] == 0,
                str(res),
            )
        # kernel -> page (long after the page's last write: nothing is written back)
        page.wait_for_timeout(1700)
        page.evaluate("harness.model.writes.length = 0; harness.model.kernelSet('t', 2)")
        page.wait_for_timeout(100)
        vals = page.evaluate(dts)
        ok("kernel t=2 -> views data-t=2", all(v.endswith("=2") for v in vals), str(vals))
        ok("kernel change not echoed back", page.evaluate("harness.model.writes.length") == 0)
        # heatmap row click toggles selection
        box = page.locator(".lw-heatmap canvas.lw-overlay").bounding_box()
        page.mouse.click(box["x"] + 120, box["y"] + 4 + 10.5 * (box["height"] - 22) / 100)
        page.wait_for_timeout(100)
        sel = page.evaluate("harness.model.get('selected_units')")
        ok("heatmap row click selects a unit", len(sel) == 1, str(sel))
        ok(
            "traces legend shows the selected unit",
            page.locator(".lw-traces .lw-legend-name").first.text_content() == f"unit {sel[0]}" if sel else False,
        )
        box = page.locator(".lw-heatmap canvas.lw-overlay").bounding_box()  # the page may have scrolled
        page.mouse.click(box["x"] + 120, box["y"] + 4 + 10.5 * (box["height"] - 22) / 100)
        page.wait_for_timeout(100)
        ok(
            "second click deselects",
            page.evaluate("harness.model.get('selected_units')") == [],
            str(page.evaluate("harness.model.writes.map(w => w.key + ':' + JSON.stringify(w.value))")),
        )
        # hover tooltip
        page.mouse.move(box["x"] + 200, box["y"] + 40)
        page.wait_for_timeout(100)
        tip = page.locator(".lw-tooltip").text_content()
        ok("heatmap hover tooltip 'unit u · t k · v'", tip.startswith("unit ") and " · t " in tip, tip)
        # drag on the inputs chart scrubs
        ib = page.locator(".lw-inputs canvas.lw-overlay").bounding_box()
        page.mouse.move(ib["x"] + 60, ib["y"] + 40)
        page.mouse.down()
        page.mouse.move(ib["x"] + ib["width"] - 20, ib["y"] + 40, steps=5)
        page.mouse.up()
        page.wait_for_timeout(120)
        ok(
            "drag on inputs scrubs to the end",
            page.evaluate("harness.model.get('t')") >= T - 2,
            str(page.evaluate("harness.model.get('t')")),
        )
        # clicking a canvas focuses the widget, so the keyboard works right after
        page.evaluate("document.activeElement.blur()")
        t0 = page.evaluate("harness.model.get('t')")
        ib = page.locator(".lw-traces canvas.lw-overlay").bounding_box()
        page.mouse.click(ib["x"] + ib["width"] / 2, ib["y"] + 30)
        page.keyboard.press("ArrowLeft")
        page.wait_for_timeout(100)
        t1 = page.evaluate("harness.model.get('t')")
        ok(
            "click on a chart focuses the widget; ArrowLeft steps",
            page.evaluate("document.activeElement.classList.contains('lstm-widget')") and t1 >= 0,
            f"t {t0} -> {t1}",
        )
        # quantity select
        page.select_option(".lw-heatmap select[aria-label=Quantity]", "f")
        page.wait_for_timeout(80)
        ok("quantity select -> model quantity", page.evaluate("harness.model.get('quantity')") == "f")
        page.select_option(".lw-heatmap select[aria-label='Unit order']", "clustered")
        page.wait_for_timeout(200)
        ok("order select works (no error)", not [e for e in errors if "render" in e], "; ".join(errors))
        # picker
        page.select_option(".lw-picker select", "1")
        page.wait_for_timeout(100)
        ok("picker -> model sequence 1", page.evaluate("harness.model.get('sequence')") == 1)
        T1 = page.evaluate("harness.model.get('_meta').lengths[1]")
        ok("t clamped to new sequence", page.evaluate("harness.model.get('t')") <= T1 - 1)
        # trajectory click on another path's point switches sequence
        res = page.evaluate("""() => {
          const v = document.querySelector('.lw-trajectory canvas.lw-overlay');
          const r = v.getBoundingClientRect();
          return {x: r.left, y: r.top, w: r.width, h: r.height};
        }""")
        # find a pixel of sequence 0's path via the view's cached coordinates: search a grid for a hover naming seq 0
        found = None
        for gy in range(10, int(res["h"]) - 10, 6):
            for gx in range(10, int(res["w"]) - 10, 6):
                page.mouse.move(res["x"] + gx, res["y"] + gy)
                tip = page.locator(".lw-tooltip").text_content() or ""
                if page.locator(".lw-tooltip").is_visible() and tip.startswith(
                    page.evaluate("harness.model.get('_meta').sequence_names[0]")
                ):
                    found = (gx, gy)
                    break
            if found:
                break
        if found:
            page.mouse.click(res["x"] + found[0], res["y"] + found[1])
            page.wait_for_timeout(100)
            ok("trajectory click on another path -> sequence 0", page.evaluate("harness.model.get('sequence')") == 0)
        else:
            ok("trajectory hover found sequence 0's path", False)
        # user strings are text
        ok(
            "no <img>/<b>/<i> injected from user names",
            page.locator(".lstm-widget img, .lstm-widget b, .lstm-widget i").count() == 0,
        )
        ok("no script ran from names", page.evaluate("window.__pwned") is None)
        # cleanup removes model listeners
        page.evaluate("harness.cleanup()")
        ok(
            "cleanup removes every model listener",
            page.evaluate("harness.model.listenerCount() === harness.ownListeners"),
        )
        print("\n".join(errors) or "no console errors")
        browser.close()
    return ok.fails


def check_live():
    ok = Checks()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1220, "height": 1000})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(BASE + "data=empty&live=1&stepms=40")
        page.wait_for_timeout(2000)
        st = page.evaluate(
            "({t: harness.model.get('t'), tl: document.querySelector('.lw-timeline').dataset.t, "
            "label: document.querySelector('.lw-tlabel').textContent, opts: document.querySelector('.lw-picker select').options.length})"
        )
        ok(
            "live appends from empty: 26 steps, cursor followed to 25",
            st["tl"] == "25" and st["label"] == "t = 25 / 26",
            str(st),
        )
        ok("follow wrote t to the model", st["t"] == 25, str(st))
        ok("picker got the begun sequence", st["opts"] == 1)
        page.screenshot(path="/tmp/lw/live.png", full_page=True)
        print("\n".join(errors) or "no console errors")
        browser.close()
    return ok.fails


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] in ("check", "live"):
    sys.exit(check(sys.argv[2]) if sys.argv[1] == "check" else check_live())
