// The repaint loop of a widget: changes marked between two animation frames coalesce into one repaint, which gets
// what changed and the theme read from the widget's root; the theme is watched (JupyterLab swaps stylesheets and
// flips attributes on <body>) and so is the root's size. Also the Explorer's view pass: every view rendered, one
// failing view not stopping the others, the repaint timed into the root's data-frame-ms and counted in data-frames.

import { readTheme } from "./theme.js";

/**
 * A loop repainting `root`: `paint({changes, theme, themeChanged, now})` runs once per animation frame after any
 * `mark(change)`, and again on the next frame while it returns true. `beforeFrame(now)` runs first in each frame (its
 * marks join this frame's changes). `initial` changes are pending from the start; `mark` or `schedule` starts the loop.
 *
 * Theme watching: a poll every `themePollMs` (cheap: one getComputedStyle), and with `watchDocument` the attributes
 * of <body>, the stylesheets in <head> and the OS colour scheme. A theme change marks "theme".
 */
export function createLoop(
  root,
  paint,
  { initial = [], beforeFrame = null, themePollMs = 1000, watchDocument = false } = {},
) {
  let pending = new Set(initial);
  let raf = 0;
  let theme = null;
  let destroyed = false;
  const cleanups = [];

  const schedule = () => {
    if (!raf && !destroyed) raf = requestAnimationFrame(frame);
  };
  const mark = (change) => {
    pending.add(change);
    schedule();
  };

  function frame(now) {
    raf = 0;
    if (destroyed) return;
    beforeFrame?.(now);
    const changes = pending;
    pending = new Set();
    const next = readTheme(root);
    const themeChanged = !theme || next.key !== theme.key;
    theme = next;
    if (paint({ changes, theme, themeChanged, now })) schedule();
  }

  const themeMoved = () => mark("theme");
  if (watchDocument && typeof MutationObserver !== "undefined" && typeof document !== "undefined") {
    const mo = new MutationObserver(themeMoved);
    mo.observe(document.body, {
      attributes: true,
      attributeFilter: ["class", "data-jp-theme-light", "data-jp-theme-name", "style"],
    });
    mo.observe(document.head, { childList: true });
    cleanups.push(() => mo.disconnect());
  }
  // Stylesheets can finish loading after the attribute flip that announced them: check the colours now and then.
  const themePoll = setInterval(() => {
    if (theme && !document.hidden && readTheme(root).key !== theme.key) themeMoved();
  }, themePollMs);
  cleanups.push(() => clearInterval(themePoll));
  if (watchDocument && typeof matchMedia !== "undefined") {
    const mql = matchMedia("(prefers-color-scheme: dark)");
    mql.addEventListener?.("change", themeMoved);
    cleanups.push(() => mql.removeEventListener?.("change", themeMoved));
  }

  return {
    mark,
    schedule,
    get destroyed() {
      return destroyed;
    },
    /** Stop: no more frames, no more watching. */
    destroy() {
      destroyed = true;
      if (raf) cancelAnimationFrame(raf);
      for (const fn of cleanups.splice(0)) fn();
    },
  };
}

/**
 * Watch the size of `root` (the class `narrowClass` on it below `narrowPx` wide) and of each view's `sizeTarget`
 * (its `resize(width)` called); `onResize()` after each batch. Returns the cleanup function.
 */
export function watchSize(root, { narrowClass, narrowPx, views = [], onResize = null }) {
  if (typeof ResizeObserver === "undefined") return () => {};
  const targets = new Map(views.filter((v) => v.sizeTarget).map((v) => [v.sizeTarget, v]));
  const ro = new ResizeObserver((entries) => {
    for (const entry of entries) {
      if (entry.target === root) {
        root.classList.toggle(narrowClass, entry.contentRect.width < narrowPx);
        continue;
      }
      const view = targets.get(entry.target);
      if (view) view.resize(entry.contentRect.width);
    }
    onResize?.();
  });
  ro.observe(root);
  for (const t of targets.keys()) ro.observe(t);
  return () => ro.disconnect();
}

/**
 * Render every view for one frame `f` ({snap, changes, theme, themeChanged}); a view that throws is logged and the
 * others still render. The pass is timed into root's data-frame-ms and counted in its data-frames (tests and
 * benchmarks read them); a page that sets `globalThis.__lwViewMs = {}` gets the ms of each view class summed there.
 */
export function paintViews(root, views, f) {
  const t0 = performance.now();
  const prof = globalThis.__lwViewMs;
  for (const view of views) {
    try {
      if (prof) {
        const v0 = performance.now();
        view.render(f);
        const k = view.el.className.split(" ")[0];
        prof[k] = (prof[k] || 0) + performance.now() - v0;
      } else view.render(f);
    } catch (err) {
      console.error(`lstm_widget: ${view.el.className} failed to render`, err);
    }
  }
  root.dataset.frameMs = (performance.now() - t0).toFixed(2);
  root.dataset.frames = String(Number(root.dataset.frames || 0) + 1);
}
