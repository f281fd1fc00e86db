// Entry of the standalone HTML export (bundled as a classic script, lstm_widget/static/export.js: window.lstmWidgetExport). The page embeds the
// widget's saved state as JSON; `renderInto` mounts the same front end as in a notebook on an offline model of it.

import { offlineModel } from "../offline.js";
import { mount } from "./explorer.js";

/** Mount the explorer into `host` from `state` (trait name -> saved value, buffers as {"$b64": ...}). */
export function renderInto(host, state) {
  return mount(offlineModel(state), host);
}

/** Mount every `<script type="application/vnd.lstm-widget+json">` of the page into the element just before it. */
export function renderPage(doc = document) {
  const mounted = [];
  for (const script of doc.querySelectorAll('script[type="application/vnd.lstm-widget+json"]')) {
    const host = script.previousElementSibling;
    if (host) mounted.push(renderInto(host, JSON.parse(script.textContent)));
  }
  return mounted;
}
