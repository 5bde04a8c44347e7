"""The board's structure as tensors: which cells form each unit, who is whose peer, and the
puzzle's input features. Shared by the network and the energy, so neither imports the other's
internals."""

from __future__ import annotations

import numpy as np
import torch

from model.board import UNITS


def unit_membership() -> torch.Tensor:
    """(27, 81) float 0/1: row u of the matrix marks the 9 cells of unit u (rows, cols, boxes)."""
    m = torch.zeros(27, 81)
    for u, cells in enumerate(np.asarray(UNITS, dtype=np.int64)):
        m[u, torch.as_tensor(cells)] = 1.0
    return m


def peer_adjacency() -> torch.Tensor:
    """(81, 81) float 0/1: cells sharing a unit, excluding the cell itself (20 per row)."""
    m = unit_membership()
    shared = (m.t() @ m) > 0  # (81, 81)
    return (shared & ~torch.eye(81, dtype=torch.bool)).float()


def puzzle_onehot(puzzle: torch.Tensor) -> torch.Tensor:
    """(B, 81) int digits 0..9 -> (B, 81, 9) float one-hot of the givens (blank = zeros)."""
    digits = torch.arange(1, 10, device=puzzle.device)
    return (puzzle.long().unsqueeze(-1) == digits).float()


def candidate_features(givens: torch.Tensor, peers: torch.Tensor) -> torch.Tensor:
    """(B, 81, 9) givens one-hot -> (B, 81, 18) given one-hot + candidate mask.

    The candidate mask holds the digits no peer's given uses; a given cell's mask is its own
    digit, so a full grid's features are its one-hot twice (the target encoder's input).
    """
    used = torch.clamp(torch.matmul(peers, givens), max=1.0)  # (B, 81, 9)
    is_given = givens.sum(-1, keepdim=True)  # (B, 81, 1)
    cand = givens + (1.0 - is_given) * (1.0 - used)
    return torch.cat([givens, cand], dim=-1)


def grid_features(probs: torch.Tensor) -> torch.Tensor:
    """(B, 81, 9) one-hot or soft grid -> (B, 81, 18) target-encoder input (digits = candidates)."""
    return torch.cat([probs, probs], dim=-1)


class UnitMixer(torch.nn.Module):
    """The message-passing algebra both the encoder and the energy use.

    `means(h)` averages h over each of the 27 units (rows, columns, boxes, in board.UNITS
    order); `spread(rows, cols, boxes)` gives each cell its row's + column's + box's entry. Dense
    matmuls: faster on a CPU than reshape-and-reduce (strided sums), and plain MatMul in ONNX.
    """

    def __init__(self) -> None:
        super().__init__()
        m = unit_membership()  # (27, 81)
        self.register_buffer("unit_mean", m / 9.0, persistent=False)  # (27, 81)
        self.register_buffer("unit_sum", m, persistent=False)  # (27, 81)
        self.register_buffer("cell_rows", m[0:9].t().contiguous(), persistent=False)  # (81, 9)
        self.register_buffer("cell_cols", m[9:18].t().contiguous(), persistent=False)
        self.register_buffer("cell_boxes", m[18:27].t().contiguous(), persistent=False)

    def means(self, h: torch.Tensor) -> torch.Tensor:
        """(B, 81, X) -> (B, 27, X)."""
        return torch.matmul(self.unit_mean, h)

    def spread(self, rows: torch.Tensor, cols: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """Three (B, 9, X) per-unit tensors -> (B, 81, X)."""
        return (torch.matmul(self.cell_rows, rows) + torch.matmul(self.cell_cols, cols)
                + torch.matmul(self.cell_boxes, boxes))
