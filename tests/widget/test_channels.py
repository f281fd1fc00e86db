"""The channel grid: its maths against hand-made arrays (normalisation, ranking, differences, grid, tiling, bilinear
resizing, layer choices), the bundled digits CNN and its data, and the ChannelGrid widget's kernel side."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import traitlets as tl
from torch import nn

import lstm_widget as lw
from lstm_widget._core.vision.channels import (
    channel_change,
    channel_difference,
    channel_maps,
    channel_range,
    grid_shape,
    layer_choices,
    normalize_channels,
    rank_by_difference,
    rank_channels,
    resize_bilinear,
    strongest_channel,
    tile_channels,
)
from lstm_widget._wire import decode_array
from lstm_widget.datasets import digits
from lstm_widget.models import DIGITS_CNN_WEIGHTS, DigitsCNN, digits_cnn

# Three channels of 2×2: a ramp, a constant, and one with negative values.
HAND = np.array(
    [
        [[0.0, 2.0], [4.0, 8.0]],
        [[3.0, 3.0], [3.0, 3.0]],
        [[-2.0, 0.0], [1.0, 2.0]],
    ],
    np.float32,
)


# ---- maths ------------------------------------------------------------------------------------------------------------


def test_normalize_each_channel_on_its_own_range():
    n = normalize_channels(HAND)
    np.testing.assert_allclose(n[0], [[0.0, 0.25], [0.5, 1.0]])
    np.testing.assert_array_equal(n[1], np.zeros((2, 2)))  # a constant channel: all 0, no division by zero
    np.testing.assert_allclose(n[2], [[0.0, 0.5], [0.75, 1.0]])
    assert n.dtype == np.float32 and n.shape == HAND.shape


def test_normalize_on_given_ranges_and_the_joint_range_of_two_inputs():
    other = HAND * 2
    lo, hi = channel_range(HAND, other)
    np.testing.assert_array_equal(lo, [0.0, 3.0, -4.0])
    np.testing.assert_array_equal(hi, [16.0, 6.0, 4.0])
    n = normalize_channels(HAND, lo, hi)
    np.testing.assert_allclose(n[0], [[0.0, 0.125], [0.25, 0.5]])
    np.testing.assert_allclose(n[1], np.zeros((2, 2)))
    np.testing.assert_allclose(n[2], [[0.25, 0.5], [0.625, 0.75]])
    np.testing.assert_allclose(normalize_channels(other, lo, hi)[0], [[0.0, 0.25], [0.5, 1.0]])


def test_rank_channels_by_their_largest_activation():
    maps = np.zeros((4, 2, 3), np.float32)
    maps[0, 0, 0] = 1.0
    maps[1, 1, 2] = 5.0
    maps[2, 0, 1] = 3.0
    maps[3, 1, 1] = 5.0  # ties with channel 1: the lower index first
    np.testing.assert_array_equal(rank_channels(maps), [1, 3, 2, 0])
    np.testing.assert_array_equal(rank_channels(maps, 2), [1, 3])
    assert strongest_channel(maps) == 1
    # MATLAB's [~, i] = max(max(max(act))) on the same data, with channels last
    assert int(np.argmax(maps.transpose(1, 2, 0).max(axis=(0, 1)))) == strongest_channel(maps)
    assert strongest_channel(HAND) == 0  # 8 beats 3 and 2


def test_difference_of_two_inputs_on_the_joint_scale():
    b = HAND.copy()
    b[0, 1, 1] = 0.0  # the ramp's peak removed
    b[2] = -HAND[2]
    d = channel_difference(HAND, b)
    np.testing.assert_allclose(d[0], [[0.0, 0.0], [0.0, 1.0]])  # range 0..8: the whole range lost at one place
    np.testing.assert_array_equal(d[1], np.zeros((2, 2)))
    np.testing.assert_allclose(d[2], [[-1.0, 0.0], [0.5, 1.0]])  # range -2..2
    assert d.min() >= -1 and d.max() <= 1
    np.testing.assert_allclose(channel_change(HAND, b), [0.25, 0.0, 0.625])  # mean |difference|
    np.testing.assert_array_equal(rank_by_difference(HAND, b), [2, 0, 1])
    np.testing.assert_array_equal(channel_difference(HAND, HAND), np.zeros_like(HAND))
    with pytest.raises(ValueError, match="differ in shape"):
        channel_difference(HAND, HAND[:, :1])


@pytest.mark.parametrize(
    "n, shape", [(1, (1, 1)), (2, (1, 2)), (7, (2, 4)), (10, (2, 5)), (32, (4, 8)), (48, (6, 8)), (64, (8, 8)),
                 (100, (10, 10))],
)  # fmt: skip
def test_grid_shape_near_square(n, shape):
    rows, cols = grid_shape(n)
    assert (rows, cols) == shape
    assert rows * cols >= n and cols >= rows


def test_tile_channels_places_each_channel():
    maps = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    t = tile_channels(maps, grid=(2, 3), pad=1)
    assert t.shape == (2 * 2 + 1, 3 * 3 + 2)
    np.testing.assert_array_equal(t[0:2, 0:3], maps[0])
    np.testing.assert_array_equal(t[0:2, 4:7], maps[1])
    np.testing.assert_array_equal(t[3:5, 4:7], maps[4])  # row 1, column 1
    assert np.isnan(t[2]).all() and np.isnan(t[3:5, 8:11]).all()  # the gap row and the empty last place
    assert tile_channels(maps, pad=0, fill=0).shape == (2 * 2, 3 * 3)  # grid_shape(5) = (2, 3)
    with pytest.raises(ValueError, match="holds 4 tiles"):
        tile_channels(maps, grid=(2, 2))


def test_resize_bilinear_matches_torch_and_hand_values():
    a = np.array([[0.0, 1.0], [2.0, 3.0]], np.float32)
    expected = [[0, 0.25, 0.75, 1], [0.5, 0.75, 1.25, 1.5], [1.5, 1.75, 2.25, 2.5], [2, 2.25, 2.75, 3]]
    np.testing.assert_allclose(resize_bilinear(a, (4, 4)), expected)  # also js/test/raster.test.js
    stack = np.random.default_rng(0).normal(size=(3, 5, 7)).astype(np.float32)
    want = F.interpolate(torch.from_numpy(stack)[None], size=(9, 4), mode="bilinear", align_corners=False)[0]
    np.testing.assert_allclose(resize_bilinear(stack, (9, 4)), want.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(resize_bilinear(stack[0], (5, 7)), stack[0])
    with pytest.raises(ValueError, match="takes"):
        resize_bilinear(stack[None], (2, 2))


def test_channel_maps_shapes_and_errors():
    assert channel_maps(np.zeros((4, 3, 2))).shape == (4, 3, 2)
    assert channel_maps(np.zeros((4, 6))).shape == (4, 1, 6)  # a 1-D convolution
    assert channel_maps(torch.zeros(10)).shape == (10, 1, 1)  # a dense layer's units
    with pytest.raises(ValueError, match="drop the batch"):
        channel_maps(np.zeros((1, 4, 3, 2)))
    with pytest.raises(ValueError, match="no channels"):
        channel_maps(np.zeros((0, 2, 2)))
    with pytest.raises(TypeError, match="numbers"):
        channel_maps(np.array([["a"]]))


def test_layer_choices_conv_and_activation_before_and_after():
    x = digits("test")[0][:1]
    choices = layer_choices(digits_cnn(), x)
    assert [(c["name"], c["kind"]) for c in choices] == [
        ("conv1", "conv"), ("relu1", "post"), ("conv2", "conv"), ("relu2", "post"), ("conv3", "conv"), ("relu3", "post"),
    ]  # fmt: skip
    assert choices[2]["shape"] == (48, 16, 16) and "before relu2" in choices[2]["label"]
    # a norm layer between a convolution and its activation: the activation's input is the pre-activation choice
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 2, 3), nn.Tanh()).eval()
    choices = layer_choices(m, torch.randn(1, 1, 8, 8))
    assert [(c["name"], c["kind"]) for c in choices] == [
        ("0", "conv"), ("2:input", "pre"), ("2", "post"), ("3", "conv"), ("4", "post"),
    ]  # fmt: skip
    assert choices[1]["label"] == "2 input (before ReLU, after 1)"


# ---- the bundled CNN and its data -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def net():
    return digits_cnn()


@pytest.fixture(scope="module")
def test_set():
    return digits("test")


def test_digits_data():
    X_train, y_train = digits("train")
    X_test, y_test = digits("test")
    assert X_train.shape == (1437, 1, 32, 32) and X_test.shape == (360, 1, 32, 32)
    assert X_train.dtype == np.float32 and 0.0 <= X_test.min() and X_test.max() <= 1.0
    counts, totals = np.bincount(y_test), np.bincount(np.concatenate([y_train, y_test]))
    assert np.all(np.abs(counts - 0.2 * totals) <= 1)  # 20 % of every class
    assert digits("all", size=8)[0].shape == (1797, 1, 8, 8)
    with pytest.raises(ValueError, match="split"):
        digits("validation")


def test_cnn_accuracy(net, test_set):
    X, y = test_set
    with torch.no_grad():
        accuracy = float((net(torch.from_numpy(X)).argmax(1).numpy() == y).mean())
    assert accuracy >= 0.98  # the shipped weights: 356/360 = 0.9889


def test_cnn_weights_file_and_loader(net):
    assert isinstance(net, DigitsCNN) and not net.training
    assert DIGITS_CNN_WEIGHTS.suffix == ".safetensors" and DIGITS_CNN_WEIGHTS.stat().st_size < 1_000_000
    assert DIGITS_CNN_WEIGHTS.read_bytes()[:2] != b"\x80\x04"  # not a pickle
    assert [n for n, _ in net.named_children()] == [
        "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "conv3", "relu3", "gap", "flatten", "fc",
    ]  # fmt: skip
    assert (net.conv1.out_channels, net.conv2.out_channels, net.conv3.out_channels) == (32, 48, 64)
    other = digits_cnn()
    assert other is not net
    with torch.no_grad():
        other.fc.bias.add_(1.0)
    assert not torch.equal(other.fc.bias, net.fc.bias)


def test_training_script_is_seeded():
    from lstm_widget.models.train_digits_cnn import train

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    a, _ = train(epochs=1, verbose=False)
    b, _ = train(epochs=1, verbose=False)
    assert (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()) == (threads, deterministic)
    for (name, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(p, q), name


# ---- the widget's kernel side -----------------------------------------------------------------------------------------


def _arr(grid, name):
    return decode_array(grid._arrays[name])


def test_channel_grid_sends_the_kernel_maths(net, test_set):
    x = test_set[0][0]
    g = lw.ChannelGrid(net, x, layer="conv1")
    act = lw.activations(net, x[None], layers=["conv1"])["conv1"][0]
    assert g.layer_names == ["conv1", "relu1", "conv2", "relu2", "conv3", "relu3"]
    assert g._meta["n_channels"] == 32 and g._meta["grid"] == [4, 8] and g._meta["map_shape"] == [32, 32]
    assert g._meta["layer"] == "conv1" and not g._meta["has_x2"]
    np.testing.assert_allclose(_arr(g, "maps"), normalize_channels(act), atol=1e-3)  # float16 on the wire
    np.testing.assert_array_equal(_arr(g, "rank"), rank_channels(act))
    assert g.channel == g.strongest == strongest_channel(act)
    np.testing.assert_allclose(_arr(g, "image"), x[0], atol=1 / 255)
    assert {"maps2", "diff"}.isdisjoint(g._arrays)


def test_channel_grid_layer_change_is_the_request(net, test_set):
    x = test_set[0][0]
    g = lw.ChannelGrid(net, x, layer="conv1", channel=31)
    g.layer = "relu2"
    assert g._meta["layer"] == "relu2" and g._meta["n_channels"] == 48 and g._meta["grid"] == [6, 8]
    assert _arr(g, "maps").shape == (48, 16, 16)
    assert g.channel == 31  # still valid
    g.layer = "relu3"
    g.channel = 63
    g.layer = "conv2"  # 48 channels: 63 is out of range, the strongest is selected
    assert g.channel == g.strongest
    with pytest.raises(tl.TraitError, match="not one of this grid's layers"):
        g.layer = "fc"
    with pytest.raises(tl.TraitError, match="out of range"):
        g.channel = 48
    with pytest.raises(tl.TraitError, match="needs a second input"):
        g.show = "diff"
    with pytest.raises(tl.TraitError, match=r"\[0, 1\]"):
        g.opacity = 1.5
    assert g.layer == "conv2"


def test_channel_grid_two_inputs(net, test_set):
    X, y = test_set
    x = X[int(np.flatnonzero(y == 7)[0])]
    x2 = x.copy()
    x2[:, :10] = 0.0
    g = lw.ChannelGrid(net, x, x2=x2, layer="relu2", names=("7", "7 without its top stroke"))
    a = lw.activations(net, x[None], layers=["relu2"])["relu2"][0]
    b = lw.activations(net, x2[None], layers=["relu2"])["relu2"][0]
    lo, hi = channel_range(a, b)
    np.testing.assert_allclose(_arr(g, "maps"), normalize_channels(a, lo, hi), atol=1e-3)
    np.testing.assert_allclose(_arr(g, "maps2"), normalize_channels(b, lo, hi), atol=1e-3)
    np.testing.assert_allclose(_arr(g, "diff"), channel_difference(a, b), atol=1e-3)
    np.testing.assert_array_equal(_arr(g, "rank_diff"), rank_by_difference(a, b))
    np.testing.assert_allclose(_arr(g, "change"), channel_change(a, b), rtol=1e-6)
    np.testing.assert_allclose(g.difference, channel_difference(a, b), atol=1e-6)
    assert g._meta["names"] == ["7", "7 without its top stroke"] and g._meta["has_x2"]
    g.show, g.rank_by = "diff", "change"
    with pytest.raises(ValueError, match="shape of x"):
        lw.ChannelGrid(net, x, x2=x2[:, :16])


def test_channel_grid_inputs_and_named_layers(net, test_set):
    x = test_set[0][0]
    g = lw.ChannelGrid(net, x[0], layers=["pool1:input", "fc"])  # (H, W) for a one-channel model
    assert g.layer == "pool1:input" and g._meta["n_channels"] == 32
    g.layer = "fc"  # a dense layer: 10 units of 1×1
    assert g._meta["map_shape"] == [1, 1] and g._meta["grid"] == [2, 5]
    with pytest.raises(ValueError, match="one image"):
        lw.ChannelGrid(net, test_set[0][:2])
    with pytest.raises(TypeError, match="numpy array or torch tensor"):
        lw.ChannelGrid(net, [[0.0]])
    with pytest.raises(TypeError, match="torch.nn.Module"):
        lw.ChannelGrid("net", x)
