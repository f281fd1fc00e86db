// The channel grid's view (lstm_widget.ChannelGrid; traits in js/PROTOCOL.md, "Channel grid"): the channels of one
// layer tiled in a grid, the selected channel resized over the input image, the strongest channels ranked, a second
// input with the difference, and a layer picker. The kernel sends every array already normalised
// (lstm_widget's channels module); this view only draws, reads the traits through `get` and writes through `write`.

import { cssGradient, lut } from "../colormap.js";
import { bilinear, blend, imagePixels, mapPixels } from "../raster.js";
import { CSS } from "../style.js";
import { el, fillSelect, fmt, setText } from "./common.js";

/** The arrays of the grid's `_arrays` (js/PROTOCOL.md, "Channel grid"). */
export const GRID_ARRAYS = [
  "image",
  "image2",
  "maps",
  "maps2",
  "diff",
  "lo",
  "hi",
  "peak",
  "peak2",
  "change",
  "rank",
  "rank_diff",
];
/** CSS pixels of the longer side of each overlay picture. */
export const OVERLAY_PX = 208;

// The explorer's stylesheet, scoped to this widget's root, plus the grid's own rules.
const STYLE =
  CSS.replaceAll(".lstm-widget", ".lstm-channels") +
  `
.lstm-channels .lc-main { display: grid; grid-template-columns: minmax(0, 1.25fr) minmax(250px, 1fr); gap: 8px; align-items: start; }
.lstm-channels.lc-narrow .lc-main { grid-template-columns: minmax(0, 1fr); }
.lstm-channels .lc-tiles { display: grid; gap: 3px; max-width: 640px; }
.lstm-channels .lc-tile {
  position: relative; padding: 0; margin: 0; border: 2px solid transparent; border-radius: 3px; cursor: pointer;
  background: var(--lw-bg2); line-height: 0; min-width: 0;
}
.lstm-channels .lc-tile:hover { border-color: var(--lw-border); }
.lstm-channels .lc-tile[aria-selected="true"] { border-color: var(--lw-brand); }
.lstm-channels .lc-tile canvas { display: block; width: 100%; height: auto; image-rendering: pixelated; }
.lstm-channels .lc-tile-label {
  position: absolute; left: 1px; top: 1px; padding: 0 2px; border-radius: 2px; font-size: 9px; line-height: 1.2;
  color: var(--lw-fg1); background: color-mix(in srgb, var(--lw-bg0) 70%, transparent); pointer-events: none;
}
.lstm-channels .lc-figures { display: flex; flex-wrap: wrap; gap: 8px; }
.lstm-channels .lc-figure { margin: 0; display: flex; flex-direction: column; gap: 2px; min-width: 0; }
.lstm-channels .lc-figure canvas { display: block; border-radius: 3px; image-rendering: auto; }
.lstm-channels .lc-figure figcaption { font-size: 11px; color: var(--lw-fg2); max-width: ${OVERLAY_PX}px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.lstm-channels .lc-opacity { width: 110px; accent-color: var(--lw-brand); }
.lstm-channels .lc-rank-list { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 1px; }
.lstm-channels .lc-rank-item {
  display: grid; grid-template-columns: 2.4em 4em minmax(20px, 1fr) 8em; align-items: center; gap: 6px; width: 100%;
  padding: 1px 4px; margin: 0; font: inherit; font-size: 11px; text-align: left; color: var(--lw-fg1);
  background: transparent; border: 1px solid transparent; border-radius: 3px; cursor: pointer;
}
.lstm-channels .lc-rank-item:hover { background: var(--lw-bg2); }
.lstm-channels .lc-rank-item[aria-selected="true"] { border-color: var(--lw-brand); }
.lstm-channels .lc-rank-bar { display: block; height: 6px; border-radius: 2px; background: var(--lw-brand); opacity: 0.75; }
.lstm-channels .lc-num { font-variant-numeric: tabular-nums; text-align: right; white-space: nowrap; }
.lstm-channels .lc-status { color: var(--lw-brand); font-style: italic; font-size: 11px; }
.lstm-channels[data-pending="true"] .lc-tiles, .lstm-channels[data-pending="true"] .lc-figures { opacity: 0.45; }
`;

/** Colour scale of what a grid shows: sequential [0, 1] for activations, diverging [-1, 1] for a difference. */
export function gridScale(show, dark) {
  return show === "diff" ? { map: dark ? "bkr" : "rdbu", lo: -1, hi: 1 } : { map: "viridis", lo: 0, hi: 1 };
}

/** The channels the ranked list shows: the first `top` of the chosen ranking (the max ranking when that is absent). */
export function rankedChannels(data, rankBy, top) {
  const order = (rankBy === "change" && data.rank_diff) || data.rank;
  if (!order) return [];
  return Array.from(order.data.subarray(0, Math.min(top, order.data.length)));
}

/**
 * The channel grid: {el, setData(meta, data), render({changes, theme, themeChanged}), destroy()}. `get(key)` reads a
 * trait of the model, `write(patch)` writes traits (the page's choices); `data` holds the decoded arrays by name.
 */
export function channelGridView({ get, write }) {
  const root = el("div", {
    class: "lstm-channels",
    tabindex: "0",
    "data-lm-suppress-shortcuts": "true",
    "aria-label": "Channel grid. Arrow keys move the selected channel.",
  });
  root.append(el("style", { text: STYLE }));

  // ---- layout ------------------------------------------------------------------------------------------------------
  const layerSelect = el("select", { class: "lc-layer", "aria-label": "Layer", title: "Layer" });
  const showSeg = el("span", { class: "lw-seg lc-show", role: "group", "aria-label": "What the grid shows" });
  const status = el("span", { class: "lc-status" });
  const cbBar = el("span", { class: "lw-cb-bar" });
  const cbLo = el("span", {});
  const cbMid = el("span", {});
  const cbHi = el("span", {});
  const colorbar = el(
    "span",
    { class: "lw-colorbar lc-legend", title: "colour scale of the tiles" },
    cbBar,
    el("span", { class: "lw-cb-labels" }, cbLo, cbMid, cbHi),
  );
  const gridTitle = el("span", { class: "lw-title" });
  const gridSub = el("span", { class: "lw-sub" });
  const tiles = el("div", { class: "lc-tiles", role: "listbox", "aria-label": "Channels" });
  const detailTitle = el("span", { class: "lw-title" });
  const detailSub = el("span", { class: "lw-sub" });
  const opacity = el("input", {
    type: "range",
    min: "0",
    max: "1",
    step: "0.05",
    class: "lc-opacity",
    "aria-label": "Opacity of the channel map",
  }); // prettier-ignore
  const figures = el("div", { class: "lc-figures" });
  const rankBy = el("select", { class: "lc-rank-by", "aria-label": "Rank channels by" });
  const rankList = el("ol", { class: "lc-rank-list" });
  root.append(
    el(
      "div",
      { class: "lw-bar" },
      el("span", { class: "lw-brandmark", text: "Channels" }),
      el("label", { class: "lw-picker" }, el("span", { class: "lw-muted", text: "layer" }), layerSelect),
      showSeg,
      colorbar,
      status,
    ),
    el(
      "div",
      { class: "lc-main" },
      el(
        "div",
        { class: "lw-card lc-grid-card" },
        el("div", { class: "lw-head" }, el("span", { class: "lw-titles" }, gridTitle, gridSub)),
        tiles,
      ),
      el(
        "div",
        { class: "lw-col" },
        el(
          "div",
          { class: "lw-card lc-detail" },
          el(
            "div",
            { class: "lw-head" },
            el("span", { class: "lw-titles" }, detailTitle, detailSub),
            el("label", { class: "lw-controls" }, el("span", { class: "lw-muted", text: "opacity" }), opacity),
          ),
          figures,
        ),
        el(
          "div",
          { class: "lw-card lc-rank" },
          el(
            "div",
            { class: "lw-head" },
            el("span", { class: "lw-titles" }, el("span", { class: "lw-title", text: "Strongest channels" })),
            rankBy,
          ),
          rankList,
        ),
      ),
    ),
  );

  // ---- state -------------------------------------------------------------------------------------------------------
  let meta = {};
  let data = {};
  let theme = null;
  const tileNodes = [];
  let tileSig = "";
  let figureNodes = [];
  let figureSig = "";

  const nChannels = () => meta.n_channels || 0;
  const channel = () => {
    const c = get("channel");
    return Number.isInteger(c) && c >= 0 && c < nChannels() ? c : -1;
  };
  const show = () => {
    const s = get("show");
    return meta.has_x2 && (s === "x2" || s === "diff") ? s : "x";
  };
  const names = () => (meta.names && meta.names.length === 2 ? meta.names : ["x", "x2"]);
  const shown = () => (show() === "diff" ? data.diff : show() === "x2" ? data.maps2 : data.maps);

  // ---- events ------------------------------------------------------------------------------------------------------
  const select = (c) => {
    if (c >= 0 && c < nChannels() && c !== get("channel")) write({ channel: c });
  };
  layerSelect.addEventListener("change", () => write({ layer: layerSelect.value }));
  opacity.addEventListener("input", () => write({ opacity: Number(opacity.value) }));
  rankBy.addEventListener("change", () => write({ rank_by: rankBy.value }));
  tiles.addEventListener("click", (ev) => {
    const tile = ev.target.closest?.("[data-channel]");
    if (tile) select(Number(tile.dataset.channel));
  });
  rankList.addEventListener("click", (ev) => {
    const item = ev.target.closest?.("[data-channel]");
    if (item) select(Number(item.dataset.channel));
  });
  const onKey = (ev) => {
    const tag = ev.target?.tagName;
    if (ev.altKey || ev.ctrlKey || ev.metaKey || tag === "SELECT" || tag === "INPUT") return;
    const cols = meta.grid?.[1] || 1;
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols }[ev.key];
    if (step === undefined || !nChannels()) return;
    ev.preventDefault();
    ev.stopPropagation();
    const c = channel();
    select(Math.max(0, Math.min(nChannels() - 1, (c < 0 ? 0 : c) + step)));
  };
  root.addEventListener("keydown", onKey);

  // ---- drawing -----------------------------------------------------------------------------------------------------
  function renderBar() {
    const layers = (meta.layers || []).map((l) => [l.name, l.label || l.name]);
    fillSelect(layerSelect, layers, get("layer"));
    const pending = Boolean(meta.layer) && get("layer") !== meta.layer;
    root.dataset.pending = String(pending);
    setText(status, pending ? `computing ${get("layer")}…` : "");
    const [n1, n2] = names();
    const options = meta.has_x2
      ? [
          ["x", n1],
          ["x2", n2],
          ["diff", `${n1} − ${n2}`],
        ]
      : [];
    const sig = JSON.stringify(options);
    if (showSeg.dataset.sig !== sig) {
      showSeg.dataset.sig = sig;
      showSeg.replaceChildren(
        ...options.map(([v, label]) => {
          const b = el("button", { type: "button", "data-show": v, text: label, title: `tile ${label}` });
          b.addEventListener("click", () => write({ show: v }));
          return b;
        }),
      );
    }
    for (const b of showSeg.children) b.setAttribute("aria-pressed", String(b.dataset.show === show()));
    showSeg.hidden = !meta.has_x2;
    const scale = gridScale(show(), theme.dark);
    cbBar.style.background = cssGradient(scale.map);
    const c = channel();
    if (show() === "diff") {
      setText(cbLo, "−1");
      setText(cbMid, "0");
      setText(cbHi, "+1");
      colorbar.title = `difference ${n1} − ${n2} per channel, on each channel's range: +1 (red) where ${n1} is at the top of it and ${n2} at the bottom, −1 (blue) the other way`;
    } else {
      const lo = data.lo && c >= 0 ? fmt(data.lo.data[c]) : "min";
      const hi = data.hi && c >= 0 ? fmt(data.hi.data[c]) : "max";
      setText(cbLo, c >= 0 ? `0 = ${lo}` : "0 = min");
      setText(cbMid, "");
      setText(cbHi, c >= 0 ? `1 = ${hi}` : "1 = max");
      colorbar.title = "each channel scaled to [0, 1] on its own range (values: the selected channel's)";
    }
    if (opacity.value !== String(get("opacity"))) opacity.value = String(get("opacity"));
    const rankOptions = meta.has_x2
      ? [
          ["max", "max activation"],
          ["change", `change ${n1} − ${n2}`],
        ]
      : [["max", "max activation"]];
    fillSelect(rankBy, rankOptions, meta.has_x2 ? get("rank_by") : "max");
    rankBy.disabled = !meta.has_x2;
  }

  function buildTiles() {
    const C = nChannels();
    const [h, w] = meta.map_shape || [1, 1];
    const cols = meta.grid?.[1] || Math.ceil(Math.sqrt(C));
    const sig = JSON.stringify([meta.layer, C, h, w, cols]);
    if (sig === tileSig) return false;
    tileSig = sig;
    tiles.style.gridTemplateColumns = `repeat(${cols}, minmax(0, 1fr))`;
    tileNodes.length = 0;
    const nodes = [];
    for (let c = 0; c < C; c++) {
      const canvas = el("canvas", { width: String(w), height: String(h) });
      canvas.style.aspectRatio = `${w} / ${h}`;
      const tile = el(
        "div",
        {
          class: "lc-tile",
          role: "option",
          "data-channel": String(c),
          title: `channel ${c}`,
          "aria-selected": "false",
        },
        canvas,
        el("span", { class: "lc-tile-label", text: String(c) }),
      );
      tileNodes.push({ tile, canvas, ctx: canvas.getContext("2d") });
      nodes.push(tile);
    }
    tiles.replaceChildren(...nodes);
    return true;
  }

  function paintTiles() {
    const maps = shown();
    if (!maps) return;
    const [h, w] = meta.map_shape || [1, 1];
    const n = h * w;
    const scale = gridScale(show(), theme.dark);
    const table = lut(scale.map);
    for (let c = 0; c < tileNodes.length; c++) {
      const px = mapPixels(maps.data, n, scale.lo, scale.hi, table, c * n);
      tileNodes[c].ctx.putImageData(new ImageData(px, w, h), 0, 0);
    }
  }

  function markSelected() {
    const c = channel();
    for (let k = 0; k < tileNodes.length; k++) {
      const sel = String(k === c);
      if (tileNodes[k].tile.getAttribute("aria-selected") !== sel) tileNodes[k].tile.setAttribute("aria-selected", sel);
    }
    for (const item of rankList.children) {
      const b = item.firstChild;
      b.setAttribute("aria-selected", String(Number(b.dataset.channel) === c));
    }
    root.dataset.channel = String(c);
  }

  function figureSpecs() {
    const [n1, n2] = names();
    const specs = [{ key: "x", image: "image", maps: "maps", caption: n1 }];
    if (meta.has_x2) {
      specs.push({ key: "x2", image: "image2", maps: "maps2", caption: n2 });
      specs.push({ key: "diff", image: "image", maps: "diff", caption: `${n1} − ${n2}` });
    }
    return specs;
  }

  function paintFigures() {
    const specs = figureSpecs();
    const shape = meta.image_shape || [1, 1];
    const aspect = shape[1] / shape[0];
    const cssW = Math.round(aspect >= 1 ? OVERLAY_PX : OVERLAY_PX * aspect);
    const cssH = Math.round(aspect >= 1 ? OVERLAY_PX / aspect : OVERLAY_PX);
    const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
    const W = Math.max(1, Math.round(cssW * dpr));
    const H = Math.max(1, Math.round(cssH * dpr));
    const sig = JSON.stringify([specs, W, H]);
    if (sig !== figureSig) {
      figureSig = sig;
      figureNodes = specs.map((s) => {
        const canvas = el("canvas", { width: String(W), height: String(H) });
        canvas.style.width = `${cssW}px`;
        canvas.style.height = `${cssH}px`;
        const caption = el("figcaption", { text: s.caption, title: s.caption });
        const fig = el(
          "figure",
          { class: `lc-figure lc-overlay lc-overlay-${s.key}`, "data-input": s.key },
          canvas,
          caption,
        );
        return { spec: s, fig, canvas, ctx: canvas.getContext("2d") };
      });
      figures.replaceChildren(...figureNodes.map((f) => f.fig));
    }
    const c = channel();
    const [h, w] = meta.map_shape || [1, 1];
    const alpha = Math.max(0, Math.min(1, Number(get("opacity"))));
    for (const f of figureNodes) {
      const maps = data[f.spec.maps];
      const image = f.spec.image && data[f.spec.image];
      const diff = f.spec.key === "diff";
      const scale = gridScale(diff ? "diff" : "x", theme.dark);
      const base = image ? imagePixels(image.data, image.shape, H, W) : new Uint8ClampedArray(W * H * 4);
      let px = base;
      if (maps && c >= 0) {
        // the map resized to the picture, laid over the image with alpha = opacity × its value (|value| for diff)
        const resized = bilinear(maps.data, h, w, H, W, c * h * w);
        const colour = mapPixels(resized, H * W, scale.lo, scale.hi, lut(scale.map));
        const weights = diff ? resized.map(Math.abs) : resized;
        px = blend(base, colour, alpha, weights);
      }
      f.ctx.putImageData(new ImageData(px, W, H), 0, 0);
      f.fig.dataset.channel = String(c);
    }
    const label = (meta.layers || []).find((l) => l.name === meta.layer);
    setText(detailTitle, c >= 0 ? `channel ${c}` : "no channel selected");
    const peak = data.peak && c >= 0 ? `max ${fmt(data.peak.data[c])}` : "";
    const peak2 = data.peak2 && c >= 0 ? ` · ${names()[1]}: max ${fmt(data.peak2.data[c])}` : "";
    setText(detailSub, `${label ? label.name : meta.layer || ""}${peak ? ` · ${peak}` : ""}${peak2}`);
  }

  function renderRank() {
    const top = meta.top || 10;
    const rankByValue = meta.has_x2 ? get("rank_by") : "max";
    const list = rankedChannels(data, rankByValue, top);
    const byChange = rankByValue === "change" && Boolean(data.change);
    const source = byChange ? data.change : data.peak;
    const values = list.map((c) => (source ? source.data[c] : NaN));
    const best = Math.max(1e-12, ...values.map(Math.abs));
    const sig = JSON.stringify([meta.layer, list, values, byChange]);
    if (rankList.dataset.sig === sig) return;
    rankList.dataset.sig = sig;
    rankList.replaceChildren(
      ...list.map((c, k) => {
        const bar = el("span", { class: "lc-rank-bar" });
        bar.style.width = `${Math.max(2, (100 * Math.abs(values[k])) / best).toFixed(1)}%`;
        const other = data.peak2 && !byChange ? `→ ${fmt(data.peak2.data[c])}` : "";
        const title = byChange
          ? `channel ${c}: changed by ${fmt(values[k])} of its range on average`
          : `channel ${c}: max ${fmt(values[k])}${other ? ` (${names()[1]}: ${fmt(data.peak2.data[c])})` : ""}`;
        const button = el(
          "button",
          { type: "button", class: "lc-rank-item", "data-channel": String(c), title, "aria-selected": "false" },
          el("span", { class: "lc-num", text: `#${k + 1}` }),
          el("span", { text: `ch ${c}` }),
          el("span", {}, bar),
          el("span", { class: "lc-num", text: `${fmt(values[k])} ${other}`.trim() }),
        );
        return el("li", {}, button);
      }),
    );
  }

  function render(f) {
    theme = f.theme;
    const { changes, themeChanged } = f;
    try {
      renderBar();
      const C = nChannels();
      setText(gridTitle, meta.layer || "");
      const [h, w] = meta.map_shape || [0, 0];
      const what = show() === "diff" ? `difference ${names()[0]} − ${names()[1]}` : names()[show() === "x2" ? 1 : 0];
      setText(gridSub, C ? `${C} channels · ${h}×${w} · ${what}` : "");
      const rebuilt = buildTiles();
      if (rebuilt || themeChanged || changes.has("data") || changes.has("traits")) paintTiles();
      renderRank();
      markSelected();
      paintFigures();
      root.dataset.layer = meta.layer || "";
      root.dataset.show = show();
    } catch (err) {
      console.error("lstm_widget channels: failed to render", err);
    }
  }

  return {
    el: root,
    /** New data: `meta` (the kernel's _meta) and the decoded arrays by name. */
    setData(newMeta, newData) {
      meta = newMeta;
      data = newData;
    },
    render,
    destroy() {
      root.removeEventListener("keydown", onKey);
    },
  };
}
