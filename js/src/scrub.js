// Scrub math (pure): x pixel <-> time step on a plot whose columns are the T steps of a sequence, keys -> steps,
// playback advance and time-axis ticks. Step t occupies the column [left + t*w/T, left + (t+1)*w/T); its centre is
// where the cursor line is drawn, so heatmap cells and line charts line up.

/** Clamp a step to 0..T-1 (0 for an empty sequence). */
export function clampStep(t, T) {
  if (!(T > 0)) return 0;
  t = Math.trunc(Number(t));
  if (!Number.isFinite(t)) return 0;
  return t < 0 ? 0 : t > T - 1 ? T - 1 : t;
}

/** The step under pixel x, clamped (pixels left of the plot -> 0, right of it -> T-1). */
export function stepFromX(x, left, width, T) {
  if (!(T > 0) || !(width > 0)) return 0;
  return clampStep(Math.floor(((x - left) / width) * T), T);
}

/** The x pixel of the centre of step t. */
export function xFromStep(t, left, width, T) {
  if (!(T > 0)) return left;
  return left + ((t + 0.5) * width) / T;
}

/** Left edge of step t's column. */
export function xEdge(t, left, width, T) {
  if (!(T > 0)) return left;
  return left + (t * width) / T;
}

/** The row (0..n-1) under pixel y on a plot of n rows from `top` with height h; -1 outside. */
export function rowFromY(y, top, height, n) {
  if (!(n > 0) || !(height > 0)) return -1;
  const r = Math.floor(((y - top) / height) * n);
  return r < 0 || r >= n ? -1 : r;
}

/**
 * What a key does to the cursor: {t} (a new step), {toggle: true} (play/pause) or null (not ours).
 * ←/→ one step (Shift: 10), PageUp/PageDown 10 steps, Home/End first/last, space play/pause.
 */
export function keyAction(key, t, T, { shift = false } = {}) {
  const big = Math.max(1, Math.min(10, T - 1));
  switch (key) {
    case "ArrowLeft":
    case "Left":
      return { t: clampStep(t - (shift ? big : 1), T) };
    case "ArrowRight":
    case "Right":
      return { t: clampStep(t + (shift ? big : 1), T) };
    case "PageUp":
      return { t: clampStep(t - big, T) };
    case "PageDown":
      return { t: clampStep(t + big, T) };
    case "Home":
      return { t: 0 };
    case "End":
      return { t: clampStep(T - 1, T) };
    case " ":
    case "Spacebar":
      return { toggle: true };
    default:
      return null;
  }
}

/**
 * Playback: the step reached `elapsedMs` after leaving `startT` at `speed` steps/s, and whether it is the last
 * step (playback stops there).
 */
export function playStep(startT, elapsedMs, speed, T) {
  if (!(T > 0)) return { t: 0, done: true };
  const t = clampStep(startT + Math.floor((Math.max(0, elapsedMs) * Math.max(0, speed)) / 1000), T);
  return { t, done: t >= T - 1 };
}

/** A "nice" tick spacing (1, 2, 5 × 10^k steps) for T steps over `width` px with ticks >= minPx apart. */
export function tickStep(T, width, minPx = 60) {
  if (!(T > 0) || !(width > 0)) return 1;
  const raw = (T * minPx) / width;
  const p = 10 ** Math.floor(Math.log10(Math.max(1, raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return Math.max(1, m * p);
  return 10 * p;
}

/** Tick steps 0, k, 2k, ... < T. */
export function timeTicks(T, width, minPx = 60) {
  const k = tickStep(T, width, minPx);
  const out = [];
  for (let t = 0; t < T; t += k) out.push(t);
  return out;
}
