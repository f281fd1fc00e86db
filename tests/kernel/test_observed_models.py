"""record() observes real models of every common shape by running their own forward: every recorded quantity equals
what the model's own modules computed (captured here with our own hooks), and every per-step output equals what the
model returned — or is not shown, with the reason."""

import numpy as np
import pytest
import torch
from torch import nn

import lstm_widget as lw

from zoo import Dropped, EncoderDecoder, Packed, Regressor, SineForecaster, TokenClassifier, WordLM, lm_forward

ATOL = 1e-5


def _capture(modules):
    """Forward hooks that keep every call's (args, output) of each module: {module: [(args, output), ...]}."""
    seen = {m: [] for m in modules}
    handles = [m.register_forward_hook(lambda mod, a, o: seen[mod].append((a, o))) for m in modules]
    return seen, handles


def _own(model, modules, call):
    """What ``modules`` computed and what the model returned on ``call()``, in eval mode."""
    seen, handles = _capture(modules)
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = call()
    finally:
        for h in handles:
            h.remove()
        model.train(was)
    return seen, out


# --- token models -------------------------------------------------------------------------------------------------


def test_word_lm_with_forward_input_hidden_records_what_its_lstm_computed():
    torch.manual_seed(0)
    lm = WordLM()
    ids = torch.randint(0, lm.ntoken, (9,))
    rec = lw.record(lm, ids, forward=lm_forward)
    seen, (logp, _) = _own(lm, [lm.rnn], lambda: lm_forward(lm, ids[:, None]))
    ((_, (out, (hn, cn))),) = seen[lm.rnn]
    assert rec.layer_names == ("layer0", "layer1") and len(rec) == 9
    np.testing.assert_allclose(rec.h[1], out[:, 0].numpy(), atol=ATOL)
    np.testing.assert_allclose(rec.h[:, -1], hn[:, 0].numpy(), atol=ATOL)
    np.testing.assert_allclose(rec.c[:, -1], cn[:, 0].numpy(), atol=ATOL)
    np.testing.assert_allclose(rec.module_inputs["rnn"], lm.encoder(ids).detach().numpy(), atol=ATOL)
    assert rec.stages == (lw.Stage("rnn", ("layer0", "layer1"), 0, 9),)
    # the head's raw output at every step; the model's log-softmax of it is what it returned
    assert rec.task == "classification" and rec.outputs.shape == (9, lm.ntoken)
    np.testing.assert_allclose(torch.log_softmax(torch.from_numpy(rec.outputs), -1).numpy(), logp.numpy(), atol=ATOL)
    np.testing.assert_allclose(rec.probs, logp.exp().numpy(), atol=ATOL)
    assert "every step" in rec.outputs_note
    np.testing.assert_array_equal(rec.inputs, ids.numpy())


def test_word_lm_with_its_own_initial_state_and_a_batch_of_ids():
    torch.manual_seed(1)
    lm = WordLM()
    h0 = torch.randn(2, 3, lm.nhid) * 0.5, torch.randn(2, 3, lm.nhid) * 0.5
    ids = np.random.default_rng(0).integers(0, lm.ntoken, (3, 6))  # a (B, T) batch
    recs = lw.record(lm, ids, forward=lambda m, b: m(b, h0))
    seen, (logp, _) = _own(lm, [lm.rnn], lambda: lm(torch.from_numpy(ids).T, h0))
    ((_, (out, _)),) = seen[lm.rnn]
    logp = logp.view(6, 3, -1)
    for b, rec in enumerate(recs):
        np.testing.assert_allclose(rec.h[1], out[:, b].numpy(), atol=ATOL)
        # the first step starts from the given state, not zeros
        first = lw.record(lm, ids[b, :1], forward=lambda m, x, b=b: m(x, (h0[0][:, b : b + 1], h0[1][:, b : b + 1])))
        np.testing.assert_allclose(first.h[:, 0], rec.h[:, 0], atol=ATOL)
        np.testing.assert_allclose(
            torch.log_softmax(torch.from_numpy(rec.outputs), -1).numpy(), logp[:, b].numpy(), atol=ATOL
        )


def test_token_model_takes_ids_as_arrays_tensors_lists_and_padded_batches():
    torch.manual_seed(2)
    model = TokenClassifier()
    seqs = [np.array([1, 4, 2, 9, 3]), np.array([7, 7, 0]), np.array([10, 2, 5, 5, 1, 6, 8])]
    recs = lw.record(model, seqs)
    for s, rec in zip(seqs, recs, strict=True):
        seen, logits = _own(model, [model.lstm], lambda s=s: model(torch.from_numpy(s)[None]))
        ((_, (out, _)),) = seen[model.lstm]
        np.testing.assert_allclose(rec.h[0], out[0].numpy(), atol=ATOL)
        np.testing.assert_allclose(rec.outputs, logits[0].numpy(), atol=ATOL)
        np.testing.assert_allclose(
            rec.module_inputs["lstm"], model.emb(torch.from_numpy(s)).detach().numpy(), atol=ATOL
        )
    one = lw.record(model, torch.from_numpy(seqs[0])[:, None])  # a (T, 1) long tensor
    np.testing.assert_array_equal(one.h, recs[0].h)
    padded = np.zeros((3, 7), np.int64)
    for b, s in enumerate(seqs):
        padded[b, : len(s)] = s
    again = lw.record(model, padded, lengths=[5, 3, 7])
    for a, b in zip(again, recs, strict=True):
        np.testing.assert_array_equal(a.h, b.h)
        np.testing.assert_array_equal(a.inputs, b.inputs)


def test_ints_and_floats_given_to_the_wrong_kind_of_model_say_what_it_takes():
    with pytest.raises(TypeError, match=r"expects token ids .*'emb' is an Embedding of 11 tokens.*integer ids"):
        lw.record(TokenClassifier(), np.zeros((5, 1), np.float32))
    with pytest.raises(TypeError, match=r"holds integers .*expects float features per step.*astype\('float32'\)"):
        lw.record(Regressor(), np.zeros((5, 3), np.int64))
    with pytest.raises(ValueError, match=r"holds the id 11 at step 2; the model's 'emb' takes ids 0..10"):
        lw.record(TokenClassifier(), np.array([1, 2, 11]))
    with pytest.raises(ValueError, match=r"lengths must lie in 1..4"):
        lw.record(TokenClassifier(), np.zeros((2, 4), np.int64), lengths=[4, 5])


# --- several recurrent modules -----------------------------------------------------------------------------------


def test_two_cell_forecaster_records_both_cells_and_its_own_closed_loop_outputs():
    torch.manual_seed(3)
    model = SineForecaster()
    x = np.sin(np.linspace(0, 3, 10, dtype=np.float32))[:, None]  # (T, 1)
    rec = lw.record(model, x, forward=lambda m, b: m(b[..., 0], future=3))
    seen, y = _own(model, [model.lstm1, model.lstm2], lambda: model(torch.from_numpy(x)[None, :, 0], future=3))
    assert rec.layer_names == ("lstm1", "lstm2") and len(rec) == 13
    assert [(s.module, s.start, s.stop) for s in rec.stages] == [("lstm1", 0, 13), ("lstm2", 0, 13)]
    for row, cell in enumerate((model.lstm1, model.lstm2)):
        h = torch.cat([o[0] for _, o in seen[cell]]).numpy()
        c = torch.cat([o[1] for _, o in seen[cell]]).numpy()
        np.testing.assert_allclose(rec.h[row], h, atol=ATOL)
        np.testing.assert_allclose(rec.c[row], c, atol=ATOL)
        np.testing.assert_allclose(
            rec.c[row], rec.f[row] * np.vstack([np.zeros((1, 12)), c[:-1]]) + rec.i[row] * rec.g[row], atol=ATOL
        )
    # outputs are the model's own, the future steps included; a regression: no probabilities
    np.testing.assert_allclose(rec.outputs[:, 0], y[0].numpy(), atol=ATOL)
    assert rec.task == "regression" and rec.probs is None and rec.logits is None
    # closed loop: from step 10 on, lstm1 received the model's own previous prediction
    np.testing.assert_allclose(rec.module_inputs["lstm1"][10:, 0], y[0, 9:12].numpy(), atol=ATOL)
    np.testing.assert_allclose(rec.module_inputs["lstm1"][:10], x, atol=ATOL)


def test_restricting_to_the_first_cell_does_not_attach_the_head_to_it():
    torch.manual_seed(3)
    model = SineForecaster()
    x = np.sin(np.linspace(0, 3, 10, dtype=np.float32))[:, None]
    rec = lw.record(model, x, lstm="lstm1", forward=lambda m, b: m(b[..., 0]))
    full = lw.record(model, x, forward=lambda m, b: m(b[..., 0]))
    assert rec.layer_names == ("layer0",)
    np.testing.assert_array_equal(rec.h[0], full["lstm1.h"])
    assert rec.outputs is None and rec.probs is None
    assert rec.outputs_note.startswith("per-step outputs not shown") and "lstm1's" in rec.outputs_note
    with pytest.raises(KeyError, match="per-step outputs not shown"):
        rec["outputs"]


def test_encoder_decoder_runs_on_one_timeline_in_two_stages():
    torch.manual_seed(4)
    model = EncoderDecoder()
    x = torch.randn(6, 3)
    rec = lw.record(model, x)
    seen, y = _own(model, [model.encoder, model.decoder], lambda: model(x[None]))
    assert rec.layer_names == ("encoder.layer0", "decoder.layer0") and len(rec) == 10
    assert [(s.module, s.layers, s.start, s.stop) for s in rec.stages] == [
        ("encoder", ("encoder.layer0",), 0, 6),
        ("decoder", ("decoder.layer0",), 6, 10),
    ]
    ((_, (enc, _)),) = seen[model.encoder]
    dec = torch.cat([o[0] for _, o in seen[model.decoder]], dim=1)
    np.testing.assert_allclose(rec["encoder.layer0.h"][:6], enc[0].numpy(), atol=ATOL)
    np.testing.assert_allclose(rec["decoder.layer0.h"][6:], dec[0].numpy(), atol=ATOL)
    assert np.isnan(rec["encoder.layer0.h"][6:]).all() and np.isnan(rec["decoder.layer0.c"][:6]).all()
    # the decoder starts from the encoder's final state
    np.testing.assert_allclose(rec.c[1, 6], (rec.f[1, 6] * rec.c[0, 5] + rec.i[1, 6] * rec.g[1, 6]), atol=ATOL)
    np.testing.assert_allclose(rec.outputs[6:], y[0].numpy(), atol=ATOL)
    assert np.isnan(rec.outputs[:6]).all() and rec.task == "classification"
    only = lw.record(model, x, lstm=["decoder"])
    assert only.layer_names == ("layer0",) and len(only) == 4
    np.testing.assert_array_equal(only.h[0], rec.h[1, 6:])


def test_modules_of_different_sizes_are_refused_with_the_way_out():
    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.LSTM(3, 5), nn.GRU(5, 4)

        def forward(self, x):
            return self.b(self.a(x)[0])[0]

    with pytest.raises(ValueError, match=r"differ in kind or size .*a \(LSTM, 5 units\), b \(GRU, 4 units\).*lstm="):
        lw.record(Mixed(), torch.randn(4, 3))
    assert lw.record(Mixed(), torch.randn(4, 3), lstm="b").cell == "gru"


# --- heads, tasks --------------------------------------------------------------------------------------------------


def test_per_step_regressor_is_a_regression_without_probabilities():
    torch.manual_seed(5)
    model = Regressor()
    xs = [torch.randn(8, 3).numpy() for _ in range(2)] + [torch.randn(5, 3).numpy()]
    recs = lw.record(model, xs)
    for x, rec in zip(xs, recs, strict=True):
        seen, y = _own(model, [model.lstm], lambda x=x: model(torch.from_numpy(x)[None]))
        ((_, (out, _)),) = seen[model.lstm]
        np.testing.assert_allclose(rec.h[0], out[0].numpy(), atol=ATOL)
        np.testing.assert_allclose(rec.outputs, y[0].numpy(), atol=ATOL)
        assert rec.task == "regression" and rec.probs is None and rec.logits is None
        assert rec.frame(-1).outputs.shape == (1,) and rec.frame(-1).prediction is None
        assert "outputs" in rec.names and "probs" not in rec.names
        np.testing.assert_array_equal(rec["outputs"], rec.outputs)
    forced = lw.record(model, xs[0], task="classification")
    np.testing.assert_allclose(forced.probs, 1 / (1 + np.exp(-recs[0].outputs)), atol=ATOL)
    with pytest.raises(ValueError, match=r"task must be one of \('auto', 'classification', 'regression'\)"):
        lw.record(model, xs[0], task="forecast")


def test_a_float_batch_with_lengths_is_a_list_of_sequences():
    torch.manual_seed(6)
    model = Regressor()
    batch = torch.randn(3, 7, 3)
    recs = lw.record(model, batch, lengths=torch.tensor([7, 4, 2]))
    for b, (n, rec) in enumerate(zip((7, 4, 2), recs, strict=True)):
        alone = lw.record(model, batch[b, :n])
        np.testing.assert_array_equal(rec.h, alone.h)
        np.testing.assert_array_equal(rec.outputs, alone.outputs)
    assert len(lw.record(model, batch.numpy())) == 3


def test_a_head_that_does_not_reproduce_the_output_is_not_shown():
    class Scaled(nn.Module):  # the model doubles its head's output: the head alone is not what it returns
        def __init__(self):
            super().__init__()
            self.lstm, self.fc = nn.LSTM(3, 6, batch_first=True), nn.Linear(6, 4)

        def forward(self, x):
            return 2 * self.fc(self.lstm(x)[0][:, -1])

    rec = lw.record(Scaled(), torch.randn(5, 3))
    assert rec.outputs is None and rec.logits is None and rec.probs is None
    assert rec.outputs_note == (
        "per-step outputs not shown: 'fc' on lstm's states does not reproduce the model's output (shape (1, 4))"
    )
    assert lw.record(Scaled(), torch.randn(5, 3), head=None).outputs_note == "per-step outputs not shown: head=None"


def test_the_bundled_classifier_is_recorded_as_before():
    """Observing the Japanese Vowels net gives what recording it from its description gives, bit for bit."""
    from lstm_widget._core.recording import recorder

    model = lw.models.japanese_vowels_net()
    xs = [np.random.default_rng(k).normal(size=(n, 12)).astype(np.float32) for k, n in enumerate((9, 14, 9))]
    observed = lw.record(model, xs)
    described = recorder.record(model, xs)
    for a, b in zip(observed, described, strict=True):
        assert a.layer_names == b.layer_names == ("layer0",)
        for q in ("h", "c", "i", "f", "g", "o", "logits", "probs", "outputs"):
            np.testing.assert_array_equal(getattr(a, q), getattr(b, q))
        assert a.task == "classification" and "last step" in a.outputs_note


# --- packing, modes ------------------------------------------------------------------------------------------------


def test_a_model_that_packs_its_batch_records_each_sequence_at_its_own_length():
    torch.manual_seed(7)
    model = Packed()
    xs = [torch.randn(n, 4).numpy() for n in (5, 8, 3)]
    recs = lw.record(model, xs, forward=lambda m, batch, lengths: m(batch, lengths))
    for x, rec in zip(xs, recs, strict=True):
        assert len(rec) == len(x)
        seen, y = _own(model, [model.lstm], lambda x=x: model(torch.from_numpy(x)[None], torch.tensor([len(x)])))
        ((_, (out, (hn, cn))),) = seen[model.lstm]
        np.testing.assert_allclose(rec.h[0, -1], hn[0, 0].numpy(), atol=ATOL)
        np.testing.assert_allclose(rec.c[0, -1], cn[0, 0].numpy(), atol=ATOL)
        np.testing.assert_allclose(rec.outputs[-1], y[0].numpy(), atol=ATOL)
    # the packed run on the padded batch gives what each sequence alone gives
    alone = lw.record(model, xs[2], forward=lambda m, batch, lengths: m(batch, lengths))
    np.testing.assert_allclose(recs[2].h, alone.h, atol=ATOL)


def test_a_model_left_in_train_mode_is_recorded_in_eval_mode_and_left_in_train_mode():
    torch.manual_seed(8)
    model = Dropped().train()
    x = torch.randn(7, 4)
    first, second = lw.record(model, x), lw.record(model, x)
    np.testing.assert_array_equal(first.h, second.h)
    assert model.training and all(m.training for m in model.modules())
    seen, y = _own(model, [model.lstm], lambda: model(x[None]))
    ((_, (out, _)),) = seen[model.lstm]
    np.testing.assert_allclose(first.h[1], out[0].numpy(), atol=ATOL)
    np.testing.assert_allclose(first.logits[-1], y[0].numpy(), atol=ATOL)

    def failing(m, batch):
        m(batch)
        raise RuntimeError("boom")

    with pytest.raises(ValueError, match=r"failed \(RuntimeError: boom\)"):
        lw.record(model, x, forward=failing)
    assert model.training and model.drop.training


# --- refusals ------------------------------------------------------------------------------------------------------


def test_a_module_whose_own_forward_differs_from_its_weights_is_refused():
    class Odd(nn.LSTM):
        def forward(self, x, hx=None):
            out, state = super().forward(x, hx)
            return out * 1.5, state

    model = nn.Sequential()
    model.add_module("lstm", Odd(3, 4))
    with pytest.raises(lw.RecordingMismatch, match=r"recomputing 'lstm' from what it received gives outputs"):
        lw.record(model, torch.randn(5, 3), forward=lambda m, b: m(b)[0])


def test_a_forward_that_needs_more_than_the_batch_says_how_to_pass_it():
    with pytest.raises(ValueError, match=r"missing 1 required positional argument: 'hidden'.*forward=lambda"):
        lw.record(WordLM(), np.array([1, 2, 3]))


# --- stepping and hooks with forward= ------------------------------------------------------------------------------


def test_stepper_refuses_at_construction_what_it_cannot_step_exactly():
    class Smoothed(nn.Module):  # a convolution over time before the LSTM: a step's input depends on its neighbours
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(3, 3, 3, padding=1)
            self.lstm, self.fc = nn.LSTM(3, 5, batch_first=True), nn.Linear(5, 2)

        def forward(self, x):
            return self.fc(self.lstm(self.conv(x.transpose(1, 2)).transpose(1, 2))[0][:, -1])

    class Stateful(Regressor):  # forward(x, state), as a language model's
        def forward(self, x, state):
            return self.out(self.lstm(x, state)[0])

    with pytest.raises(
        ValueError,
        match=r"cannot step Stateful exactly: its forward fails .*missing 1 required "
        r"positional argument: 'state'.*forward=lambda",
    ):
        lw.Stepper(Stateful())
    with pytest.raises(ValueError, match=r"cannot step Stateful exactly: its forward starts 'lstm' from its own state"):
        lw.Stepper(Stateful(), forward=lambda m, b: m(b, (torch.ones(1, 1, 24), torch.ones(1, 1, 24))))
    assert lw.Stepper(Stateful(), forward=lambda m, b: m(b, None)).step(np.zeros(3, np.float32)).h.shape == (1, 24)
    with pytest.raises(ValueError, match=r"cannot step Smoothed exactly: what 'lstm' receives at a step depends on"):
        lw.Stepper(Smoothed())
    with pytest.raises(ValueError, match=r"cannot step EncoderDecoder exactly: .*recurrent modules encoder, decoder"):
        lw.Stepper(EncoderDecoder(), lstm="encoder")


def test_stepper_steps_a_regressor_as_record_records_it():
    torch.manual_seed(9)
    model = Regressor()
    x = torch.randn(6, 3)
    st = lw.Stepper(model)
    frames = [st.step(x[t]) for t in range(6)]
    rec = lw.record(model, x)
    np.testing.assert_allclose(np.stack([f.h for f in frames], 1), rec.h, atol=ATOL)
    np.testing.assert_allclose(np.stack([f.outputs for f in frames]), rec.outputs, atol=ATOL)
    assert all(f.probs is None and f.task == "regression" for f in frames)


def test_stepper_steps_token_models_one_id_at_a_time():
    torch.manual_seed(14)
    for model, kw in [(WordLM().eval(), dict(forward=lm_forward)), (TokenClassifier(), {})]:
        ids = np.array([3, 1, 4, 1, 5, 9])
        st = lw.Stepper(model, **kw)
        frames = [st.step(i) for i in ids[:3]] + [st.step(np.int64(i)) for i in ids[3:5]] + [st.step(torch.tensor(9))]
        rec = lw.record(model, ids, **kw)
        np.testing.assert_allclose(np.stack([f.h for f in frames], 1), rec.h, atol=ATOL)
        np.testing.assert_allclose(np.stack([f.c for f in frames], 1), rec.c, atol=ATOL)
        np.testing.assert_allclose(np.stack([f.logits for f in frames]), rec.logits, atol=ATOL)
        assert [int(f.inputs) for f in frames] == ids.tolist()
        with pytest.raises(TypeError, match=r"the input at step 6 is a float32; the model expects one token id"):
            st.step(np.float32(2.0))
        with pytest.raises(ValueError, match=r"the input at step 6 is the id 99; the model's '\w+' takes ids 0\.\."):
            st.step(99)


def test_activations_take_a_forward():
    torch.manual_seed(10)
    lm = WordLM().eval()  # activations run in the model's own mode
    ids = torch.randint(0, lm.ntoken, (7, 2))
    acts = lw.activations(lm, ids, ["rnn", "decoder"], forward=lm_forward)
    seen, _ = _own(lm, [lm.rnn, lm.decoder], lambda: lm_forward(lm, ids))
    ((_, (out, _)),) = seen[lm.rnn]
    np.testing.assert_allclose(acts["rnn.layer1.h"], out.transpose(0, 1).numpy(), atol=ATOL)
    np.testing.assert_allclose(acts["decoder"], seen[lm.decoder][0][1].numpy(), atol=ATOL)


def test_gru_cells_in_a_loop_and_a_gru_inside_a_model():
    class Loop(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell, self.fc = nn.GRUCell(2, 6), nn.Linear(6, 3)

        def forward(self, x):  # (B, T, 2)
            h = x.new_zeros(x.shape[0], 6)
            for t in range(x.shape[1]):
                h = self.cell(x[:, t], h)
            return self.fc(h)

    torch.manual_seed(11)
    model = Loop()
    x = torch.randn(5, 2)
    rec = lw.record(model, x)
    seen, y = _own(model, [model.cell], lambda: model(x[None]))
    assert rec.cell == "gru" and rec.layer_names == ("layer0",)
    np.testing.assert_allclose(rec.h[0], torch.cat([o for _, o in seen[model.cell]]).numpy(), atol=ATOL)
    np.testing.assert_allclose(
        rec.h[0, 1:], (1 - rec.z[0, 1:]) * rec.n[0, 1:] + rec.z[0, 1:] * rec.h[0, :-1], atol=ATOL
    )
    np.testing.assert_allclose(rec.logits[-1], y[0].numpy(), atol=ATOL)

    gru = nn.Sequential()
    gru.add_module("gru", nn.GRU(2, 4, num_layers=2, bidirectional=True))
    batch = torch.randn(2, 6, 2)
    recs = lw.record(gru, batch, forward=lambda m, b: m(b)[0])  # passed time first: (6, 2, 2)
    _, (out, hn) = _own(gru, [], lambda: gru(batch.transpose(0, 1)))
    for b, rec in enumerate(recs):
        np.testing.assert_allclose(np.concatenate([rec.h[2], rec.h[3]], -1), out[:, b].numpy(), atol=ATOL)
        np.testing.assert_allclose(rec.h[[0, 2], -1], hn[[0, 2], b].numpy(), atol=ATOL)
        np.testing.assert_allclose(rec.h[[1, 3], 0], hn[[1, 3], b].numpy(), atol=ATOL)
    assert recs[0].layer_names == ("layer0", "layer0_reverse", "layer1", "layer1_reverse")
    assert recs[0].outputs is None and "no nn.Linear takes gru's 8 features" in recs[0].outputs_note


def test_a_model_returning_two_heads_outputs_verifies_the_named_head_on_its_own_output():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(3, 6, batch_first=True)
            self.speaker, self.emotion = nn.Linear(6, 5), nn.Linear(6, 2)

        def forward(self, x):
            y, _ = self.rnn(x)
            return self.speaker(y), self.emotion(y)

    torch.manual_seed(12)
    two = TwoHeads()
    x = torch.randn(7, 3)
    speaker, emotion = two(x[None])
    np.testing.assert_allclose(lw.record(two, x).logits, speaker[0].detach().numpy(), atol=ATOL)
    np.testing.assert_allclose(lw.record(two, x, head="emotion").logits, emotion[0].detach().numpy(), atol=ATOL)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_models_on_a_gpu_are_observed_as_on_the_cpu():
    torch.manual_seed(13)
    for model, x, kw in [
        (EncoderDecoder(), torch.randn(6, 3), {}),
        (TokenClassifier(), np.array([1, 4, 2, 9]), {}),
        (Packed(), [torch.randn(n, 4) for n in (5, 3)], dict(forward=lambda m, b, n: m(b, n))),
    ]:
        cpu = lw.record(model, x, **kw)
        gpu = lw.record(model.cuda(), x, **kw)
        for a, b in zip(cpu if isinstance(cpu, list) else [cpu], gpu if isinstance(gpu, list) else [gpu], strict=True):
            np.testing.assert_allclose(a.h, b.h, atol=1e-4)
            np.testing.assert_allclose(a.outputs, b.outputs, atol=1e-4)


def test_two_stacked_lstm_modules_share_the_timeline_with_their_names():
    class Stacked(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm1 = nn.LSTM(3, 6, num_layers=2, batch_first=True)
            self.lstm2 = nn.LSTM(6, 6, batch_first=True)
            self.fc = nn.Linear(6, 2)

        def forward(self, x):
            return self.fc(self.lstm2(torch.relu(self.lstm1(x)[0]))[0][:, -1])

    torch.manual_seed(15)
    model = Stacked()
    x = torch.randn(8, 3)
    rec = lw.record(model, x)
    seen, y = _own(model, [model.lstm1, model.lstm2], lambda: model(x[None]))
    assert rec.layer_names == ("lstm1.layer0", "lstm1.layer1", "lstm2.layer0") and len(rec) == 8
    assert {(s.start, s.stop) for s in rec.stages} == {(0, 8)}
    np.testing.assert_allclose(rec["lstm1.layer1.h"], seen[model.lstm1][0][1][0][0].numpy(), atol=ATOL)
    np.testing.assert_allclose(rec["lstm2.layer0.h"], seen[model.lstm2][0][1][0][0].numpy(), atol=ATOL)
    np.testing.assert_allclose(rec.module_inputs["lstm2"], torch.relu(seen[model.lstm1][0][1][0][0]).numpy(), atol=ATOL)
    np.testing.assert_allclose(rec.logits[-1], y[0].numpy(), atol=ATOL)
    assert lw.record(model, x, lstm=["lstm1", "lstm2"]).layer_names == rec.layer_names
    # a Stepper of the second module alone cannot know the model's input width: refused with that reason, not with
    # the model failing on a batch of the second module's width
    with pytest.raises(ValueError, match=r"shape \(1, 4, 6\).*6 features per step, the width its recurrent module"):
        lw.Stepper(model, lstm="lstm2")
