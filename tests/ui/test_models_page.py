"""Real recurrent models of other shapes in a real JupyterLab + Chromium (the models of tests/zoo.py, one notebook):
a per-step regressor with targets (the outputs view: predicted and target lines, the error at t, following t, no
class probabilities), the two-cell sine forecaster (both cells in the layer picker, each its own heatmap) and an
encoder–decoder (the stage boundary on the timeline and the heatmap, the decoder's rows blank before it, the reason
the weights are unavailable), and a model whose per-step outputs cannot be verified (the reason in one line).

Selectors:
    OUTPUTS    ".lw-outputs"  data-t, data-error (prediction − target at t), data-lines ("predicted,target"),
               ".lw-out-error" (the error as text)
    STAGES     ".lw-timeline .lw-stage-mark" (data-step, data-module); ".lw-heatmap" data-stages
               ("encoder:0-6,decoder:6-10") and data-blank (the shown row's steps without a value, "0-6")
    LAYER      ".lw-heatmap select[aria-label=Layer]"
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lab import canvas_pixels, first_repaint, pixel_hash, py_json, run_code, wait_py, wait_until, widget_notebook

ROOT = ".lstm-widget"
TESTS = Path(__file__).resolve().parents[1]  # tests/zoo.py lives there
THUMB = 8  # half a range thumb (js/src/views/timeline.js)

SETUP = f"""\
import sys, json
sys.path.insert(0, {str(TESTS)!r})
import numpy as np, torch
import lstm_widget as lw
from zoo import EncoderDecoder, Regressor, SineForecaster

torch.manual_seed(3)
reg_model = Regressor().eval()
rng = np.random.default_rng(3)
xs = [rng.normal(size=(12, 3)).astype(np.float32), rng.normal(size=(7, 3)).astype(np.float32)]
ys = [np.cos(np.arange(12, dtype=np.float32) / 3), np.linspace(-1, 1, 7, dtype=np.float32)]
reg = lw.Explorer(reg_model, xs, targets=ys)

torch.manual_seed(4)
fc_model = SineForecaster().eval()
wave = np.sin(np.linspace(0, 6, 20, dtype=np.float32))[:, None]
fc = lw.Explorer(fc_model, [wave], forward=lambda m, b: m(b[..., 0], future=3))

torch.manual_seed(5)
ed = lw.Explorer(EncoderDecoder(steps=4).eval(), [rng.normal(size=(6, 3)).astype(np.float32)])


class Summed(torch.nn.Module):  # returns a sum over time, with no head: no per-step output can be verified
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(3, 5, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[0].sum(1)


nt = lw.Explorer(Summed().eval(), xs)
"""


@pytest.fixture(scope="module")
def nb(new_page, jupyter_server):
    """The notebook written, opened and run once for the module: the three explorers, each in its own cell."""
    roots = {}

    def ready(page, _first):
        for k, name in enumerate(("reg", "fc", "ed", "nt")):
            root = page.locator(ROOT).nth(k)
            root.scroll_into_view_if_needed()
            first_repaint(root)
            roots[name] = root

    page, _ = widget_notebook(new_page, jupyter_server, "models", [SETUP, "reg", "fc", "ed", "nt"], ready=ready)

    class Nb:
        pass

    out = Nb()
    out.page, out.roots = page, roots
    yield out
    new_page.close(page)


def prediction_and_target(nb, s: int, t: int) -> tuple[float, float]:
    return tuple(py_json(nb, f"[float(reg.recordings[{s}].outputs[{t}, 0]), float(ys[{s}][{t}])]"))


def test_the_outputs_view_draws_predictions_and_targets_with_the_error_at_t_and_no_classes(nb):
    root = nb.roots["reg"]
    outputs = root.locator(".lw-outputs")
    outputs.scroll_into_view_if_needed()
    assert outputs.is_visible() and root.locator(".lw-probs").is_hidden()
    assert outputs.get_attribute("data-lines") == "predicted,target"
    assert [s.strip() for s in outputs.locator(".lw-legend-name").all_text_contents()] == ["predicted", "target"]
    assert "classes" not in root.inner_text() and "predicted class" not in root.inner_text()
    # the base canvas holds the predicted line in its colour (Tableau blue, categorical 0)
    px = canvas_pixels(outputs.locator("canvas.lw-base"))
    blue = (abs(px[..., 0].astype(int) - 78) < 12) & (abs(px[..., 1].astype(int) - 121) < 12)
    assert blue.sum() > 20, "the predicted line is drawn"
    for t in (0, 5, 11):
        run_code(nb.page, f"reg.t = {t}")
        wait_until(lambda t=t: outputs.get_attribute("data-t") == str(t), timeout=30, message=f"outputs at t={t}")
        pred, target = prediction_and_target(nb, 0, t)
        wait_until(
            lambda p=pred, y=target: abs(float(outputs.get_attribute("data-error") or "nan") - (p - y)) < 1e-5,
            timeout=30,
            message=f"the error at t={t}",
        )
        assert f"t = {t}" in outputs.locator(".lw-out-error").text_content()
    # the trajectory coloured by the targets, with the colour bar's ends at their range
    run_code(nb.page, 'reg.traj_view = {"color": "target"}')
    traj = root.locator(".lw-trajectory")
    wait_until(lambda: traj.get_attribute("data-color") == "target", timeout=30, message="colour by target")
    lo, hi = py_json(nb, "[float(np.nanmin(np.concatenate(ys))), float(np.nanmax(np.concatenate(ys)))]")
    key = traj.locator(".lw-time-key")
    assert key.is_visible() and abs(float(key.locator("span").first.text_content()) - lo) < 1e-3
    assert abs(float(key.locator("span").last.text_content()) - hi) < 1e-3
    # the other sequence: its own targets (7 steps)
    run_code(nb.page, "reg.sequence = 1; reg.t = 6")
    wait_until(lambda: outputs.get_attribute("data-t") == "6", timeout=30, message="sequence 1, t=6")
    pred, target = prediction_and_target(nb, 1, 6)
    wait_until(
        lambda: abs(float(outputs.get_attribute("data-error") or "nan") - (pred - target)) < 1e-5,
        timeout=30,
        message="the error of sequence 1 at t=6",
    )


def test_the_forecaster_shows_both_cells_and_each_has_its_own_heatmap(nb):
    root = nb.roots["fc"]
    heatmap = root.locator(".lw-heatmap")
    heatmap.scroll_into_view_if_needed()
    layer = heatmap.locator("select[aria-label=Layer]")
    assert [s.strip() for s in layer.locator("option").all_text_contents()] == ["lstm1", "lstm2"]
    assert py_json(nb, "fc._meta['task']") == "regression"
    assert root.locator(".lw-outputs").get_attribute("data-lines") == "predicted"  # no targets given
    base = heatmap.locator("canvas.lw-base")

    def hash_at(row: int) -> str:
        layer.select_option(str(row))
        wait_py(nb, "fc.layer", row)
        wait_until(lambda: f"lstm{row + 1} ·" in heatmap.text_content(), timeout=30, message=f"row {row} drawn")
        nb.page.wait_for_timeout(200)
        return pixel_hash(canvas_pixels(base))

    second = hash_at(1)
    first = hash_at(0)
    assert first != second, "choosing lstm1 changes the heatmap"
    assert heatmap.get_attribute("data-stages") == ""  # both cells run at every step: one stage


def test_the_encoder_decoder_draws_its_stage_boundary_and_blank_decoder_rows(nb):
    root = nb.roots["ed"]
    root.scroll_into_view_if_needed()
    marks = root.locator(".lw-timeline .lw-stage-mark")
    assert marks.count() == 1
    mark = marks.first
    assert mark.get_attribute("data-step") == "6" and mark.get_attribute("data-module") == "decoder"
    # where the slider's thumb stands at step 6 of 0..9
    slider = root.locator(".lw-timeline .lw-slider").bounding_box()
    box = mark.bounding_box()
    want = slider["x"] + THUMB + (slider["width"] - 2 * THUMB) * 6 / 9
    assert abs(box["x"] - want) < 2.5, (box, slider)
    heatmap = root.locator(".lw-heatmap")
    assert heatmap.get_attribute("data-stages") == "encoder:0-6,decoder:6-10"
    layer = heatmap.locator("select[aria-label=Layer]")
    assert [s.strip() for s in layer.locator("option").all_text_contents()] == ["encoder.layer0", "decoder.layer0"]
    layer.select_option("1")
    wait_py(nb, "ed.layer", 1)
    wait_until(lambda: heatmap.get_attribute("data-blank") == "0-6", timeout=30, message="decoder rows blank to 6")
    layer.select_option("0")
    wait_until(lambda: heatmap.get_attribute("data-blank") == "6-10", timeout=30, message="encoder rows blank from 6")
    # the weights cannot be shown for this model: the section says why in one line
    toggle = root.locator(".lw-gate-details-toggle")
    toggle.scroll_into_view_if_needed()
    toggle.click()
    note = py_json(nb, "ed._meta['model_note']")
    assert note
    wait_until(
        lambda: note in root.locator(".lw-weights").text_content(), timeout=30, message="the weights say why not"
    )


def test_a_model_without_verified_outputs_says_why_in_one_line_instead_of_a_chart(nb):
    root = nb.roots["nt"]
    root.scroll_into_view_if_needed()
    note = py_json(nb, "nt._meta['outputs_note']")
    assert py_json(nb, "nt._meta['task']") is None and note
    card = root.locator(".lw-probs")
    assert card.is_visible() and root.locator(".lw-outputs").is_hidden()
    shown = card.locator(".lw-outputs-note")
    assert shown.is_visible() and shown.text_content() == note
    assert card.locator("canvas").first.is_hidden() and "classes" not in root.inner_text()
