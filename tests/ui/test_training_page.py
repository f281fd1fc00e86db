"""The epoch axis (js/src/views/epochs.js) in a real JupyterLab + Chromium: an explorer over the snapshots of a
Japanese Vowels network trained for three short epochs (`lw.Explorer.from_training(tr)`). Moving the epoch slider
writes `epoch` (Python follows) and every view repaints on that epoch's data — the heatmap's and the trajectory's
pixels change, `data-epoch` on `.lw-epochs` names the epoch shown; the `]` key on the focused root advances one epoch.
The standalone export of such an explorer swaps the epochs in the page, with no kernel and no network.

Selectors:
    EPOCHS ".lw-epochs"   data-epoch (the epoch whose data the views show), data-pending
           ".lw-epoch-slider" (range input over the epochs' indices), ".lw-epoch-chart" (one per metric)
"""

from __future__ import annotations

import pytest

from lab import Widget, canvas_pixels, next_frames, pixel_hash, py_json, wait_py, wait_until, widget_notebook

ROOT = ".lstm-widget"

SETUP = """\
import json
import numpy as np
import torch
from torch import nn
import lstm_widget as lw
from lstm_widget.datasets import japanese_vowels
from lstm_widget.models.japanese_vowels import JapaneseVowelsNet

torch.manual_seed(0)
torch.set_num_threads(1)
X, y = japanese_vowels("train")
net = JapaneseVowelsNet()
tr = lw.TrainingRecorder(net, X[:6], labels=y[:6])
opt = torch.optim.Adam(net.parameters(), lr=2e-2)
for epoch in range(3):
    for k in range(0, 60, 10):
        for x, c in zip(X[k : k + 10], y[k : k + 10]):
            loss = nn.functional.cross_entropy(net(torch.from_numpy(x)[None]), torch.tensor([int(c)]))
            opt.zero_grad(); loss.backward(); opt.step()
    tr.snapshot(epoch, loss=loss.item(), accuracy=epoch / 3)
ex = lw.Explorer.from_training(tr)
"""


@pytest.fixture(scope="module")
def ex(new_page, jupyter_server):
    page, root = widget_notebook(new_page, jupyter_server, "training", [SETUP, "ex"], selector=ROOT)
    yield Widget(page, root)
    new_page.close(page)


def hash_of(ex: Widget, view: str) -> str:
    return pixel_hash(canvas_pixels(ex.root.locator(f".lw-{view} canvas.lw-base").first))


def wait_epoch(ex: Widget, epoch: int) -> None:
    panel = ex.root.locator(".lw-epochs")
    wait_until(
        lambda: panel.get_attribute("data-epoch") == str(epoch) and panel.get_attribute("data-pending") == "false",
        timeout=60,
        message=lambda: f"the page shows epoch {epoch} (data-epoch {panel.get_attribute('data-epoch')})",
    )
    next_frames(ex.page, 3)


def test_the_epoch_slider_moves_every_view_and_python_follows(ex):
    panel = ex.root.locator(".lw-epochs")
    assert panel.is_visible()
    wait_epoch(ex, 2)
    assert panel.locator(".lw-epoch-chart").count() == 2  # loss and accuracy
    heat, traj = hash_of(ex, "heatmap"), hash_of(ex, "trajectory")
    panel.locator(".lw-epoch-slider").fill("0")
    wait_py(ex, "ex.epoch", 0)
    wait_epoch(ex, 0)
    assert hash_of(ex, "heatmap") != heat, "the heatmap did not repaint with epoch 0's data"
    assert hash_of(ex, "trajectory") != traj, "the trajectory did not repaint with epoch 0's data"
    assert py_json(ex, "ex._meta['training']['epoch']") == 0


def test_the_bracket_key_advances_one_epoch(ex):
    ex.root.locator(".lw-epochs .lw-epoch-slider").fill("0")
    wait_py(ex, "ex.epoch", 0)
    wait_epoch(ex, 0)
    before = hash_of(ex, "heatmap")
    ex.root.focus()
    ex.page.keyboard.press("]")
    wait_py(ex, "ex.epoch", 1)
    wait_epoch(ex, 1)
    assert hash_of(ex, "heatmap") != before
    ex.page.keyboard.press("[")
    wait_py(ex, "ex.epoch", 0)
    wait_epoch(ex, 0)


def test_the_exported_page_swaps_the_epochs_with_no_kernel(page, tmp_path):
    import numpy as np
    import torch
    from torch import nn

    import lstm_widget as lw

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(6, 3)).astype(np.float32) for _ in range(4)]
    model = nn.LSTM(3, 6, batch_first=True)  # a bare LSTM: weights perturbed between snapshots stand for training
    tr = lw.TrainingRecorder(model, xs)
    for epoch in range(3):
        tr.snapshot(epoch, loss=1.0 / (epoch + 1))
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.5 * torch.randn_like(p))
    path = tmp_path / "training.html"
    lw.Explorer.from_training(tr).save_html(path, quiet=True)
    target = path.as_uri()
    page.context.route("**/*", lambda r: r.continue_() if r.request.url == target else r.abort())
    page.goto(target)
    panel = page.locator(".lw-epochs")
    wait_until(lambda: panel.get_attribute("data-epoch") == "2", timeout=30, message="the page opens on epoch 2")
    heat = pixel_hash(canvas_pixels(page.locator(".lw-heatmap canvas.lw-base").first))
    panel.locator(".lw-epoch-slider").fill("0")
    wait_until(lambda: panel.get_attribute("data-epoch") == "0", timeout=30, message="the page shows epoch 0")
    next_frames(page, 3)
    assert pixel_hash(canvas_pixels(page.locator(".lw-heatmap canvas.lw-base").first)) != heat
    page.locator(".lstm-widget").focus()
    page.keyboard.press("]")
    wait_until(lambda: panel.get_attribute("data-epoch") == "1", timeout=30, message="] shows epoch 1")
