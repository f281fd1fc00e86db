// Theme: JupyterLab's CSS variables (--jp-*) read from the widget's root, with fallbacks taken from the host page
// (its inherited text colour) so the widget reads in light and dark themes and outside JupyterLab too.
// Canvases use the parsed values; DOM parts use the same variables in CSS (see style.js).

let probe = null;
/** Parse any CSS colour to [r, g, b, a] (0..255, alpha 0..1) using the canvas colour parser; null if invalid. */
export function parseColor(str) {
  if (!str) return null;
  if (!probe) {
    if (typeof document === "undefined") return null;
    probe = document.createElement("canvas").getContext("2d");
  }
  probe.fillStyle = "#010203";
  probe.fillStyle = str;
  const out = probe.fillStyle;
  if (out === "#010203" && str.replace(/\s/g, "").toLowerCase() !== "#010203") return null;
  if (out[0] === "#") {
    return [parseInt(out.slice(1, 3), 16), parseInt(out.slice(3, 5), 16), parseInt(out.slice(5, 7), 16), 1];
  }
  const m = out.match(/rgba?\(([^)]+)\)/);
  if (!m) return null;
  const p = m[1].split(",").map((x) => parseFloat(x));
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
}

/** Relative luminance (0..1) of an [r, g, b] colour. */
export function luminance(rgb) {
  const lin = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2]);
}

/** The theme as canvas-ready colours: {fg0, fg1, fg2, fg3, bg0, bg1, border, brand, font, dark, key}. */
export function readTheme(el) {
  const cs = getComputedStyle(el);
  const v = (name) => cs.getPropertyValue(name).trim();
  const inherited = cs.color || "rgb(33, 33, 33)";
  const fg1 = v("--jp-ui-font-color1") || inherited;
  const fgRGB = parseColor(fg1) || [33, 33, 33, 1];
  let bg0 = v("--jp-layout-color0");
  const bgRGB = parseColor(bg0);
  // Dark when the text is light (works with and without JupyterLab's variables), or when the background is dark.
  const dark = bgRGB && bgRGB[3] > 0.5 ? luminance(bgRGB) < 0.35 : luminance(fgRGB) > 0.45;
  const alpha = (rgb, a) => `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${a})`;
  if (!bg0) bg0 = dark ? "#111111" : "#ffffff";
  const t = {
    fg0: v("--jp-ui-font-color0") || alpha(fgRGB, 1),
    fg1,
    fg2: v("--jp-ui-font-color2") || alpha(fgRGB, 0.62),
    fg3: v("--jp-ui-font-color3") || alpha(fgRGB, 0.4),
    bg0,
    bg1: v("--jp-layout-color1") || (dark ? "#1a1a1a" : "#ffffff"),
    bg2: v("--jp-layout-color2") || (dark ? "#2a2a2a" : "#eeeeee"),
    border: v("--jp-border-color1") || alpha(fgRGB, 0.25),
    brand: v("--jp-brand-color1") || (dark ? "#4aa3f0" : "#1976d2"),
    font: v("--jp-ui-font-family") || cs.fontFamily || "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    dark,
    fgRGB,
    grid: alpha(fgRGB, dark ? 0.1 : 0.08),
    axis: alpha(fgRGB, 0.35),
  };
  t.key = [t.fg0, t.fg1, t.fg2, t.bg0, t.bg1, t.border, t.brand, t.font, dark].join("|");
  return t;
}

/** Canvas font string. */
export function font(theme, size = 11, weight = 400) {
  return `${weight} ${size}px ${theme.font}`;
}
