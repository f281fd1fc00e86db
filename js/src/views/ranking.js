// Top units (lw-ranking): the strongest units of the heatmap's quantity and layer — at the cursor's step, over the
// shown sequence (both computed here from the data on the page, equal to `rank_units(recording, q, layer, t=…, by=…)`)
// or for a class against the rest (`_ranking`: the kernel's `rank_units(..., labels=...)` over every labelled
// sequence). Entries `.lw-rank-item[data-unit]`: click toggles the unit in the selection (every view follows),
// right-click opens the unit's intervention menu, hover highlights it elsewhere. __lw_ranking() says what is listed.

import { categorical } from "../colormap.js";
import { classRanking, RANK_BY, rankUnits, unitMenu } from "../why.js";
import { clipText, el, fillSelect, fmt, setText, titleSpans, viewHead } from "./common.js";

const MODES = [
  ["t", "at t"],
  ["sequence", "sequence"],
  ["class", "class"],
];
const K = 10;

export class RankingView {
  constructor(ctx) {
    this.ctx = ctx;
    const { store } = ctx;
    this.mode = "t";
    this.by = "abs";
    this.klass = "auto";
    [this.title, this.sub] = titleSpans("Top units");
    this.modeButtons = MODES.map(([m, label]) =>
      el("button", {
        type: "button",
        "data-mode": m,
        "aria-pressed": "false",
        text: label,
        onclick: () => this.setMode(m),
      }),
    );
    this.bySel = el("select", { "aria-label": "Rank by", title: "Score" });
    this.classSel = el("select", {
      "aria-label": "Rank class",
      title: "The class whose units are ranked against the rest",
    });
    this.bySel.addEventListener("change", () => {
      this.by = this.bySel.value;
      this.changed();
    });
    this.classSel.addEventListener("change", () => {
      this.klass = this.classSel.value;
      this.changed();
    });
    this.note = el("div", { class: "lw-rank-note lw-muted" });
    this.list = el("div", { class: "lw-rank-list", role: "list" });
    this.el = el(
      "div",
      { class: "lw-ranking lw-view lw-card", "data-t": "0", "data-mode": this.mode },
      viewHead([this.title, this.sub]),
      el(
        "div",
        { class: "lw-traj-controls" },
        el("span", { class: "lw-seg" }, ...this.modeButtons),
        this.bySel,
        this.classSel,
      ),
      this.note,
      this.list,
    );
    this.sig = "";
    this.items = [];
    this.shown = null;
    this.list.addEventListener("click", (ev) => {
      const item = ev.target.closest?.(".lw-rank-item");
      if (item) store.toggleUnit(Number(item.dataset.unit));
    });
    this.list.addEventListener("contextmenu", (ev) => {
      const item = ev.target.closest?.(".lw-rank-item");
      if (item) unitMenu(ctx, ev, { unit: Number(item.dataset.unit), t: store.snapshot().t });
    });
    this.list.addEventListener("pointerover", (ev) => {
      const item = ev.target.closest?.(".lw-rank-item");
      const snap = store.snapshot();
      store.set({
        hover: item ? { sequence: snap.sequence, t: null, unit: Number(item.dataset.unit), view: "ranking" } : null,
      });
    });
    this.list.addEventListener("pointerleave", () => store.set({ hover: null }));
    this.el.__lw_ranking = () =>
      this.shown && { ...this.shown, units: this.shown.units.slice(), scores: this.shown.scores.slice() };
  }

  setMode(m) {
    this.mode = m;
    this.changed();
  }

  changed() {
    this.ctx.store.notify(new Set(["ranking"]), "ui");
  }

  render({ snap, theme }) {
    this.el.dataset.t = String(snap.t);
    if (!snap.why_open) return;
    const { store } = this.ctx;
    const meta = store.meta;
    const q = snap.quantity;
    this.el.dataset.mode = this.mode;
    for (const b of this.modeButtons) b.setAttribute("aria-pressed", String(b.dataset.mode === this.mode));
    setText(this.sub, `${q} · ${store.layerName(snap.layer)}`);
    const className = (c) => clipText(meta.class_names?.[c] ?? `class ${c}`);
    let units = [];
    let scores = [];
    let note = "";
    let by = this.by;
    let klass = null;
    this.bySel.hidden = this.mode === "class";
    this.classSel.hidden = this.mode !== "class";
    if (this.mode === "class") {
      const r = store.aux("_ranking");
      const ready = r && r.layer === snap.layer && r.quantity === q;
      const label = meta.labels[snap.sequence];
      const classes = ready && !r.error ? r.classes : [];
      const auto = label != null && classes.includes(label) ? label : classes[0];
      fillSelect(
        this.classSel,
        [
          ["auto", `this sequence's class${auto != null ? ` (${className(auto)})` : ""}`],
          ...classes.map((c) => [c, className(c)]),
        ],
        this.klass,
      );
      if (!ready)
        note = this.ctx.offline
          ? "ranking per class: computed by the kernel, not in this export"
          : "ranking per class… (computing)";
      else if (r.error) note = r.error;
      else {
        klass = this.klass === "auto" ? auto : Number(this.klass);
        ({ units, scores } = classRanking(r, klass));
        by = r.by;
        note = `${className(klass)} against the rest · ${r.by === "t" ? "Welch's t of the per-sequence means" : "difference of the means"}`;
      }
    } else {
      fillSelect(this.bySel, RANK_BY, this.by);
      const block = store.series(q, snap.layer, snap.sequence);
      if (!block || !(block.rows > 0)) note = store.pending(q) ? `loading ${q}…` : `no ${q} recorded`;
      else {
        // over the sequence the ranking does not move with t: computed once per sequence, data, quantity and "by"
        const t = this.mode === "t" ? snap.t : null;
        const key = [q, snap.layer, snap.sequence, store.seqVersion(snap.sequence), block.rows, this.by, t].join("|");
        if (this.rankKey !== key) {
          this.rankKey = key;
          this.rankRes = rankUnits(block.data, block.rows, block.cols, { t, by: this.by, k: K });
        }
        const res = this.rankRes;
        units = res.units;
        scores = res.scores;
        const label = RANK_BY.find(([b]) => b === this.by)[1];
        note =
          this.mode === "t" ? `${label} at t = ${snap.t}` : `${label} over the ${block.rows} steps of this sequence`;
      }
    }
    setText(this.note, note);
    this.shown = { mode: this.mode, by, class: klass, t: this.mode === "t" ? snap.t : null, units, scores };
    this.drawList(snap, theme, units, scores);
  }

  drawList(snap, theme, units, scores) {
    const sel = snap.selected_units;
    const hover = snap.hover && snap.hover.unit != null ? snap.hover.unit : -1;
    const sig = JSON.stringify([units, sel, theme.dark]);
    if (sig !== this.sig) {
      this.sig = sig;
      this.items = units.map((u, k) => {
        const j = sel.indexOf(u);
        const bar = el("span", { class: "lw-rank-bar" });
        const score = el("span", { class: "lw-rank-score" });
        const item = el(
          "div",
          {
            class: `lw-rank-item${j >= 0 ? " lw-selected" : ""}`,
            role: "listitem",
            "data-unit": String(u),
            "data-rank": String(k),
            title:
              j >= 0
                ? `unit ${u} — click to deselect, right-click to intervene`
                : `unit ${u} — click to select, right-click to intervene`,
          },
          el("span", { class: "lw-rank-no", text: String(k + 1) }),
          el("span", {
            class: "lw-swatch",
            style: { background: j >= 0 ? categorical(j, theme.dark) : "transparent" },
          }),
          el("span", { class: "lw-rank-name", text: `unit ${u}` }),
          el("span", { class: "lw-rank-track" }, bar),
          score,
        );
        return { item, bar, score, unit: u };
      });
      this.list.replaceChildren(...this.items.map((i) => i.item));
    }
    let top = 0;
    for (const s of scores) if (Number.isFinite(s)) top = Math.max(top, Math.abs(s));
    this.items.forEach((it, k) => {
      const s = scores[k];
      setText(it.score, fmt(s));
      const w =
        Number.isFinite(s) && top > 0
          ? Math.min(100, (Math.abs(s) / top) * 100)
          : s === Infinity || s === -Infinity
            ? 100
            : 0;
      const css = `${w.toFixed(1)}%`;
      if (it.bar.style.width !== css) it.bar.style.width = css;
      it.bar.classList.toggle("lw-neg", s < 0);
      it.item.classList.toggle("lw-hover", it.unit === hover);
    });
  }
}
