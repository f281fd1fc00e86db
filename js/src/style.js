// The widget's CSS, injected as a <style> element inside its root and scoped under .lstm-widget. Colours come from
// JupyterLab's --jp-* variables with fallbacks that inherit the host page's text colour.

export const CSS = `
.lstm-widget {
  --lw-fg0: var(--jp-ui-font-color0, currentColor);
  --lw-fg1: var(--jp-ui-font-color1, currentColor);
  --lw-fg2: var(--jp-ui-font-color2, color-mix(in srgb, currentColor 62%, transparent));
  --lw-bg0: var(--jp-layout-color0, transparent);
  --lw-bg1: var(--jp-layout-color1, color-mix(in srgb, currentColor 3%, transparent));
  --lw-bg2: var(--jp-layout-color2, color-mix(in srgb, currentColor 9%, transparent));
  --lw-border: var(--jp-border-color1, color-mix(in srgb, currentColor 22%, transparent));
  --lw-border2: var(--jp-border-color2, color-mix(in srgb, currentColor 12%, transparent));
  --lw-brand: var(--jp-brand-color1, #1976d2);
  --lw-on-brand: var(--jp-ui-inverse-font-color0, #fff); /* text on the brand colour: white in light, black in dark */
  position: relative;
  box-sizing: border-box;
  display: flex;
  flex-direction: column;
  gap: 8px;
  width: 100%;
  min-width: 0;
  padding: 8px;
  font-family: var(--jp-ui-font-family, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  font-size: 12px;
  line-height: 1.35;
  color: var(--lw-fg1);
  background: var(--lw-bg0);
  border-radius: 6px;
  outline: none;
  -webkit-user-select: none;
  user-select: none;
}
.lstm-widget:focus-visible { box-shadow: 0 0 0 2px var(--lw-brand); }
.lstm-widget *, .lstm-widget *::before, .lstm-widget *::after { box-sizing: border-box; }
.lstm-widget [hidden] { display: none !important; }

.lstm-widget .lw-bar {
  display: flex; align-items: center; gap: 8px 14px; flex-wrap: wrap;
  padding: 6px 8px; border: 1px solid var(--lw-border2); border-radius: 6px; background: var(--lw-bg1);
}
.lstm-widget .lw-brandmark { font-weight: 700; font-size: 12.5px; color: var(--lw-fg0); letter-spacing: 0.01em; white-space: nowrap; }
.lstm-widget .lw-picker { display: flex; align-items: center; gap: 4px; min-width: 0; }
.lstm-widget .lw-seq-select { max-width: 260px; min-width: 120px; }
.lstm-widget .lw-seq-count { margin-left: 4px; white-space: nowrap; }
.lstm-widget .lw-pager { display: flex; align-items: center; gap: 4px; min-width: 0; }
.lstm-widget .lw-page-range { white-space: nowrap; font-variant-numeric: tabular-nums; }
.lstm-widget .lw-pager[data-pending="true"] .lw-page-range { font-style: italic; }
.lstm-widget button.lw-icon-btn:disabled { opacity: 0.35; cursor: default; }
.lstm-widget .lw-page-jump { width: 6em; }
.lstm-widget button.lw-page-prev, .lstm-widget button.lw-page-next { font-size: 17px; line-height: 1; padding-bottom: 2px; }
.lstm-widget .lw-timeline { flex: 1 1 380px; display: flex; align-items: center; gap: 10px; min-width: 0; }
.lstm-widget .lw-transport { display: flex; gap: 3px; }
.lstm-widget .lw-slider { flex: 1 1 auto; min-width: 80px; margin: 0; accent-color: var(--lw-brand); cursor: pointer; }
.lstm-widget .lw-slider-wrap { flex: 1 1 auto; min-width: 80px; position: relative; display: flex; align-items: center; }
.lstm-widget .lw-slider-wrap .lw-slider { width: 100%; }
.lstm-widget .lw-window-band {
  position: absolute; bottom: -6px; height: 5px; min-width: 4px; border-radius: 2px; cursor: grab; touch-action: none;
  background: var(--lw-brand); opacity: 0.55;
}
.lstm-widget .lw-window-band:hover { opacity: 0.8; }
.lstm-widget .lw-stage-marks { position: absolute; inset: 0; pointer-events: none; }
.lstm-widget .lw-stage-mark {
  position: absolute; top: -9px; bottom: -4px; border-left: 1px dashed var(--lw-fg1); padding-left: 3px;
  font-size: 9px; line-height: 1; color: var(--lw-fg1); white-space: nowrap; pointer-events: auto;
}
.lstm-widget .lw-outputs canvas.lw-overlay { cursor: ew-resize; }
.lstm-widget .lw-outputs-note { color: var(--lw-fg2); font-style: italic; padding: 4px 2px; }
.lstm-widget .lw-out-error { font-variant-numeric: tabular-nums; font-size: 12px; color: var(--lw-fg1); }
.lstm-widget .lw-zoom { display: inline-flex; align-items: center; gap: 2px; }
.lstm-widget button.lw-zoom-btn {
  min-width: 22px; height: 22px; padding: 0 5px; margin: 0; font: inherit; font-size: 12px; line-height: 1;
  color: var(--lw-fg1); background: var(--lw-bg0); border: 1px solid var(--lw-border); border-radius: 4px; cursor: pointer;
}
.lstm-widget button.lw-zoom-btn:hover { background: var(--lw-bg2); }
/* a zoom button that cannot act: muted text (still readable) and a dashed border; its title says why */
.lstm-widget button.lw-zoom-btn[aria-disabled="true"] {
  color: var(--lw-fg2); border-style: dashed; cursor: not-allowed; background: transparent;
}
.lstm-widget button.lw-zoom-btn:focus-visible { outline: 2px solid var(--lw-brand); outline-offset: 1px; }
.lstm-widget .lw-zoom-label { margin-left: 4px; font-variant-numeric: tabular-nums; white-space: nowrap; }
.lstm-widget .lw-tlabel {
  font-variant-numeric: tabular-nums; white-space: nowrap; min-width: 8.5em; text-align: right;
  font-weight: 600; color: var(--lw-fg0);
}
.lstm-widget .lw-speed-wrap { display: inline-flex; align-items: center; gap: 4px; white-space: nowrap; }
.lstm-widget .lw-unit, .lstm-widget .lw-muted { color: var(--lw-fg2); font-size: 11px; }

.lstm-widget button.lw-icon-btn {
  display: inline-flex; align-items: center; justify-content: center;
  width: 26px; height: 26px; padding: 0; margin: 0;
  color: var(--lw-fg1); background: var(--lw-bg0); border: 1px solid var(--lw-border); border-radius: 4px;
  cursor: pointer; font: inherit;
}
.lstm-widget button.lw-icon-btn:hover { background: var(--lw-bg2); }
.lstm-widget button.lw-icon-btn:focus-visible { outline: 2px solid var(--lw-brand); outline-offset: 1px; }
.lstm-widget button.lw-icon-btn.lw-dim { opacity: 0.45; }
.lstm-widget button.lw-play { width: 32px; color: var(--lw-on-brand); background: var(--lw-brand); border-color: var(--lw-brand); }
.lstm-widget button.lw-play:hover { background: var(--lw-brand); filter: brightness(1.1); }
.lstm-widget select {
  font: inherit; font-size: 11.5px; color: var(--lw-fg1); background: var(--lw-bg0);
  border: 1px solid var(--lw-border); border-radius: 4px; padding: 2px 4px; height: 24px; max-width: 100%;
}
.lstm-widget select:focus-visible { outline: 2px solid var(--lw-brand); outline-offset: 1px; }
.lstm-widget select option { color: var(--jp-ui-font-color1, #222); background: var(--jp-layout-color0, #fff); }

.lstm-widget .lw-grid {
  display: grid; grid-template-columns: minmax(0, 1.75fr) minmax(250px, 1fr); gap: 8px; align-items: start;
}
.lstm-widget.lw-narrow .lw-grid { grid-template-columns: minmax(0, 1fr); }
.lstm-widget .lw-col { display: flex; flex-direction: column; gap: 8px; min-width: 0; }

.lstm-widget .lw-card {
  min-width: 0; padding: 6px 8px 4px; border: 1px solid var(--lw-border2); border-radius: 6px; background: var(--lw-bg0);
}
.lstm-widget .lw-head {
  display: flex; align-items: center; flex-wrap: wrap; gap: 2px 10px; min-height: 22px; margin-bottom: 2px;
}
/* titles and captions wrap onto more lines rather than being cut; user names in them are cut by the views
   (common.js clipText) and given whole in a title */
.lstm-widget .lw-titles {
  display: inline-flex; flex-wrap: wrap; align-items: baseline; gap: 0 8px; min-width: 0; flex: 1 1 auto;
}
.lstm-widget .lw-title { font-weight: 650; font-size: 12.5px; color: var(--lw-fg0); min-width: 0; overflow-wrap: anywhere; }
.lstm-widget .lw-sub { color: var(--lw-fg2); font-size: 11px; min-width: 0; overflow-wrap: anywhere; }
.lstm-widget .lw-controls { display: inline-flex; align-items: center; gap: 4px 10px; flex-wrap: wrap; min-width: 0; max-width: 100%; }
.lstm-widget .lw-controls label { display: inline-flex; align-items: center; gap: 4px; min-width: 0; max-width: 100%; }
.lstm-widget .lw-head-right {
  display: inline-flex; flex-wrap: wrap; align-items: center; gap: 8px; min-width: 0; max-width: 100%;
}
.lstm-widget .lw-scale-caption { white-space: nowrap; font-variant-numeric: tabular-nums; }

.lstm-widget .lw-colorbar { display: inline-flex; flex-direction: column; gap: 1px; width: 116px; }
.lstm-widget .lw-cb-bar { display: block; height: 8px; border-radius: 2px; border: 1px solid var(--lw-border2); }
.lstm-widget .lw-cb-labels {
  display: flex; justify-content: space-between; font-size: 9.5px; color: var(--lw-fg2); font-variant-numeric: tabular-nums;
}
.lstm-widget .lw-time-key { display: inline-flex; align-items: center; gap: 4px; }
.lstm-widget .lw-time-bar { width: 60px; }

.lstm-widget .lw-legend {
  display: flex; flex-wrap: wrap; gap: 1px 10px; flex: 1 0 100%; font-size: 11px; color: var(--lw-fg1);
}
.lstm-widget .lw-legend-item { display: inline-flex; align-items: center; gap: 4px; white-space: nowrap; }
.lstm-widget .lw-legend-item.lw-clickable { cursor: pointer; }
.lstm-widget .lw-legend-item.lw-clickable:hover .lw-legend-name { text-decoration: line-through; }
.lstm-widget .lw-swatch { width: 12px; height: 3px; border-radius: 2px; flex: none; }
.lstm-widget .lw-legend-name { max-width: 14em; overflow: hidden; text-overflow: ellipsis; }
.lstm-widget .lw-legend-value { color: var(--lw-fg2); font-variant-numeric: tabular-nums; min-width: 3.2em; }
.lstm-widget .lw-legend-more { color: var(--lw-fg2); font-style: italic; }

.lstm-widget .lw-pred {
  display: inline-flex; flex-wrap: wrap; align-items: baseline; gap: 0 8px; min-width: 0; max-width: 100%;
}
.lstm-widget .lw-pred > span { min-width: 0; max-width: 100%; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.lstm-widget .lw-pred-class { font-size: 20px; font-weight: 750; line-height: 1.2; }
.lstm-widget .lw-pred-p { font-size: 15px; font-weight: 600; color: var(--lw-fg0); font-variant-numeric: tabular-nums; }
.lstm-widget .lw-pred-truth { font-size: 11px; }
/* token models: the text view, the token strip above the embedding, the top-k next tokens */
.lstm-widget .lw-text-body {
  max-height: 220px; overflow-y: auto; padding: 6px 8px; white-space: pre-wrap; word-break: break-word;
  font-family: var(--jp-code-font-family, ui-monospace, SFMono-Regular, Menlo, Consolas, monospace); font-size: 12.5px;
  line-height: 1.75; -webkit-user-select: text; user-select: text;
}
.lstm-widget .lw-tok { border-radius: 2px; cursor: pointer; padding: 1px 0; }
.lstm-widget .lw-tok:hover { box-shadow: inset 0 -2px 0 var(--lw-fg2); }
.lstm-widget .lw-tok.lw-tok-cur { outline: 2px solid var(--lw-brand); outline-offset: 1px; }
.lstm-widget .lw-text-message { padding: 2px 8px; font-size: 11px; }
.lstm-widget .lw-text-scale { display: inline-block; width: 70px; height: 8px; border-radius: 2px; vertical-align: middle; }
.lstm-widget .lw-token-strip { display: flex; gap: 2px; padding: 2px 8px 0 48px; overflow: hidden; }
.lstm-widget .lw-strip-tok {
  flex: 1 1 0; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; text-align: center;
  font-family: var(--jp-code-font-family, ui-monospace, monospace); font-size: 11px; padding: 1px 2px;
  border: 1px solid var(--lw-border2); border-radius: 3px; cursor: pointer;
}
.lstm-widget .lw-strip-tok.lw-strip-cur { border-color: var(--lw-brand); color: var(--lw-fg0); font-weight: 700; }
.lstm-widget .lw-topk { padding: 4px 8px 6px; }
.lstm-widget .lw-topk-list { display: flex; flex-direction: column; gap: 2px; }
.lstm-widget .lw-topk-row { display: grid; grid-template-columns: 1.6em minmax(3em, 9em) 1fr 3.6em 4.5em; gap: 6px; align-items: center; }
.lstm-widget .lw-topk-token {
  font-family: var(--jp-code-font-family, ui-monospace, monospace); overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
}
.lstm-widget .lw-topk-track { height: 10px; background: var(--lw-bg2); border-radius: 2px; overflow: hidden; }
.lstm-widget .lw-topk-bar { display: block; height: 100%; }
.lstm-widget .lw-topk-p { text-align: right; font-variant-numeric: tabular-nums; }
.lstm-widget .lw-topk-row.lw-topk-actual .lw-topk-token { font-weight: 750; color: var(--lw-fg0); }
.lstm-widget .lw-topk-row.lw-topk-actual { outline: 1px solid var(--lw-brand); border-radius: 3px; }
.lstm-widget .lw-topk-mark { color: var(--lw-brand); font-size: 11px; }
.lstm-widget .lw-topk-actual-line { margin-top: 4px; font-size: 11.5px; }
.lstm-widget .lw-ok { color: var(--jp-success-color1, #2e7d32); }
.lstm-widget .lw-bad { color: var(--jp-error-color1, #d32f2f); }

.lstm-widget .lw-body { position: relative; width: 100%; min-width: 0; }
.lstm-widget .lw-plot { position: relative; width: 100%; overflow: hidden; }
.lstm-widget .lw-plot canvas { position: absolute; left: 0; top: 0; display: block; }
.lstm-widget .lw-plot canvas.lw-overlay { touch-action: none; }
.lstm-widget .lw-heatmap canvas.lw-overlay { cursor: crosshair; }
.lstm-widget .lw-inputs canvas.lw-overlay,
.lstm-widget .lw-traces canvas.lw-overlay,
.lstm-widget .lw-probs canvas.lw-overlay { cursor: ew-resize; }
.lstm-widget .lw-message {
  position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
  color: var(--lw-fg2); font-style: italic; pointer-events: none;
}

.lstm-widget .lw-traj-controls {
  display: flex; flex-wrap: wrap; align-items: center; gap: 3px 10px; margin: 1px 0 4px;
  font-size: 11px; color: var(--lw-fg2);
}
.lstm-widget .lw-traj-controls label { display: inline-flex; align-items: center; gap: 3px; white-space: nowrap; cursor: pointer; }
.lstm-widget .lw-traj-controls input[type="checkbox"] { margin: 0; accent-color: var(--lw-brand); cursor: pointer; }
.lstm-widget .lw-traj-controls select { height: 22px; font-size: 11px; max-width: 9.5em; padding: 1px 2px; }
.lstm-widget .lw-seg { display: inline-flex; }
.lstm-widget .lw-seg button {
  font: inherit; font-size: 11px; height: 22px; padding: 0 7px; margin: 0; cursor: pointer;
  color: var(--lw-fg1); background: var(--lw-bg0); border: 1px solid var(--lw-border);
}
.lstm-widget .lw-seg button:first-child { border-radius: 4px 0 0 4px; }
.lstm-widget .lw-seg button:last-child { border-radius: 0 4px 4px 0; border-left-width: 0; }
.lstm-widget .lw-seg button[aria-pressed="true"] { color: var(--lw-on-brand); background: var(--lw-brand); border-color: var(--lw-brand); }
.lstm-widget .lw-seg button:disabled { opacity: 0.45; cursor: not-allowed; }
.lstm-widget .lw-seg button:focus-visible { outline: 2px solid var(--lw-brand); outline-offset: 1px; }
.lstm-widget .lw-traj-legend { display: flex; align-items: center; gap: 2px 8px; margin-bottom: 3px; }
.lstm-widget .lw-traj-legend .lw-legend { flex: 1 1 auto; }
.lstm-widget .lw-traj-legend .lw-swatch { width: 8px; height: 8px; border-radius: 50%; }
.lstm-widget .lw-traj-legend .lw-legend-value { display: none; }
.lstm-widget .lw-traj-badge { color: var(--lw-brand); font-size: 11px; font-style: italic; white-space: nowrap; }
.lstm-widget .lw-fp-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 2px 10px; margin-bottom: 3px; font-size: 11px; }
.lstm-widget .lw-fp-bar[hidden] { display: none; }
.lstm-widget .lw-fp-status.lw-fp-error { font-style: italic; }
.lstm-widget .lw-traj-note { font-size: 11px; margin-bottom: 3px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.lstm-widget .lw-traj-note[hidden] { display: none; }
.lstm-widget .lw-fp-legend { display: inline-flex; gap: 8px; }
.lstm-widget .lw-fp-key { display: inline-flex; align-items: center; gap: 3px; }
.lstm-widget .lw-fp-key[hidden], .lstm-widget .lw-fp-legend[hidden] { display: none; }
.lstm-widget .lw-fp-glyph { font-size: 12px; line-height: 1; }
.lstm-widget .lw-traj-controls .lw-fp-button { height: 22px; font-size: 11px; padding: 0 6px; }
.lstm-widget .lw-trajectory .lw-body.lw-pending canvas { opacity: 0.4; }
.lstm-widget .lw-traj-labels { position: absolute; inset: 0; pointer-events: none; overflow: hidden; }
.lstm-widget .lw-traj-label {
  position: absolute; transform: translate(0, -50%); font-size: 10px; line-height: 1.1; white-space: nowrap;
  color: var(--lw-fg2); text-shadow: 0 0 2px var(--lw-halo, transparent), 0 0 2px var(--lw-halo, transparent),
  0 0 3px var(--lw-halo, transparent);
}
.lstm-widget .lw-traj-label.lw-center { font-size: 11px; font-weight: 700; }
.lstm-widget .lw-traj-label.lw-current { font-size: 12px; font-weight: 700; color: var(--lw-fg0); }

.lstm-widget .lw-details { display: flex; flex-direction: column; gap: 8px; min-width: 0; }
.lstm-widget button.lw-details-toggle {
  display: flex; align-items: baseline; gap: 8px; width: 100%; min-width: 0; margin: 0; padding: 5px 8px;
  font: inherit; text-align: left; color: var(--lw-fg1); background: var(--lw-bg1);
  border: 1px solid var(--lw-border2); border-radius: 6px; cursor: pointer;
}
.lstm-widget button.lw-details-toggle:hover { background: var(--lw-bg2); }
.lstm-widget button.lw-details-toggle:focus-visible { outline: 2px solid var(--lw-brand); outline-offset: 1px; }
.lstm-widget .lw-caret { flex: none; width: 1em; color: var(--lw-fg1); }
.lstm-widget .lw-details-name { font-weight: 650; font-size: 12.5px; color: var(--lw-fg0); white-space: nowrap; }
.lstm-widget .lw-details-hint { min-width: 0; color: var(--lw-fg2); font-size: 11px; overflow-wrap: anywhere; }
.lstm-widget .lw-details-body {
  display: grid; grid-template-columns: minmax(0, 1.9fr) minmax(260px, 1fr); gap: 8px; align-items: start;
}
.lstm-widget.lw-narrow .lw-details-body { grid-template-columns: minmax(0, 1fr); }
.lstm-widget .lw-w-labels, .lstm-widget .lw-sat-captions {
  position: absolute; inset: 0; pointer-events: none; overflow: hidden;
}
.lstm-widget .lw-w-gate {
  position: absolute; left: 0; transform: translateY(-50%); display: flex; flex-direction: column; line-height: 1.15;
}
.lstm-widget .lw-w-gate-name { font-size: 15px; font-weight: 750; color: var(--lw-fg0); }
.lstm-widget .lw-w-gate-title { font-size: 10px; color: var(--lw-fg2); }
.lstm-widget .lw-w-head {
  position: absolute; top: 1px; display: flex; flex-direction: column; gap: 1px; line-height: 1.2; overflow: hidden;
}
.lstm-widget .lw-w-name {
  font-weight: 650; font-size: 11px; color: var(--lw-fg0); font-family: var(--jp-code-font-family, ui-monospace, monospace);
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
}
.lstm-widget .lw-w-head[data-kind="b"] .lw-w-name { white-space: normal; overflow-wrap: anywhere; }
.lstm-widget .lw-w-range { font-size: 10px; color: var(--lw-fg2); white-space: nowrap; }
.lstm-widget .lw-w-head .lw-colorbar { width: 100%; max-width: 140px; margin-top: 2px; }
.lstm-widget .lw-w-head .lw-cb-bar { height: 6px; }
.lstm-widget .lw-w-unit {
  position: absolute; font-size: 9px; line-height: 10px; text-align: right; color: var(--lw-fg2);
  font-variant-numeric: tabular-nums; white-space: nowrap;
}
.lstm-widget .lw-gate-heads { position: absolute; left: 0; right: 0; top: 0; pointer-events: none; }
.lstm-widget .lw-gate-head {
  position: absolute; top: 0; display: flex; flex-direction: column; align-items: center; justify-content: center;
  line-height: 1.15; overflow: hidden;
}
.lstm-widget .lw-gate-head-name { font-size: 12px; font-weight: 700; color: var(--lw-fg1); }
.lstm-widget .lw-gate-head-title { font-size: 9px; color: var(--lw-fg2); white-space: nowrap; max-width: 100%; }
.lstm-widget .lw-gate-head.lw-pending span { color: var(--jp-ui-font-color3, var(--lw-fg2)); }
.lstm-widget .lw-sat-title {
  position: absolute; font-size: 11px; line-height: 16px; color: var(--lw-fg1); white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis;
}
.lstm-widget .lw-sat-title b { font-size: 12.5px; color: var(--lw-fg0); }
.lstm-widget .lw-sat-note { font-size: 10.5px; margin: 2px 0 2px; }

/* the Why section (views/whypanel.js): influence, top units, intervene & compare, pattern search, unit menu */
.lstm-widget .lw-why-body { grid-template-columns: minmax(0, 1.75fr) minmax(250px, 1fr); }
.lstm-widget button.lw-btn {
  font: inherit; font-size: 11px; height: 22px; padding: 0 8px; margin: 0; cursor: pointer;
  color: var(--lw-fg1); background: var(--lw-bg0); border: 1px solid var(--lw-border); border-radius: 4px;
}
.lstm-widget button.lw-btn:hover { background: var(--lw-bg2); }
.lstm-widget button.lw-btn:disabled { opacity: 0.45; cursor: not-allowed; }
.lstm-widget button.lw-btn:focus-visible { outline: 2px solid var(--lw-brand); outline-offset: 1px; }
.lstm-widget .lw-invalid { outline: 2px solid var(--jp-error-color1, #d32f2f); }
.lstm-widget .lw-influence[data-pending="true"] canvas { opacity: 0.4; }
.lstm-widget .lw-inf-explain { font-size: 11px; margin: 0 0 3px; min-height: 1.35em; overflow-wrap: anywhere; }
.lstm-widget .lw-inf-lags { margin-top: 2px; }
.lstm-widget .lw-influence canvas.lw-overlay { cursor: ew-resize; }
.lstm-widget .lw-rank-note, .lstm-widget .lw-pat-status, .lstm-widget .lw-cmp-note { font-size: 11px; margin: 1px 0 4px; }
.lstm-widget .lw-rank-list, .lstm-widget .lw-pat-list { display: flex; flex-direction: column; gap: 1px; }
.lstm-widget .lw-pat-list { max-height: 260px; overflow-y: auto; }
.lstm-widget .lw-rank-item, .lstm-widget .lw-match {
  display: grid; align-items: center; gap: 6px; padding: 1px 4px; border-radius: 3px; cursor: pointer;
  font-variant-numeric: tabular-nums; font-size: 11.5px;
}
.lstm-widget .lw-rank-item { grid-template-columns: 1.6em 10px 5.5em minmax(30px, 1fr) 4.2em; }
.lstm-widget .lw-match { grid-template-columns: 1.6em minmax(0, 1fr) auto 3.6em; }
.lstm-widget .lw-rank-item:hover, .lstm-widget .lw-rank-item.lw-hover, .lstm-widget .lw-match:hover { background: var(--lw-bg2); }
.lstm-widget .lw-rank-item.lw-selected .lw-rank-name { font-weight: 700; color: var(--lw-fg0); }
.lstm-widget .lw-match.lw-current { background: color-mix(in srgb, var(--lw-brand) 16%, transparent); }
.lstm-widget .lw-rank-no { color: var(--lw-fg2); text-align: right; }
.lstm-widget .lw-rank-item .lw-swatch { width: 8px; height: 8px; border-radius: 50%; }
.lstm-widget .lw-rank-track { display: block; height: 6px; border-radius: 3px; background: var(--lw-bg2); overflow: hidden; }
.lstm-widget .lw-rank-bar { display: block; height: 100%; background: var(--lw-brand); }
.lstm-widget .lw-rank-bar.lw-neg { background: var(--jp-error-color1, #d32f2f); }
.lstm-widget .lw-rank-score, .lstm-widget .lw-match-score { text-align: right; color: var(--lw-fg1); }
.lstm-widget .lw-match-seq { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.lstm-widget .lw-match-steps { color: var(--lw-fg2); white-space: nowrap; }
.lstm-widget .lw-pat-threshold { width: 5.5em; font: inherit; font-size: 11px; height: 22px; padding: 1px 3px;
  color: var(--lw-fg1); background: var(--lw-bg0); border: 1px solid var(--lw-border); border-radius: 4px; }
.lstm-widget .lw-compare[data-pending="true"] .lw-cmp-content { opacity: 0.5; }
.lstm-widget .lw-cmp-summary { font-size: 11.5px; font-weight: 600; color: var(--lw-fg0); margin: 2px 0 4px; }
.lstm-widget .lw-cmp-probs { display: flex; flex-direction: column; margin-bottom: 6px; font-variant-numeric: tabular-nums; }
.lstm-widget .lw-cmp-tr { display: grid; grid-template-columns: minmax(0, 1.4fr) repeat(3, minmax(0, 1fr)); gap: 6px;
  font-size: 11px; padding: 0 4px; }
.lstm-widget .lw-cmp-tr > span { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.lstm-widget .lw-cmp-tr > span:not(:first-child) { text-align: right; }
.lstm-widget .lw-cmp-th { color: var(--lw-fg2); border-bottom: 1px solid var(--lw-border2); }
.lstm-widget .lw-cmp-class { display: inline-flex; align-items: center; gap: 4px; }
.lstm-widget .lw-cmp-tr.lw-pred-a .lw-cmp-a, .lstm-widget .lw-cmp-tr.lw-pred-b .lw-cmp-b { font-weight: 750; color: var(--lw-fg0); }
.lstm-widget .lw-cmp-row-head { display: flex; align-items: center; justify-content: space-between; gap: 8px; margin-top: 4px; }
.lstm-widget .lw-cmp-caption { font-size: 11px; color: var(--lw-fg1); min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.lstm-widget .lw-cmp-goto { margin: 2px 0 4px; }
.lstm-widget .lw-menu {
  position: absolute; z-index: 20; min-width: 220px; padding: 4px 0; border-radius: 6px; font-size: 11.5px;
  color: var(--lw-fg1); background: var(--lw-bg1); border: 1px solid var(--lw-border);
  box-shadow: 0 4px 14px rgba(0, 0, 0, 0.25);
}
.lstm-widget .lw-menu-title { padding: 2px 10px 4px; font-weight: 650; color: var(--lw-fg0); font-family: var(--jp-code-font-family, ui-monospace, monospace); }
.lstm-widget .lw-menu-row { display: flex; align-items: center; gap: 4px; padding-right: 8px; }
.lstm-widget button.lw-menu-item {
  flex: 1 1 auto; font: inherit; text-align: left; padding: 3px 10px; margin: 0; border: 0; background: transparent;
  color: inherit; cursor: pointer; white-space: nowrap;
}
.lstm-widget button.lw-menu-item:hover, .lstm-widget button.lw-menu-item:focus-visible { background: var(--lw-bg2); outline: none; }
.lstm-widget button.lw-menu-item:disabled { opacity: 0.45; cursor: default; }
.lstm-widget .lw-menu-input { width: 5em; font: inherit; font-size: 11px; height: 20px; padding: 0 3px;
  color: var(--lw-fg1); background: var(--lw-bg0); border: 1px solid var(--lw-border); border-radius: 3px; }
.lstm-widget .lw-menu-sep { height: 1px; margin: 3px 0; background: var(--lw-border2); }
.lstm-widget .lw-menu-note { padding: 2px 10px; color: var(--lw-fg2); font-style: italic; }

.lstm-widget .lw-tooltip {
  position: absolute; z-index: 10; pointer-events: none; padding: 3px 7px; border-radius: 4px; max-width: 420px;
  font-size: 11px; white-space: normal; overflow-wrap: anywhere; font-variant-numeric: tabular-nums;
  color: var(--jp-layout-color0, #fff); background: var(--jp-ui-font-color0, #222); opacity: 0.92;
  box-shadow: 0 1px 4px rgba(0, 0, 0, 0.25);
}
.lstm-widget .lw-stale {
  margin: 0 0 6px; padding: 4px 8px; border: 1px solid var(--jp-warn-color1, #f57c00); border-radius: 3px;
  background: var(--jp-warn-color3, #fff3e0); color: var(--jp-ui-font-color1, #000); font-size: 12px;
}
.lstm-widget .lw-stale[hidden], .lstm-widget .lw-notice[hidden] { display: none; }
.lstm-widget .lw-notice {
  margin: 0 0 6px; padding: 4px 8px; border: 1px solid var(--jp-error-color1, #d32f2f); border-radius: 3px;
  background: var(--jp-error-color3, #ffebee); color: var(--jp-ui-font-color1, #000); font-size: 12px;
}
.lstm-widget .lw-help { color: var(--lw-fg2); font-size: 10.5px; text-align: right; }
.lstm-widget kbd {
  font: inherit; font-size: 10px; padding: 0 4px; border: 1px solid var(--lw-border); border-radius: 3px;
  background: var(--lw-bg1);
}
.lstm-widget .lw-epochs { margin-bottom: 8px; }
.lstm-widget .lw-epochs .lw-head { display: flex; align-items: center; gap: 8px; }
.lstm-widget .lw-epoch-slider { flex: 1 1 auto; min-width: 80px; margin: 0; accent-color: var(--lw-brand); cursor: pointer; }
.lstm-widget .lw-epoch-label { white-space: nowrap; font-variant-numeric: tabular-nums; }
.lstm-widget .lw-epochs[data-pending="true"] .lw-epoch-label { font-style: italic; }
.lstm-widget .lw-epoch-charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 6px; }
.lstm-widget .lw-epoch-chart { border: none; margin: 0; }
`;
