// Data set pager (lw-pager, beside the sequence picker): shown only when the explorer is a window onto a bigger
// recorded data set (`_meta.dataset` = {n_sequences, start, size} with n_sequences > size; kernel side
// lstm_widget/_widget/recorded.py). "sequences a–b of N", ‹ / › buttons that write `window_start` (disabled at the
// ends), and a number input to jump to the data set's sequence k (0-based, as `ex.show_sequence(k)`): inside the
// loaded window it only sets `sequence`; elsewhere it writes `window_start` = k's window and, once that window is on
// the page, `sequence` = k − start. While `window_start` ≠ `_meta.dataset.start` the kernel is reading the window:
// "loading…", `data-pending="true"`. Text only (names are data).

import { el, setText } from "./common.js";

function toInt(v) {
  const n = Math.trunc(Number(v));
  return Number.isFinite(n) ? n : null;
}

/** `_meta.dataset` as {n, start, size} (integers, start in 0..n-1, size ≥ 1), or null when there is none. */
export function datasetInfo(raw) {
  if (!raw || typeof raw !== "object") return null;
  const n = toInt(raw.n_sequences);
  const start = toInt(raw.start);
  const size = toInt(raw.size);
  if (n == null || start == null || size == null || n < 1 || size < 1 || start < 0 || start >= n) return null;
  return { n, start, size };
}

/** "a–b of N" (1-based, inclusive) for the window starting at `start`. */
export function rangeText(start, size, n) {
  const stop = Math.min(start + size, n);
  return `${start + 1}–${stop} of ${n}`;
}

/** The window_start of the window before / after the one at `start` (null at the ends). */
export function prevStart(start, size) {
  return start <= 0 ? null : Math.max(0, start - size);
}
export function nextStart(start, size, n) {
  return start + size >= n ? null : start + size;
}

/** The window_start that shows the data set's sequence k: windows start at multiples of `size` (as show_sequence). */
export function windowFor(k, size, n) {
  const kk = Math.min(Math.max(0, k), n - 1);
  return Math.floor(kk / size) * size;
}

/** A jump's target sequence index from the input's text: an integer in 0..n-1, else null. */
export function parseIndex(text, n) {
  const s = String(text ?? "").trim();
  if (!/^\d+$/.test(s)) return null;
  const k = Number(s);
  return k < n ? k : null;
}

/**
 * What the pager shows: null (hidden) without a data set or when one window holds it all; else {n, size, start (the
 * loaded window), requested (`window_start` as the model holds it), loading, text, prev, next (window_starts, null at
 * the ends; relative to the requested window, so that clicks while loading keep paging)}.
 */
export function pagerState(rawDataset, windowStart) {
  const d = datasetInfo(rawDataset);
  if (!d || d.n <= d.size) return null;
  let requested = toInt(windowStart);
  if (requested == null || requested < 0 || requested >= d.n) requested = d.start;
  const loading = requested !== d.start;
  const text = loading
    ? `loading sequences ${rangeText(requested, d.size, d.n)}…`
    : `sequences ${rangeText(d.start, d.size, d.n)}`;
  return {
    n: d.n,
    size: d.size,
    start: d.start,
    requested,
    loading,
    text,
    prev: prevStart(requested, d.size),
    next: nextStart(requested, d.size, d.n),
  };
}

export class PagerView {
  /**
   * `kernel`: {dataset() → `_meta.dataset` as the model holds it, windowStart() → `window_start`,
   * setWindowStart(k) → writes the trait}.
   */
  constructor(ctx, kernel) {
    this.ctx = ctx;
    this.kernel = kernel;
    const offline = Boolean(ctx.offline);
    const tip = offline ? " (needs the kernel)" : "";
    const pageButton = (cls, text, label) =>
      el("button", { class: `lw-icon-btn ${cls}`, type: "button", text, title: `${label}${tip}`, "aria-label": label });
    this.prev = pageButton("lw-page-prev", "‹", "Previous sequences of the data set");
    this.next = pageButton("lw-page-next", "›", "Next sequences of the data set");
    this.range = el("span", { class: "lw-muted lw-page-range", role: "status", "aria-live": "polite" });
    this.jump = el("input", {
      class: "lw-page-jump",
      type: "number",
      min: "0",
      step: "1",
      inputmode: "numeric",
      placeholder: "go to",
      title: "The data set's sequence index (0-based, as ex.show_sequence(k)); Enter goes there",
      "aria-label": "Go to the data set's sequence index",
      disabled: offline,
    });
    this.el = el(
      "div",
      {
        class: "lw-pager lw-view",
        hidden: true,
        "data-t": "0",
        "data-pending": "false",
        role: "group",
        "aria-label": "Pages of the data set",
      },
      this.prev,
      this.range,
      this.next,
      this.jump,
    );
    this.state = null;
    this.jumpTo = null; // {k, start}: sequence k once the window at `start` is on the page
    this.prev.addEventListener("click", () => this.page(this.state?.prev));
    this.next.addEventListener("click", () => this.page(this.state?.next));
    const go = () => {
      const st = this.state;
      if (!st) return;
      const k = parseIndex(this.jump.value, st.n);
      this.jump.setCustomValidity(k == null ? `an integer in 0..${st.n - 1}` : "");
      if (k == null) {
        this.jump.reportValidity?.();
        return;
      }
      this.goTo(k);
    };
    this.jump.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        go();
      }
    });
    this.jump.addEventListener("input", () => this.jump.setCustomValidity(""));
  }

  /** Ask the kernel for the window at `start`. */
  page(start) {
    if (start == null || this.ctx.offline || !this.state) return;
    this.jumpTo = null;
    this.kernel.setWindowStart(start);
    this.ctx.store.notify(new Set(["dataset"]), "ui"); // repaint: "loading…"
  }

  /** Show the data set's sequence k (as `show_sequence(k)`). */
  goTo(k) {
    const st = this.state;
    if (!st || this.ctx.offline) return;
    const { store } = this.ctx;
    if (!st.loading && k >= st.start && k < st.start + store.meta.n_sequences) {
      this.jumpTo = null;
      store.set({ sequence: k - st.start });
      return;
    }
    const start = windowFor(k, st.size, st.n);
    if (start === st.requested && !st.loading) {
      store.set({ sequence: k - start });
      return;
    }
    this.kernel.setWindowStart(start);
    this.jumpTo = { k, start };
    store.notify(new Set(["dataset"]), "ui");
  }

  render({ snap }) {
    const st = pagerState(this.kernel.dataset(), this.kernel.windowStart());
    this.state = st;
    this.el.dataset.t = String(snap.t);
    if (!st) {
      if (!this.el.hidden) this.el.hidden = true;
      return;
    }
    if (this.el.hidden) this.el.hidden = false;
    // a jump into another window: set the sequence once that window is loaded (a different window: dropped)
    if (this.jumpTo && !st.loading) {
      const { k, start } = this.jumpTo;
      this.jumpTo = null;
      const { store } = this.ctx;
      if (start === st.start && k - start < store.meta.n_sequences) store.set({ sequence: k - start });
    }
    setText(this.range, st.text);
    const ds = this.el.dataset;
    const attrs = {
      start: String(st.start),
      requested: String(st.requested),
      n: String(st.n),
      pending: String(st.loading),
    };
    for (const [k, v] of Object.entries(attrs)) if (ds[k] !== v) ds[k] = v;
    this.el.setAttribute("aria-busy", String(st.loading));
    this.jump.max = String(st.n - 1);
    const offline = Boolean(this.ctx.offline);
    const focused = typeof document !== "undefined" ? document.activeElement : null;
    const setDisabled = (button, off, other) => {
      if (button.disabled === off) return;
      button.disabled = off;
      // a keyboard user who paged to the end keeps the focus in the pager
      if (off && focused === button && !other.disabled) other.focus();
    };
    setDisabled(this.prev, offline || st.prev == null, this.next);
    setDisabled(this.next, offline || st.next == null, this.prev);
  }
}
