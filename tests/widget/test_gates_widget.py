"""Gates and weights: a GRU model through the Explorer (traits, meta and values equal to ``record``'s, streaming),
``gate_weights`` against each framework's own arrays (PyTorch parameters, Keras's ``get_weights``, ONNX initializers),
the ``_weights`` trait sent only when the page opens its "Gates & weights" section, and the page's saturation counts
(js/src/views/saturation.js, run by node) equal to ``gate_saturation``'s."""

import json
import os
import shutil
import subprocess
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported anywhere in this process

import numpy as np
import pytest
import torch
import traitlets
from torch import nn

import lstm_widget as lw
import lstm_widget._widget.explorer as explorer_module
from lstm_widget._wire import decode_array

from helpers import Classifier

REPO = Path(__file__).resolve().parents[2]
LSTM_Q = ("h", "c", "i", "f", "g", "o")
GRU_Q = ("h", "r", "z", "n")
# Keras's own numpy-2 deprecation noise, not ours
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


class GRUTagger(nn.Module):
    """A two-layer GRU with a per-step Linear head."""

    def __init__(self, bidirectional=False):
        super().__init__()
        self.rnn = nn.GRU(4, 6, num_layers=2, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(12 if bidirectional else 6, 3)

    def forward(self, x):
        return self.fc(self.rnn(x)[0])


def _per_sequence(ex, q):
    """``_data_<q>`` decoded and cut back into sequences: [(L, T_s, U)]."""
    a = decode_array(getattr(ex, f"_data_{q}"))
    off = ex._meta["offsets"]
    return [a[:, off[s] : off[s + 1]] for s in range(len(off) - 1)]


# --- GRU in the Explorer ---------------------------------------------------------------------------------------------


def test_gru_explorer_sends_r_z_n_equal_to_record(seqs):
    torch.manual_seed(0)
    model = GRUTagger(bidirectional=True).eval()
    ex = lw.Explorer(model, seqs)
    meta = ex._meta
    assert meta["quantities"] == list(GRU_Q) and meta["cell"] == "gru"
    assert meta["units"] == {q: 6 for q in GRU_Q}
    assert meta["layer_names"] == ["layer0", "layer0_reverse", "layer1", "layer1_reverse"]
    assert set(meta["limits"]) == set(GRU_Q)
    assert meta["has_weights"] and meta["framework"] == "pytorch"
    assert ex.loaded_quantities == list(GRU_Q)
    for q in ("c", "i", "f", "g", "o"):
        assert getattr(ex, f"_data_{q}") is None, f"an LSTM trait {q} holds data for a GRU"
    recs = lw.record(model, seqs)
    for q in GRU_Q:
        for got, rec in zip(_per_sequence(ex, q), recs, strict=True):
            np.testing.assert_array_equal(got, getattr(rec, q))
        lo = min(getattr(r, q).min() for r in recs)
        hi = max(getattr(r, q).max() for r in recs)
        assert meta["limits"][q] == [pytest.approx(lo), pytest.approx(hi)]
    for q in ("r", "z", "n", "h"):
        ex.quantity = q
    for bad in ("c", "i", "x"):
        with pytest.raises(traitlets.TraitError, match=r"quantity '.*' is not recorded; expected one of h, r, z, n"):
            ex.quantity = bad
    assert ex.quantity == "h"
    assert ex.frame.quantities == GRU_Q


def test_gru_explorer_preload_stream_and_from_recordings(seqs):
    torch.manual_seed(1)
    model = GRUTagger().eval()
    ex = lw.Explorer(model, seqs, preload="z")
    assert ex.loaded_quantities == ["h", "z"]
    ex.quantity = "n"  # the page's request: sends n
    assert ex.loaded_quantities == ["h", "z", "n"]
    with pytest.raises(ValueError, match=r"preload 'c' is not a quantity"):
        lw.Explorer(model, seqs, preload=["c"])
    sent = []
    ex.send = lambda content, buffers=None: sent.append((content, buffers))
    x = np.random.default_rng(5).normal(size=(6, 4)).astype(np.float32)
    rec = ex.stream(x)
    appended = {f["name"] for content, _ in sent if content["type"] == "append" for f in content["fields"]}
    assert appended == {"inputs", "probs", "traj", "h", "z", "n"}
    want = lw.record(model, x)
    for q in GRU_Q:
        np.testing.assert_allclose(getattr(rec, q), getattr(want, q), atol=1e-5)
    np.testing.assert_allclose(_per_sequence(ex, "z")[-1], want.z, atol=1e-5)
    assert ex._meta["lengths"][-1] == 6
    # from recordings: no model, so no weights; GRU quantities all the same
    ex2 = lw.Explorer.from_recordings(lw.record(model, seqs), gate_details=True)
    assert ex2._meta["quantities"] == list(GRU_Q) and not ex2._meta["has_weights"]
    assert ex2._weights == {} and ex2.weights is None
    with pytest.raises(ValueError, match="different models"):
        lw.Explorer.from_recordings(lw.record(model, seqs[:1]) + lw.record(Classifier().eval(), seqs[:1]))


def test_lstm_explorer_leaves_the_gru_traits_empty(seqs):
    torch.manual_seed(0)
    ex = lw.Explorer(Classifier().eval(), seqs)
    assert ex._meta["quantities"] == list(LSTM_Q) and ex._meta["cell"] == "lstm"
    assert ex._data_r is ex._data_z is ex._data_n is None
    with pytest.raises(traitlets.TraitError, match="expected one of h, c, i, f, g, o"):
        ex.quantity = "r"


# --- gate_weights against each framework's own arrays --------------------------------------------------------------


def test_gate_weights_of_a_pytorch_lstm_are_its_parameter_slices():
    torch.manual_seed(0)
    m = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    H = 5
    for layer, direction, sfx in [(0, 0, "_l0"), (1, 1, "_l1_reverse")]:
        gw = lw.gate_weights(m, layer, direction)
        assert gw.framework == "pytorch" and gw.gates == ("i", "f", "g", "o") and gw.ours == gw.gates
        assert gw.names == {"W": "weight_ih", "U": "weight_hh"}
        assert [name for name, _ in gw.biases] == ["bias_ih + bias_hh"]
        w_ih = getattr(m, "weight_ih" + sfx).detach().numpy()
        w_hh = getattr(m, "weight_hh" + sfx).detach().numpy()
        b = (getattr(m, "bias_ih" + sfx) + getattr(m, "bias_hh" + sfx)).detach().numpy()
        for k, g in enumerate("ifgo"):  # PyTorch's documented order: W_ii | W_if | W_ig | W_io
            np.testing.assert_array_equal(gw.W[g], w_ih[k * H : (k + 1) * H])
            np.testing.assert_array_equal(gw.U[g], w_hh[k * H : (k + 1) * H])
            np.testing.assert_allclose(gw.biases[0][1][g], b[k * H : (k + 1) * H], rtol=0, atol=1e-7)
            np.testing.assert_array_equal(gw.block("weight_ih", g), w_ih[k * H : (k + 1) * H])
        np.testing.assert_array_equal(gw.stacked("weight_hh"), w_hh)
        assert gw.layer_name == ("layer0" if layer == 0 else "layer1_reverse")
    assert lw.gate_weights(m, "layer1_reverse").direction == 1
    # the same numbers in Keras's layout and names
    gk = lw.gate_weights(m, 0, framework="keras")
    assert gk.gates == ("i", "f", "c", "o") and gk.ours == ("i", "f", "g", "o")
    np.testing.assert_array_equal(gk.block("kernel", "c"), m.weight_ih_l0.detach().numpy()[2 * H : 3 * H].T)
    assert gk.stacked("kernel").shape == (3, 4 * H)
    for bad, match in [
        (dict(layer=2), "layer must be"),
        (dict(layer="layer9"), "not a row"),
        (dict(direction=2), "direction must be"),
        (dict(framework="tf"), "unknown framework"),
    ]:
        with pytest.raises(ValueError, match=match):
            lw.gate_weights(m, **bad)


def test_gate_weights_of_a_gru_keep_its_two_biases():
    torch.manual_seed(0)
    m = nn.GRU(3, 4)
    gw = lw.gate_weights(m)
    assert gw.gates == ("r", "z", "n") and [n for n, _ in gw.biases] == ["bias_ih", "bias_hh"]
    np.testing.assert_array_equal(gw.biases[1][1]["n"], m.bias_hh_l0.detach().numpy()[8:12])
    assert "bias_ih" in repr(gw)
    no_bias = lw.gate_weights(nn.LSTM(3, 4, bias=False))
    assert no_bias.biases == [] and no_bias.b is None


def test_gate_weights_of_a_keras_lstm_are_its_kernel_slices():
    keras = pytest.importorskip("keras")
    units, D = 6, 4
    model = keras.Sequential([keras.Input((7, D)), keras.layers.LSTM(units), keras.layers.Dense(2)])
    rng = np.random.default_rng(0)
    model.layers[0].set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.layers[0].get_weights()])
    W, U, b = model.layers[0].get_weights()  # kernel (D, 4u), recurrent_kernel (u, 4u), bias (4u,)
    stack = lw.from_keras(model)
    assert stack.framework == "keras" and lw.describe(stack).framework == "keras"
    gw = lw.gate_weights(stack)
    assert gw.framework == "keras" and gw.gates == ("i", "f", "c", "o")
    assert gw.names == {"W": "kernel", "U": "recurrent_kernel"} and [n for n, _ in gw.biases] == ["bias"]
    for k, g in enumerate(("i", "f", "c", "o")):  # the seed's slicing: W[:, k*units:(k+1)*units]
        np.testing.assert_array_equal(gw.block("kernel", g), W[:, k * units : (k + 1) * units])
        np.testing.assert_array_equal(gw.block("recurrent_kernel", g), U[:, k * units : (k + 1) * units])
        np.testing.assert_array_equal(gw.block("bias", g), b[k * units : (k + 1) * units])
    np.testing.assert_array_equal(gw.stacked("kernel"), W)
    np.testing.assert_array_equal(gw.stacked("recurrent_kernel"), U)
    np.testing.assert_array_equal(gw.stacked("bias"), b)
    # a Keras GRU (reset_after=True) keeps its (2, 3u) bias as two rows
    gru = keras.Sequential([keras.Input((7, D)), keras.layers.GRU(units)])
    gru.layers[0].set_weights([rng.normal(size=w.shape).astype(np.float32) for w in gru.layers[0].get_weights()])
    Wg, Ug, bg = gru.layers[0].get_weights()
    gg = lw.gate_weights(lw.from_keras(gru))
    assert gg.gates == ("z", "r", "h") and gg.ours == ("z", "r", "n")
    assert [n for n, _ in gg.biases] == ["bias[0]", "bias[1]"]
    np.testing.assert_array_equal(gg.block("kernel", "h"), Wg[:, 2 * units :])
    np.testing.assert_array_equal(gg.stacked("bias[1]"), bg[1])


def test_gate_weights_of_an_onnx_lstm_are_its_initializer_slices():
    pytest.importorskip("onnxruntime")
    from onnx import numpy_helper

    from onnx_models import H, _node_model

    model = _node_model("LSTM", direction="bidirectional")
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    stack = lw.from_onnx(model)
    for d in (0, 1):
        gw = lw.gate_weights(stack, 0, d)
        assert gw.framework == "onnx" and gw.gates == ("i", "o", "f", "c") and gw.ours == ("i", "o", "f", "g")
        assert gw.names == {"W": "W", "U": "R"} and [n for n, _ in gw.biases] == ["Wb + Rb"]
        for k, g in enumerate(("i", "o", "f", "c")):
            np.testing.assert_array_equal(gw.block("W", g), init["W"][d, k * H : (k + 1) * H])
            np.testing.assert_array_equal(gw.block("R", g), init["R"][d, k * H : (k + 1) * H])
            wb, rb = init["B"][d, k * H : (k + 1) * H], init["B"][d, 4 * H + k * H : 4 * H + (k + 1) * H]
            np.testing.assert_allclose(gw.block("Wb + Rb", g), wb + rb, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(gw.stacked("W"), init["W"][d])


# --- the _weights trait: on demand, for the chosen layer ------------------------------------------------------------


def test_weights_are_sent_only_when_the_section_opens_and_follow_the_layer(seqs, monkeypatch):
    torch.manual_seed(0)
    model = Classifier(layers=2).eval()
    ex = lw.Explorer(model, seqs, preload="h")
    assert ex._weights == {} and not ex.gate_details, "the default page carries no weights"
    assert ex.loaded_quantities == ["h"]
    ex.gate_details = True  # what the page writes when the section is opened
    assert set(ex._weights["rows"]) == {"0"}
    assert ex.loaded_quantities == ["h", "i", "f", "g", "o"], "opening loads the gates"
    entry = ex._weights["rows"]["0"]
    gw = lw.gate_weights(model, 0)
    assert entry["gates"] == ["i", "f", "g", "o"] and entry["framework"] == "pytorch"
    assert entry["names"] == {"W": "weight_ih", "U": "weight_hh"} and entry["biases"] == ["bias_ih + bias_hh"]
    assert isinstance(entry["W"].encode()["buffer"], memoryview)
    np.testing.assert_array_equal(decode_array(entry["W"]), np.stack([gw.W[g] for g in "ifgo"]))
    np.testing.assert_array_equal(decode_array(entry["U"]), np.stack([gw.U[g] for g in "ifgo"]))
    np.testing.assert_array_equal(decode_array(entry["b"]), np.stack([[gw.b[g] for g in "ifgo"]]))
    ex.layer = 1
    assert set(ex._weights["rows"]) == {"1"}, "one layer at a time"
    np.testing.assert_array_equal(decode_array(ex._weights["rows"]["1"]["W"])[2], lw.gate_weights(model, 1).W["g"])
    ex.gate_details = False
    ex.layer = 0
    assert set(ex._weights["rows"]) == {"1"}, "nothing is sent while the section is closed"
    assert ex.weights.layer == 0
    # opened from Python at construction
    ex2 = lw.Explorer(model, seqs, gate_details=True, layer=1)
    assert set(ex2._weights["rows"]) == {"1"}
    # the HTML export holds every layer's weights (no kernel to ask)
    captured = {}
    monkeypatch.setattr(explorer_module, "write_html", lambda path, state, **kw: captured.update(state) or 0)
    ex.save_html("unused.html", quiet=True)
    assert set(captured["_weights"]["rows"]) == {"0", "1"} and captured["gate_details"] is False


def test_keras_model_explorer_names_its_weights_as_keras_does(seqs):
    keras = pytest.importorskip("keras")
    model = keras.Sequential(
        [
            keras.Input((None, 4)),
            keras.layers.LSTM(5, return_sequences=True),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    ex = lw.Explorer(lw.from_keras(model), seqs, gate_details=True)
    assert ex._meta["framework"] == "keras"
    entry = ex._weights["rows"]["0"]
    assert entry["gates"] == ["i", "f", "c", "o"] and entry["ours"] == ["i", "f", "g", "o"]
    assert entry["names"] == {"W": "kernel", "U": "recurrent_kernel"} and entry["biases"] == ["bias"]
    kernel = model.layers[0].get_weights()[0]
    np.testing.assert_array_equal(decode_array(entry["W"])[2].T, kernel[:, 10:15])  # the c block, units as rows


# --- the page's saturation counts equal gate_saturation's ----------------------------------------------------------

NODE_SCRIPT = """
import { readFileSync } from "node:fs";
import { saturationFractions } from "%s";
const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const out = {};
for (const [q, file] of Object.entries(spec.files)) {
  const b = readFileSync(file);
  const data = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  const [L, rows, U] = spec.shape;
  out[q] = [];
  for (let l = 0; l < L; l++) {
    const layer = data.subarray(l * rows * U, (l + 1) * rows * U);
    const all = saturationFractions(layer, rows, U);
    const perSeq = spec.offsets.slice(0, -1).map((o, s) => {
      const r = saturationFractions(layer.subarray(o * U, spec.offsets[s + 1] * U), spec.offsets[s + 1] - o, U);
      return [Array.from(r.left), Array.from(r.right)];
    });
    out[q].push({ all: [Array.from(all.left), Array.from(all.right)], perSeq });
  }
}
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node (the front end's own code counts)")
def test_page_saturation_equals_gate_saturation(tmp_path):
    """The page counts saturation from the bytes it receives (float32 wire): run its own function on exactly those
    bytes and compare with gate_saturation, over all sequences and per sequence, for an LSTM and a GRU."""
    rng = np.random.default_rng(0)
    seqs = [rng.normal(scale=2.0, size=(n, 4)).astype(np.float32) for n in (40, 25, 60)]
    for make in (lambda: Classifier(layers=2), GRUTagger):
        torch.manual_seed(0)  # the weights, whatever ran before
        model = make()
        with torch.no_grad():  # big weights: gates that saturate often, some exactly at the float32 thresholds
            for p in model.parameters():
                p.mul_(6.0)
        model.eval()
        ex = lw.Explorer(model, seqs)
        recs = ex.recordings
        sat = lw.gate_saturation(recs)
        files = {}
        for q in sat.gates:
            entry = getattr(ex, f"_data_{q}").encode()
            path = tmp_path / f"{q}.f32"
            path.write_bytes(bytes(entry["buffer"]))
            files[q] = str(path)
            shape = entry["shape"]
        spec = tmp_path / "spec.json"
        spec.write_text(json.dumps({"files": files, "shape": shape, "offsets": ex._meta["offsets"]}))
        script = tmp_path / "run.mjs"
        script.write_text(NODE_SCRIPT % (REPO / "js" / "src" / "views" / "saturation.js").as_uri())
        out = json.loads(
            subprocess.run(["node", str(script), str(spec)], capture_output=True, text=True, check=True).stdout
        )
        assert set(out) == set(sat.gates)
        some_saturated = 0
        for q in sat.gates:
            for layer in range(len(recs[0].layer_names)):
                left, right = out[q][layer]["all"]
                assert left == sat.left[q][layer].tolist(), f"{q} left, layer {layer}"
                assert right == sat.right[q][layer].tolist(), f"{q} right, layer {layer}"
                some_saturated += int(np.sum(sat.left[q][layer] > 0) + np.sum(sat.right[q][layer] > 0))
                for s, rec in enumerate(recs):
                    one = lw.gate_saturation(rec, layer=layer)
                    assert out[q][layer]["perSeq"][s] == [one.left[q][0].tolist(), one.right[q][0].tolist()]
        assert some_saturated > 0, "the case tests nothing: no gate ever saturates"
