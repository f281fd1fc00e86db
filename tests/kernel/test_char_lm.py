"""A character-level LSTM language model trained for a few seconds on the bundled text (Pride and Prejudice): it
learns (its loss on held-out text falls well below the unigram entropy), and record() shows exactly what its own LSTM
computed on that text and what the model returned at every step."""

import numpy as np
import pytest
import torch

import lstm_widget as lw
from lstm_widget.datasets import char_vocab, pride_and_prejudice

from zoo import CharLM, train_char_lm

ATOL = 1e-5


@pytest.fixture(scope="module")
def trained():
    """(model, vocab, held-out ids, training losses): 150 steps of truncated BPTT on the first 90 % of the text, on
    one thread (the model is small; a shared thread pool only stalls on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        vocab, ids = char_vocab(pride_and_prejudice())
        cut = int(0.9 * len(ids))
        torch.manual_seed(0)
        model = CharLM(len(vocab), hidden=64)
        losses = train_char_lm(model, ids[:cut], steps=150)
        yield model, vocab, ids[:cut], ids[cut:], losses
    finally:
        torch.set_num_threads(threads)


def test_the_char_lm_learns_well_below_the_unigram_entropy(trained):
    model, vocab, train_ids, held_out, losses = trained
    p = np.bincount(train_ids, minlength=len(vocab)) / len(train_ids)
    unigram = float(-(p[p > 0] * np.log(p[p > 0])).sum())  # nats per character of the best context-free guess
    assert 3.0 < unigram < 3.2 and losses[0] > unigram  # it starts no better than guessing by frequency
    with torch.no_grad():
        logits, _ = model(torch.from_numpy(held_out)[None, :-1])
        held_out_loss = torch.nn.functional.cross_entropy(logits[0], torch.from_numpy(held_out[1:])).item()
    assert held_out_loss < unigram - 0.7, (held_out_loss, unigram)
    assert model.training is False


def test_record_of_the_char_lm_is_what_its_own_lstm_computed_and_what_it_returned(trained):
    model, vocab, _, held_out, _ = trained
    ids = held_out[:600]
    rec = lw.record(model, ids)  # forward returns (logits, state): the first element is the output
    seen = []
    handle = model.lstm.register_forward_hook(lambda mod, args, out: seen.append((args, out)))
    try:
        with torch.no_grad():
            logits, _ = model(torch.from_numpy(ids)[None])
    finally:
        handle.remove()
    (((emb, state0), (out, (hn, cn))),) = seen
    assert state0 is None and rec.layer_names == ("layer0",) and len(rec) == 600 and rec.h.shape == (1, 600, 64)
    np.testing.assert_allclose(rec.h[0], out[0].numpy(), atol=ATOL)
    np.testing.assert_allclose(rec.h[0, -1], hn[0, 0].numpy(), atol=ATOL)
    np.testing.assert_allclose(rec.c[0, -1], cn[0, 0].numpy(), atol=ATOL)
    np.testing.assert_allclose(rec.module_inputs["lstm"], emb[0].numpy(), atol=ATOL)
    # the gates recomputed from what the LSTM received reproduce its cell and hidden state at every step
    c_prev = np.vstack([np.zeros((1, 64), np.float32), rec.c[0, :-1]])
    np.testing.assert_allclose(rec.c[0], rec.f[0] * c_prev + rec.i[0] * rec.g[0], atol=ATOL)
    np.testing.assert_allclose(rec.h[0], rec.o[0] * np.tanh(rec.c[0]), atol=ATOL)
    # per-step outputs: the model's own logits over the 67 characters; probabilities their softmax
    assert rec.task == "classification" and rec.outputs.shape == (600, len(vocab))
    np.testing.assert_allclose(rec.outputs, logits[0].numpy(), atol=ATOL)
    np.testing.assert_allclose(rec.probs, torch.softmax(logits[0], -1).numpy(), atol=ATOL)
    np.testing.assert_array_equal(rec.inputs, ids)
    # a trained model predicts the next character of held-out text far above chance (1 in 67)
    assert (rec.probs[:-1].argmax(1) == ids[1:]).mean() > 0.3
