// Pattern search (lw-patterns), LSTMVis' select-and-match: shift-drag across the heatmap selects a range of steps;
// with the threshold here that is the `pattern_query` (the kernel runs `match_pattern` over every loaded sequence and
// answers in `_patterns`): the units on (> threshold) throughout the range and off around it, and the ranked places
// where the same units switch on together. Matches `.lw-match[data-sequence][data-start][data-stop]`: click jumps
// there (sequence, t = start) and selects the pattern's units, so every view highlights them.

import { isEmpty, sameRequest } from "../why.js";
import { clipText, el, fmt, setText, viewHead } from "./common.js";

export const DEFAULT_THRESHOLD = 0.3;

export class PatternsView {
  constructor(ctx) {
    this.ctx = ctx;
    const { store } = ctx;
    this.title = el("span", { class: "lw-title", text: "Pattern search" });
    this.sub = el("span", { class: "lw-sub", text: "shift-drag across the heatmap to select steps" });
    this.threshold = el("input", {
      type: "number",
      step: "0.05",
      value: String(DEFAULT_THRESHOLD),
      class: "lw-pat-threshold",
      "aria-label": "Threshold",
      title: "A unit is on above this value",
    });
    this.search = el("button", {
      type: "button",
      class: "lw-btn lw-pat-search",
      text: "search",
      title: "Search again with this threshold",
    });
    this.clear = el("button", { type: "button", class: "lw-btn lw-pat-clear", text: "clear" });
    this.status = el("div", { class: "lw-pat-status lw-muted" });
    this.list = el("div", { class: "lw-pat-list", role: "list" });
    this.el = el(
      "div",
      { class: "lw-patterns lw-view lw-card", "data-t": "0", "data-pending": "false" },
      viewHead([this.title, this.sub]),
      el(
        "div",
        { class: "lw-traj-controls" },
        el("label", {}, el("span", { text: "threshold" }), this.threshold),
        this.search,
        this.clear,
      ),
      this.status,
      this.list,
    );
    this.threshold.addEventListener("keydown", (ev) => {
      ev.stopPropagation(); // arrows edit the number, not the cursor
      if (ev.key === "Enter") this.rerun();
    });
    this.threshold.addEventListener("change", () => this.rerun());
    this.search.addEventListener("click", () => this.rerun());
    this.clear.addEventListener("click", () => store.set({ pattern_query: {} }));
    this.list.addEventListener("click", (ev) => {
      const item = ev.target.closest?.(".lw-match");
      if (!item) return;
      const res = store.aux("_patterns");
      const patch = { sequence: Number(item.dataset.sequence), t: Number(item.dataset.start) };
      if (res?.units.length) patch.selected_units = res.units.slice();
      store.set(patch);
    });
    this.sig = "";
    this.el.__lw_patterns = () => {
      const res = store.aux("_patterns");
      return res && { query: res.query, units: res.units.slice(), matches: res.matches.map((m) => ({ ...m })) };
    };
  }

  /** The threshold typed here, or null when it is not a number. */
  thresholdValue() {
    const v = Number(this.threshold.value);
    const ok = this.threshold.value.trim() !== "" && Number.isFinite(v);
    this.threshold.classList.toggle("lw-invalid", !ok);
    return ok ? v : null;
  }

  /** Ask for the steps [start, stop) of the shown sequence (a brush on the heatmap) at the threshold typed here. */
  request({ start, stop }) {
    const { store } = this.ctx;
    const threshold = this.thresholdValue();
    if (threshold == null) return;
    const snap = store.snapshot();
    store.set({
      why_open: true,
      pattern_query: {
        sequence: snap.sequence,
        start,
        stop,
        threshold,
        layer: snap.layer,
        quantity: snap.quantity,
        margin: 1,
      },
    });
  }

  rerun() {
    const q = this.ctx.store.snapshot().pattern_query;
    const threshold = this.thresholdValue();
    if (isEmpty(q) || threshold == null) return;
    this.ctx.store.set({ pattern_query: { ...q, threshold } });
  }

  render({ snap }) {
    this.el.dataset.t = String(snap.t);
    if (!snap.why_open) return;
    const { store } = this.ctx;
    const meta = store.meta;
    const query = snap.pattern_query;
    const res = store.aux("_patterns");
    const can = !this.ctx.offline;
    this.threshold.disabled = !can;
    this.search.disabled = !can || isEmpty(query);
    this.clear.hidden = isEmpty(query) && !res;
    if (
      !isEmpty(query) &&
      document.activeElement !== this.threshold &&
      Number(this.threshold.value) !== Number(query.threshold)
    ) {
      this.threshold.value = String(query.threshold);
    }
    const pending = !isEmpty(query) && !(res && sameRequest(res.query, query)) && can;
    this.el.dataset.pending = String(pending);
    const seqName = (s) => clipText(meta.sequence_names[s] ?? `sequence ${s}`);
    let status;
    if (isEmpty(query))
      status = can ? "Select steps: shift-drag across the heatmap." : "Pattern search needs the kernel.";
    else if (pending) status = "searching…";
    else if (res.error) status = res.error;
    else {
      const r = res.resolved;
      const where = `steps ${r.start}–${r.stop - 1} of ${seqName(r.sequence)} (${r.quantity} · ${store.layerName(r.layer)}, > ${fmt(r.threshold)})`;
      status = res.units.length
        ? `units on in ${where} and off around: ${res.units.join(", ")} · ${res.matches.length} match${res.matches.length === 1 ? "" : "es"}`
        : `no unit is on throughout ${where} and off around it; lower the threshold or change the range`;
    }
    setText(this.status, status);
    const matches = res && !pending && !res.error ? res.matches : [];
    const sig = JSON.stringify([matches, meta.sequence_names.length]);
    if (sig !== this.sig) {
      this.sig = sig;
      this.list.replaceChildren(
        ...matches.map((m, k) =>
          el(
            "div",
            {
              class: "lw-match",
              role: "listitem",
              "data-sequence": String(m.sequence),
              "data-start": String(m.start),
              "data-stop": String(m.stop),
              "data-rank": String(k),
              title: `jaccard ${fmt(m.jaccard)} × length match ${fmt(m.length_match)} — click to go there`,
            },
            el("span", { class: "lw-rank-no", text: String(k + 1) }),
            el("span", { class: "lw-match-seq", text: seqName(m.sequence) }),
            el("span", { class: "lw-match-steps", text: `t ${m.start}–${m.stop - 1}` }),
            el("span", { class: "lw-match-score", text: fmt(m.score) }),
          ),
        ),
      );
    }
    for (const item of this.list.children) {
      const on =
        Number(item.dataset.sequence) === snap.sequence &&
        snap.t >= Number(item.dataset.start) &&
        snap.t < Number(item.dataset.stop);
      item.classList.toggle("lw-current", on);
    }
  }

  /** Ranges to outline on the heatmap of sequence s (layer, quantity): the selection and the matches in it. */
  marks(snap) {
    const query = snap.pattern_query;
    if (isEmpty(query) || query.sequence == null) return null;
    const res = this.ctx.store.aux("_patterns");
    const sameView = query.layer === snap.layer && query.quantity === snap.quantity;
    if (!sameView) return null;
    const ranges = [];
    if (query.sequence === snap.sequence) ranges.push({ start: query.start, stop: query.stop, kind: "selection" });
    const ready = res && sameRequest(res.query, query) && !res.error;
    if (ready)
      for (const m of res.matches)
        if (m.sequence === snap.sequence) ranges.push({ start: m.start, stop: m.stop, kind: "match" });
    return { ranges, units: ready ? res.units : [] };
  }
}
