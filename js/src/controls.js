// What the Explorer's controls do to the store: zoom and pan the time views, play / pause, the keyboard (arrows step,
// Home / End jump, space plays, + / − / 0 zoom), and client-side playback (the cursor advanced once per animation
// frame from an anchor, no kernel round trip). The keys and steps themselves are scrub.js's pure maths.

import { panWindow, zoomWindow } from "./lod.js";
import { keyAction, playStep } from "./scrub.js";

/** The store actions views share through their context: {zoom(factor, anchor), pan(delta), togglePlay()}. */
export function storeActions(store) {
  return {
    /** Zoom the time views by `factor` (> 1: in) around step `anchor` (the cursor when it is in view, else the
     * window's centre). */
    zoom(factor, anchor = null) {
      const snap = store.snapshot();
      const w = snap.window || { t0: 0, t1: snap.T };
      const a = anchor ?? (snap.t >= w.t0 && snap.t < w.t1 ? snap.t : null);
      store.set({ window: zoomWindow(snap.window, snap.T, factor, a) });
    },
    /** Pan the zoomed time views by `delta` steps. */
    pan(delta) {
      const snap = store.snapshot();
      if (snap.window) store.set({ window: panWindow(snap.window, snap.T, delta) });
    },
    togglePlay() {
      const snap = store.snapshot();
      if (snap.playing) store.set({ playing: false });
      else {
        if (snap.t >= snap.T - 1) store.set({ t: 0 });
        store.set({ playing: true });
      }
    },
  };
}

/** The Explorer's keydown handler over `store` and its `actions` (storeActions). */
export function keyHandler(store, actions) {
  return (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const target = ev.target;
    const tag = target?.tagName;
    if (tag === "SELECT" || tag === "TEXTAREA" || (tag === "INPUT" && target.type !== "range")) return;
    if (tag === "INPUT" && ev.key !== " ") return; // the slider handles its own arrows / Home / End
    if (tag === "BUTTON" && (ev.key === " " || ev.key === "Enter")) return;
    const snap = store.snapshot();
    const zoomKey = { "+": 2, "=": 2, "-": 0.5, _: 0.5, 0: 0 }[ev.key]; // zoom the time views (0: show every step)
    if (zoomKey != null && tag !== "INPUT") {
      ev.preventDefault();
      ev.stopPropagation();
      if (zoomKey) actions.zoom(zoomKey);
      else store.set({ window: null });
      return;
    }
    const action = keyAction(ev.key, snap.t, snap.T, { shift: ev.shiftKey });
    if (!action) return;
    ev.preventDefault();
    ev.stopPropagation();
    if (action.toggle) actions.togglePlay();
    else store.set({ t: action.t });
  };
}

/**
 * Client-side playback of `store`: `tick(now)` (once per animation frame, `now` in ms) moves the cursor to where the
 * playback anchored at the last cursor / speed change has reached, and stops at the end. Its writes come from "play".
 */
export function createPlayer(store) {
  const play = { anchorT: 0, anchorTime: 0, lastT: -1, speed: 0, active: false };
  return {
    tick(now) {
      const snap = store.snapshot();
      if (!snap.playing) {
        play.active = false;
        return;
      }
      if (!play.active || snap.t !== play.lastT || snap.speed !== play.speed) {
        // (Re)anchor: playback starts, someone moved the cursor, or the speed changed.
        Object.assign(play, { active: true, anchorT: snap.t, anchorTime: now, lastT: snap.t, speed: snap.speed });
      }
      const { t, done } = playStep(play.anchorT, now - play.anchorTime, snap.speed, snap.T);
      if (t !== snap.t) store.set({ t }, "play");
      play.lastT = t;
      if (done) store.set({ playing: false }, "play");
    },
  };
}
