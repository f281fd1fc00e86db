"""Fixed points and slow points of a recurrent layer under a constant input (Sussillo & Barak 2013; Golub & Sussillo
2018, "FixedPointFinder"): the states s = (h, c) (h alone for a GRU) that one step maps onto themselves, F(s, x) = s.

From initial states sampled from recorded trajectories, every state descends q(s) = ½‖F(s, x) − s‖² by
Levenberg–Marquardt steps (batched in torch, float64): δ = −(AᵀA + μI)⁻¹ Aᵀ r with r the residual and A its Jacobian
(analytic). Near a root it is Newton's method (quadratic convergence to machine precision); where q has a minimum
above zero (a slow point) its steps shrink to nothing there. An LSTM's gates depend on (x, h) only, so for a given h
its cell has one state at rest, c*(h) = i·g / (1 − f): its fixed points are the roots of the map h ↦ h' at c = c*(h),
of half the size (P instead of P + H; about 8× less work per step), and its slow points are the minima of q over the
states whose c is at rest (q there is ½‖h' − h‖²). Points with q ≤ ``tol`` are fixed points; with ``slow_tol``,
points with ``tol`` < q ≤ ``slow_tol`` are kept as slow points. Points closer than ``dedup_tol`` are one point (the
one with the least q is kept). At every point: the full Jacobian ∂F/∂s (analytic, :func:`step_jacobian`), its
eigenvalues (largest modulus first), the leading eigenvector, and whether it is stable (every |λ| < 1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from ..model.adapters import _AUTO, RecurrentSpec, describe
from ..model.cells import lstm_gates, step
from ..model.gates import split_gates
from ..model.run import initial_state
from ..validate import as_float_array

#: Levenberg–Marquardt: the damping a point starts with, and its bounds (past the upper one the point has stalled).
_MU_START, _MU_MIN, _MU_MAX = 1e-2, 1e-12, 1e12
#: A point whose q is above _Q_STALL and fell by less than 1 % over _STALL_ITERS iterations has stalled (a minimum
#: of q above zero: a slow point, or a slow crawl towards one); it stops there.
_STALL_ITERS, _Q_STALL = 10, 1e-12
#: Below this q a point is at a root to float64 precision; nothing more to gain.
_Q_FLOOR = 1e-28
#: Steps a lower layer is run on the constant input before its state is polished to the fixed point it approaches.
_SETTLE_STEPS = 400
#: Length of the constant sequence the model's preprocessing is run on (its middle step is taken).
_PRE_STEPS = 64


@dataclass(frozen=True, eq=False)
class FixedPoints:
    """Fixed points (and, when asked for, slow points) of one recurrent layer, for one or several constant inputs.

    N points in all, in the order of ``inputs`` and, for each input, by increasing q. ``input_index`` (N,): the row
    of ``inputs`` (K, D) each point belongs to (all 0 for a single input vector; :meth:`for_input` selects one).
    ``h`` (N, P), ``c`` (N, H) or None for a GRU; the state s is [h, c] (h for a GRU), S values. ``q`` (N,):
    ½‖F(s, x) − s‖². ``jacobian`` (N, S, S): ∂F/∂s at the point; ``eigenvalues`` (N, S) complex, largest modulus first;
    ``leading`` (N, S) complex: the unit eigenvector of the first eigenvalue; ``stable`` (N,): every |λ| < 1;
    ``kind`` (N,): "stable", "unstable", or "slow" (tol < q ≤ slow_tol, not a fixed point). ``layer``, ``direction``,
    ``layer_name``: the row of the model's recordings these are states of; ``cell`` "lstm" or "gru".
    """

    h: np.ndarray
    c: np.ndarray | None
    q: np.ndarray
    jacobian: np.ndarray
    eigenvalues: np.ndarray
    leading: np.ndarray
    stable: np.ndarray
    kind: np.ndarray
    input_index: np.ndarray
    inputs: np.ndarray
    cell: str
    layer: int
    direction: int
    layer_name: str
    tol: float
    slow_tol: float | None

    def __len__(self) -> int:
        return len(self.q)

    @property
    def states(self) -> np.ndarray:
        """The points as states s (N, S): [h, c] for an LSTM, h for a GRU — the order of ``jacobian``'s axes."""
        return self.h if self.c is None else np.concatenate([self.h, self.c], axis=1)

    @property
    def spectral_radius(self) -> np.ndarray:
        """max |λ| at every point (N,)."""
        return np.abs(self.eigenvalues[:, 0]) if len(self) else np.zeros(0)

    def __getitem__(self, index) -> FixedPoints:
        """A subset: ``fp[fp.stable]``, ``fp[fp.kind == "slow"]``, ``fp[:3]``, ``fp[[0, 2]]``."""
        if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
            index = [int(index)]
        pick = lambda a: None if a is None else a[index]  # noqa: E731
        arrays = ("h", "c", "q", "jacobian", "eigenvalues", "leading", "stable", "kind", "input_index")
        return replace(self, **{name: pick(getattr(self, name)) for name in arrays})

    def for_input(self, k: int) -> FixedPoints:
        """The points of input ``k`` (a row of ``inputs``)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k < len(self.inputs):
            raise ValueError(f"k must be an input index 0..{len(self.inputs) - 1}; got {k!r}")
        return self[self.input_index == k]

    def __repr__(self) -> str:
        counts = {k: int((self.kind == k).sum()) for k in ("stable", "unstable", "slow")}
        found = ", ".join(f"{n} {k}" for k, n in counts.items() if n or k != "slow")
        return (
            f"FixedPoints({self.cell}, {self.layer_name}, {len(self.inputs)} input{'s' * (len(self.inputs) > 1)}: "
            f"{found})"
        )


def _act_slope(value: torch.Tensor, gate_activation) -> torch.Tensor:
    """The gate function's derivative at its pre-activation, from its value: σ(1 − σ), or alpha inside the hard
    sigmoid's linear part and 0 where it clips."""
    if gate_activation is None:
        return value * (1 - value)
    alpha = gate_activation[0]
    return torch.where((value > 0) & (value < 1), torch.full_like(value, float(alpha)), torch.zeros_like(value))


def step_jacobian(w, cell: str, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None = None):
    """F(s, x) and ∂F/∂s for a batch of states (one step of direction ``w`` from :func:`lstm_widget._core.model.cells.step`).

    ``x`` (N, D), ``h`` (N, P), ``c`` (N, H) (None for a GRU). Returns (F (N, S), J (N, S, S)) with s = [h, c] (h for
    a GRU), the Jacobian analytic (checked against torch's autograd in the tests)."""
    q = step(w, cell, x, h, c)
    if cell == "gru":
        return q["h"], _gru_jacobian(w, q, h)
    return torch.cat([q["h"], q["c"]], dim=1), _lstm_jacobian(w, q, c)


def _lstm_jacobian(w, q: dict, c_prev: torch.Tensor) -> torch.Tensor:
    u = split_gates(w.w_hh)  # (H, P) per gate
    i, f, g, o, c = q["i"], q["f"], q["g"], q["o"], q["c"]
    di, df, do = (_act_slope(v, w.gate_activation) for v in (i, f, o))
    N, H = c.shape
    P = u["i"].shape[1]
    P_out = P if w.w_hr is None else w.w_hr.shape[0]
    jac = c.new_zeros(N, P_out + H, P_out + H)  # blocks written in place: [[dh'/dh, dh'/dc], [dc'/dh, dc'/dc]]
    dc_dh = jac[:, P_out:, :P_out]
    torch.mul((c_prev * df)[..., None], u["f"], out=dc_dh)
    dc_dh.addcmul_((g * di)[..., None], u["i"]).addcmul_((i * (1 - g * g))[..., None], u["g"])
    jac[:, P_out:, P_out:].diagonal(dim1=1, dim2=2).copy_(f)
    tc = torch.tanh(c)
    a = o * (1 - tc * tc)  # ∂m/∂c' where m = o·tanh(c')
    if w.w_hr is None:  # h' = m
        torch.mul(a[..., None], dc_dh, out=jac[:, :P_out, :P_out]).addcmul_((tc * do)[..., None], u["o"])
        jac[:, :P_out, P_out:].diagonal(dim1=1, dim2=2).copy_(a * f)
    else:  # h' = W_hr m
        dm_dh = (a[..., None] * dc_dh).addcmul_((tc * do)[..., None], u["o"])
        torch.matmul(w.w_hr, dm_dh, out=jac[:, :P_out, :P_out])
        jac[:, :P_out, P_out:] = w.w_hr * (a * f)[:, None, :]
    return jac


def _gru_jacobian(w, q: dict, h: torch.Tensor) -> torch.Tensor:
    u = split_gates(w.w_hh, cell="gru")  # (H, H) per gate
    bh = split_gates(w.b_hh, cell="gru") if w.b_hh is not None else None
    r, z, n = q["r"], q["z"], q["n"]
    dr_dh = _act_slope(r, w.gate_activation)[..., None] * u["r"]
    dz_dh = _act_slope(z, w.gate_activation)[..., None] * u["z"]
    if w.reset_after:  # n = tanh(gi_n + r·(U_n h + b_hn))
        gh_n = h @ u["n"].T + (0 if bh is None else bh["n"])
        dpre = gh_n[..., None] * dr_dh + r[..., None] * u["n"]
    else:  # n = tanh(gi_n + U_n (r·h) + b_hn)
        dpre = u["n"] * r[:, None, :] + u["n"] @ (h[..., None] * dr_dh)
    dn_dh = (1 - n * n)[..., None] * dpre
    return (1 - z)[..., None] * dn_dh + (h - n)[..., None] * dz_dh + torch.diag_embed(z)


def _lstm_at_rest(w, x: torch.Tensor, h: torch.Tensor):
    """An LSTM's cell at rest: its gates depend on (x, h) only, so c' = f·c + i·g has c = c*(h) = i·g / (1 − f) as
    its one fixed point for a given h, and the LSTM's fixed points are the roots of the reduced map
    R(h) = W_hr (o·tanh(c*(h))) − h (no W_hr without a projection), of half the size. Returns (c*, R(h) + h, ∂(R + h)/∂h)
    for h (N, P) and x (N, D)."""
    gates = lstm_gates(w, x, h)
    i, f, g, o = gates["i"], gates["f"], gates["g"], gates["o"]
    u = split_gates(w.w_hh)
    di, df, do = (_act_slope(v, w.gate_activation) for v in (i, f, o))
    rest = (1 - f).clamp(min=1e-12)  # a hard-sigmoid forget gate may be exactly 1: c then integrates
    c = i * g / rest
    dc = ((g * di / rest)[..., None] * u["i"]).addcmul_((i * (1 - g * g) / rest)[..., None], u["g"])
    dc.addcmul_((c * df / rest)[..., None], u["f"])
    tc = torch.tanh(c)
    m = o * tc
    dm = (o * (1 - tc * tc))[..., None] * dc
    dm.addcmul_((tc * do)[..., None], u["o"])
    if w.w_hr is not None:
        return c, m @ w.w_hr.T, w.w_hr @ dm
    return c, m, dm


class _Map:
    """The residual whose roots are the fixed points, over a batch of reduced states (N, S_r) and inputs x (N, D):
    F(h) − h for a GRU; for an LSTM the reduced map of :func:`_lstm_at_rest` over h alone."""

    def __init__(self, w, cell: str):
        self.w, self.cell = w, cell
        self.P = w.w_hr.shape[0] if w.w_hr is not None else w.w_hh.shape[1]

    def residual(self, h: torch.Tensor, x: torch.Tensor):
        if self.cell == "gru":
            f, jac = step_jacobian(self.w, self.cell, x, h)
        else:
            _, f, jac = _lstm_at_rest(self.w, x, h)
        return f - h, jac

    def full_state(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The full state s = [h, c*(h)] (h for a GRU)."""
        return h if self.cell == "gru" else torch.cat([h, _lstm_at_rest(self.w, x, h)[0]], dim=1)

    def full(self, s: torch.Tensor, x: torch.Tensor):
        """q(s) = ½‖F(s, x) − s‖² and ∂F/∂s (N, S, S) at full states s."""
        h, c = (s, None) if self.cell == "gru" else (s[:, : self.P], s[:, self.P :])
        f, jac = step_jacobian(self.w, self.cell, x, h, c)
        return 0.5 * ((f - s) ** 2).sum(1), jac


def _solve(fmap: _Map, s: torch.Tensor, x: torch.Tensor, max_iter: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Levenberg–Marquardt on ½‖r(s)‖² (r: ``fmap``'s residual) for every row of ``s`` at once; returns (s, q)."""
    s = s.clone()
    r, jac = fmap.residual(s, x)
    q = 0.5 * (r * r).sum(1)
    eye = torch.eye(s.shape[1], dtype=s.dtype, device=s.device)
    mu = torch.full_like(q, _MU_START)
    active = q > _Q_FLOOR
    checkpoint = q.clone()
    for it in range(1, max_iter + 1):
        idx = active.nonzero().squeeze(1)
        if idx.numel() == 0:
            break
        a = jac[idx] - eye
        at = a.transpose(1, 2)
        grad = at @ r[idx, :, None]  # Aᵀr (n, S, 1)
        lhs = at @ a + mu[idx, None, None] * eye
        chol, info = torch.linalg.cholesky_ex(lhs)
        delta = -torch.cholesky_solve(grad, chol)[..., 0]
        delta = torch.where((info == 0)[:, None], delta, torch.zeros_like(delta))
        s_new = s[idx] + delta
        r_new, jac_new = fmap.residual(s_new, x[idx])
        q_new = 0.5 * (r_new * r_new).sum(1)
        better = (q_new < q[idx]) & torch.isfinite(q_new)
        take = idx[better]
        s[take], r[take], jac[take], q[take] = s_new[better], r_new[better], jac_new[better], q_new[better]
        mu[idx] = torch.where(better, (mu[idx] / 3).clamp(min=_MU_MIN), mu[idx] * 4)
        tiny = delta.norm(dim=1) <= 1e-13 * (1 + s[idx].norm(dim=1))
        done = (q[idx] <= _Q_FLOOR) | tiny | (mu[idx] > _MU_MAX)
        active[idx[done]] = False
        if it % _STALL_ITERS == 0:  # a point whose q fell by less than 1 % over the last iterations has stalled
            stalled = active & (q > _Q_STALL) & (q > 0.99 * checkpoint)
            active &= ~stalled
            checkpoint = q.clone()
    return s, q


def _dedup(states: torch.Tensor, q: torch.Tensor, radius: float) -> list[int]:
    """Indices of the points kept: by increasing q, each one farther than ``radius`` from every point kept before."""
    order = torch.argsort(q, stable=True).tolist()
    dist = torch.cdist(states, states)
    kept: list[int] = []
    for k in order:
        if not kept or bool((dist[k, kept] > radius).all()):
            kept.append(k)
    return kept


def _check_positive(value, what: str, integer: bool = False):
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds) or not np.isfinite(value) or value <= 0:
        expected = "a positive integer" if integer else "a positive finite number"
        raise ValueError(f"{what} must be {expected}; got {value!r}")
    return int(value) if integer else float(value)


def _check_inputs(inputs, spec: RecurrentSpec) -> np.ndarray:
    x = as_float_array(inputs, "inputs")
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(
            f"inputs has shape {tuple(x.shape)}; expected one constant input (features,) or several (K, features) — "
            "e.g. per-class mean inputs"
        )
    width = spec.raw_features
    if width is not None and x.shape[1] != width:
        raise ValueError(
            f"inputs has {x.shape[1]} features per input (shape {tuple(x.shape)}); the model expects {width}"
        )
    if not np.isfinite(x).all():
        k = int(np.argwhere(~np.isfinite(x))[0][0])
        raise ValueError(f"inputs row {k} contains NaN or Inf; expected finite numbers")
    return np.ascontiguousarray(x, dtype=np.float32)


def _layer_input(spec: RecurrentSpec, x: np.ndarray, layer: int, max_iter: int, tol: float) -> torch.Tensor:
    """What ``layer`` receives while the model reads the constant inputs ``x`` (K, D) for ever: the model's
    preprocessing applied to a constant sequence (as ``record`` applies it), then each layer below at the stable fixed
    point its state settles into from its initial state. Float64 (K, D_layer)."""
    z = torch.from_numpy(x).to(spec.device, spec.dtype)
    if spec.preprocess is not None:
        with torch.no_grad():
            seq = spec.preprocess(z[:, None].expand(-1, _PRE_STEPS, -1).contiguous())
        mid = seq[:, _PRE_STEPS // 4 : 3 * _PRE_STEPS // 4]
        drift = (mid - mid[:, -1:]).abs().amax().item()
        if drift > 1e-5 * (1 + mid.abs().amax().item()):
            raise ValueError(
                f"the model's preprocessing (what its forward does before the recurrent layer) does not give a "
                f"constant output for a constant input (its steps differ by {drift:.3g} after {_PRE_STEPS // 4} "
                "steps), so the layer's input is not constant; pass the recurrent module itself, and the input it "
                "receives, instead"
            )
        z = seq[:, _PRE_STEPS // 2]
    z = z.to(torch.float64)
    for below in range(layer):
        outs = []
        for w in spec.layers[below]:
            w64 = _as64(w)
            h, c = initial_state(w64, spec.cell, len(z), z)
            with torch.no_grad():
                for _ in range(_SETTLE_STEPS):
                    got = step(w64, spec.cell, z, h, c)
                    h, c = got["h"], got.get("c")
                fmap = _Map(w64, spec.cell)
                s0 = fmap.full_state(h, z) if c is None else torch.cat([h, c], dim=1)
                h, q = _solve(fmap, h, z, max_iter)
                s = fmap.full_state(h, z)
                q, jac = fmap.full(s, z)
                radius = torch.linalg.eigvals(jac).abs().amax(dim=1)
            bad = (q > tol) | (radius >= 1) | ((s - s0).norm(dim=1) > 1e-2 * (1 + s0.norm(dim=1)))
            if bool(bad.any()):
                k = int(bad.nonzero()[0])
                raise ValueError(
                    f"layer {below} does not settle to a stable fixed point for input {k} (after {_SETTLE_STEPS} steps "
                    f"from its initial state its state still moves), so layer {layer}'s input is not constant; fixed "
                    f"points of layer {layer} need the layers below at rest — use layer={below}"
                )
            outs.append(h)
        z = outs[0] if len(outs) == 1 else torch.cat(outs, dim=1)
    return z


def _as64(w):
    """A direction's weights in float64."""
    conv = lambda t: None if t is None else t.detach().to(torch.float64)  # noqa: E731
    return replace(
        w,
        w_ih=conv(w.w_ih),
        w_hh=conv(w.w_hh),
        b_ih=conv(w.b_ih),
        b_hh=conv(w.b_hh),
        w_hr=conv(w.w_hr),
        h0=conv(w.h0),
        c0=conv(w.c0),
    )


def _state_pool(spec: RecurrentSpec, model, sequences, row: int, lstm, head) -> torch.Tensor | None:
    """The states (n, S) row ``row`` visits on ``sequences`` (recorded now, or Recordings already made); None for
    None."""
    if sequences is None:
        return None
    from ..recording.observe import record
    from ..recording.recorder import Recording

    if isinstance(sequences, Recording) or (
        isinstance(sequences, (list, tuple)) and sequences and all(isinstance(r, Recording) for r in sequences)
    ):
        recs = [sequences] if isinstance(sequences, Recording) else list(sequences)
        for k, rec in enumerate(recs):
            if rec.layer_names != spec.layer_names or rec.cell != spec.cell:
                raise ValueError(
                    f"sequences[{k}] is a recording of another model ({rec.cell}, rows {list(rec.layer_names)}); "
                    f"expected recordings of this one ({spec.cell}, rows {list(spec.layer_names)})"
                )
    else:
        got = record(model, sequences, lstm=lstm, head=head)
        recs = [got] if isinstance(got, Recording) else got
    parts = [np.concatenate([r.h[row], r.c[row]], axis=1) if spec.cell == "lstm" else r.h[row] for r in recs]
    return torch.from_numpy(np.concatenate(parts)).to(torch.float64)


def _sample_states(pool: torch.Tensor | None, S: int, n: int, noise: float, gen: torch.Generator) -> torch.Tensor:
    """``n`` initial states (n, S) drawn from ``pool`` (without replacement while it lasts), or uniformly in (−1, 1)
    without one; Gaussian noise of std ``noise`` added. On the CPU (the generator's device)."""
    if pool is None:
        s = torch.rand(n, S, generator=gen, dtype=torch.float64) * 2 - 1
    elif len(pool) >= n:
        s = pool[torch.randperm(len(pool), generator=gen)[:n]]
    else:
        s = pool[torch.randint(len(pool), (n,), generator=gen)]
    if noise:
        s = s + noise * torch.randn(s.shape, generator=gen, dtype=torch.float64)
    return s


def fixed_points(
    model,
    inputs,
    *,
    layer: int = 0,
    direction: int = 0,
    sequences=None,
    n_inits: int = 256,
    tol: float = 1e-8,
    slow_tol: float | None = None,
    dedup_tol: float = 1e-4,
    noise: float = 0.0,
    max_iter: int = 200,
    seed: int = 0,
    lstm=None,
    head=_AUTO,
    _spec: RecurrentSpec | None = None,
) -> FixedPoints:
    """Fixed points of one recurrent layer for constant inputs: states s = (h, c) (h for a GRU) with F(s, x) = s.

    ``model``: anything :func:`lstm_widget.record` takes (``lstm=`` / ``head=`` as there). ``inputs``: one constant
    input (features,) or several (K, features) — e.g. per-class mean inputs — in the model's own input space: the
    model's preprocessing (what its forward does before the recurrent layer, e.g. a normalisation) is applied as
    ``record`` applies it. ``layer`` / ``direction``: the recurrent layer (and for a bidirectional one its half); a
    layer above the first receives what the layers below produce for the constant input at the stable fixed point
    they settle into from their initial state (an error if they do not settle).

    ``sequences``: where the ``n_inits`` initial states per input come from — sequences (one (T, D) array or a list)
    that are recorded, or Recordings of this model already made; the states the layer visits on them are sampled
    (seeded by ``seed``), with Gaussian noise of std ``noise`` added. None: states drawn uniformly in (−1, 1).

    Every initial state descends q(s) = ½‖F(s, x) − s‖² (Levenberg–Marquardt, float64, at most ``max_iter`` steps; an
    LSTM's over h with c at rest, see the module's notes); those ending with q ≤ ``tol`` are fixed points; with
    ``slow_tol`` (> tol), those with tol < q ≤ slow_tol are kept as slow points; points within ``dedup_tol`` of each
    other (Euclidean, in s) are one. Returns :class:`FixedPoints` — every point's h, c, q, Jacobian, eigenvalues,
    leading eigenvector, stability and kind, for all inputs together (``input_index`` says whose).
    """
    spec = describe(model, lstm=lstm, head=head) if _spec is None else _spec  # an explorer passes its own spec
    x = _check_inputs(inputs, spec)
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < spec.num_layers:
        raise ValueError(f"layer must be a layer index 0..{spec.num_layers - 1}; got {layer!r}")
    dirs = len(spec.layers[layer])
    if isinstance(direction, bool) or not isinstance(direction, (int, np.integer)) or not 0 <= direction < dirs:
        raise ValueError(
            f"direction must be 0{' or 1' if dirs == 2 else ''} (layer {layer} has {dirs} "
            f"direction{'s' * (dirs > 1)}); got {direction!r}"
        )
    n_inits = _check_positive(n_inits, "n_inits", integer=True)
    max_iter = _check_positive(max_iter, "max_iter", integer=True)
    tol = _check_positive(tol, "tol")
    dedup_tol = _check_positive(dedup_tol, "dedup_tol")
    if slow_tol is not None and _check_positive(slow_tol, "slow_tol") <= tol:
        raise ValueError(
            f"slow_tol must be above tol ({tol:g}) — slow points have tol < q ≤ slow_tol; got {slow_tol!r}"
        )
    if (
        isinstance(noise, bool)
        or not isinstance(noise, (int, float, np.integer, np.floating))
        or not np.isfinite(noise)
        or noise < 0
    ):
        raise ValueError(f"noise must be a number ≥ 0 (the std of the noise added to initial states); got {noise!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer; got {seed!r}")

    row = sum(len(r) for r in spec.layers[:layer]) + direction
    w = _as64(spec.layers[layer][direction])
    fmap = _Map(w, spec.cell)
    gen = torch.Generator().manual_seed(int(seed))
    z = _layer_input(spec, x, layer, max_iter, tol)  # (K, D_layer) float64
    K = len(x)
    pool = _state_pool(spec, model, sequences, row, lstm, head)
    S = fmap.P + (0 if spec.cell == "gru" else spec.hidden_size)
    s0 = torch.cat([_sample_states(pool, S, n_inits, float(noise), gen) for _ in range(K)]).to(spec.device)
    xs = z.repeat_interleave(n_inits, dim=0)
    with torch.no_grad():  # an LSTM's c follows from h at rest; each input apart (its Jacobians stay in cache)
        parts = [
            _solve(fmap, s0[k * n_inits : (k + 1) * n_inits, : fmap.P], xs[k * n_inits : (k + 1) * n_inits], max_iter)
            for k in range(K)
        ]
        h, q = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
        s = fmap.full_state(h, xs)
    limit = tol if slow_tol is None else float(slow_tol)
    keep_idx = []
    for k in range(K):
        mine = torch.arange(k * n_inits, (k + 1) * n_inits, device=s.device)
        mine = mine[torch.isfinite(q[mine]) & (q[mine] <= limit)]
        keep_idx += [int(mine[j]) for j in _dedup(s[mine], q[mine], dedup_tol)] if len(mine) else []
    idx = torch.tensor(keep_idx, dtype=torch.long, device=s.device)
    s, xs = s[idx], xs[idx]
    with torch.no_grad():
        q, jac = fmap.full(s, xs)
    if len(idx):
        vals, vecs = torch.linalg.eig(jac)
        order = torch.argsort(vals.abs(), dim=1, descending=True, stable=True)
        vals = torch.gather(vals, 1, order)
        lead = torch.gather(vecs, 2, order[:, None, :1].expand(-1, S, 1))[..., 0]
        lead = lead / lead.norm(dim=1, keepdim=True)
    else:
        vals = torch.zeros(0, S, dtype=torch.complex128)
        lead = torch.zeros(0, S, dtype=torch.complex128)
    vals, lead = vals.cpu().numpy(), lead.cpu().numpy()
    q_np = q.cpu().numpy()
    stable = (np.abs(vals) < 1).all(axis=1) if len(idx) else np.zeros(0, bool)
    kind = np.where(q_np > tol, "slow", np.where(stable, "stable", "unstable")).astype("<U8")
    s_np = s.cpu().numpy()
    return FixedPoints(
        h=s_np[:, : fmap.P],
        c=None if spec.cell == "gru" else s_np[:, fmap.P :],
        q=q_np,
        jacobian=jac.cpu().numpy(),
        eigenvalues=vals,
        leading=lead,
        stable=stable,
        kind=kind,
        input_index=(idx // n_inits).cpu().numpy(),
        inputs=x,
        cell=spec.cell,
        layer=int(layer),
        direction=int(direction),
        layer_name=spec.layer_names[row],
        tol=tol,
        slow_tol=None if slow_tol is None else float(slow_tol),
    )
