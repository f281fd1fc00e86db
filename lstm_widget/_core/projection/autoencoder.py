"""A denoising autoencoder as a scikit-learn transformer (torch inside): hidden states → 2-D/3-D coordinates.

The shape follows the Auslan study of LSTM trajectories: dense layers with a *linear* bottleneck of 2–3 units, the
decoder mirroring the encoder, Gaussian noise on the (standardised) input during training only, Adam, and a mean
squared error against the clean input, trained on shuffled states — optionally without the near-constant states at
the saturated start and end of sequences (``drop_constant``).
"""

from __future__ import annotations

import itertools
from numbers import Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted
from tqdm.auto import tqdm

from ..validate import check_int, is_int

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6: the same check is a method of BaseEstimator

    def validate_data(estimator, X, reset=True, **check_params):
        return estimator._validate_data(X, reset=reset, **check_params)


_ACTIVATIONS = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}


def near_constant_rows(X: np.ndarray, drop_constant: float | None) -> np.ndarray:
    """Boolean mask (n_samples,) of the rows ``drop_constant`` removes: those whose L2 distance to the previous row
    is below ``drop_constant`` × the median distance between consecutive rows. The first row is always kept (it has
    no previous row), so a run of repeated states keeps its first one. ``None`` (or fewer than 3 rows, or a median
    of 0) drops nothing."""
    X = np.asarray(X)
    mask = np.zeros(X.shape[0], dtype=bool)
    if drop_constant is None or X.shape[0] < 3:
        return mask
    steps = np.linalg.norm(np.diff(X, axis=0).astype(np.float64), axis=1)
    mask[1:] = steps < float(drop_constant) * np.median(steps)
    return mask


def _dense(sizes, activation) -> torch.nn.Sequential:
    """Linear layers through ``sizes`` with ``activation`` between them and none after the last (a linear output)."""
    layers = []
    for k, (a, b) in enumerate(itertools.pairwise(sizes)):
        if k:
            layers.append(_ACTIVATIONS[activation]())
        layers.append(torch.nn.Linear(a, b))
    return torch.nn.Sequential(*layers)


class DenoisingAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Denoising autoencoder with a linear bottleneck: ``transform`` gives the bottleneck coordinates,
    ``inverse_transform`` decodes them back to the input space.

    Parameters
    ----------
    n_components : int, default=2
        Size of the linear bottleneck (2 or 3 to draw trajectories).
    hidden : tuple of int, default=(64,)
        Sizes of the encoder's hidden dense layers; the decoder mirrors them. ``()`` gives a linear autoencoder.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to the standardised input while training (never in
        ``transform``).
    epochs : int, default=40
        Passes over the (shuffled) training states.
    batch_size : int or "auto", default="auto"
        States per Adam step. ``"auto"``: ``n_samples // 64`` clipped to 64 … 512 — about 64 steps an epoch on small
        and mid-sized data (≥ 2 500 steps in all), and batches of 512 on large data so that 100 000 × 100 states
        train in well under a minute on two CPU cores (``benchmarks/bench_projection.py``).
    lr : float, default=2e-3
        Adam's learning rate.
    drop_constant : float or None, default=None
        Train without near-constant states: rows whose L2 distance to the previous row is below
        ``drop_constant`` × the median distance between consecutive rows (stack each sequence's states in time order;
        a run of repeated states keeps its first row — see :func:`near_constant_rows`). ``None`` keeps every row.
        Dropped rows are still transformed like any other.
    activation : {"tanh", "relu"}, default="tanh"
        Nonlinearity after each hidden layer (the bottleneck and the output are linear).
    random_state : int, RandomState instance or None, default=0
        Seeds the weights, the shuffling and the noise: two fits with the same int give identical results.
    progress : bool, default=True
        Show the epoch and the loss while training (a tqdm bar: a widget in Jupyter, one line on stderr elsewhere).
    device : str, torch.device or None, default=None
        Where to train (``None``: torch's default device, normally the CPU). The fitted networks are kept on the
        CPU and ``transform`` runs there in float64, so its result does not depend on how rows are batched. On the
        CPU, networks as small as the default (batch × widest layer ≤ 512 × 256) train on one thread — their matrices
        are too small to share out, and more threads only add waiting (3–4× slower on a busy two-core machine);
        torch's thread count is restored afterwards.

    Attributes
    ----------
    encoder_, decoder_ : torch.nn.Sequential
        The trained networks (CPU, eval mode), on standardised inputs.
    mean_ : ndarray (n_features_in_,)
        Per-feature mean of the training states.
    scale_ : float
        One common scale for all features — the root mean square of the per-feature standard deviations — so that
        distances keep the shape they have in the state space (as PCA sees it) and ``noise`` is in those units.
    n_features_in_, feature_names_in_ : as in scikit-learn.
    n_samples_dropped_ : int
        Rows that ``drop_constant`` left out of training.
    loss_curve_ : list of float
        Mean training loss (on noisy inputs) of each epoch.
    n_iter_ : int
        Epochs run.
    batch_size_ : int
        States per Adam step (``batch_size``, or what ``"auto"`` chose).
    reconstruction_error_ : float
        Mean squared error of ``inverse_transform(transform(X))`` on the training rows, in input units.
    """

    def __init__(
        self,
        n_components=2,
        hidden=(64,),
        noise=0.1,
        epochs=40,
        batch_size="auto",
        lr=2e-3,
        drop_constant=None,
        activation="tanh",
        random_state=0,
        progress=True,
        device=None,
    ):
        self.n_components = n_components
        self.hidden = hidden
        self.noise = noise
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.drop_constant = drop_constant
        self.activation = activation
        self.random_state = random_state
        self.progress = progress
        self.device = device

    # ---- scikit-learn API ---------------------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Train on ``X`` (n_samples, n_features); ``y`` is ignored."""
        self._check_params()
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        keep = ~near_constant_rows(X, self.drop_constant)
        self.n_samples_dropped_ = int((~keep).sum())
        Xk = X[keep].astype(np.float64)
        self.mean_ = Xk.mean(axis=0)
        rms = float(np.sqrt(np.mean(Xk.var(axis=0))))
        self.scale_ = rms if np.isfinite(rms) and rms > np.finfo(np.float32).eps else 1.0
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        device = torch.device(self.device) if self.device is not None else torch.empty(0).device  # torch's default
        with torch.random.fork_rng(devices=[]):  # seed the weights without touching the caller's global RNG
            torch.manual_seed(seed)
            hidden = [int(h) for h in self.hidden]
            encoder = _dense([X.shape[1], *hidden, int(self.n_components)], self.activation)
            decoder = _dense([int(self.n_components), *hidden[::-1], X.shape[1]], self.activation)
        encoder.to(device).train()
        decoder.to(device).train()
        data = torch.tensor((Xk - self.mean_) / self.scale_, dtype=torch.float32, device=device)
        shuffle = torch.Generator().manual_seed(seed)
        noise = torch.Generator(device=device).manual_seed(seed + 1)
        optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=float(self.lr))
        n = data.shape[0]
        bs = int(np.clip(n // 64, 64, 512)) if self.batch_size == "auto" else int(self.batch_size)
        threads = torch.get_num_threads()
        one_thread = device.type == "cpu" and bs * max(X.shape[1], int(self.n_components), *hidden) <= 512 * 256
        bar = tqdm(total=int(self.epochs), desc=type(self).__name__, unit="epoch", disable=not self.progress)
        self.loss_curve_ = []
        try:
            if one_thread:
                torch.set_num_threads(1)
            for _ in range(int(self.epochs)):
                order = torch.randperm(n, generator=shuffle).to(device)
                total = 0.0
                for start in range(0, n, bs):
                    clean = data[order[start : start + bs]]
                    noisy = clean + float(self.noise) * torch.randn(
                        clean.shape, generator=noise, device=device, dtype=clean.dtype
                    )
                    loss = torch.nn.functional.mse_loss(decoder(encoder(noisy)), clean)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    total += float(loss.detach()) * clean.shape[0]
                self.loss_curve_.append(total / n)
                bar.set_postfix(loss=f"{self.loss_curve_[-1]:.4g}", refresh=False)
                bar.update(1)
        finally:
            if one_thread:
                torch.set_num_threads(threads)
            bar.close()
        self.encoder_ = encoder.cpu().eval()
        self.decoder_ = decoder.cpu().eval()
        self.n_iter_ = int(self.epochs)
        self.batch_size_ = bs
        decoded = self._run(self.decoder_, self._run(self.encoder_, (Xk - self.mean_) / self.scale_))
        self.reconstruction_error_ = float(np.mean((decoded * self.scale_ + self.mean_ - Xk) ** 2))
        return self

    def transform(self, X):
        """Bottleneck coordinates (n_samples, n_components) of ``X``: deterministic (no noise), float64."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return self._run(self.encoder_, (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_)

    def inverse_transform(self, X):
        """Decode bottleneck coordinates (n_samples, n_components) back to the input space (n_samples, n_features)."""
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"X has {Z.shape[1]} features, but inverse_transform expects {self.n_components} "
                f"(the bottleneck of {type(self).__name__})"
            )
        return self._run(self.decoder_, Z) * self.scale_ + self.mean_

    @property
    def _n_features_out(self):
        return int(self.n_components)

    # ---- internals -----------------------------------------------------------------------------------------
    @staticmethod
    def _run(net: torch.nn.Module, values: np.ndarray) -> np.ndarray:
        """``net`` applied to ``values`` in float64 on the CPU (a float64 copy of the float32-trained weights)."""
        weights = {k: v.double() for k, v in net.state_dict().items()}
        with torch.no_grad():
            out = torch.func.functional_call(net, weights, (torch.as_tensor(np.asarray(values, np.float64)),))
        return out.numpy()

    def _check_params(self) -> None:
        check_int(self.n_components, "n_components", low=1, expected="a positive int")
        check_int(self.epochs, "epochs", low=1, expected="a positive int")
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            check_int(self.batch_size, "batch_size", low=1, expected="a positive int or 'auto'")
        try:
            hidden = tuple(self.hidden)
        except TypeError:
            hidden = None
        if hidden is None or not all(is_int(h) and h >= 1 for h in hidden):
            raise ValueError(f"hidden must be a tuple of positive ints (hidden layer sizes); got {self.hidden!r}")
        for name, value, low_ok in (("noise", self.noise, True), ("lr", self.lr, False)):
            if isinstance(value, bool) or not isinstance(value, Real) or not (value >= 0 if low_ok else value > 0):
                raise ValueError(f"{name} must be a {'non-negative' if low_ok else 'positive'} number; got {value!r}")
        if self.drop_constant is not None and (not isinstance(self.drop_constant, Real) or self.drop_constant < 0):
            raise ValueError(f"drop_constant must be None or a non-negative number; got {self.drop_constant!r}")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}; got {self.activation!r}")
