"""Real recurrent models of every common shape, written here as their authors write them (PyTorch's own examples and
the usual textbook models), for the tests of every layer: a word-level language model with forward(input, hidden),
a two-cell forecaster with closed-loop steps, a per-step regressor, an encoder–decoder, a model that packs its batch,
one with dropout, and a next-token model."""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence


class WordLM(nn.Module):
    """PyTorch's word_language_model example: Embedding → LSTM (time first, 2 layers, dropout) → Linear(vocab),
    ``forward(input, hidden)`` returning (log-probabilities flattened over (T·B), hidden)."""

    def __init__(self, ntoken=17, ninp=8, nhid=12, nlayers=2, dropout=0.3):
        super().__init__()
        self.ntoken, self.nhid, self.nlayers = ntoken, nhid, nlayers
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        decoded = self.decoder(self.drop(output)).view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        w = next(self.parameters())
        return w.new_zeros(self.nlayers, bsz, self.nhid), w.new_zeros(self.nlayers, bsz, self.nhid)


class SineForecaster(nn.Module):
    """PyTorch's time_sequence_prediction example: two LSTMCells looped in its own forward, a Linear on the second
    cell's h at every step, ``future`` closed-loop steps that feed the prediction back."""

    def __init__(self, hidden=12):
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input, future=0):
        outputs = []
        B = input.size(0)
        h_t = c_t = h_t2 = c_t2 = torch.zeros(B, self.hidden, dtype=input.dtype)
        output = None
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs.append(output)
        for _ in range(future):
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs.append(output)
        return torch.cat(outputs, dim=1)


class Regressor(nn.Module):
    """LSTM(3, 24) → Linear(24, 1): one real value per step."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 24, batch_first=True)
        self.out = nn.Linear(24, 1)

    def forward(self, x):
        return self.out(self.lstm(x)[0])


class EncoderDecoder(nn.Module):
    """An encoder LSTM over the input, then a decoder LSTM called one step at a time for ``steps`` steps from the
    encoder's final state, feeding its own prediction back."""

    def __init__(self, steps=4):
        super().__init__()
        self.steps = steps
        self.encoder = nn.LSTM(3, 10, batch_first=True)
        self.decoder = nn.LSTM(2, 10, batch_first=True)
        self.head = nn.Linear(10, 2)

    def forward(self, x):
        _, state = self.encoder(x)
        y = x.new_zeros(x.shape[0], 1, 2)
        outs = []
        for _ in range(self.steps):
            h, state = self.decoder(y, state)
            y = self.head(h)
            outs.append(y)
        return torch.cat(outs, dim=1)


class Packed(nn.Module):
    """Packs its padded batch by the lengths it is given; classifies from each sequence's own final state."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 9, batch_first=True)
        self.fc = nn.Linear(9, 3)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        return self.fc(h[-1])


class Dropped(nn.Module):
    """Dropout before a two-layer LSTM with dropout between its layers, and a classifier on the last step."""

    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)
        self.lstm = nn.LSTM(4, 8, num_layers=2, dropout=0.5, batch_first=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc(self.lstm(self.drop(x))[0][:, -1])


class TokenClassifier(nn.Module):
    """Embedding → LSTM → Linear(vocab): next-token logits at every step, batch first."""

    def __init__(self, vocab=11):
        super().__init__()
        self.emb = nn.Embedding(vocab, 5)
        self.lstm = nn.LSTM(5, 7, batch_first=True)
        self.fc = nn.Linear(7, vocab)

    def forward(self, ids):
        return self.fc(self.lstm(self.emb(ids))[0])


def lm_forward(m, batch):
    """How WordLM is called: with a zero hidden state for the batch (time first)."""
    return m(batch, m.init_hidden(batch.shape[1]))
