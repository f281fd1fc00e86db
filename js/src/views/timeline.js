// Timeline (lw-timeline): step back / play-pause / step forward, a slider over the steps of the current sequence,
// "t = 5 (0–25)" (the step shown, counted from 0 as everywhere in the page and in Python, and the sequence's range),
// and the playback speed. Playing itself is driven by controls.js (client side, no kernel round trip).
// When the time views are zoomed (the store's `window`, lod.js), a band under the slider marks the window shown;
// drag it to pan. With several stages (an encoder, then a decoder: `_meta.stages`) a mark over the slider at each
// stage's first step names its module (.lw-stage-mark, data-step, data-module).

import { panWindow } from "../lod.js";
import { stagesText } from "../stages.js";
import { tokenLabel } from "../tokens.js";
import { el, fillSelect, icon, setIcon, setText } from "./common.js";

/** Half a range thumb's width (px): where the slider's track starts and ends inside it. */
const THUMB = 8;

export const SPEEDS = [0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** The timeline's label of step t of a T-step sequence: "t = 18 (0–18)"; "t = 0 (no steps)" when T is 0. */
export function stepLabel(t, T) {
  return T > 0 ? `t = ${t} (0–${T - 1})` : "t = 0 (no steps)";
}

export class TimelineView {
  constructor(ctx) {
    this.ctx = ctx;
    const { store } = ctx;
    this.back = el(
      "button",
      { class: "lw-icon-btn", type: "button", title: "Step back (←)", "aria-label": "Step back" },
      icon("back"),
    );
    this.play = el("button", {
      class: "lw-icon-btn lw-play",
      type: "button",
      title: "Play / pause (space)",
      "aria-label": "Play",
    });
    this.forward = el(
      "button",
      { class: "lw-icon-btn", type: "button", title: "Step forward (→)", "aria-label": "Step forward" },
      icon("forward"),
    );
    setIcon(this.play, "play");
    this.slider = el("input", {
      class: "lw-slider",
      type: "range",
      min: "0",
      max: "0",
      step: "1",
      value: "0",
      "aria-label": "Time step",
    });
    this.band = el("div", { class: "lw-window-band", title: "Steps shown (drag to pan)", hidden: true });
    this.marks = el("div", { class: "lw-stage-marks", "aria-hidden": "true" });
    this.sliderWrap = el("div", { class: "lw-slider-wrap" }, this.slider, this.band, this.marks);
    this.label = el("span", {
      class: "lw-tlabel",
      title: "the step shown, t (counted from 0), and the sequence's steps",
    });
    this.speed = el("select", {
      class: "lw-speed",
      title: "Playback speed (steps per second)",
      "aria-label": "Playback speed",
    });
    this.el = el(
      "div",
      { class: "lw-timeline lw-view", "data-t": "0" },
      el("div", { class: "lw-transport" }, this.back, this.play, this.forward),
      this.sliderWrap,
      this.label,
      el("label", { class: "lw-speed-wrap" }, this.speed, el("span", { class: "lw-unit", text: "steps/s" })),
    );

    this.back.addEventListener("click", () => store.step(-1));
    this.forward.addEventListener("click", () => store.step(1));
    this.play.addEventListener("click", () => ctx.togglePlay());
    this.slider.addEventListener("input", () => store.set({ t: Number(this.slider.value) }));
    this.speed.addEventListener("change", () => store.set({ speed: Number(this.speed.value) }));
    this.T = 0;
    let drag = null;
    this.band.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0) return;
      const snap = store.snapshot();
      if (!snap.window) return;
      ev.preventDefault();
      drag = { x: ev.clientX, window: snap.window, width: this.sliderWrap.getBoundingClientRect().width - THUMB * 2 };
      this.band.setPointerCapture?.(ev.pointerId);
    });
    this.band.addEventListener("pointermove", (ev) => {
      if (!drag || !(drag.width > 0)) return;
      const delta = Math.round(((ev.clientX - drag.x) / drag.width) * this.T);
      store.set({ window: panWindow(drag.window, this.T, delta) });
    });
    const end = (ev) => {
      if (!drag) return;
      drag = null;
      this.band.releasePointerCapture?.(ev.pointerId);
    };
    this.band.addEventListener("pointerup", end);
    this.band.addEventListener("pointercancel", end);
  }

  render({ snap }) {
    const { t, T, playing, speed } = snap;
    const max = String(Math.max(0, T - 1));
    if (this.slider.max !== max) this.slider.max = max;
    if (this.slider.value !== String(t)) this.slider.value = String(t);
    this.slider.disabled = T <= 1;
    const { store } = this.ctx;
    const id = store.meta.tokens ? store.tokenId(snap.sequence, t) : -1;
    setText(this.label, id >= 0 ? `${stepLabel(t, T)} · ${tokenLabel(store.meta.vocab, id)}` : stepLabel(t, T));
    setIcon(this.play, playing ? "pause" : "play");
    this.play.setAttribute("aria-label", playing ? "Pause" : "Play");
    this.play.setAttribute("aria-pressed", playing ? "true" : "false");
    // Not `disabled`: a focused button that gets disabled drops focus out of the widget (and its keyboard).
    this.back.classList.toggle("lw-dim", t <= 0);
    this.forward.classList.toggle("lw-dim", t >= T - 1);
    const speeds = SPEEDS.includes(speed) ? SPEEDS : [...SPEEDS, speed].sort((a, b) => a - b);
    fillSelect(
      this.speed,
      speeds.map((s) => [s, String(s)]),
      speed,
    );
    this.T = T;
    const w = snap.window;
    this.band.hidden = !w;
    if (w && T > 0) {
      const left = `calc(${THUMB}px + (100% - ${2 * THUMB}px) * ${w.t0 / T})`;
      const width = `calc((100% - ${2 * THUMB}px) * ${(w.t1 - w.t0) / T})`;
      if (this.band.style.left !== left) this.band.style.left = left;
      if (this.band.style.width !== width) this.band.style.width = width;
    }
    this.renderStages(this.ctx.store.stages(snap.sequence), T);
    this.el.dataset.t = String(t);
  }

  /** A mark at each stage's first step (after step 0), where the slider's thumb stands at that step. */
  renderStages(stages, T) {
    const key = `${stagesText(stages)}|${T}`;
    if (key === this.stagesKey) return;
    this.stagesKey = key;
    const max = Math.max(1, T - 1);
    const marks = stages
      .filter((st) => st.start > 0 && st.start < T)
      .map((st) => {
        const mark = el("span", {
          class: "lw-stage-mark",
          "data-step": String(st.start),
          "data-module": st.module,
          title: `${st.module} runs at steps ${st.start}–${st.stop - 1}`,
          text: st.module,
        });
        mark.style.left = `calc(${THUMB}px + (100% - ${2 * THUMB}px) * ${st.start / max})`;
        return mark;
      });
    this.marks.replaceChildren(...marks);
  }
}
