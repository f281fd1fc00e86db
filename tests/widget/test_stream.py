"""``Explorer.stream`` is a transaction (js/PROTOCOL.md, "Streams"): ``begin``, ``append`` s, then the traits and
``end``; a failure on the way (an exception in a forward hook, KeyboardInterrupt) sends ``abort`` with the state
Python holds, changes nothing in the kernel and is raised again; two threads streaming into one explorer run one
after the other. The messages are read from a stand-in for the kernel's comm, as the page would receive them."""

from __future__ import annotations

import copy
import threading

import numpy as np
import pytest
import torch

import lstm_widget as lw

from helpers import Classifier, FakeComm


class _HookError(RuntimeError):
    pass


def _explorer(model, seqs):
    ex = lw.Explorer(model, seqs, class_names=["a", "b", "c"])
    ex.comm = comm = FakeComm()
    ex.sequence, ex.t = 1, 5
    return ex, comm


def _kernel_state(ex) -> dict:
    return {
        "n": len(ex.recordings),
        "sequence": ex.sequence,
        "t": ex.t,
        "_meta": copy.deepcopy(ex._meta),
        "h": ex._data_h.values.copy(),
        "traj": ex._arrays["traj"].values.copy(),
    }


def _same_state(a: dict, b: dict) -> bool:
    return (
        a["n"] == b["n"]
        and (a["sequence"], a["t"]) == (b["sequence"], b["t"])
        and a["_meta"] == b["_meta"]
        and np.array_equal(a["h"], b["h"])
        and np.array_equal(a["traj"], b["traj"], equal_nan=True)
    )


def _raise_after(module, comm: FakeComm, n: int, error: BaseException):
    """A forward hook on ``module`` that raises ``error`` once ``n`` steps were appended to the page (the stepper's
    probe of the model, before ``begin``, runs through it untouched); returns the hook's handle."""

    def hook(mod, args, out):
        if sum(m["type"] == "append" for m in comm.custom()) >= n:
            raise error

    return module.register_forward_hook(hook)


@pytest.mark.parametrize(
    "error", [_HookError("the hook failed at step 6"), KeyboardInterrupt()], ids=["exception", "keyboard_interrupt"]
)
def test_a_stream_that_fails_midway_sends_abort_and_changes_nothing(model, seqs, error):
    ex, comm = _explorer(model, seqs)
    before = _kernel_state(ex)
    comm.sent.clear()
    x = np.random.default_rng(2).normal(size=(12, 4)).astype(np.float32)
    handle = _raise_after(model.fc, comm, 6, error)  # the head runs once per step: steps 0..5 pass, step 6 raises
    try:
        with pytest.raises(type(error)) as raised:
            ex.stream(x, name="doomed", batch_ms=0.0)
    finally:
        handle.remove()
    assert raised.value is error, "the error itself is raised again"
    msgs = comm.custom()
    assert msgs[0] == {"type": "begin", "sequence": 3, "name": "doomed", "label": None}
    appends = msgs[1:-1]
    assert [m["type"] for m in appends] == ["append"] * 6 and [m["start"] for m in appends] == list(range(6))
    reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    assert msgs[-1] == {"type": "abort", "sequence": 3, "reason": reason, "state": {"sequence": 1, "t": 5}}
    # the kernel holds what it held: no sequence added, the cursor where it was, no trait sent to the page
    assert _same_state(_kernel_state(ex), before)
    assert [m for m in comm.sent if m.get("method") != "custom"] == []
    # and the explorer still streams
    rec = ex.stream(x[:4], name="after", batch_ms=0.0)
    assert len(rec) == 4 and len(ex.recordings) == 4 and (ex.sequence, ex.t) == (3, 3)
    assert comm.custom()[-1] == {"type": "end", "sequence": 3}


def test_a_stream_ends_after_the_traits_that_commit_it(model, seqs):
    ex, comm = _explorer(model, seqs)
    comm.sent.clear()
    ex.stream(np.zeros((5, 4), np.float32), name="ok", batch_ms=0.0)
    kinds = [m["content"]["type"] if m.get("method") == "custom" else m["method"] for m in comm.sent]
    assert kinds == ["begin", *["append"] * 5, "update", "end"]
    update = comm.sent[-2]["state"]
    assert update["_meta"]["lengths"] == [5, 8, 3, 5] and (update["sequence"], update["t"]) == (3, 4)


def test_weights_turned_nan_after_the_explorer_was_made_are_refused_before_the_stream_begins(seqs):
    """NaN weights are refused when the stream's stepper is made: nothing is sent, nothing changes."""
    torch.manual_seed(0)
    model = Classifier(layers=2).eval()
    ex, comm = _explorer(model, seqs)
    before = _kernel_state(ex)
    comm.sent.clear()
    with torch.no_grad():
        model.encoder.weight_hh_l0[0, 0] = float("nan")
    with pytest.raises(ValueError, match="encoder.weight_hh_l0"):
        ex.stream(np.zeros((4, 4), np.float32), batch_ms=0.0)
    assert comm.sent == [] and _same_state(_kernel_state(ex), before)


def test_a_failure_placing_the_states_aborts_too(model, seqs, monkeypatch):
    """The stepping succeeded but the commit's work failed (here: the projection cannot place the states)."""
    ex, comm = _explorer(model, seqs)
    before = _kernel_state(ex)
    comm.sent.clear()

    def fail(*args, **kwargs):
        raise ValueError("Input X contains NaN.")

    monkeypatch.setattr(ex, "_assemble", fail)
    with pytest.raises(ValueError, match="contains NaN"):
        ex.stream(np.zeros((3, 4), np.float32), batch_ms=0.0)
    assert comm.custom()[-1]["type"] == "abort" and _same_state(_kernel_state(ex), before)


def test_two_threads_stream_one_after_the_other(model, seqs):
    ex, comm = _explorer(model, seqs)
    comm.sent.clear()
    xs = [np.full((8, 4), k, np.float32) for k in (1, 2)]
    started = threading.Barrier(2)
    errors = []

    def run(k):
        try:
            started.wait()
            ex.stream(xs[k], name=f"thread {k}", fps=400, batch_ms=0.0)  # slow enough that both are in flight
        except BaseException as err:  # reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(k,)) for k in (0, 1)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not errors and not any(th.is_alive() for th in threads)
    msgs = comm.custom()
    assert [m["type"] for m in msgs] == ["begin", *["append"] * 8, "end"] * 2, "the streams interleaved"
    assert [m["sequence"] for m in msgs[:10]] == [3] * 10 and [m["sequence"] for m in msgs[10:]] == [4] * 10
    names = [msgs[0]["name"], msgs[10]["name"]]
    assert sorted(names) == ["thread 0", "thread 1"]
    assert len(ex.recordings) == 5 and ex._meta["sequence_names"][3:] == names
    for s, name in zip((3, 4), names, strict=True):
        k = int(name[-1])
        np.testing.assert_array_equal(ex.recordings[s].inputs, xs[k])
