// controls.js: what the Explorer's keys and play button do to the store, and client-side playback, on a fake store
// (snapshot / set, every set recorded with its source).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createPlayer, keyHandler, storeActions } from "../src/controls.js";

function fakeStore(state) {
  const sets = [];
  return {
    state,
    sets,
    snapshot: () => ({ ...state }),
    set(patch, source = "page") {
      Object.assign(state, patch);
      sets.push([patch, source]);
    },
  };
}

/** A keydown event on `tagName` (a DIV by default) that records whether it was consumed. */
function key(k, { tagName = "DIV", type = "", shift = false, ctrl = false } = {}) {
  const ev = { key: k, shiftKey: shift, ctrlKey: ctrl, altKey: false, metaKey: false, target: { tagName, type } };
  ev.consumed = 0;
  ev.preventDefault = () => ev.consumed++;
  ev.stopPropagation = () => {};
  return ev;
}

test("keys: arrows step, shift-arrows jump 10, Home / End, space plays; typing in a field is left alone", () => {
  const store = fakeStore({ t: 5, T: 40, playing: false, window: null });
  const onKey = keyHandler(store, storeActions(store));
  const press = (k, opts) => {
    const ev = key(k, opts);
    onKey(ev);
    return ev.consumed;
  };
  press("ArrowRight");
  assert.equal(store.state.t, 6);
  press("ArrowLeft", { shift: true });
  assert.equal(store.state.t, 0);
  press("End");
  assert.equal(store.state.t, 39);
  press("Home");
  assert.equal(store.state.t, 0);
  press(" ");
  assert.equal(store.state.playing, true);
  press(" ");
  assert.equal(store.state.playing, false);
  assert.equal(press("ArrowRight", { tagName: "INPUT", type: "text" }), 0);
  assert.equal(press("ArrowRight", { tagName: "INPUT", type: "range" }), 0); // the slider steps itself
  assert.equal(press(" ", { tagName: "BUTTON" }), 0);
  assert.equal(press("ArrowRight", { ctrl: true }), 0);
  assert.equal(store.state.t, 0);
});

test("keys: + / − zoom the time window around the cursor, 0 shows every step again", () => {
  const store = fakeStore({ t: 50, T: 100, playing: false, window: null });
  const onKey = keyHandler(store, storeActions(store));
  onKey(key("+"));
  const w = store.state.window;
  assert.equal(w.t1 - w.t0, 50);
  assert.ok(w.t0 <= 50 && 50 < w.t1);
  onKey(key("0"));
  assert.equal(store.state.window, null);
});

test("play from the last step restarts at 0", () => {
  const store = fakeStore({ t: 9, T: 10, playing: false });
  storeActions(store).togglePlay();
  assert.deepEqual(store.sets, [
    [{ t: 0 }, "page"],
    [{ playing: true }, "page"],
  ]);
});

test("playback: the cursor follows the clock from where it started at `speed` steps/s and stops at the end", () => {
  const store = fakeStore({ t: 2, T: 8, playing: true, speed: 10 });
  const player = createPlayer(store);
  player.tick(1000); // anchors at t = 2
  assert.equal(store.state.t, 2);
  player.tick(1300); // 0.3 s at 10 steps/s
  assert.equal(store.state.t, 5);
  store.state.t = 1; // the user moved the cursor: re-anchored there
  player.tick(1400);
  assert.equal(store.state.t, 1);
  player.tick(2400);
  assert.equal(store.state.t, 7);
  assert.equal(store.state.playing, false);
  assert.deepEqual(store.sets.at(-1), [{ playing: false }, "play"]);
});
