// The Explorer's frame around its views: the root element, the tooltip the views share, the collapsible
// "Gates & weights" section, the layout (bar, main and side columns, sections), and the two notices above the bar
// (data the page cannot show; a kernel that no longer answers).

import { clipText, collapsible, el, setText } from "./common.js";

/** A tooltip shows at most this many characters (a name of any length must not make it wider than the page). */
const TOOLTIP_CHARS = 240;

/** The Explorer's root element (focusable; data-frame-ms / data-frames filled by the repaint loop). */
export function explorerRoot() {
  return el("div", {
    class: "lstm-widget",
    tabindex: "0",
    "data-frame-ms": "0",
    "data-frames": "0",
    "data-lm-suppress-shortcuts": "true",
    "aria-label": "LSTM activation explorer. Left and right arrows step, Home and End jump, space plays.",
  });
}

/** The tooltip of `root`: {node, show(clientX, clientY, text), hide()}. */
export function makeTooltip(root) {
  const node = el("div", { class: "lw-tooltip", role: "tooltip", hidden: true });
  root.append(node);
  return {
    node,
    show(clientX, clientY, text) {
      setText(node, clipText(text, TOOLTIP_CHARS));
      node.hidden = false;
      const r = root.getBoundingClientRect();
      const w = node.offsetWidth;
      let x = clientX - r.left + 12;
      if (x + w > r.width - 4) x = clientX - r.left - w - 12;
      node.style.left = `${Math.max(2, x)}px`;
      node.style.top = `${clientY - r.top + 14}px`;
    },
    hide() {
      if (!node.hidden) node.hidden = true;
    },
  };
}

/**
 * The collapsible "Gates & weights" section: a toggle (writes `gate_details`) over the weight view and the gate
 * saturation scatter. A view in the repaint loop (it shows or hides its body from the state).
 */
export function detailsSection(ctx, weights, saturation) {
  return collapsible(
    ctx.store,
    {
      key: "gate_details",
      kind: "gate-details",
      name: "Gates & weights",
      hint: "W, U, b per gate next to the gates over time · gate saturation",
      title: "Show or hide the per-gate weights and the gate saturation",
    },
    weights.el,
    saturation.el,
  );
}

/** The keyboard help line under the side column. */
function helpLine() {
  const kbd = (text) => el("kbd", { text });
  return el(
    "div",
    { class: "lw-help" },
    kbd("←"),
    " ",
    kbd("→"),
    " step · ",
    kbd("Home"),
    " ",
    kbd("End"),
    " · ",
    kbd("space"),
    " play · ",
    kbd("+"),
    " ",
    kbd("−"),
    " zoom · click rows to select units",
  );
}

/** Lay the Explorer's views `v` (by name) out in `root`: the bar, the main and side columns, then the sections. */
export function layOut(root, v) {
  root.append(
    el(
      "div",
      { class: "lw-bar" },
      el("span", { class: "lw-brandmark", text: "LSTM explorer" }),
      v.picker.el,
      v.pager.el,
      v.timeline.el,
    ),
    el(
      "div",
      { class: "lw-grid" },
      el("div", { class: "lw-col lw-col-main" }, v.text.el, v.inputs.el, v.heatmap.el, v.traces.el),
      el("div", { class: "lw-col lw-col-side" }, v.trajectory.el, v.probs.el, v.outputs.el, v.gates.el, helpLine()),
    ),
    v.details.el,
    v.why.el,
  );
}

/**
 * The two notices above the bar of `root`: `showErrors(list)` says which data could not be shown (hidden when the
 * list is empty); `markStale(why)` says, once, that Python no longer answers (the view still plays what it holds).
 */
export function notices(root) {
  const notice = el("div", { class: "lw-notice", role: "alert", hidden: true });
  root.querySelector(".lw-bar")?.before(notice);
  const stale = el("div", { class: "lw-stale", role: "status", hidden: true });
  root.querySelector(".lw-bar")?.before(stale);
  return {
    showErrors(bad) {
      if (bad.length) {
        setText(
          notice,
          `Some data could not be shown (${bad.join("; ")}). Send less (fewer or shorter sequences, ` +
            `wire_dtype="float16", preload="h") or re-run the cell.`,
        );
      }
      notice.hidden = !bad.length;
    },
    markStale(why) {
      if (!stale.hidden) return;
      setText(
        stale,
        `${why}: this view is no longer connected to Python. It still plays what it holds; run its cell again to ` +
          "reconnect.",
      );
      stale.hidden = false;
      root.dataset.stale = "true";
    },
  };
}
