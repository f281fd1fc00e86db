"""RecurrentStack: recurrent layers brought in from another framework (Keras, ONNX) as one torch module.

torch's ``nn.LSTM`` / ``nn.GRU`` hold the weights (PyTorch layout, gate order i, f, g, o / r, z, n); what those modules
cannot express lives beside them, per layer, in :class:`LayerOptions` and in initial-state buffers:

- ``reverse``: a one-direction layer that reads the sequence from its last step to its first (ONNX
  ``direction="reverse"``). Its outputs stay in the input's time order (step t holds the state after reading steps
  T-1 … t), exactly like the reverse half of a bidirectional layer, and a recording names it ``layer<k>_reverse``;
- ``gate_activation``: a hard sigmoid ``clip(alpha·x + beta, 0, 1)`` for the gates instead of the logistic sigmoid
  (Keras ``recurrent_activation="hard_sigmoid"``: alpha 1/6, beta 0.5; ONNX ``HardSigmoid``: its own alpha, beta);
- ``reset_after=False`` (GRU): the reset gate multiplies the previous state before the recurrent product,
  n = tanh(W_in x + b_in + W_hn (r·h) + b_hn) (Keras ``reset_after=False``, ONNX ``linear_before_reset=0``);
- initial states h0 (and c0) per direction instead of zeros.

The stack runs through the same kernel functions that ``record`` uses, so what it computes is what a recording shows.
It is an inference module: no gradients flow through it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

#: What a stack outputs from its last recurrent layer, before the head.
OUTPUTS = ("sequence", "last_step", "final_state")


@dataclass(frozen=True)
class LayerOptions:
    """How one layer of a :class:`RecurrentStack` runs, beyond what ``nn.LSTM`` / ``nn.GRU`` say."""

    reverse: bool = False
    gate_activation: tuple | None = None  # None: sigmoid; (alpha, beta): clip(alpha·x + beta, 0, 1)
    reset_after: bool = True  # GRU only


class RecurrentStack(nn.Module):
    """Single-layer ``nn.LSTM`` / ``nn.GRU`` modules run one after the other, then an optional head.

    ``forward(x)`` takes ``x`` shaped (batch, steps, features) and returns, from the last layer: the whole output
    sequence (``output="sequence"``), its last step (``"last_step"``) or each direction's final state
    (``"final_state"``: the last step forward, the first step for a direction that reads backwards), passed through
    ``head`` when there is one and then through ``output_activation`` ("softmax", "sigmoid" or None; kept out of the
    head so that a recording's logits are the values before it). ``framework`` ("pytorch", "keras" or "onnx") says
    where the weights came from: :func:`~lstm_widget.gate_weights` names and orders the gate blocks as it does.
    """

    def __init__(
        self,
        layers,
        *,
        options=None,
        initial_states=None,
        head: nn.Module | None = None,
        output: str = "sequence",
        output_activation: str | None = None,
        source: str = "RecurrentStack",
        framework: str = "pytorch",
    ):
        super().__init__()
        layers = list(layers)
        if not layers:
            raise ValueError("a RecurrentStack needs at least one nn.LSTM or nn.GRU layer; got none")
        prev = None
        for k, m in enumerate(layers):
            if not isinstance(m, (nn.LSTM, nn.GRU)):
                raise TypeError(f"layers[{k}] is a {type(m).__name__}; expected an nn.LSTM or nn.GRU")
            if m.num_layers != 1:
                raise ValueError(f"layers[{k}] has num_layers={m.num_layers}; expected single-layer modules (1)")
            if prev is not None and m.input_size != prev:
                raise ValueError(f"layers[{k}] takes {m.input_size} features; the layer before it outputs {prev}")
            prev = (getattr(m, "proj_size", 0) or m.hidden_size) * (2 if m.bidirectional else 1)
        options = tuple(options) if options is not None else tuple(LayerOptions() for _ in layers)
        if len(options) != len(layers) or not all(isinstance(o, LayerOptions) for o in options):
            raise ValueError(f"options must be {len(layers)} LayerOptions, one per layer; got {options!r}")
        for k, (m, o) in enumerate(zip(layers, options, strict=True)):
            if o.reverse and m.bidirectional:
                raise ValueError(f"layers[{k}] is bidirectional; reverse=True is for one-direction layers only")
            if not o.reset_after and not isinstance(m, nn.GRU):
                raise ValueError(f"layers[{k}] is an {type(m).__name__}; reset_after=False is for GRU layers only")
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}; got {output!r}")
        if output_activation not in (None, "softmax", "sigmoid"):
            raise ValueError(f"output_activation must be 'softmax', 'sigmoid' or None; got {output_activation!r}")
        self.layers = nn.ModuleList(layers)
        self.options = options
        initial_states = list(initial_states) if initial_states is not None else [(None, None)] * len(layers)
        if len(initial_states) != len(layers):
            raise ValueError(
                f"initial_states must hold one (h0, c0) pair per layer ({len(layers)}); got {len(initial_states)}"
            )
        for k, ((h0, c0), m) in enumerate(zip(initial_states, layers, strict=True)):
            dirs = 2 if m.bidirectional else 1
            for name, value, size in (("h", h0, getattr(m, "proj_size", 0) or m.hidden_size), ("c", c0, m.hidden_size)):
                if value is not None:
                    value = torch.as_tensor(value, dtype=m.weight_ih_l0.dtype)
                    if name == "c" and isinstance(m, nn.GRU):
                        raise ValueError(f"layers[{k}] is a GRU; it has no cell state, so no initial c")
                    if tuple(value.shape) != (dirs, size):
                        raise ValueError(
                            f"the initial {name} of layers[{k}] has shape {tuple(value.shape)}; expected "
                            f"{(dirs, size)} (directions, units)"
                        )
                self.register_buffer(f"initial_{name}{k}", value)
        self.head = head
        self.output = output
        self.output_activation = output_activation
        self.source = source
        from .gates import GATE_ORDER

        if framework not in GATE_ORDER:
            raise ValueError(f"framework must be one of {sorted(GATE_ORDER)}; got {framework!r}")
        self.framework = framework  # where the weights came from: names and gate order of its weight views

    @property
    def cells(self) -> tuple:
        """Each layer's cell kind, "lstm" or "gru"."""
        return tuple("lstm" if isinstance(m, nn.LSTM) else "gru" for m in self.layers)

    @property
    def input_size(self) -> int:
        return self.layers[0].input_size

    def layer_rows(self, k: int) -> tuple:
        """Layer ``k`` as the kernel's rows of DirectionWeights."""
        from .rows import _rnn_rows

        initial = (getattr(self, f"initial_h{k}"), getattr(self, f"initial_c{k}"))
        return _rnn_rows(self.layers[k], self.options[k], initial)

    def run_layers(self, x: torch.Tensor, stop: int | None = None) -> torch.Tensor:
        """The output sequence (batch, steps, features) of ``layers[:stop]`` (all of them by default) on ``x``."""
        from .run import layer_outputs

        out = x
        for k in range(len(self.layers) if stop is None else stop):
            (rows,) = self.layer_rows(k)
            out, _ = layer_outputs(rows, self.cells[k], out)
        return out

    def extra_repr(self) -> str:
        opts = [f"layers.{k}: {o}" for k, o in enumerate(self.options) if o != LayerOptions()]
        framework = getattr(self, "framework", "pytorch")
        return ", ".join([f"source={self.source!r}", f"framework={framework!r}", f"output={self.output!r}"] + opts)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 3:
            got = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
            raise ValueError(f"RecurrentStack takes x shaped (batch, steps, features); got {got}")
        w = self.layers[0].weight_ih_l0
        out = self.run_layers(x.to(w.device, w.dtype))
        if self.output == "last_step":
            out = out[:, -1]
        elif self.output == "final_state":
            (rows,) = self.layer_rows(len(self.layers) - 1)
            P = out.shape[-1] // len(rows)
            out = torch.cat([out[:, 0 if r.reverse else -1, d * P : (d + 1) * P] for d, r in enumerate(rows)], dim=-1)
        if self.head is not None:
            out = self.head(out)
        if self.output_activation == "softmax":
            out = torch.softmax(out, dim=-1)
        elif self.output_activation == "sigmoid":
            out = torch.sigmoid(out)
        return out
