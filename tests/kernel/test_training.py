"""TrainingRecorder: each snapshot is ``record`` with the weights of that moment, in eval mode, the model's modes
restored; metrics kept beside the epochs; one clear error per bad input."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

import lstm_widget as lw


class DropoutClassifier(nn.Module):
    """Dropout before the LSTM: its output in train mode differs from eval mode."""

    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)
        self.lstm = nn.LSTM(3, 6, batch_first=True)
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        return self.head(self.lstm(self.drop(x))[0][:, -1])


def _data(seed=0):
    rng = np.random.default_rng(seed)
    xs = [rng.normal(size=(int(rng.integers(4, 9)), 3)).astype(np.float32) for _ in range(12)]
    ys = rng.integers(0, 2, 12)
    return xs, ys


def _train(model, tr, xs, ys, epochs=4):
    """A plain loop: one SGD step per sequence, a snapshot after each epoch. Returns the weights saved at each one."""
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    saved = {}
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for x, y in zip(xs, ys, strict=True):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(torch.from_numpy(x)[None]), torch.tensor([int(y)]))
            loss.backward()
            opt.step()
            total += loss.item()
        if tr.snapshot(epoch, loss=total / len(xs), accuracy=epoch / 10) is not None:
            saved[epoch] = copy.deepcopy(model.state_dict())
    return saved


def test_a_snapshot_equals_record_with_the_weights_saved_at_that_epoch():
    torch.manual_seed(0)
    xs, ys = _data()
    model = DropoutClassifier()
    tr = lw.TrainingRecorder(model, xs[:5], labels=ys[:5])
    saved = _train(model, tr, xs, ys)
    assert tr.epochs == [0, 1, 2, 3] and len(tr) == 4
    first, last = tr.recordings(0), tr.recordings(3)
    assert np.abs(first[0].h - last[0].h).max() > 1e-3  # the weights did change between epochs
    for epoch, state in saved.items():
        fresh = DropoutClassifier()
        fresh.load_state_dict(state)
        expected = lw.record(fresh.eval(), xs[:5])
        for got, want, x in zip(tr.recordings(epoch), expected, xs[:5], strict=True):
            for q in want.quantities + ("probs", "logits"):
                np.testing.assert_allclose(getattr(got, q), getattr(want, q), atol=1e-6)
            np.testing.assert_array_equal(got.inputs, x)
    np.testing.assert_array_equal(tr.labels, ys[:5])
    metrics = tr.metrics
    assert sorted(metrics) == ["accuracy", "loss"]
    np.testing.assert_allclose(metrics["accuracy"], [0.0, 0.1, 0.2, 0.3])
    assert metrics["loss"].shape == (4,) and np.isfinite(metrics["loss"]).all()


def test_the_modes_of_the_model_and_its_submodules_are_restored():
    xs, _ = _data()
    model = DropoutClassifier().train()
    model.head.eval()  # a submodule the user keeps in eval mode
    tr = lw.TrainingRecorder(model, xs[:3])
    tr.snapshot(0)
    assert model.training and model.drop.training and model.lstm.training and not model.head.training
    model.eval()
    tr.snapshot(1)
    assert not any(m.training for m in model.modules())


def test_a_snapshot_runs_in_eval_mode_and_leaves_gradients_alone():
    torch.manual_seed(1)
    xs, _ = _data()
    model = DropoutClassifier().train()
    loss = model(torch.from_numpy(xs[0])[None]).sum()
    loss.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    snap = lw.TrainingRecorder(model, xs[:2]).snapshot(0)
    for p, g in zip(model.parameters(), grads, strict=True):
        assert torch.equal(p.grad, g)
    expected = lw.record(copy.deepcopy(model).eval(), xs[:2])  # dropout off: deterministic
    np.testing.assert_allclose(snap.recordings[1].h, expected[1].h, atol=1e-6)


def test_every_records_multiples_and_force_records_any_epoch():
    xs, _ = _data()
    model = DropoutClassifier()
    tr = lw.TrainingRecorder(model, xs[0], every=2)
    recorded = [tr(e, loss=float(e)) is not None for e in range(5)]  # the recorder is also the callback
    assert recorded == [True, False, True, False, True]
    assert tr.snapshot(5, force=True, loss=5.0) is not None
    assert tr.epochs == [0, 2, 4, 5]
    np.testing.assert_array_equal(tr.metrics["loss"], [0.0, 2.0, 4.0, 5.0])
    assert isinstance(tr.recordings(2), lw.Recording)  # one probe sequence given: one Recording back
    assert "every 2" in repr(tr) and "epochs 0..5" in repr(tr)


def test_a_metric_missing_at_some_epoch_is_nan_there():
    xs, _ = _data()
    tr = lw.TrainingRecorder(DropoutClassifier(), xs[:2])
    tr.snapshot(0, loss=1.0)
    tr.snapshot(1, loss=0.5, accuracy=torch.tensor(0.75))
    np.testing.assert_array_equal(tr.metrics["accuracy"], [np.nan, 0.75])
    assert tr.snapshots[1].metrics == {"loss": 0.5, "accuracy": 0.75}


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda m, xs: lw.TrainingRecorder(m, xs, every=0), ValueError, "every must be a positive integer"),
        (lambda m, xs: lw.TrainingRecorder(m, xs, labels=[0, 1]), ValueError, "one label per probe sequence"),
        (lambda m, xs: lw.TrainingRecorder(m, [x[:, :2] for x in xs]), ValueError, "the model expects 3"),
        (lambda m, xs: lw.TrainingRecorder("model", xs), TypeError, "torch.nn.Module"),
        (lambda m, xs: lw.TrainingRecorder(m, xs).snapshot(1.5), TypeError, "epoch must be an integer"),
        (lambda m, xs: lw.TrainingRecorder(m, xs).snapshot(0, loss="low"), TypeError, "metric 'loss' is a str"),
        (lambda m, xs: lw.TrainingRecorder(m, xs).recordings(3), KeyError, "epoch 3 was not recorded"),
    ],
)
def test_bad_inputs_give_one_clear_error(call, error, match):
    xs, _ = _data()
    with pytest.raises(error, match=match):
        call(DropoutClassifier(), xs[:4])


def test_epochs_must_increase():
    xs, _ = _data()
    tr = lw.TrainingRecorder(DropoutClassifier(), xs[:2])
    tr.snapshot(3)
    with pytest.raises(ValueError, match="epoch 3 is not after the last one recorded"):
        tr.snapshot(3)


def test_with_a_path_snapshots_go_to_stores_and_read_back_equal(tmp_path):
    import gc
    import json

    pytest.importorskip("zarr")
    torch.manual_seed(0)
    xs, ys = _data()
    model = DropoutClassifier()
    memory = lw.TrainingRecorder(copy.deepcopy(model), xs[:5], labels=ys[:5])
    disk = lw.TrainingRecorder(model, xs[:5], labels=ys[:5], path=tmp_path / "run")
    torch.manual_seed(1)
    _train(memory.model, memory, xs, ys, epochs=3)
    torch.manual_seed(1)
    _train(model, disk, xs, ys, epochs=3)
    gc.collect()
    # memory holds no snapshot: the recorder keeps no Recording, and none is alive once the caller dropped its own
    assert all(s.recordings is None for s in disk.snapshots)
    assert not [o for o in gc.get_objects() if type(o) is lw.Recording and _held_by(o, disk)]
    assert disk.epochs == memory.epochs == [0, 1, 2]
    for epoch in disk.epochs:
        for got, want in zip(disk.recordings(epoch), memory.recordings(epoch), strict=True):
            for q in want.quantities + ("inputs", "probs", "logits"):
                np.testing.assert_allclose(getattr(got, q), getattr(want, q), atol=1e-6)
    for name in ("loss", "accuracy"):
        np.testing.assert_allclose(disk.metrics[name], memory.metrics[name])
    index = json.loads((tmp_path / "run" / "lstm_widget.training.json").read_text())
    assert index["epochs"] == [0, 1, 2] and index["stores"] == ["epoch-000000", "epoch-000001", "epoch-000002"]
    np.testing.assert_allclose(index["metrics"]["accuracy"], [0.0, 0.1, 0.2])
    ds = lw.open_dataset(tmp_path / "run" / "epoch-000002")  # each snapshot is a record_dataset store
    assert len(ds) == 5 and ds.attrs["epoch"] == 2 and ds.attrs["metrics"]["accuracy"] == 0.2
    assert "in " in repr(disk) and repr(disk.snapshots[0]).startswith("Snapshot(epoch 0, on disk")


def _held_by(rec, tr) -> bool:
    """Whether ``rec`` is reachable from the recorder's own attributes."""
    seen, todo = set(), [tr.__dict__]
    while todo:
        obj = todo.pop()
        if obj is rec:
            return True
        if id(obj) in seen or isinstance(obj, (np.ndarray, torch.nn.Module, str, bytes)):
            continue
        seen.add(id(obj))
        if isinstance(obj, dict):
            todo.extend(obj.values())
        elif isinstance(obj, (list, tuple)):
            todo.extend(obj)
        elif hasattr(obj, "__dict__"):
            todo.append(obj.__dict__)
    return False


def test_a_path_that_is_not_an_empty_folder_is_refused(tmp_path):
    pytest.importorskip("zarr")
    xs, _ = _data()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        lw.TrainingRecorder(DropoutClassifier(), xs[:2], path=tmp_path / "full")
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"
    with pytest.raises(TypeError, match="path must be a folder path"):
        lw.TrainingRecorder(DropoutClassifier(), xs[:2], path=3)
