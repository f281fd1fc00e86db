"""Explorer.from_training: the epoch axis — the epoch trait's validation, the loaded recordings swapped for the chosen
epoch's, one projection for every epoch, and every epoch in save_html."""

from __future__ import annotations

import base64

import numpy as np
import pytest
import torch
import traitlets
from torch import nn

import lstm_widget as lw
from lstm_widget._wire import decode_array

from helpers import export_state


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 6, batch_first=True)
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


def _trained(epochs=4, path=None, probes=6):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(int(rng.integers(5, 9)), 3)).astype(np.float32) for _ in range(probes)]
    ys = [k % 2 for k in range(probes)]
    model = Classifier()
    tr = lw.TrainingRecorder(model, xs, labels=ys, path=path)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for epoch in range(epochs):
        for x, y in zip(xs, ys, strict=True):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(torch.from_numpy(x)[None]), torch.tensor([y]))
            loss.backward()
            opt.step()
        tr.snapshot(epoch * 10, loss=loss.item(), accuracy=epoch / 4)
    return tr


@pytest.fixture(scope="module")
def tr():
    return _trained()


def _h(ex) -> np.ndarray:
    return np.asarray(ex._data_h.values)


def test_changing_epoch_loads_that_snapshots_h_exactly_and_keeps_the_cursor(tr):
    ex = lw.Explorer.from_training(tr)
    assert ex.epoch == 30 and ex.epochs == [0, 10, 20, 30]
    assert ex._meta["training"]["epoch"] == 30 and ex._meta["training"]["epochs"] == [0, 10, 20, 30]
    np.testing.assert_allclose(ex._meta["training"]["metrics"]["accuracy"], [0, 0.25, 0.5, 0.75])
    ex.sequence, ex.t, ex.layer, ex.selected_units = 2, 3, 0, [1, 4]
    ex.epoch = 10
    want = np.concatenate([r.h for r in tr.recordings(10)], axis=1)
    np.testing.assert_array_equal(_h(ex), want)
    assert ex._meta["training"]["epoch"] == 10
    assert (ex.sequence, ex.t, ex.layer, ex.selected_units) == (2, 3, 0, [1, 4])
    np.testing.assert_array_equal(ex.recording.h, tr.recordings(10)[2].h)
    assert ex.step_epoch(-5) == 0 and ex.step_epoch(1) == 10


def test_epoch_must_be_a_recorded_one(tr):
    ex = lw.Explorer.from_training(tr, epoch=0)
    assert ex.epoch == 0
    with pytest.raises(traitlets.TraitError, match="epoch 5 was not recorded"):
        ex.epoch = 5
    assert ex.epoch == 0
    with pytest.raises(ValueError, match="epoch 7 was not recorded; expected one of"):
        lw.Explorer.from_training(tr, epoch=7)
    with pytest.raises(ValueError, match="projection_fit must be 'last' or 'all'"):
        lw.Explorer.from_training(tr, projection_fit="first")
    with pytest.raises(TypeError, match="expects a lstm_widget.TrainingRecorder"):
        lw.Explorer.from_training([1, 2])
    with pytest.raises(RuntimeError, match="cannot step new ones"):
        ex.stream(np.zeros((3, 3), np.float32))


@pytest.mark.parametrize("fit", ["last", "all"])
def test_one_projection_serves_every_epoch(tr, fit):
    ex = lw.Explorer.from_training(tr, projection_fit=fit)
    projection = ex.projection
    fit_states = [tr.recordings(e) for e in (tr.epochs if fit == "all" else tr.epochs[-1:])]
    expected = lw.Explorer.from_recordings(sum(fit_states, [])).projection  # PCA on the same states
    np.testing.assert_allclose(
        np.abs(projection.components_), np.abs(expected.components_), atol=1e-5
    )  # the same map (PCA's signs may flip)
    ex.epoch = 0
    assert ex.projection is projection
    states = np.concatenate([r.h[0] for r in tr.recordings(0)], axis=0)
    np.testing.assert_allclose(ex.trajectory, projection.transform(states)[:, : ex.trajectory.shape[1]], atol=1e-5)


def test_the_snapshots_read_from_a_store_show_the_same(tmp_path):
    pytest.importorskip("zarr")
    disk = _trained(epochs=2, path=tmp_path / "run")
    ex = lw.Explorer.from_training(disk)
    ex.epoch = 0
    np.testing.assert_allclose(_h(ex), np.concatenate([r.h for r in disk.recordings(0)], axis=1), atol=1e-6)


def _decode(entry) -> np.ndarray:
    return decode_array({**entry, "buffer": base64.b64decode(entry["buffer"]["$b64"])})


def test_save_html_carries_every_epoch(tr, tmp_path):
    ex = lw.Explorer.from_training(tr)
    ex.epoch = 20
    ex.save_html(tmp_path / "t.html", quiet=True)
    st = export_state(tmp_path / "t.html")
    assert st["epoch"] == 20 and sorted(st["_epoch_states"], key=int) == ["0", "10", "20", "30"]
    for e in tr.epochs:
        entry = st["_epoch_states"][str(e)]
        assert entry["_meta"]["training"]["epoch"] == e
        np.testing.assert_allclose(
            _decode(entry["_data_h"]), np.concatenate([r.h for r in tr.recordings(e)], axis=1), atol=1e-6
        )
    assert st["_meta"]["training"]["epoch"] == 20
    # the shown epoch's data is written once: the page takes it from _epoch_states (js/src/offline.js)
    assert not [k for k in st if k == "_arrays" or k.startswith("_data_")]
    ex.save_html(tmp_path / "s.html", epochs=[0, 30], quiet=True)
    assert sorted(export_state(tmp_path / "s.html")["_epoch_states"], key=int) == ["0", "20", "30"]  # shown kept
    with pytest.raises(ValueError, match="epochs \\[5\\]: 5 was not recorded"):
        ex.save_html(tmp_path / "x.html", epochs=[5])


def test_save_html_over_the_page_limit_keeps_evenly_spaced_epochs_and_says_which(tr, tmp_path, monkeypatch, capsys):
    ex = lw.Explorer.from_training(tr)
    ex.save_html(tmp_path / "one.html", quiet=True)
    per_epoch = sum(
        _decode(v).nbytes if isinstance(v, dict) and "buffer" in v else 0
        for v in export_state(tmp_path / "one.html")["_epoch_states"]["30"].values()
    )
    monkeypatch.setattr(lw, "PAGE_BYTES_LIMIT", int(per_epoch * 2.5))
    ex.save_html(tmp_path / "two.html")
    st = export_state(tmp_path / "two.html")
    assert sorted(st["_epoch_states"], key=int) == ["0", "30"]
    assert "kept 2 of 4 epochs: 0, 30" in capsys.readouterr().out + (tmp_path / "two.html").read_text()
    with pytest.raises(ValueError, match="export at most 2 epochs"):
        ex.save_html(tmp_path / "three.html", epochs=[0, 10, 20])


def test_the_default_export_divides_the_budget_over_the_epochs(tmp_path, monkeypatch, capsys):
    ex = lw.Explorer.from_training(_trained(epochs=10, probes=12))
    ex.sequence = 5
    one = ex.save_html(tmp_path / "one.html", sequences=[5], quiet=True)
    every = ex.save_html(tmp_path / "all.html", sequences="all", quiet=True)
    budget = one + (every - one) // 2
    monkeypatch.setattr(lw, "EXPORT_BUDGET", budget)
    size = ex.save_html(tmp_path / "t.html")
    out = capsys.readouterr().out
    assert size <= budget, (size, budget)
    st = export_state(tmp_path / "t.html")
    assert sorted(st["_epoch_states"], key=int) == [str(10 * k) for k in range(10)]
    n = st["_epoch_states"]["90"]["_meta"]["n_sequences"]
    assert 1 < n < 12 and "of 12" in out and "divided over 10 epochs" in out


@pytest.mark.parametrize(
    "shown, fit, kept",
    [
        (50, 1, [50]),
        (50, 2, [0, 50]),  # room for 2: the shown one and the first
        (0, 2, [0, 90]),  # ... the last when the shown one is the first
        (90, 2, [0, 90]),
        (50, 3, [0, 50, 90]),
        (10, 3, [0, 10, 90]),
        (20, 4, [0, 20, 60, 90]),  # evenly spaced (0, 30, 60, 90); the shown one replaces the pick nearest it
        (60, 4, [0, 30, 60, 90]),
        (40, 10, list(range(0, 100, 10))),
    ],
)
def test_the_epochs_kept_are_the_first_the_shown_and_the_last_as_room_allows(shown, fit, kept):
    from lstm_widget._widget.training import spread_epochs

    assert spread_epochs(list(range(0, 100, 10)), shown, fit) == kept


def test_a_middle_epoch_shown_with_room_for_two_keeps_the_first(tr, tmp_path, monkeypatch):
    ex = lw.Explorer.from_training(tr)
    ex.save_html(tmp_path / "one.html", quiet=True)
    per_epoch = sum(
        _decode(v).nbytes if isinstance(v, dict) and "buffer" in v else 0
        for v in export_state(tmp_path / "one.html")["_epoch_states"]["30"].values()
    )
    monkeypatch.setattr(lw, "PAGE_BYTES_LIMIT", int(per_epoch * 2.5))
    ex.epoch = 10
    ex.save_html(tmp_path / "two.html", quiet=True)
    assert sorted(export_state(tmp_path / "two.html")["_epoch_states"], key=int) == ["0", "10"]


@pytest.mark.parametrize("how", ["deleted", "flipped"])  # found on opening the epoch's store / on reading it
def test_an_epoch_that_cannot_be_read_changes_nothing_and_is_named(tmp_path, how):
    pytest.importorskip("zarr")
    disk = _trained(epochs=2, path=tmp_path / "run")
    ex = lw.Explorer.from_training(disk)
    assert ex.epoch == 10
    before = (_h(ex).copy(), ex._meta)
    chunk = tmp_path / "run" / "epoch-000000" / "h" / "c" / "0" / "0" / "0"
    if how == "deleted":
        chunk.unlink()
    else:  # same size, one bit flipped: its checksum fails when read
        raw = bytearray(chunk.read_bytes())
        raw[8] ^= 1
        chunk.write_bytes(bytes(raw))
    for move in (lambda: setattr(ex, "epoch", 0), lambda: ex.step_epoch(-1)):
        with pytest.raises(RuntimeError, match=r"epoch 0 could not be loaded \(still showing epoch 10\): .*h/c/0/0/0"):
            move()
        assert ex.epoch == 10 and ex._shown_epoch == 10
        assert ex._meta is before[1] and ex._meta["training"]["epoch"] == 10
        np.testing.assert_array_equal(_h(ex), before[0])
