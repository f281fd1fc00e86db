// The kernel's data traits into the Explorer's store, handled once per update message (sync.js onTraits): `_meta`,
// `_arrays` and `_data_<q>` decoded into the store (js/PROTOCOL.md, "Data traits"), `_weights`, the "why" results
// and the custom messages too; what could not be decoded is reported (the page says so).

import { attachDatasetTraj } from "./datasettraj.js";
import { attachFixedPoints } from "./fixedpoints.js";
import { QUANTITIES } from "./store.js";
import { onTraits } from "./sync.js";
import { attachWhy } from "./why.js";

const dataTrait = (q) => `_data_${q}`;

/**
 * Feed the Explorer's `store` from `model`: the data now, then on every change. `report(errors)` gets the list of
 * what could not be decoded ([] when all could) after each load. Listeners go through `on` (see onTraits).
 */
export function feedStore(model, store, on, report, alive) {
  // Data traits: _meta, _arrays (inputs, probs, traj) and one _data_<q> per quantity ({} = not loaded yet).
  const allArrays = () => {
    const out = { ...(model.get("_arrays") || {}) };
    for (const q of QUANTITIES) {
      const entry = model.get(dataTrait(q));
      if (entry?.dtype) out[q] = entry;
    }
    return out;
  };
  // Data the page cannot decode (or hold) is said in the page instead of leaving the views blank or stale.
  const loadSafely = (load) => {
    let bad;
    try {
      load();
      bad = store.decodeErrors();
    } catch (err) {
      console.error("lstm_widget: could not load the data", err);
      bad = [err?.message ? err.message : String(err)];
    }
    report(bad);
  };
  store.loadWeights(model.get("_weights"));
  on("change:_weights", () => store.loadWeights(model.get("_weights")));
  attachWhy(model, store, on); // _influence, _ranking, _comparison, _patterns -> store.aux
  attachFixedPoints(model, store, on); // _fixed_points -> store.aux
  attachDatasetTraj(model, store, on); // _dataset_traj -> store.aux (the trajectory's background layer)
  loadSafely(() => store.load(model.get("_meta"), allArrays()));
  const traits = ["_meta", "_arrays", ...QUANTITIES.map(dataTrait)];
  onTraits(
    on,
    traits,
    (names) => {
      if (names.has("_meta") || names.has("_arrays")) loadSafely(() => store.load(model.get("_meta"), allArrays()));
      else {
        const some = {};
        for (const q of QUANTITIES) if (names.has(dataTrait(q))) some[q] = model.get(dataTrait(q)) || {};
        loadSafely(() => store.loadArrays(some));
      }
    },
    alive,
  );
  on("msg:custom", (content, buffers) => {
    try {
      store.applyMessage(content, buffers);
    } catch (err) {
      console.error("lstm_widget: bad custom message", err);
    }
  });
}
