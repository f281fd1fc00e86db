// Colour maps as RGBA lookup tables (Uint8ClampedArray, 4 bytes per entry) and the value -> entry mapping.
// Signed quantities (h, c, g; a GRU's n) use a diverging map symmetric around 0 with max |value| from meta.limits;
// gates (i, f, o; a GRU's r, z) a sequential map on the fixed range 0..1. A categorical palette colours lines (units,
// features, classes).

// Odd size: the centre entry is exactly the middle colour, so v and -v land on mirrored entries.
export const LUT_SIZE = 255;

// Control points (r, g, b), evenly spaced from the low end to the high end.
const STOPS = {
  // ColorBrewer RdBu reversed: blue (negative) - white (0) - red (positive).
  rdbu: [
    [5, 48, 97],
    [33, 102, 172],
    [67, 147, 195],
    [146, 197, 222],
    [209, 229, 240],
    [247, 247, 247],
    [253, 219, 199],
    [244, 165, 130],
    [214, 96, 77],
    [178, 24, 43],
    [103, 0, 31],
  ],
  // Blue - near black - red: the same reading on a dark background (0 fades into the page instead of glowing).
  bkr: [
    [150, 210, 255],
    [75, 160, 235],
    [35, 105, 190],
    [22, 60, 115],
    [20, 30, 52],
    [24, 24, 28],
    [55, 24, 22],
    [122, 34, 28],
    [192, 56, 40],
    [240, 112, 80],
    [255, 190, 160],
  ],
  // matplotlib viridis.
  viridis: [
    [68, 1, 84],
    [72, 36, 117],
    [65, 68, 135],
    [53, 95, 141],
    [42, 120, 142],
    [33, 145, 140],
    [34, 168, 132],
    [68, 191, 112],
    [122, 209, 81],
    [189, 223, 38],
    [253, 231, 37],
  ],
};

export const MAP_NAMES = Object.keys(STOPS);

/** Build an n-entry RGBA table by linear interpolation between a map's control points. */
export function makeLUT(name, n = LUT_SIZE) {
  const stops = STOPS[name];
  if (!stops) throw new Error(`unknown colour map ${name}`);
  const lut = new Uint8ClampedArray(n * 4);
  const segs = stops.length - 1;
  for (let k = 0; k < n; k++) {
    const x = n === 1 ? 0.5 : (k / (n - 1)) * segs;
    const j = Math.min(segs - 1, Math.floor(x));
    const f = x - j;
    const a = stops[j];
    const b = stops[j + 1];
    lut[4 * k] = Math.round(a[0] + (b[0] - a[0]) * f);
    lut[4 * k + 1] = Math.round(a[1] + (b[1] - a[1]) * f);
    lut[4 * k + 2] = Math.round(a[2] + (b[2] - a[2]) * f);
    lut[4 * k + 3] = 255;
  }
  return lut;
}

const LUT_CACHE = new Map();
/** Cached LUT_SIZE-entry table of a map. */
export function lut(name) {
  let t = LUT_CACHE.get(name);
  if (!t) {
    t = makeLUT(name);
    LUT_CACHE.set(name, t);
  }
  return t;
}

/** The gates squashed to [0, 1] (a sigmoid): an LSTM's i, f, o and a GRU's r, z. */
export const UNIT_GATES = ["i", "f", "o", "r", "z"];

/** Whether a quantity is signed (diverging map) rather than a gate in [0, 1] (sequential map). */
export function isSigned(quantity) {
  return !UNIT_GATES.includes(quantity);
}

/**
 * The colour scale of a quantity: {map, lo, hi, signed}. Signed quantities get [-m, m] with m = max |limit|;
 * gates get [0, 1]. `dark` picks the diverging map that reads on a dark background.
 */
export function scaleFor(quantity, limits, dark = false) {
  if (!isSigned(quantity)) return { map: "viridis", lo: 0, hi: 1, signed: false };
  const [a, b] = limits || [0, 0];
  let m = Math.max(Math.abs(+a || 0), Math.abs(+b || 0));
  if (!(m > 0)) m = 1;
  return { map: dark ? "bkr" : "rdbu", lo: -m, hi: m, signed: true };
}

/**
 * Table entry (0..n-1) of value v on [lo, hi]; NaN -> -1. Rounds away from the centre symmetrically, so on a
 * symmetric range indexOf(v) + indexOf(-v) === n - 1.
 */
export function indexOf(v, lo, hi, n = LUT_SIZE) {
  if (v !== v) return -1;
  const c = (n - 1) / 2;
  const off = ((v - lo) / (hi - lo || 1) - 0.5) * (n - 1);
  const k = off >= 0 ? c + Math.round(off) : c - Math.round(-off);
  return k < 0 ? 0 : k > n - 1 ? n - 1 : Math.floor(k);
}

/** CSS colour of value v on a scale. */
export function cssColor(scale, v) {
  const table = lut(scale.map);
  const k = indexOf(v, scale.lo, scale.hi, table.length / 4);
  if (k < 0) return "rgba(0,0,0,0)";
  return `rgb(${table[4 * k]},${table[4 * k + 1]},${table[4 * k + 2]})`;
}

// Tableau 10, then a second ring with shifted lightness for more than 10 lines.
const CATEGORICAL = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];
const CATEGORICAL_DARK = [
  "#6fa0d8",
  "#ffa54f",
  "#ff7275",
  "#8fd6d0",
  "#7fc86f",
  "#f5d75b",
  "#cf98c2",
  "#ffb3bb",
  "#c39a82",
  "#d3cbc7",
];

/** The k-th categorical colour (a CSS string); beyond 10 the hue is rotated. */
export function categorical(k, dark = false) {
  const base = dark ? CATEGORICAL_DARK : CATEGORICAL;
  if (k < base.length) return base[k];
  const hue = (k * 137.508) % 360; // golden angle: far-apart hues
  return `hsl(${hue.toFixed(0)}, ${dark ? 65 : 55}%, ${dark ? 62 : 45}%)`;
}

/** CSS gradient stops of a map (for legends). */
export function cssGradient(name, direction = "to right") {
  const stops = STOPS[name];
  const parts = stops.map((c, k) => `rgb(${c[0]},${c[1]},${c[2]}) ${((k / (stops.length - 1)) * 100).toFixed(1)}%`);
  return `linear-gradient(${direction}, ${parts.join(", ")})`;
}
