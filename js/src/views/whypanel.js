// The "Why" section of the explorer, closed by default: a toggle (writes `why_open`, which asks the kernel
// for the influence map of the shown sequence and the per-class unit ranking) over four views — influence of past
// inputs, top units, intervene & compare, pattern search. `createWhy(ctx)` builds them and sets `ctx.why`, the hooks
// the always-visible views use: the heatmap's right-click menu and shift-drag brush, its pattern marks, and the
// comparison the predictions view draws dashed. A closed section costs nothing on a scrub (its views set data-t only).

import { comparisonFor, unitMenu } from "../why.js";
import { collapsible, el } from "./common.js";
import { CompareView } from "./compare.js";
import { InfluenceView } from "./influence.js";
import { PatternsView } from "./patterns.js";
import { RankingView } from "./ranking.js";

/** {el, views} of the section; sets ctx.why = {unitMenu(ev, {unit, t}), brush(start, stop), marks(snap), comparisonFor(s)}. */
export function createWhy(ctx) {
  const { store } = ctx;
  const influence = new InfluenceView(ctx);
  const ranking = new RankingView(ctx);
  const compare = new CompareView(ctx);
  const patterns = new PatternsView(ctx);
  ctx.why = {
    unitMenu: (ev, where) => unitMenu(ctx, ev, where),
    brush: (start, stop) => patterns.request({ start, stop }),
    marks: (snap) => patterns.marks(snap),
    comparisonFor: (s) => comparisonFor(store, s),
  };
  const section = collapsible(
    store,
    {
      key: "why_open",
      kind: "why",
      name: "Why",
      hint: "influence of past inputs · top units · interventions & comparisons · pattern search",
      title: "Why did it predict that? Influence of past steps, unit ranking, interventions, pattern search",
    },
    el("div", { class: "lw-col" }, influence.el, compare.el),
    el("div", { class: "lw-col" }, ranking.el, patterns.el),
  );
  return { el: section.el, views: [section, influence, ranking, compare, patterns] };
}
