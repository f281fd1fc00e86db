// The whole data set's trajectory points (`_dataset_traj`, sent by a DatasetExplorer): every step of every sequence
// of the recorded data set, projected like the window's `traj`, for the trajectory view's background layer (drawn
// by ./pointraster.js). Decoded into the store's aux slot of that name, like `_fixed_points` (./fixedpoints.js).
//
// The trait: {} (none), or {points: float32 (total_steps, dims) with dims 2 | 3, rows in store order; offsets: int32
// (n_sequences + 1); classes: int32 (n_sequences), a class index or -1 (may be absent); layer, quantity: the
// projection the points are for; note: why points are not sent, or null}.

import { isEmpty } from "./why.js";
import { decodeArray } from "./wire.js";

function decodeOr(entry, what) {
  if (!entry || typeof entry !== "object" || !("dtype" in entry)) return null;
  try {
    return decodeArray(entry);
  } catch (err) {
    console.warn(`lstm_widget: cannot decode _dataset_traj.${what}:`, err);
    return null;
  }
}

/**
 * `_dataset_traj` decoded: {n (sequences), rows, dims, points (Float32Array rows·dims, or null), offsets (Int32Array
 * n + 1), classes (Int32Array n, or null), layer, quantity, note (string, or null)}; null for {}. Points that do not
 * hang together (offsets not rising from 0 to the row count, classes of the wrong length) are dropped with a note
 * saying why, rather than drawn wrongly.
 */
export function decodeDatasetTraj(raw) {
  if (isEmpty(raw)) return null;
  const out = {
    n: 0,
    rows: 0,
    dims: 0,
    points: null,
    offsets: null,
    classes: null,
    layer: raw.layer == null ? null : Number(raw.layer),
    quantity: raw.quantity == null ? null : String(raw.quantity),
    note: raw.note == null ? null : String(raw.note),
  };
  const points = decodeOr(raw.points, "points");
  const offsets = decodeOr(raw.offsets, "offsets");
  if (!points || !offsets) {
    if (!out.note && (raw.points || raw.offsets)) out.note = "the data set's points could not be read";
    return out;
  }
  const [rows, dims] = points.shape;
  const n = offsets.data.length - 1;
  const bad = (why) => ({ ...out, note: `the data set's points are not drawn: ${why}` });
  if (points.shape.length !== 2 || !(dims === 2 || dims === 3)) {
    return bad(`points has shape ${JSON.stringify(points.shape)}, expected (steps, 2 | 3)`);
  }
  if (n < 0 || offsets.data[0] !== 0 || offsets.data[n] !== rows) {
    return bad(`offsets must run from 0 to the number of steps (${rows})`);
  }
  for (let s = 0; s < n; s++) if (offsets.data[s + 1] < offsets.data[s]) return bad("offsets must not decrease");
  const classes = decodeOr(raw.classes, "classes");
  if (classes && classes.data.length !== n) {
    return bad(`classes has ${classes.data.length} entries for ${n} sequences`);
  }
  return {
    ...out,
    n,
    rows,
    dims,
    points: points.data instanceof Float32Array ? points.data : Float32Array.from(points.data),
    offsets: offsets.data instanceof Int32Array ? offsets.data : Int32Array.from(offsets.data),
    classes: classes ? Int32Array.from(classes.data) : null,
  };
}

/**
 * Whether the decoded points belong to the projection the window shows (`_meta.projection`): same layer and
 * quantity where both say one. Returns a reason string when they do not, else "".
 */
export function projectionMismatch(dt, projection) {
  if (!dt || !projection) return "";
  const layer = projection.layer;
  const q = projection.quantity;
  if (dt.layer != null && layer != null && dt.layer !== Number(layer)) {
    return `the data set's points are for layer ${dt.layer}; the projection shows layer ${layer}`;
  }
  if (dt.quantity != null && q != null && dt.quantity !== String(q)) {
    return `the data set's points are for ${dt.quantity}; the projection shows ${q}`;
  }
  return "";
}

/** Decode `_dataset_traj` into the store now and on every change. `on(event, fn)` registers a model listener. */
export function attachDatasetTraj(model, store, on) {
  const load = () => {
    let value = null;
    try {
      value = decodeDatasetTraj(model.get("_dataset_traj"));
    } catch (err) {
      console.warn("lstm_widget: cannot read _dataset_traj:", err);
    }
    store.setAux("_dataset_traj", value);
  };
  load();
  on("change:_dataset_traj", load);
}
