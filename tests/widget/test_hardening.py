"""Hardening: every public entry point given bad input raises exactly one error whose message names the
argument, what it got and what was expected; a failed call leaves an explorer as it was, and usable; no file that the
user did not write is ever unpickled.

Dtypes, one rule everywhere a sequence goes in (record, Stepper.step, Explorer, Explorer.stream, influence,
RecordedDataset.append): float16/float32/float64 arrays and tensors are accepted and cast to float32; int, bool,
complex and object arrays are refused with a TypeError that says how to convert. ``activations`` runs any torch model
and so passes ints on (an embedding layer takes token ids); it refuses what cannot be a tensor.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported anywhere in this process

import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import traitlets as tl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import lstm_widget as lw

D, H = 12, 8
ERRORS = (TypeError, ValueError)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.lstm = nn.LSTM(D, H, batch_first=True)
        self.head = nn.Linear(H, 3)

    def forward(self, x):
        return self.head(self.lstm(x)[0])


@pytest.fixture(scope="module")
def net():
    return Net().eval()


def _x(T=5, seed=0):
    return np.random.default_rng(seed).normal(size=(T, D)).astype(np.float32)


@pytest.fixture()
def ex(net):
    return lw.Explorer(net, [_x(5), _x(3, 1)], labels=[0, 2], class_names=["a", "b", "c"])


# ---- sequences: one strategy, every entry point ----------------------------------------------------------------
DTYPES = ["float16", "float32", "float64", "int32", "int64", "bool", "complex64", "object"]


@st.composite
def arrays(draw):
    """Arrays of 0..3 dimensions, any of DTYPES, sometimes empty, sometimes with the wrong feature count, sometimes
    holding NaN or Inf; as numpy, as a torch tensor (where torch has the dtype) or as nested lists."""
    ndim = draw(st.integers(0, 3))
    shape = tuple(
        draw(st.sampled_from([0, 1, 3, D - 1, D, D + 1])) if k == ndim - 1 else draw(st.integers(0, 4))
        for k in range(ndim)
    )
    dtype = draw(st.sampled_from(DTYPES))
    x = np.random.default_rng(draw(st.integers(0, 2**16))).normal(size=shape)
    if dtype.startswith("float") and x.size and draw(st.booleans()):
        x.flat[draw(st.integers(0, x.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    x = x.astype(dtype)
    kind = draw(st.sampled_from(["numpy", "torch", "list"]))
    if kind == "torch" and dtype not in ("object",):
        return torch.from_numpy(np.ascontiguousarray(x))
    if kind == "list":
        return x.tolist()
    return x


def _numpy(x):
    """x as a numpy array when it is a torch tensor; anything else as it is."""
    return x.numpy() if isinstance(x, torch.Tensor) else x


def _valid(x) -> bool:
    a = _numpy(x)
    return (
        isinstance(a, np.ndarray)
        and a.dtype.kind == "f"
        and a.ndim == 2
        and a.shape[0] > 0
        and a.shape[1] == D
        and bool(np.isfinite(a).all())
    )


def _refuses(call, what: str) -> None:
    """``call()`` raises one of ERRORS, with one message that names the argument (``what``) and says what was
    expected."""
    with pytest.raises(ERRORS) as info:
        call()
    msg = str(info.value)
    assert what in msg, msg
    assert "expected" in msg or "expects" in msg, msg


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(x=arrays())
def test_record_accepts_only_float_sequences(net, x):
    if _valid(x):
        rec = lw.record(net, x)
        assert rec.h.dtype == np.float32 and len(rec) == x.shape[0]
        return
    a = _numpy(x)
    if isinstance(a, np.ndarray) and a.ndim == 3 and a.shape[0] and _valid(a[0]) and np.isfinite(a).all():
        recs = lw.record(net, x)  # a (B, T, D) batch: one recording per sequence
        assert len(recs) == a.shape[0] and all(len(r) == a.shape[1] for r in recs)
        return
    _refuses(lambda: lw.record(net, x), "sequence")


@SETTINGS
@given(x=arrays())
def test_influence_accepts_only_float_sequences(net, x):
    if _valid(x):
        return  # exercised by test_influence.py; the attribution itself is slow
    _refuses(lambda: lw.influence(net, x), "x ")


@SETTINGS
@given(x=arrays())
def test_stepper_step_refuses_and_keeps_its_state(net, x):
    stepper = lw.Stepper(net)
    stepper.step(_x(1)[0])
    before = {k: v.copy() for k, v in stepper.state.items()}
    a = _numpy(x)
    ok = (
        isinstance(a, np.ndarray)
        and a.dtype.kind == "f"
        and a.size == D
        and a.ndim in (1, 2)
        and (a.ndim == 1 or a.shape[0] == 1)
        and bool(np.isfinite(a).all())
    )
    if ok:
        stepper.step(x)
        assert stepper.t == 2
        return
    _refuses(lambda: stepper.step(x), "the input at step 1")
    assert stepper.t == 1 and all(np.array_equal(before[k], v) for k, v in stepper.state.items())
    assert stepper.step(_x(1)[0]).inputs.shape == (D,)  # still usable


@SETTINGS
@given(x=arrays())
def test_stream_refuses_and_the_explorer_keeps_its_data(net, x):
    ex = _explorer(net)
    sent = []
    ex.send = lambda *a, **k: sent.append(a)
    before = _state(ex)
    if _valid(x):
        return
    _refuses(lambda: ex.stream(x), "the streamed sequence")
    assert _state(ex) == before and not sent and len(ex.recordings) == 2


_EX_CACHE: dict = {}


def _explorer(net):
    """One explorer shared by hypothesis examples (each leaves it unchanged, which the tests check)."""
    if "ex" not in _EX_CACHE:
        _EX_CACHE["ex"] = lw.Explorer(net, [_x(5), _x(3, 1)], labels=[0, 2], class_names=["a", "b", "c"])
    return _EX_CACHE["ex"]


def _state(ex) -> dict:
    names = [
        "t",
        "sequence",
        "layer",
        "quantity",
        "selected_units",
        "playing",
        "speed",
        "projection_layer",
        "projection_quantity",
        "traj_view",
        "_meta",
        "_arrays",
        "_data_h",
    ]
    return {n: repr(getattr(ex, n)) for n in names}


# ---- the Explorer's arguments and traits --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, exc, message",
    [
        (dict(labels=[0]), ValueError, r"labels has 1 entries; expected one per sequence \(2\)"),
        (dict(labels=[0, 1, 2]), ValueError, r"labels has 3 entries; expected one per sequence \(2\)"),
        (dict(labels=["a", 1]), ValueError, r"labels has 'a' \(str\); expected class indices"),
        (dict(labels=[float("nan"), 1]), ValueError, r"labels has nan \(float\); expected class indices"),
        (dict(labels=[True, 1]), ValueError, r"labels has True \(bool\); expected class indices"),
        (dict(labels=[0, 7]), ValueError, r"label 7 is out of range; expected 0..2"),
        (dict(class_names=["a"]), ValueError, r"class_names has 1 entries; expected 3"),
        (dict(feature_names=["f"] * 11), ValueError, r"feature_names has 11 entries; expected 12"),
        (dict(sequence_names=["s"]), ValueError, r"sequence_names has 1 entries; expected 2"),
        (dict(groups=["g"]), ValueError, r"groups has 1 entries; expected one per sequence \(2\)"),
        (dict(projection="tsne"), ValueError, r"projection 'tsne' is not known; expected"),
        (dict(projection=object()), TypeError, r"projection must be .*got an object of type object"),
        (dict(projection_layer=3), ValueError, r"projection_layer 3 is out of range; expected 0..0"),
        (dict(projection_quantity="q"), ValueError, r"projection_quantity 'q' is not recorded; expected one of"),
        (dict(wire_dtype="int8"), ValueError, r"wire dtype 'int8' is not supported; expected one of"),
        (dict(preload="q"), ValueError, r"preload 'q' is not a quantity; expected"),
        (dict(t=9), tl.TraitError, r"t=9 is out of range for sequence 0, which has 5 steps \(0..4\)"),
        (dict(quantity="q"), tl.TraitError, r"quantity 'q' is not recorded; expected one of h, c, i, f, g, o"),
        (dict(selected_units=[H]), tl.TraitError, rf"unit {H} is out of range; expected 0..{H - 1}"),
    ],
    ids=lambda v: None,
)
def test_bad_explorer_arguments_name_the_argument(net, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        lw.Explorer(net, [_x(5), _x(3, 1)], **kwargs)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("t", 5, r"t=5 is out of range for sequence 0, which has 5 steps \(0..4\)"),
        ("t", -1, r"t=-1 is out of range"),
        ("t", True, r"t=True is out of range"),
        ("t", 1.5, r"'t' trait of an Explorer instance expected an int, not the float 1.5"),
        ("sequence", 2, r"sequence 2 is out of range; expected 0..1"),
        ("sequence", -1, r"sequence -1 is out of range; expected 0..1"),
        ("quantity", "x", r"quantity 'x' is not recorded; expected one of h, c, i, f, g, o"),
        ("quantity", "r", r"quantity 'r' is not recorded"),
        ("selected_units", [0, H], rf"unit {H} is out of range; expected 0..{H - 1}"),
        ("selected_units", [-1], rf"unit -1 is out of range; expected 0..{H - 1}"),
        ("selected_units", ["a"], r"'selected_units' trait .* expected an int"),
        ("layer", 1, r"layer 1 is out of range; expected 0..0 \(layer0\)"),
        ("speed", 0.0, r"speed 0.0 must be a positive number"),
        ("speed", float("nan"), r"speed nan must be a positive number"),
        ("projection_layer", 2, r"projection_layer 2 is out of range; expected 0..0"),
        ("projection_quantity", "x", r"projection_quantity 'x' is not recorded; expected one of"),
        ("traj_view", {"dims": 4}, r"traj_view\['dims'\] must be 2 or 3; got 4"),
    ],
)
def test_bad_trait_values_change_nothing(ex, name, value, message):
    ex.t, ex.selected_units = 3, [1, 2]
    before = _state(ex)
    with pytest.raises(tl.TraitError, match=message):
        setattr(ex, name, value)
    assert _state(ex) == before
    assert ex.step(1) == 4 and ex.frame.inputs.shape == (D,)  # still usable
    ex.sequence = 1
    assert ex.t == 2  # clamped to the shorter sequence


@SETTINGS
@given(
    name=st.sampled_from(["t", "sequence", "layer", "projection_layer", "selected_units"]),
    value=st.one_of(st.integers(-3, 12), st.lists(st.integers(-2, H + 2), max_size=4)),
)
def test_cursor_traits_take_in_range_values_and_refuse_the_rest_unchanged(net, name, value):
    ex = _explorer(net)
    ex.sequence, ex.t, ex.selected_units = 0, 0, []
    if name == "selected_units":
        value = value if isinstance(value, list) else [value]
        ok = all(0 <= u < H for u in value)
    else:
        if isinstance(value, list):
            return
        n = {"t": 5, "sequence": 2, "layer": 1, "projection_layer": 1}[name]
        ok = 0 <= value < n
    before = _state(ex)
    if ok:
        setattr(ex, name, value)
        assert getattr(ex, name) == (list(dict.fromkeys(value)) if name == "selected_units" else value)
        return
    with pytest.raises(tl.TraitError, match=rf"{'unit' if name == 'selected_units' else name}.*out of range"):
        setattr(ex, name, value)
    assert _state(ex) == before


def test_failed_save_html_writes_nothing_and_changes_nothing(ex, tmp_path):
    before = _state(ex)
    for kwargs, exc, message in [
        (dict(sequences=[2]), ValueError, r"sequences \[2\]: 2 is out of range; expected distinct indices 0..1"),
        (dict(sequences=[]), ValueError, r"it is empty; expected distinct indices"),
        (dict(sequences=[0, 0]), ValueError, r"it repeats an index"),
        (dict(sequences=["a"]), TypeError, r"sequences must be indices"),
        (dict(wire_dtype="int8"), ValueError, r"wire dtype 'int8' is not supported"),
    ]:
        with pytest.raises(exc, match=message):
            ex.save_html(tmp_path / "a.html", quiet=True, **kwargs)
    with pytest.raises(TypeError, match=r"save_html path must be a str or pathlib.Path .*; got int"):
        ex.save_html(3, quiet=True)
    with pytest.raises(FileNotFoundError):
        ex.save_html(tmp_path / "missing" / "a.html", quiet=True)
    assert list(tmp_path.iterdir()) == []
    assert _state(ex) == before
    assert ex.save_html(tmp_path / "ok.html", quiet=True) > 0


def test_failed_stream_arguments_send_nothing(ex):
    sent = []
    ex.send = lambda *a, **k: sent.append(a)
    before = _state(ex)
    for kwargs, message in [
        (dict(label="a"), r"label has 'a' \(str\); expected class indices"),
        (dict(label=7), r"label 7 is out of range; expected 0..2"),
        (dict(fps=0), r"fps 0 must be a positive number"),
        (dict(fps=float("nan")), r"fps nan must be a positive number"),
    ]:
        with pytest.raises(ValueError, match=message):
            ex.stream(_x(4), **kwargs)
    assert not sent and _state(ex) == before and len(ex.recordings) == 2


def test_set_projection_failure_keeps_the_map(ex):
    before = _state(ex)
    with pytest.raises(ValueError, match=r"projection 'umapx' is not known; expected"):
        ex.set_projection("umapx")
    with pytest.raises(ValueError, match=r"projection_layer 5 is out of range"):
        ex.set_projection("pca", layer=5)
    assert _state(ex) == before


# ---- tensors on the meta device (a stand-in for "another device" without a GPU) -----------------------------------
def _meta(*shape):
    return torch.zeros(*shape, device="meta")


@pytest.mark.parametrize("call", ["record", "influence", "step", "stream", "activations", "explorer"])
def test_meta_tensors_are_refused_with_a_clear_error(net, call):
    f = {
        "record": lambda: lw.record(net, _meta(5, D)),
        "influence": lambda: lw.influence(net, _meta(5, D)),
        "step": lambda: lw.Stepper(net).step(_meta(D)),
        "stream": lambda: _explorer(net).stream(_meta(5, D)),
        "activations": lambda: lw.activations(net, _meta(1, 5, D)),
        "explorer": lambda: lw.Explorer(net, [_meta(5, D)]),
    }[call]
    with pytest.raises(
        ValueError,
        match=r"is a tensor on the meta device \(shape .*no values\); expected a tensor "
        r"with data",
    ):
        f()


@pytest.mark.parametrize("call", ["record", "stepper", "explorer", "activations", "influence"])
def test_a_model_on_the_meta_device_is_refused(call):
    with torch.device("meta"):
        model = Net()
    f = {
        "record": lambda: lw.record(model, _x()),
        "stepper": lambda: lw.Stepper(model),
        "explorer": lambda: lw.Explorer(model, [_x()]),
        "activations": lambda: lw.activations(model, torch.zeros(1, 5, D)),
        "influence": lambda: lw.influence(model, _x()),
    }[call]
    with pytest.raises(
        ValueError,
        match=r"model has 'lstm.weight_ih_l0' on the meta device \(no values\); "
        r"expected a model with weights",
    ):
        f()


def test_float64_and_float16_are_cast_everywhere(net):
    for dtype in (np.float64, np.float16):
        x = _x().astype(dtype)
        assert lw.record(net, x).inputs.dtype == np.float32
        assert lw.Stepper(net).step(x[0]).inputs.dtype == np.float32
        assert lw.record(net, torch.from_numpy(x)).inputs.dtype == np.float32


# ---- models with no recurrent layer, or one not supported ------------------------------------------------------------
@pytest.mark.parametrize(
    "model, message",
    [
        (nn.Sequential(nn.Linear(D, 3)), r"Sequential has no recurrent layer .* expected an nn.LSTM"),
        (nn.RNN(D, 4), r"RNN has no recurrent layer .*the model itself \(RNN\), which are not supported yet; expected"),
        (nn.Sequential(nn.RNN(D, 4), nn.Linear(4, 2)), r"it has 0 \(RNN\), which are not supported yet; expected"),
        (
            nn.TransformerEncoder(nn.TransformerEncoderLayer(D, 2, 16), 1, enable_nested_tensor=False),
            r"TransformerEncoder has no recurrent layer .* expected an nn.LSTM",
        ),
        ("lstm", r"model must be a torch.nn.Module; got str"),
        (None, r"model must be a torch.nn.Module; got NoneType"),
    ],
    ids=["linear", "rnn", "rnn-in-sequential", "transformer", "str", "none"],
)
@pytest.mark.parametrize("call", ["record", "stepper", "explorer", "influence"])
def test_models_without_a_supported_recurrent_layer(model, message, call):
    f = {
        "record": lambda: lw.record(model, _x()),
        "stepper": lambda: lw.Stepper(model),
        "explorer": lambda: lw.Explorer(model, [_x()]),
        "influence": lambda: lw.influence(model, _x()),
    }[call]
    with pytest.raises(TypeError, match=message):
        f()


def test_activations_errors_name_x():
    model = nn.Sequential(nn.Linear(D, 4), nn.ReLU())
    for x, exc, message in [
        ([[0.0] * D], TypeError, r"x is a list; expected a torch.Tensor or numpy array"),
        ("abc", TypeError, r"x is a str; expected a torch.Tensor or numpy array"),
        (np.zeros((2, D), object), TypeError, r"x is a numpy array of objects; expected numbers"),
        (torch.zeros(2, D - 1), ValueError, r"running Sequential on an input of shape \(2, 11\) failed"),
        ((), ValueError, r"x is an empty tuple; expected the model's input"),
    ]:
        with pytest.raises(exc, match=message):
            lw.activations(model, x)


# ---- importers ------------------------------------------------------------------------------------------------------
def test_from_onnx_bad_inputs(tmp_path):
    pytest.importorskip("onnx")
    (tmp_path / "empty.onnx").write_bytes(b"")
    (tmp_path / "junk.onnx").write_bytes(b"\xff\x00 not protobuf \x01\x02")
    for arg, exc, message in [
        (tmp_path / "missing.onnx", FileNotFoundError, r"which is not a file; expected a .onnx file"),
        (tmp_path / "junk.onnx", ValueError, r"from_onnx got the file .*junk.onnx.*, which is not an ONNX model"),
        (tmp_path / "empty.onnx", ValueError, r"which holds no ONNX graph nodes; expected a .onnx file"),
        (b"garbage", ValueError, r"from_onnx got 7 bytes, which is not an ONNX model"),
        (3, TypeError, r"from_onnx takes a path to a .onnx file, its bytes or an onnx.ModelProto; got int"),
    ]:
        with pytest.raises(exc, match=message):
            lw.from_onnx(arg)


def test_from_keras_bad_inputs(tmp_path):
    pytest.importorskip("keras")
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    (tmp_path / "model.pt").write_bytes(b"x")
    for arg, exc, message in [
        (tmp_path / "missing.keras", FileNotFoundError, r"which is not a file; expected a .keras file"),
        (tmp_path / "model.pt", ValueError, r"from_keras got the path .*model.pt'; expected a .keras file"),
        (tmp_path / "junk.keras", ValueError, r"from_keras could not read .*junk.keras.* as a Keras model"),
        (3, TypeError, r"from_keras takes a Keras LSTM / GRU layer, a Keras model or a path .*; got int"),
    ]:
        with pytest.raises(exc, match=message):
            lw.from_keras(arg)


# ---- unsafe files: nothing the user did not write is ever unpickled --------------------------------------------------
class _Evil:
    """Unpickling this creates the marker file: the proof that something was unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def _evil_files(tmp_path) -> tuple[Path, dict[str, Path]]:
    marker = tmp_path / "PWNED"
    payload = pickle.dumps(_Evil(marker))
    assert not marker.exists()
    files = {}
    for name in (
        "model.onnx",
        "model.keras",
        "model.h5",
        "weights.safetensors",
        "weights.pt",
        "data.npz",
        "dataset.zarr",
    ):
        files[name] = tmp_path / name
        files[name].write_bytes(payload)
    # a torch.save'd checkpoint (a zip holding the pickle) too, as a .pt file a user might be handed
    torch.save({"x": _Evil(marker)}, tmp_path / "checkpoint.pt")
    files["checkpoint.pt"] = tmp_path / "checkpoint.pt"
    # an .npz whose array is an object array (np.save pickles those)
    np.savez(tmp_path / "objects.npz", X=np.array([_Evil(marker)], dtype=object))
    files["objects.npz"] = tmp_path / "objects.npz"
    assert not marker.exists()
    return marker, files


def test_malicious_pickles_are_refused_everywhere(tmp_path):
    marker, files = _evil_files(tmp_path)
    calls = [
        ("from_onnx path", lambda: lw.from_onnx(files["model.onnx"])),
        ("from_onnx bytes", lambda: lw.from_onnx(files["model.onnx"].read_bytes())),
        ("japanese_vowels_net .safetensors", lambda: lw.models.japanese_vowels_net(files["weights.safetensors"])),
        ("japanese_vowels_net .pt", lambda: lw.models.japanese_vowels_net(files["weights.pt"])),
        ("japanese_vowels_net torch.save", lambda: lw.models.japanese_vowels_net(files["checkpoint.pt"])),
        ("digits_cnn .pt", lambda: lw.models.digits_cnn(files["checkpoint.pt"])),
        ("open_dataset", lambda: lw.open_dataset(files["dataset.zarr"])),
    ]
    try:
        import keras  # noqa: F401

        calls += [
            ("from_keras .keras", lambda: lw.from_keras(files["model.keras"])),
            ("from_keras .h5", lambda: lw.from_keras(files["model.h5"])),
        ]
    except Exception:  # keras not installed (or no backend): nothing to check there
        pass
    from lstm_widget._cli import _load_data

    calls += [
        ("cli --data .npz", lambda: _load_data(str(files["data.npz"]))),
        ("cli --data object .npz", lambda: _load_data(str(files["objects.npz"]))),
    ]
    for what, call in calls:
        with pytest.raises((ValueError, TypeError, OSError, SystemExit)) as info:
            call()
        assert not marker.exists(), f"{what} unpickled the file"
        assert "PWNED" not in str(info.value)
    assert not marker.exists()


def test_the_package_never_unpickles_files():
    """Scan the sources: no pickle.load, no torch.load without weights_only=True, no np.load(allow_pickle=True)."""
    root = Path(lw.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        for k, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if re.search(r"\bpickle\.load\(|\bdill\.load|\bjoblib\.load|allow_pickle\s*=\s*True", code):
                found.append(f"{path.name}:{k}: {line.strip()}")
            if "torch.load(" in code and "weights_only=True" not in code:
                found.append(f"{path.name}:{k}: {line.strip()}")
    assert not found, "unsafe loads:\n" + "\n".join(found)


# ---- big input: a clear message instead of a frozen tab ------------------------------------------------------------
def test_too_much_for_the_page_is_refused_with_what_to_change(net, monkeypatch):
    x = _x(200)
    # h, inputs, probs, trajectory: 200 steps × (8 + 12 + 3 + 3) × 4 B = 20.8 kB; all six quantities: 59 kB
    monkeypatch.setattr(lw, "PAGE_BYTES_LIMIT", 30_000)
    with pytest.raises(
        ValueError,
        match=r"showing these sequences would be 0.1 MiB of float32 data; the page takes "
        r"at most 0.0 MiB at a time .* use wire_dtype='float16' \(halves it\), "
        r"preload='h'",
    ):
        lw.Explorer(net, [x], preload="all")
    ex = lw.Explorer(net, [x], preload="h")  # one quantity fits
    before = _state(ex)
    monkeypatch.setattr(lw, "PAGE_BYTES_LIMIT", 5_000)
    with pytest.raises(tl.TraitError, match=r"quantity 'c' would be 0.0 MiB of float32 data; the page takes at most"):
        ex.quantity = "c"
    assert _state(ex) == before and ex.loaded_quantities == ["h"]
    with pytest.raises(ValueError, match=r"this export would be .* MiB of float32 data"):
        ex.save_html("unused.html", quiet=True)
    sent = []
    ex.send = lambda *a, **k: sent.append(a)
    with pytest.raises(ValueError, match=r"showing these sequences would be"):
        ex.stream(_x(400))  # the new sequence would not fit: refused before anything is sent
    assert len(ex.recordings) == 1 and ex.sequence == 0 and not sent


# ---- floods: t set in a loop reaches the page coalesced, ending on the last value -----------------------------------
def test_t_set_in_a_loop_is_sent_coalesced_and_ends_on_the_last_value(net):
    import asyncio

    ex = lw.Explorer(net, [_x(50)])
    sent = []
    ex._trait_values["comm"] = type("Comm", (), {"kernel": object()})()  # as if a page were connected
    ex._send = lambda msg, buffers=None: sent.append(msg["state"].get("t"))

    async def cell():  # a notebook cell: synchronous code inside the kernel's running event loop
        for k in range(10_000):
            ex.t = k % 50
        ex.t = 7

    async def main():
        await cell()
        await asyncio.sleep(3 * ex._sync_ms / 1000)  # the kernel is free again: the last value goes out

    asyncio.run(main())
    assert ex.t == 7 and sent[-1] == 7
    assert 1 <= len(sent) < 10_000
    sent.clear()
    ex.t = 3  # a single change, with no loop running: sent at once
    assert sent == [3]
    ex._trait_values["comm"] = None


# ---- nothing half-done: a failed export keeps the old file; sizes checked before the work ---------------------------
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(max_size=20), at=st.integers(0, 20), surrogate=st.integers(0xD800, 0xDFFF))
def test_save_html_with_a_bad_title_keeps_the_old_file(net, tmp_path_factory, title, at, surrogate):
    ex = _explorer(net)
    path = tmp_path_factory.mktemp("keep") / "keep.html"
    path.write_bytes(b"<p>the lesson I wrote</p>")
    bad = title[:at] + chr(surrogate) + title[at:]
    with pytest.raises(ValueError, match=r"title .* holds a lone surrogate .* expected text without lone surrogates"):
        ex.save_html(path, title=bad, quiet=True)
    assert path.read_bytes() == b"<p>the lesson I wrote</p>"
    assert [p.name for p in path.parent.iterdir()] == ["keep.html"]


def test_save_html_failing_while_writing_keeps_the_old_file(ex, tmp_path, monkeypatch):
    import lstm_widget._widget.export as export

    path = tmp_path / "keep.html"
    path.write_bytes(b"old")
    monkeypatch.setattr(export, "standalone_html", lambda *a: "\ud800")  # fails when encoded
    with pytest.raises(UnicodeEncodeError):
        ex.save_html(path, quiet=True)
    monkeypatch.undo()
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        ex.save_html(path, quiet=True)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["keep.html"]
    monkeypatch.setattr(os, "replace", real)
    assert ex.save_html(path, quiet=True) == path.stat().st_size > 1000


NAME_ARGS = ["class_names", "feature_names", "sequence_names", "groups", "group_name"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(NAME_ARGS), text=st.text(max_size=10), surrogate=st.integers(0xD800, 0xDFFF))
def test_names_with_lone_surrogates_are_refused_at_the_call(net, which, text, surrogate):
    bad = text + chr(surrogate)
    n = {"class_names": 3, "feature_names": D, "sequence_names": 2, "groups": 2}.get(which)
    value = bad if which == "group_name" else [bad] + [f"n{k}" for k in range(n - 1)]
    extra = {"groups": ["a", "b"]} if which == "group_name" else {}
    with pytest.raises(ValueError, match=rf"{which}(\[0\])? .* holds a lone surrogate"):
        lw.Explorer(net, [_x(5), _x(3, 1)], **{which: value, **extra})
    ex = _explorer(net)
    for call in (lambda: ex.stream(_x(2), name=bad), lambda: ex.stream(_x(2), group=bad)):
        with pytest.raises(ValueError, match=r"holds a lone surrogate"):
            call()
    assert len(ex.recordings) == 2


def test_bools_are_not_unit_indices_and_speed_is_bounded(ex):
    ex.selected_units = [1]
    before = _state(ex)
    for value in ([True], [0, False]):
        with pytest.raises(tl.TraitError, match=r"selected_units holds (True|False), a bool; expected unit indices"):
            ex.selected_units = value
    with pytest.raises(tl.TraitError, match=r"expected an int, not the bool"):  # traitlets' own check
        ex.selected_units = [np.True_]
    for value in (1e308, float("inf"), 1024.5, -1.0, 0.0):
        with pytest.raises(tl.TraitError, match=r"speed .* must be a positive number of steps per second, at most"):
            ex.speed = value
    assert _state(ex) == before
    ex.speed = 1024
    assert ex.speed == 1024


def test_unit_ranking_is_public_and_follows_the_layer_and_quantity(net):
    xs = [_x(6, seed) for seed in range(6)]
    ex = lw.Explorer(net, xs, labels=[0, 1, 2, 0, 1, 2])
    ranking = ex.unit_ranking
    expected = lw.rank_units(ex.recordings, "h", 0, labels=ex._loaded.labels, by="t", k=ranking.units.shape[1])
    assert ranking.by == "t" and ranking.quantity == "h"
    np.testing.assert_array_equal(ranking.units, expected.units)
    ex.quantity = "c"
    assert ex.unit_ranking.quantity == "c" and ex.unit_ranking is ex.unit_ranking  # computed once per choice
    ex.why_open = True
    np.testing.assert_array_equal(decode_units(ex._ranking), ex.unit_ranking.units)  # what the page lists
    assert lw.Explorer(net, xs).unit_ranking is None  # no labels: no ranking per class


def decode_units(payload):
    from lstm_widget._wire import decode_array

    return decode_array(payload["units"])


def test_memory_budget_is_checked_from_the_lengths_before_recording(net, monkeypatch):
    import lstm_widget._widget.explorer as explorer

    assert isinstance(lw.MEMORY_BUDGET, int) and lw.MEMORY_BUDGET > 0 and "MEMORY_BUDGET" in dir(lw)
    recorded = []
    monkeypatch.setattr(explorer, "record", lambda *a, **k: recorded.append(a) or pytest.fail("recorded"))
    xs = [np.zeros((200_000, D), np.float32)]  # 200 000 steps × (6 × 8 units + 12 inputs + 2 × 3) × 4 B = 53 MB
    monkeypatch.setattr(lw, "MEMORY_BUDGET", 50 * 2**20)
    with pytest.raises(
        ValueError,
        match=r"recording 1 sequence of 200000 steps in all would need about 50 MiB of memory for the recordings; "
        r"the budget is 50 MiB \(lstm_widget.MEMORY_BUDGET.*fewer or shorter sequences.*lw.record_dataset.*"
        r"Explorer.from_dataset.*preload='h'.*wire_dtype='float16'",
    ):
        lw.Explorer(net, xs)
    monkeypatch.setattr(lw, "PAGE_BYTES_LIMIT", 2**20)  # the page limit, also from the lengths: h alone is too much
    monkeypatch.setattr(lw, "MEMORY_BUDGET", 2**40)
    with pytest.raises(ValueError, match=r"showing recording 1 sequence of 200000 steps in all would be 17.5 MiB"):
        lw.Explorer(net, xs)
    assert recorded == []
