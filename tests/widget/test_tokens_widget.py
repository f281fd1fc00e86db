"""Token models in the Explorer: the vocabulary that labels every step (``tokens=``), the top-k next tokens sent
instead of every probability for a large vocabulary (and appended while streaming), and the influence of each earlier
token through the embedding vectors the recurrent module received — each checked against the model itself."""

import numpy as np
import pytest
import torch

import lstm_widget as lw
from lstm_widget._widget.tokens import TOPK_ABOVE, VOCAB_MAX, top_k_arrays
from lstm_widget._wire import decode_array

from zoo import TokenClassifier, WordLM, lm_forward

ATOL = 1e-5
VOCAB = 30  # > TOPK_ABOVE: the top-k view


class Outbox:
    """Collects the custom messages an explorer sends (stream's begin / append)."""

    def __init__(self, ex):
        self.messages = []
        ex.send = lambda content, buffers=None: self.messages.append((content, buffers))

    def appended(self, name):
        """Every appended (start, values) of field ``name``."""
        out = []
        for content, buffers in self.messages:
            if content["type"] != "append":
                continue
            for k, field in enumerate(content["fields"]):
                if field["name"] == name:
                    out.append((content["start"], decode_array({**field, "buffer": buffers[k]})))
        return out


def model_probs(model, ids):
    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(np.asarray(ids))[None])[0], -1)


@pytest.fixture(scope="module")
def lm():
    torch.manual_seed(0)
    return TokenClassifier(vocab=VOCAB).eval()


@pytest.fixture(scope="module")
def seqs():
    rng = np.random.default_rng(1)
    return [rng.integers(0, VOCAB, n) for n in (9, 5)]


def test_tokens_as_a_list_or_a_callable_become_the_vocabulary_the_page_gets(lm, seqs):
    words = [f"w{k}" for k in range(VOCAB)]
    assert lw.Explorer(lm, seqs, tokens=words)._meta["vocab"] == words
    assert lw.Explorer(lm, seqs, tokens=words + ["extra"])._meta["vocab"] == words  # ids past the embedding dropped
    chars = lw.Explorer(lm, seqs, tokens=lambda k: " \n"[k] if k < 2 else chr(95 + k))._meta["vocab"]
    assert chars[:3] == [" ", "\n", "a"] and len(chars) == VOCAB  # raw strings; the page draws ␣ and ⏎
    assert lw.Explorer(lm, seqs)._meta["vocab"] is None  # the page shows "#17"


@pytest.mark.parametrize(
    ("tokens", "error", "match"),
    [
        (["a"] * (VOCAB - 1), ValueError, "tokens has 29 entries; the model takes ids 0..29"),
        ("abc", TypeError, "tokens must be a list of strings"),
        ([*"abcdefghij", 3, *"x" * 19], TypeError, r"tokens\[10\] is a int"),
        (["a"] * 5 + ["\ud800"] + ["b"] * 24, ValueError, r"tokens\[5\] .* lone surrogate"),
        (lambda k: k, TypeError, r"tokens\(0\) is a int"),
        (lambda k: str(1 / (k - 3)), ValueError, r"tokens\(3\) failed \(ZeroDivisionError"),
    ],
)
def test_a_bad_vocabulary_is_refused_with_one_clear_error(lm, seqs, tokens, error, match):
    with pytest.raises(error, match=match):
        lw.Explorer(lm, seqs, tokens=tokens)


def test_a_vocabulary_past_the_page_s_limit_and_tokens_for_a_float_model_are_refused(seqs):
    huge = TokenClassifier(vocab=VOCAB_MAX + 1).eval()
    with pytest.raises(ValueError, match="would label 200001 ids; the page takes at most 200000"):
        lw.Explorer(huge, [np.array([1, 2, 3])], tokens=str)
    with pytest.raises(ValueError, match="tokens= labels the token ids of a model that takes ids"):
        lw.Explorer(torch.nn.LSTM(3, 4), [np.zeros((4, 3), np.float32)], tokens=["a", "b"])
    with pytest.raises(ValueError, match="top_k must be a whole number >= 1"):
        lw.Explorer(TokenClassifier(vocab=VOCAB).eval(), seqs, top_k=0)


def test_a_large_vocabulary_sends_the_top_k_of_the_model_s_probabilities_and_the_actual_next_token_s_rank(lm, seqs):
    ex = lw.Explorer(lm, seqs, tokens=[chr(97 + k) for k in range(VOCAB)], top_k=7)
    meta, arrays = ex._meta, ex._arrays
    assert VOCAB > TOPK_ABOVE and meta["top_k"] == 7 and meta["next_token"] and meta["n_classes"] == VOCAB
    assert "probs" not in arrays  # not the (sumT, V) probabilities
    ids, probs = decode_array(arrays["topk_ids"]), decode_array(arrays["topk_probs"])
    rank, p_next = decode_array(arrays["next_rank"]), decode_array(arrays["next_prob"])
    assert ids.dtype == np.int32 and rank.dtype == np.int32 and ids.shape == (14, 7)
    row = 0
    for s in seqs:
        P = model_probs(lm, s)
        top = torch.topk(P, 7, dim=1)
        np.testing.assert_array_equal(ids[row : row + len(s)], top.indices.numpy())
        np.testing.assert_allclose(probs[row : row + len(s)], top.values.numpy(), atol=ATOL)
        for t in range(len(s) - 1):
            order = torch.argsort(P[t], descending=True).numpy()
            assert rank[row + t] == list(order).index(s[t + 1]) + 1  # 1 = the most probable
            assert p_next[row + t] == pytest.approx(float(P[t, s[t + 1]]), abs=ATOL)
        assert rank[row + len(s) - 1] == -1 and p_next[row + len(s) - 1] == 0  # no next token in the sequence
        row += len(s)


def test_recordings_of_a_token_model_are_labelled_and_ranked_without_the_model(lm, seqs):
    recs = lw.record(lm, seqs)
    ex = lw.Explorer.from_recordings(recs, tokens=[f"w{k}" for k in range(VOCAB)])
    assert ex._meta["vocab"][-1] == f"w{VOCAB - 1}" and ex._meta["next_token"] and ex._meta["top_k"] == 10
    P = model_probs(lm, seqs[0])
    rank = decode_array(ex._arrays["next_rank"])
    assert rank[0] == list(torch.argsort(P[0], descending=True).numpy()).index(seqs[0][1]) + 1
    with pytest.raises(ValueError, match="tokens has 3 entries; the model takes ids 0..29"):
        lw.Explorer.from_recordings(recs, tokens=["a", "b", "c"])


def test_the_top_k_travels_in_every_wire_dtype(lm, seqs):
    for dtype in ("float16", "uint8"):
        ex = lw.Explorer(lm, seqs, wire_dtype=dtype)
        P = model_probs(lm, seqs[0])
        p_next = decode_array(ex._arrays["next_prob"])
        np.testing.assert_allclose(p_next[:8], P[np.arange(8), seqs[0][1:]].numpy(), atol=2e-3)
        assert decode_array(ex._arrays["topk_ids"]).dtype == np.int32


def test_steps_where_the_head_did_not_run_have_no_top_k_and_no_rank():
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(25), size=6).astype(np.float32)
    probs[:3] = np.nan  # an encoder's stage: the head ran on steps 3.. only
    ids = np.array([1, 2, 3, 4, 5, 6])
    got = top_k_arrays(probs, ids, 4, next_token=True)
    np.testing.assert_array_equal(got["topk_ids"][:3], -1)
    assert np.isnan(got["topk_probs"][:3]).all()
    np.testing.assert_array_equal(got["next_rank"][:3], -1)
    np.testing.assert_array_equal(got["next_prob"][:3], 0)
    # where it ran: torch.topk's order and the next id's rank, as before
    order = np.argsort(-probs[3:], axis=1, kind="stable")[:, :4]
    np.testing.assert_array_equal(got["topk_ids"][3:], order)
    np.testing.assert_allclose(got["topk_probs"][3:], np.take_along_axis(probs[3:], order, 1))
    for t in (3, 4):
        want = 1 + int((probs[t] > probs[t, ids[t + 1]]).sum())
        assert got["next_rank"][t] == want and got["next_prob"][t] == probs[t, ids[t + 1]]
    assert got["next_rank"][5] == -1  # the last step: no next id


def test_a_small_vocabulary_keeps_every_probability():
    torch.manual_seed(2)
    model = TokenClassifier(vocab=TOPK_ABOVE).eval()
    ex = lw.Explorer(model, [np.arange(6) % TOPK_ABOVE])
    assert ex._meta["top_k"] == 0 and "probs" in ex._arrays and "topk_ids" not in ex._arrays


def test_a_small_next_token_model_labels_its_classes_as_tokens():
    torch.manual_seed(2)
    model = TokenClassifier(vocab=6).eval()
    vocab = ["a", " ", "\n", "", "\x01", "zz"]
    ex = lw.Explorer(model, [np.arange(6)], tokens=vocab)
    assert ex._meta["next_token"] and ex._meta["top_k"] == 0
    assert ex._meta["class_names"] == ["a", "␣", "⏎", "∅", "␁", "zz"]  # as the page's tokenLabel shows them
    assert lw.Explorer(model, [np.arange(6)])._meta["class_names"] == [f"#{i}" for i in range(6)]  # no vocabulary
    named = lw.Explorer(model, [np.arange(6)], tokens=vocab, class_names=list("uvwxyz"))
    assert named._meta["class_names"] == list("uvwxyz")  # given names win


def test_streaming_appends_ids_and_the_top_k_with_each_step_s_rank_once_the_next_id_is_known(lm, seqs):
    ex = lw.Explorer(lm, seqs[:1])
    box = Outbox(ex)
    ids = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8])
    ex.stream(ids, batch_ms=0)  # one step per message: every rank but the first chunk's is sent again once known
    P = model_probs(lm, ids)
    top = torch.topk(P, 10, dim=1)
    got_ids = np.full(len(ids), -2)
    for start, values in box.appended("token_ids"):
        got_ids[start : start + len(values)] = values
    np.testing.assert_array_equal(got_ids, ids)
    topk = np.zeros((len(ids), 10), np.int64)
    for start, values in box.appended("topk_ids"):
        topk[start : start + len(values)] = values
    np.testing.assert_array_equal(topk, top.indices.numpy())
    ranks = np.zeros(len(ids), np.int64)
    for start, values in box.appended("next_rank"):  # later messages overwrite the step before them
        ranks[start : start + len(values)] = values
    expected = [list(torch.argsort(P[t], descending=True).numpy()).index(ids[t + 1]) + 1 for t in range(len(ids) - 1)]
    np.testing.assert_array_equal(ranks, [*expected, -1])
    # afterwards the traits hold the streamed sequence too
    np.testing.assert_array_equal(decode_array(ex._arrays["next_rank"])[-len(ids) :], [*expected, -1])
    assert all("probs" != f["name"] for m, _ in box.messages if m["type"] == "append" for f in m["fields"])


def test_token_influence_is_each_earlier_token_s_embedding_attribution_as_autograd_through_the_model_gives(lm, seqs):
    ids = seqs[0]
    ex = lw.Explorer(lm, [ids], why_open=True)
    im = ex.influence_map
    assert ex._influence["tokens"] and im.values.shape == (len(ids), len(ids), 5)
    emb = lm.emb(torch.from_numpy(ids)[None]).detach()
    for t in (2, len(ids) - 1):
        x = emb.clone().requires_grad_(True)
        logits = lm.fc(lm.lstm(x)[0])[0, t]  # the model's own modules from the embedding output on
        target = int(logits.argmax())  # the predicted next token
        (g,) = torch.autograd.grad(logits[target], x)
        per_token = (g * x)[0].sum(-1).detach().numpy()
        assert im.targets[t] == target
        np.testing.assert_allclose(im.per_step[t], per_token, atol=ATOL)
        assert np.all(im.per_step[t, t + 1 :] == 0)  # later tokens cannot have influenced it
    # integrated gradients from the zero embedding: a Riemann sum of the same autograd gradient, and complete
    ig = lw.influence(lm, ids, t=4, method="integrated_gradients", quadrature="gauss_legendre", steps=64)
    nodes, weights = np.polynomial.legendre.leggauss(64)
    total = torch.zeros_like(emb)
    for a, w in zip((nodes + 1) / 2, weights / 2, strict=True):
        x = (a * emb).requires_grad_(True)
        (g,) = torch.autograd.grad(lm.fc(lm.lstm(x)[0])[0, 4, ig.target], x)
        total += w * g
    np.testing.assert_allclose(ig.per_step, (total * emb)[0].sum(-1).numpy(), atol=ATOL)
    assert ig.completeness_error < 1e-3


def test_a_word_language_model_called_with_its_hidden_state_gets_token_influence_too():
    torch.manual_seed(3)
    model = WordLM(ntoken=25).eval()
    ids = np.array([1, 5, 2, 9, 16, 0, 3])
    inf = lw.influence(model, ids, t=3, method="gradient_x_input", forward=lm_forward)
    x = model.encoder(torch.from_numpy(ids)[:, None]).detach().requires_grad_(True)
    out, _ = model.rnn(x, model.init_hidden(1))
    logits = model.decoder(out)[3, 0]
    (g,) = torch.autograd.grad(logits[inf.target], x)
    np.testing.assert_allclose(inf.per_step, (g * x)[:, 0].sum(-1).detach().numpy(), atol=ATOL)


def test_the_export_of_a_token_explorer_holds_the_vocabulary_ids_and_top_k(lm, seqs, tmp_path):
    import json
    import re

    ex = lw.Explorer(lm, seqs, tokens=[chr(97 + k) for k in range(VOCAB)], sequence=1)
    ex.save_html(tmp_path / "tokens.html", quiet=True)
    text = (tmp_path / "tokens.html").read_text()
    state = json.loads(re.search(r'vnd\.lstm-widget\+json">(.*?)</script>', text, re.S).group(1))
    assert state["_meta"]["vocab"][:3] == ["a", "b", "c"] and state["_meta"]["top_k"] == 10
    assert {"token_ids", "topk_ids", "topk_probs", "next_rank", "next_prob"} <= set(state["_arrays"])
