"""The energy E(puzzle, s) whose gradient steps solve the puzzle, with its gradient in closed form.

s (B, 81, Z) is the per-cell state of a solve; the puzzle enters through the givens and x =
context_bias(z_context) (B, 81, H), computed once per puzzle from the context encoder's output.
Three terms:

    E = sum_i w . softplus(pre_i(s)) + quad / 2 * |s|^2 + rule_weight * rules(softmax(decode(s)))

pre_i mixes cell i's state with the means of its row, column and box and its context, so
dE/ds is itself a row/column/box message-passing update with the transposed weights: a descent
step costs about two forward passes and needs no autograd. The quadratic term keeps E bounded
below (softplus grows linearly), so descent has somewhere to stop; the rule term is the hand-written
Sudoku penalty (each digit once per unit) on the decoded probabilities.

`energy` is the plain formula (what the tests differentiate with autograd); `energy_and_grad` is
what training unrolls and the ONNX step graph holds. The two agree to float rounding (tested).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from model.units import UnitMixer


def enforce_givens(logits: torch.Tensor, givens: torch.Tensor) -> torch.Tensor:
    """Replace the logits of given cells by a confident one-hot of the given digit."""
    is_given = givens.sum(-1, keepdim=True)  # (B, 81, 1)
    return logits * (1.0 - is_given) + (givens * 2.0 - 1.0) * is_given * 20.0


def rule_penalty(probs: torch.Tensor, unit_sum: torch.Tensor) -> torch.Tensor:
    """(B, 81, 9) -> (B,): sum over 27 units x 9 digits of (sum of probs - 1)^2."""
    sums = torch.matmul(unit_sum, probs)  # (B, 27, 9)
    return ((sums - 1.0) ** 2).sum(dim=(1, 2))


class DescentEnergy(nn.Module):
    """E(z_context, givens, s): the learned message-passing energy plus the rule penalty.

    Also holds the decoder (state -> digit logits) and the learned step size, because all
    three define one descent step.
    """

    def __init__(self, d_model: int, z_dim: int, hidden: int, quad: float, rule_weight: float,
                 step_size: float) -> None:
        super().__init__()
        self.mix = UnitMixer()
        self.context = nn.Linear(d_model, hidden)  # per-cell bias of pre from the puzzle
        self.cell = nn.Linear(z_dim, hidden, bias=False)
        self.row = nn.Linear(z_dim, hidden, bias=False)
        self.col = nn.Linear(z_dim, hidden, bias=False)
        self.box = nn.Linear(z_dim, hidden, bias=False)
        self.w = nn.Parameter(torch.randn(hidden) / math.sqrt(hidden))
        self.decoder = nn.Linear(z_dim, 9)
        self.quad = quad
        self.rule_weight = rule_weight
        # EBT: a large learnable step, in log space so it stays positive
        self.log_step = nn.Parameter(torch.tensor(math.log(step_size)))

    def step_size(self) -> torch.Tensor:
        return self.log_step.exp()

    def logits(self, s: torch.Tensor, givens: torch.Tensor) -> torch.Tensor:
        """(B, 81, Z) -> (B, 81, 9) digit logits, givens enforced: the answer read from s."""
        return enforce_givens(self.decoder(s), givens)

    def context_bias(self, z_context: torch.Tensor) -> torch.Tensor:
        """(B, 81, D) -> x (B, 81, H): the puzzle's constant part of the pre-activation."""
        return self.context(z_context)

    def _pre(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        m = self.mix.means(s)  # (B, 27, Z)
        return (x + self.cell(s)
                + self.mix.spread(self.row(m[:, 0:9]), self.col(m[:, 9:18]),
                                  self.box(m[:, 18:27])))  # (B, 81, H)

    def learned(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """The learned term alone (B,): what the recurrent model fits to the latent distance."""
        return (F.softplus(self._pre(x, s)) * self.w).sum(dim=(1, 2))

    def energy(self, x: torch.Tensor, givens: torch.Tensor,
               s: torch.Tensor) -> torch.Tensor:
        """Energy per sample (B,): the formula of the module docstring, nothing else."""
        return self.energy_and_probs(x, givens, s)[0]

    def energy_and_probs(self, x: torch.Tensor, givens: torch.Tensor,
                         s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(energy (B,), probs (B, 81, 9)) at s: the energy and the answer it reads, one decode."""
        learned = self.learned(x, s)
        probs = torch.softmax(self.logits(s, givens), dim=-1)
        rules = rule_penalty(probs, self.mix.unit_sum)
        energy = learned + 0.5 * self.quad * (s * s).sum(dim=(1, 2)) + self.rule_weight * rules
        return energy, probs

    def energy_and_grad(self, x: torch.Tensor, givens: torch.Tensor, s: torch.Tensor,
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(energy (B,), dE/ds (B, 81, Z), probs (B, 81, 9)) at s, the gradient in closed form.

        Differentiable by autograd (training backpropagates through unrolled steps) and plain
        matmuls (the ONNX step graph holds exactly this).
        """
        pre = self._pre(x, s)  # (B, 81, H)
        gate = torch.sigmoid(pre) * self.w  # dE/dpre
        gm = self.mix.means(gate)  # (B, 27, H)
        grad = (torch.matmul(gate, self.cell.weight)
                + self.mix.spread(torch.matmul(gm[:, 0:9], self.row.weight),
                                  torch.matmul(gm[:, 9:18], self.col.weight),
                                  torch.matmul(gm[:, 18:27], self.box.weight)))
        probs = torch.softmax(self.logits(s, givens), dim=-1)  # (B, 81, 9)
        sums = torch.matmul(self.mix.unit_sum, probs) - 1.0  # (B, 27, 9)
        d_probs = 2.0 * self.rule_weight * torch.matmul(self.mix.unit_sum.t(), sums)
        d_logits = probs * (d_probs - (probs * d_probs).sum(-1, keepdim=True))
        d_logits = d_logits * (1.0 - givens.sum(-1, keepdim=True))  # given logits are constant
        grad = grad + torch.matmul(d_logits, self.decoder.weight) + self.quad * s
        energy = ((F.softplus(pre) * self.w).sum(dim=(1, 2))
                  + 0.5 * self.quad * (s * s).sum(dim=(1, 2))
                  + self.rule_weight * (sums * sums).sum(dim=(1, 2)))
        return energy, grad, probs


def descent_step(energy_fn: DescentEnergy, x: torch.Tensor, givens: torch.Tensor,
                 s: torch.Tensor, step_size: torch.Tensor | float, noise: torch.Tensor,
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One step of the solve: s <- s - step_size * dE/ds + noise.

    Returns (s_next, energy at s (B,), probs at s (B, 81, 9)): the state measured before the
    update, as the trace shows it. noise (B, 81, Z) is already scaled (zeros: plain descent).
    """
    energy, grad, probs = energy_fn.energy_and_grad(x, givens, s)
    return s - step_size * grad + noise, energy, probs
