"""The seeding shared by the training scripts (train_japanese_vowels, train_digits_cnn): every random source fixed and
torch held to deterministic kernels, so that a run writes the same weights byte for byte."""

import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
