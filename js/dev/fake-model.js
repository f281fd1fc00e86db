// Dev helper (not bundled): an in-page stand-in for anywidget's model API (get / set / save_changes / on / off /
// send), with Backbone's semantics (set fires "change:name" synchronously when the value changes), plus helpers
// that play the kernel's part: kernelSet (a trait change from Python) and kernelMsg (a custom message).

function same(a, b) {
  if (a === b) return true;
  if (a instanceof Object && b instanceof Object && !(a instanceof DataView)) {
    try {
      return JSON.stringify(a) === JSON.stringify(b);
    } catch {
      return false;
    }
  }
  return false;
}

export class FakeModel {
  constructor(state = {}) {
    this.state = { ...state };
    this.handlers = new Map();
    this.saves = 0;
    this.writes = []; // [{time, key, value}] every set from the page
    this.sent = [];
    this.diff = {}; // what save_changes will send (ipywidgets' _buffered_state_diff)
    this.outbox = []; // [{time, state}] every update message sent to the kernel, in order
  }

  get(key) {
    return this.state[key];
  }

  /** Backbone's set: a changed value is recorded for save_changes; "change:key" fires unless {silent: true}. */
  set(key, value, options = {}) {
    const old = this.state[key];
    this.state[key] = value;
    if (!same(old, value)) {
      this.diff[key] = value;
      if (!options.silent) {
        this.writes.push({ time: performance.now(), key, value: Array.isArray(value) ? value.slice() : value });
        this.emit(`change:${key}`, value);
      }
    }
  }

  save_changes() {
    this.saves++;
    if (Object.keys(this.diff).length) this.outbox.push({ time: performance.now(), state: this.diff });
    this.diff = {};
  }

  /** The kernel's view of the traits after it processed every message of the outbox, in order, from `initial`. */
  kernelView(initial) {
    const out = { ...initial };
    for (const m of this.outbox) Object.assign(out, m.state);
    return out;
  }

  on(event, cb) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(cb);
  }

  off(event, cb) {
    if (!event) this.handlers.clear();
    else if (!cb) this.handlers.delete(event);
    else this.handlers.get(event)?.delete(cb);
  }

  send(content, _callbacks, buffers) {
    this.sent.push({ content, buffers });
  }

  emit(event, ...args) {
    for (const cb of [...(this.handlers.get(event) || [])]) cb(...args);
  }

  /** A trait change coming from the kernel (not recorded as a page write). */
  kernelSet(key, value) {
    const old = this.state[key];
    this.state[key] = value;
    if (!same(old, value)) this.emit(`change:${key}`, value);
  }

  /** A custom message from the kernel: content and its binary buffers (DataViews). */
  kernelMsg(content, buffers = []) {
    this.emit("msg:custom", content, buffers);
  }

  listenerCount() {
    let n = 0;
    for (const s of this.handlers.values()) n += s.size;
    return n;
  }
}
