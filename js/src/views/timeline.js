// Timeline (lw-timeline): step back / play-pause / step forward, a slider over the steps of the current sequence,
// "t = 5 / 26", and the playback speed. Playing itself is driven by index.js (client side, no kernel round trip).

import { el, icon, setIcon, setText, fillSelect } from "./common.js";

export const SPEEDS = [0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export class TimelineView {
  constructor(ctx) {
    this.ctx = ctx;
    const { store } = ctx;
    this.back = el("button", { class: "lw-icon-btn", type: "button", title: "Step back (←)", "aria-label": "Step back" }, icon("back"));
    this.play = el("button", { class: "lw-icon-btn lw-play", type: "button", title: "Play / pause (space)", "aria-label": "Play" });
    this.forward = el("button", { class: "lw-icon-btn", type: "button", title: "Step forward (→)", "aria-label": "Step forward" }, icon("forward"));
    setIcon(this.play, "play");
    this.slider = el("input", { class: "lw-slider", type: "range", min: "0", max: "0", step: "1", value: "0", "aria-label": "Time step" });
    this.label = el("span", { class: "lw-tlabel", title: "current step t (0-based) / number of steps" });
    this.speed = el("select", { class: "lw-speed", title: "Playback speed (steps per second)", "aria-label": "Playback speed" });
    this.el = el(
      "div",
      { class: "lw-timeline lw-view", "data-t": "0" },
      el("div", { class: "lw-transport" }, this.back, this.play, this.forward),
      this.slider,
      this.label,
      el("label", { class: "lw-speed-wrap" }, this.speed, el("span", { class: "lw-unit", text: "steps/s" })),
    );

    this.back.addEventListener("click", () => store.step(-1));
    this.forward.addEventListener("click", () => store.step(1));
    this.play.addEventListener("click", () => ctx.togglePlay());
    this.slider.addEventListener("input", () => store.set({ t: Number(this.slider.value) }));
    this.speed.addEventListener("change", () => store.set({ speed: Number(this.speed.value) }));
  }

  render({ snap }) {
    const { t, T, playing, speed } = snap;
    const max = String(Math.max(0, T - 1));
    if (this.slider.max !== max) this.slider.max = max;
    if (this.slider.value !== String(t)) this.slider.value = String(t);
    this.slider.disabled = T <= 1;
    setText(this.label, `t = ${t} / ${T}`);
    setIcon(this.play, playing ? "pause" : "play");
    this.play.setAttribute("aria-label", playing ? "Pause" : "Play");
    this.play.setAttribute("aria-pressed", playing ? "true" : "false");
    // Not `disabled`: a focused button that gets disabled drops focus out of the widget (and its keyboard).
    this.back.classList.toggle("lw-dim", t <= 0);
    this.forward.classList.toggle("lw-dim", t >= T - 1);
    const speeds = SPEEDS.includes(speed) ? SPEEDS : [...SPEEDS, speed].sort((a, b) => a - b);
    fillSelect(this.speed, speeds.map((s) => [s, String(s)]), speed);
    this.el.dataset.t = String(t);
  }
}
