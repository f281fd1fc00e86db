"""The Explorer's kernel side: what it puts on the wire, how its traits refuse bad values, and live streaming."""

import numpy as np
import pytest
import torch
import traitlets
from torch import nn

import lstm_widget as lw
from lstm_widget._wire import decode_array

from helpers import FakeComm


def test_traits_carry_every_recording_as_binary(model, seqs):
    ex = lw.Explorer(model, seqs, labels=[0, 2, 1], class_names=["a", "b", "c"], feature_names=list("wxyz"))
    meta, arrays = ex._meta, ex._arrays
    assert meta["lengths"] == [5, 8, 3] and meta["offsets"] == [0, 5, 13, 16]
    assert meta["layer_names"] == ["layer0", "layer1"] and meta["has_head"] and meta["n_classes"] == 3
    assert meta["class_names"] == ["a", "b", "c"] and meta["labels"] == [0, 2, 1]
    assert ex.loaded_quantities == list("hcifgo")
    for q in "hcifgo":
        entry = getattr(ex, f"_data_{q}")
        assert isinstance(entry.encode()["buffer"], memoryview)
        got = decode_array(entry)
        assert got.shape == (2, 16, 8)
        for s, rec in enumerate(ex.recordings):
            np.testing.assert_array_equal(got[:, meta["offsets"][s] : meta["offsets"][s + 1]], getattr(rec, q))
        assert meta["limits"][q] == [pytest.approx(got.min()), pytest.approx(got.max())]
    np.testing.assert_array_equal(decode_array(arrays["inputs"]), np.concatenate(seqs))
    np.testing.assert_array_equal(decode_array(arrays["probs"]), np.concatenate([r.probs for r in ex.recordings]))
    # the trajectory is the PCA of the last layer's h over every step of every sequence
    h_all = np.concatenate([r.h[1] for r in ex.recordings])
    centred = h_all - h_all.mean(0)
    traj = decode_array(arrays["traj"])
    assert traj.shape == (16, 3) and meta["projection"]["dims"] == 3  # 8 units: PCA gives 3 components (3-D)
    explained = traj.var(0)  # population variance along each axis = the top covariance eigenvalues
    top = np.linalg.eigvalsh(np.cov(centred.T, bias=True))[::-1][:3]
    np.testing.assert_allclose(explained, top, rtol=1e-3)


def test_widget_state_contains_no_json_number_lists(model, seqs):
    ex = lw.Explorer(model, seqs, wire_dtype="float16")
    state = ex.get_state()
    from ipywidgets.widgets.widget import _remove_buffers

    _, paths, buffers = _remove_buffers(state)
    assert len(buffers) == len(ex._arrays) + 6
    assert {p[0] for p in paths} == {"_arrays"} | {f"_data_{q}" for q in "hcifgo"}
    assert ex._data_h.dtype == "float16" and ex._data_h.nbytes == 2 * 2 * 16 * 8


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("t", 5, r"t=5 is out of range for sequence 0, which has 5 steps \(0..4\)"),
        ("t", -1, r"t=-1 is out of range"),
        ("sequence", 3, r"sequence 3 is out of range; expected 0..2"),
        ("layer", 2, r"layer 2 is out of range; expected 0..1 \(layer0, layer1\)"),
        ("quantity", "z", r"quantity 'z' is not recorded; expected one of h, c, i, f, g, o"),
        ("selected_units", [1, 8], r"unit 8 is out of range; expected 0..7"),
        ("speed", 0.0, r"speed 0.0 must be a positive number"),
    ],
)
def test_bad_trait_values_are_refused(model, seqs, name, value, message):
    ex = lw.Explorer(model, seqs)
    before = getattr(ex, name)
    with pytest.raises(traitlets.TraitError, match=message):
        setattr(ex, name, value)
    assert getattr(ex, name) == before


def test_switching_to_a_shorter_sequence_clamps_the_cursor(model, seqs):
    ex = lw.Explorer(model, seqs)
    ex.sequence = 1
    ex.t = 7
    ex.sequence = 2
    assert ex.t == 2
    assert ex.step(5) == 2 and ex.step(-1) == 1
    np.testing.assert_array_equal(ex.frame.h, ex.recordings[2].h[:, 1])


def _from_page(ex, state):
    ex._handle_msg({"content": {"data": {"method": "update", "state": state}}, "buffers": []})


def test_page_writes_made_before_a_change_from_python_lose(model, seqs):
    ex = lw.Explorer(model, seqs)
    ex.comm = comm = FakeComm()
    assert ex.get_state()["_rev"] == {}
    _from_page(ex, {"t": 2, "_seen_t": [0, 1]})  # the page had seen every change: taken, and echoed
    assert ex.t == 2 and comm.sent[-1] == {"method": "echo_update", "state": {"t": 2}, "buffer_paths": []}
    ex.t = 4  # from Python: revision 1 of t travels with the value
    assert comm.sent[-1]["state"] == {"t": 4, "_rev": {"t": 1}}
    n = len(comm.sent)
    _from_page(ex, {"t": 6, "_seen_t": [0, 2], "selected_units": [3], "_seen_selected_units": [0, 2]})
    # t was written before the page saw t = 4: refused (no echo of it), the kernel's value sent back; the unit
    # selection in the same message is taken
    assert ex.t == 4 and ex.selected_units == [3]
    assert [m["method"] for m in comm.sent[n:]] == ["echo_update", "update"]
    assert comm.sent[n]["state"] == {"selected_units": [3]}
    assert comm.sent[-1]["state"] == {"t": 4, "_rev": {"t": 1}}
    _from_page(ex, {"t": 1, "_seen_t": [1, 3]})  # written after the page saw t = 4: taken
    assert ex.t == 1
    ex.sequence = 1  # a new sequence is a new revision of t too: a step written for the old one is refused
    assert comm.sent[-1]["state"]["_rev"] == {"t": 2, "sequence": 1}
    _from_page(ex, {"t": 0, "_seen_t": [1, 4]})
    assert ex.t == 1 and comm.sent[-1]["state"] == {"t": 1, "_rev": {"t": 2, "sequence": 1}}
    with ex.hold_sync():  # changes inside hold_sync are revisions too, sent together at the end
        ex.t = 3
        ex.playing = True
    assert ex.get_state("t")["_rev"] == {"t": 3, "sequence": 1, "playing": 1}
    _from_page(ex, {"playing": False, "_seen_playing": [0, 5]})
    assert ex.playing is True
    _from_page(ex, {"speed": 3.0})  # a front end that sends no revisions is taken as current
    assert ex.speed == 3.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(labels=[0, 1]), r"labels has 2 entries; expected one per sequence \(3\)"),
        (dict(labels=[0, 1, 7]), r"label 7 is out of range; expected 0..2"),
        (dict(class_names=["a"]), r"class_names has 1 entries; expected 3"),
        (dict(feature_names=["a"]), r"feature_names has 1 entries; expected 4"),
        (dict(wire_dtype="int8"), r"wire dtype 'int8' is not supported"),
        (dict(projection="tsne"), r"projection 'tsne' is not known"),
    ],
)
def test_bad_explorer_arguments(model, seqs, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        lw.Explorer(model, seqs, **kwargs)


def test_stream_appends_frames_then_updates_traits(model, seqs, monkeypatch):
    ex = lw.Explorer(model, seqs, class_names=["a", "b", "c"])
    sent = []
    monkeypatch.setattr(ex, "send", lambda content, buffers=None: sent.append((content, buffers)))
    x = np.random.default_rng(1).normal(size=(40, 4)).astype(np.float32)
    rec = ex.stream(x, name="live", label=1, batch_ms=0.0)
    assert sent[0][0] == {"type": "begin", "sequence": 3, "name": "live", "label": 1}
    assert sent[-1][0] == {"type": "end", "sequence": 3}
    appends = sent[1:-1]
    assert all(c["type"] == "append" and c["sequence"] == 3 for c, _ in appends)
    assert sum(c["fields"][0]["shape"][0] for c, _ in appends) == 40
    # the appended bytes are the recording of the same sequence
    starts = [c["start"] for c, _ in appends]
    assert starts == sorted(starts) and starts[0] == 0
    offline = lw.record(model, x)
    h_sent = np.concatenate(
        [
            np.frombuffer(bytes(b[[f["name"] for f in c["fields"]].index("h")]), "<f4").reshape(
                next(f for f in c["fields"] if f["name"] == "h")["shape"]
            )
            for c, b in appends
        ],
        axis=1,
    )
    np.testing.assert_allclose(h_sent, offline.h, atol=1e-5)
    np.testing.assert_allclose(rec.probs, offline.probs, atol=1e-5)
    # afterwards the traits hold the streamed sequence and the cursor sits on its last step
    assert ex._meta["lengths"] == [5, 8, 3, 40] and ex._meta["sequence_names"][-1] == "live"
    assert ex.sequence == 3 and ex.t == 39 and len(ex.recordings) == 4
    np.testing.assert_allclose(decode_array(ex._data_h)[:, 16:], offline.h, atol=1e-5)


def test_stream_steps_a_small_model_on_one_torch_thread(model, seqs, monkeypatch):
    seen = []
    send_frames = lw.Explorer._send_frames
    monkeypatch.setattr(
        lw.Explorer, "_send_frames", lambda self, *a: (seen.append(torch.get_num_threads()), send_frames(self, *a))[1]
    )
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        ex = lw.Explorer(model, seqs)
        ex.stream(np.zeros((3, 4), np.float32), batch_ms=0.0)
        assert seen == [1, 1, 1] and torch.get_num_threads() == 2  # restored afterwards
        seen.clear()
        big = nn.LSTM(4, 512)  # 4·512·(4 + 512) ≥ ONE_THREAD_BELOW recurrent weights: torch's setting kept
        assert (
            sum(p.numel() for n, p in big.named_parameters() if n.startswith("weight"))
            >= lw._core.recording.stepper.ONE_THREAD_BELOW
        )
        lw.Explorer(big, seqs).stream(np.zeros((2, 4), np.float32), batch_ms=0.0)
        assert seen == [2, 2]
    finally:
        torch.set_num_threads(old)


def test_stream_of_bad_input_sends_nothing(model, seqs, monkeypatch):
    ex = lw.Explorer(model, seqs)
    sent = []
    monkeypatch.setattr(ex, "send", lambda *a, **k: sent.append(a))
    x = np.zeros((6, 4), np.float32)
    x[5, 0] = np.nan
    with pytest.raises(ValueError, match="contains nan at step 5"):
        ex.stream(x)
    assert sent == [] and len(ex.recordings) == 3 and ex._meta["n_sequences"] == 3


def test_model_without_head_has_no_probs(seqs):
    ex = lw.Explorer(nn.LSTM(4, 3), seqs)
    assert not ex._meta["has_head"] and "probs" not in ex._arrays and ex._meta["class_names"] is None


def test_from_recordings_shows_the_same_data_without_the_model(model, seqs):
    recs = lw.record(model, seqs)
    ex = lw.Explorer.from_recordings(recs, labels=[0, 1, 2])
    ref = lw.Explorer(model, seqs, labels=[0, 1, 2])
    without_model = {"has_weights": False, "framework": None}  # no model: no weights to show
    assert ex._meta == {**ref._meta, **without_model}
    for k in ref._arrays:
        np.testing.assert_array_equal(decode_array(ex._arrays[k]), decode_array(ref._arrays[k]))
    np.testing.assert_array_equal(decode_array(ex._data_f), decode_array(ref._data_f))
    with pytest.raises(RuntimeError, match="made from recordings, without a model"):
        ex.stream(seqs[0])
    other = lw.record(nn.LSTM(4, 5), seqs[0])
    with pytest.raises(ValueError, match="different models"):
        lw.Explorer.from_recordings([recs[0], other])


def test_big_recordings_send_only_the_shown_quantity_until_another_is_chosen(model, seqs, monkeypatch):
    import lstm_widget._widget.payload as payload_module

    monkeypatch.setattr(payload_module, "AUTO_PRELOAD_BYTES", 100)
    ex = lw.Explorer(model, seqs, quantity="c")
    assert ex.loaded_quantities == ["c"] and ex._data_h is None
    assert ex._meta["limits"]["h"][1] == pytest.approx(max(r.h.max() for r in ex.recordings))
    changed = []
    ex.observe(lambda ch: changed.append(ch["name"]), names=[f"_data_{q}" for q in "hcifgo"])
    ex.quantity = "f"
    assert changed == ["_data_f"] and ex.loaded_quantities == ["c", "f"]
    np.testing.assert_array_equal(decode_array(ex._data_f)[:, :5], ex.recordings[0].f)
    ex.quantity = "c"
    assert changed == ["_data_f"]  # nothing is sent twice
    assert lw.Explorer(model, seqs, preload="all").loaded_quantities == list("hcifgo")
    assert lw.Explorer(model, seqs, preload=["g"]).loaded_quantities == ["h", "g"]
    with pytest.raises(ValueError, match=r"preload 'x' is not a quantity"):
        lw.Explorer(model, seqs, preload=["x"])


def test_page_bytes_limit_is_public_and_setting_it_takes_effect(model, seqs):
    assert {"Explorer", "ChannelGrid", "PAGE_BYTES_LIMIT", "plots"} <= set(dir(lw))
    old = lw.PAGE_BYTES_LIMIT
    lw.PAGE_BYTES_LIMIT = 1000
    try:
        with pytest.raises(
            ValueError, match=r"the page takes at most 0.0 MiB at a time \(lstm_widget.PAGE_BYTES_LIMIT\)"
        ):
            lw.Explorer(model, seqs)
    finally:
        lw.PAGE_BYTES_LIMIT = old
    assert lw.Explorer(model, seqs).loaded_quantities == list("hcifgo")
