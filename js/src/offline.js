// A stand-in for the anywidget model in a page with no kernel (the standalone HTML export): the widget's saved
// state in, the same get / set / on / off / save_changes / send surface out. Binary buffers travel in the saved
// state as {"$b64": "..."} and are decoded here into DataViews, as ipywidgets hands them to a live widget.
// Changes the page makes (scrubbing, playing, picking units) stay in the page: there is no kernel to send them to.
// An export of an explorer over training snapshots carries every epoch's data traits in `_epoch_states` ({epoch:
// {_meta, _arrays, _data_<q>}}), the shown epoch's too (they are not repeated at the top level): the model starts
// with the shown epoch's, and setting `epoch` swaps another's in, as the kernel does in a notebook.

/** Base64 text -> Uint8Array. */
export function fromBase64(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A copy of `value` with every {"$b64": text} replaced by a DataView over the decoded bytes. */
export function decodeState(value) {
  if (Array.isArray(value)) return value.map(decodeState);
  if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$b64" && typeof value.$b64 === "string") {
      const bytes = fromBase64(value.$b64);
      return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    const out = {};
    for (const k of keys) out[k] = decodeState(value[k]);
    return out;
  }
  return value;
}

/**
 * A model over `state` (trait name -> saved value). `set` fires "change:<key>" listeners (unless {silent: true}),
 * like the widget model does for the page's own writes; `save_changes` and `send` have nowhere to go.
 */
export function offlineModel(state) {
  const values = new Map(Object.entries(decodeState(state || {})));
  const shown = values.get("_epoch_states")?.[String(values.get("epoch"))];
  if (shown) for (const [k, v] of Object.entries(shown)) values.set(k, v);
  const listeners = new Map();
  return {
    offline: true, // views disable what needs a kernel (e.g. refitting the projection)
    get: (key) => values.get(key),
    set(key, value, options) {
      const old = values.get(key);
      values.set(key, value);
      if (old !== value && !options?.silent) {
        for (const fn of [...(listeners.get(`change:${key}`) || [])]) fn();
      }
      const epochState = key === "epoch" && old !== value ? values.get("_epoch_states")?.[String(value)] : null;
      if (epochState) for (const [k, v] of Object.entries(epochState)) this.set(k, v, options);
    },
    on(event, fn) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(fn);
    },
    off(event, fn) {
      listeners.get(event)?.delete(fn);
    },
    save_changes() {},
    send() {},
  };
}
