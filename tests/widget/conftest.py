"""Fixtures shared by the Explorer tests in tests/widget: a two-layer Classifier and three short sequences (a test
file that needs other ones defines its own fixture of the same name, which wins)."""

import numpy as np
import pytest
import torch

from helpers import Classifier


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return Classifier(layers=2).eval()


@pytest.fixture()
def seqs():
    rng = np.random.default_rng(0)
    return [rng.normal(size=(n, 4)).astype(np.float32) for n in (5, 8, 3)]
