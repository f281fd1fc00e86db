// Stages: where each recurrent module ran on a sequence's timeline (`_meta.stages`: an encoder's steps, then its
// decoder's). The time views draw a rule at each stage's first step with the module's name; the heatmap says which
// steps of the shown row hold no value (a module that did not run there) and draws them hatched.

import { font } from "./theme.js";

/** The stage boundaries inside the window [t0, t1): [{step, module}] for every stage that starts after step 0. */
export function stageRules(stages, t0, t1) {
  const out = [];
  for (const st of stages || [])
    if (st.start > 0 && st.start >= t0 && st.start < t1) out.push({ step: st.start, module: st.module });
  return out;
}

/** `data-stages` text of a view: "encoder:0-6,decoder:6-10" ("" without stages). */
export function stagesText(stages) {
  return (stages || []).map((st) => `${st.module}:${st.start}-${st.stop}`).join(",");
}

/** The runs of steps t0 .. t1-1 of a (T, U) block where every unit is NaN, as "a-b" half-open ranges joined by ","
 * (global steps; "" when every step holds a value). */
export function blankRanges(data, U, t0, t1) {
  const out = [];
  let start = -1;
  for (let t = t0; t <= t1; t++) {
    let blank = false;
    if (t < t1) {
      blank = true;
      const base = t * U;
      for (let u = 0; u < U; u++) {
        const v = data[base + u];
        if (v === v) {
          blank = false;
          break;
        }
      }
    }
    if (blank && start < 0) start = t;
    else if (!blank && start >= 0) {
      out.push(`${start}-${t}`);
      start = -1;
    }
  }
  return out.join(",");
}

/** Draw each rule of `rules` ({step, module}) on a time axis of `n` steps from `t0` in `rect`: a dashed vertical line
 * at the step's left edge, the module's name at its top right. */
export function drawStageRules(ctx, rect, rules, t0, n, theme) {
  if (!rules.length || !(n > 0)) return;
  ctx.save();
  ctx.strokeStyle = theme.fg1;
  ctx.globalAlpha = 0.75;
  ctx.lineWidth = 1;
  ctx.setLineDash([4, 3]);
  ctx.font = font(theme, 10, 600);
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  for (const r of rules) {
    const x = Math.round(rect.x + ((r.step - t0) * rect.w) / n) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, rect.y);
    ctx.lineTo(x, rect.y + rect.h);
    ctx.stroke();
    ctx.fillStyle = theme.fg1;
    ctx.fillText(r.module, x + 3, rect.y + 2);
  }
  ctx.restore();
}

/** A canvas pattern of thin diagonal lines (what "no value here" looks like under the heatmap), one per theme. */
const HATCH = new Map();
export function hatchPattern(ctx, theme) {
  const key = theme.key ?? String(theme.dark);
  if (HATCH.has(key)) return HATCH.get(key);
  if (typeof document === "undefined") return null;
  const tile = document.createElement("canvas");
  tile.width = 6;
  tile.height = 6;
  const t = tile.getContext("2d");
  t.strokeStyle = theme.dark ? "rgba(255,255,255,0.22)" : "rgba(0,0,0,0.18)";
  t.lineWidth = 1;
  t.beginPath();
  t.moveTo(-1, 7);
  t.lineTo(7, -1);
  t.stroke();
  const pattern = ctx.createPattern(tile, "repeat");
  HATCH.set(key, pattern);
  return pattern;
}
