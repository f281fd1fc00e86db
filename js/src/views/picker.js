// Sequence picker (lw-picker): a <select> of the sequences, labelled "name · class" (user names as text), with
// previous / next buttons. A sequence still streaming is marked "streaming…" (option class lw-provisional,
// data-provisional; the picker's data-streaming is "true" while one is).

import { clipText, el, icon, setText } from "./common.js";

/** The picker's label of sequence s. */
export function sequenceLabel(meta, s) {
  const name = meta.sequence_names[s] ?? `sequence ${s}`;
  const label = meta.labels[s];
  const cls =
    label == null ? null : meta.class_names ? (meta.class_names[label] ?? `class ${label}`) : `class ${label}`;
  return cls == null ? name : `${name} · ${cls}`;
}

/** What the picker adds to a sequence that is still streaming (provisional: it goes away if the stream fails). */
export const STREAMING = "streaming…";

export class PickerView {
  constructor(ctx) {
    this.ctx = ctx;
    const { store } = ctx;
    this.select = el("select", { class: "lw-seq-select", "aria-label": "Sequence" });
    this.prev = el(
      "button",
      { class: "lw-icon-btn", type: "button", title: "Previous sequence", "aria-label": "Previous sequence" },
      icon("prev"),
    );
    this.next = el(
      "button",
      { class: "lw-icon-btn", type: "button", title: "Next sequence", "aria-label": "Next sequence" },
      icon("next"),
    );
    this.count = el("span", { class: "lw-muted lw-seq-count" });
    this.el = el("div", { class: "lw-picker lw-view", "data-t": "0" }, this.prev, this.select, this.next, this.count);
    this.select.addEventListener("change", () => store.set({ sequence: Number(this.select.value) }));
    this.prev.addEventListener("click", () => store.set({ sequence: store.snapshot().sequence - 1 }));
    this.next.addEventListener("click", () => store.set({ sequence: store.snapshot().sequence + 1 }));
    this.built = -1;
    this.builtN = -1;
  }

  /** (Re)build the options when the sequences change; appended sequences only add options, and only the options
   * of sequences whose data changed since the last build (the store's per-sequence version) are rewritten. */
  options() {
    const { store } = this.ctx;
    const meta = store.meta;
    const N = meta.n_sequences;
    if (this.built === store.version && this.builtN === N) return;
    const opts = this.select.options;
    if (this.builtMeta !== meta || opts.length > N) {
      this.select.replaceChildren();
      this.builtMeta = meta;
      this.optVersions = [];
    }
    const seen = this.optVersions;
    let streaming = false;
    for (let s = 0; s < N; s++) {
      const provisional = store.isProvisional(s);
      streaming ||= provisional;
      const ver = store.seqVersion(s);
      if (s < opts.length && seen[s] === ver) continue;
      seen[s] = ver;
      const whole = provisional ? `${sequenceLabel(meta, s)} · ${STREAMING}` : sequenceLabel(meta, s);
      const text = clipText(whole);
      if (s < opts.length) {
        if (opts[s].textContent !== text) opts[s].textContent = text;
        if (opts[s].title !== whole) opts[s].title = whole;
      } else {
        this.select.append(el("option", { value: String(s), text, title: whole }));
      }
      opts[s].classList.toggle("lw-provisional", provisional);
      if (provisional) opts[s].dataset.provisional = "true";
      else delete opts[s].dataset.provisional;
    }
    this.el.dataset.streaming = String(streaming);
    this.built = store.version;
    this.builtN = N;
  }

  render({ snap, changes }) {
    if (changes.has("data") || this.builtN < 0) this.options();
    const N = this.ctx.store.meta.n_sequences;
    const v = String(snap.sequence);
    if (N && this.select.value !== v) this.select.value = v;
    this.select.disabled = N <= 1;
    this.prev.classList.toggle("lw-dim", snap.sequence <= 0);
    this.next.classList.toggle("lw-dim", snap.sequence >= N - 1);
    setText(this.count, N ? `${snap.sequence + 1} of ${N}` : "no data");
    this.el.dataset.t = String(snap.t);
  }
}
