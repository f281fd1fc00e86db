"""Stepper: one step at a time gives what record gives, and its state can be read and written."""

import numpy as np
import pytest
import torch
from torch import nn

import lstm_widget as lw

from helpers import Classifier


@pytest.mark.parametrize(
    "model",
    [nn.LSTM(4, 6), nn.LSTM(4, 6, num_layers=3), nn.LSTM(4, 6, num_layers=2, proj_size=2), nn.LSTMCell(4, 6)],
    ids=["lstm", "lstm-3-layers", "lstm-proj", "cell"],
)
def test_stepper_equals_record_at_every_step(model):
    torch.manual_seed(0)
    x = torch.randn(10, 4)
    rec = lw.record(model, x)
    st = lw.Stepper(model)
    for t in range(10):
        fr = st.step(x[t])
        for q in ("h", "c", "i", "f", "g", "o"):
            np.testing.assert_allclose(getattr(fr, q), getattr(rec, q)[:, t], atol=1e-5, err_msg=f"{q} at {t}")
    assert st.t == 10


def test_stepper_with_head_and_preprocessing_equals_record():
    torch.manual_seed(1)
    model = Classifier().eval()
    x = torch.randn(7, 4)
    rec = lw.record(model, x)
    st = lw.Stepper(model)
    frames = [st.step(x[t]) for t in range(7)]
    np.testing.assert_allclose(np.stack([f.probs for f in frames]), rec.probs, atol=1e-5)
    assert frames[-1].prediction == int(rec.probs[-1].argmax())


def test_state_read_write_and_reset():
    torch.manual_seed(2)
    m = nn.LSTM(3, 5, num_layers=2)
    x = torch.randn(6, 3)
    st = lw.Stepper(m)
    for t in range(3):
        st.step(x[t])
    saved = st.state
    assert saved["h"].shape == (2, 5) and saved["c"].shape == (2, 5)
    a = [st.step(x[t]).h for t in range(3, 6)]
    st.reset()
    assert np.all(st.state["h"] == 0) and st.t == 0
    st.state = saved
    b = [st.step(x[t]).h for t in range(3, 6)]
    np.testing.assert_allclose(np.stack(a), np.stack(b), atol=1e-6)
    # overwriting the state changes what comes next, exactly as torch does from that state
    st.state = {"h": np.ones((2, 5), np.float32), "c": np.zeros((2, 5), np.float32)}
    fr = st.step(x[0])
    with torch.no_grad():
        out, _ = m(x[:1, None], (torch.ones(2, 1, 5), torch.zeros(2, 1, 5)))
    np.testing.assert_allclose(fr.h[-1], out[0, 0].numpy(), atol=1e-5)


def test_bad_state_is_refused_and_leaves_state_unchanged():
    st = lw.Stepper(nn.LSTM(3, 5))
    st.step(np.ones(3, np.float32))
    before = st.state
    with pytest.raises(ValueError, match=r"state\['c'\] has shape \(1, 4\); expected \(1, 5\)"):
        st.state = {"h": np.zeros((1, 5), np.float32), "c": np.zeros((1, 4), np.float32)}
    with pytest.raises(TypeError, match="keys 'h' and 'c'"):
        st.state = {"h": np.zeros((1, 5))}
    np.testing.assert_array_equal(st.state["h"], before["h"])


def test_bidirectional_cannot_be_stepped():
    with pytest.raises(ValueError, match="bidirectional LSTM cannot be stepped"):
        lw.Stepper(nn.LSTM(3, 4, bidirectional=True))
