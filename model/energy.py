"""The energies of the JEPA model: the trained latent energy and the inference energy.

Training: E = ||P(z_context, z) - sg(z_target)||^2 per sample. Inference has no solution, so the
decoded grid stands in for it: E(z) = ||P(z_context, z) - T(softmax(D(z_context, z)))||^2 +
lambda * constraint(probs). Both go through `latent_energy`, so the inference energy is the one
the model was trained for (regression test 6).
"""

from __future__ import annotations

import torch
from torch import nn

from model.network import SudokuJEPA


def latent_energy(z_pred: torch.Tensor, z_target: torch.Tensor) -> torch.Tensor:
    """(B, 81, Z) x2 -> (B,): squared distance summed over cells and latent axes."""
    return ((z_pred - z_target) ** 2).sum(dim=(1, 2))


def inference_energy(model: SudokuJEPA, z_context: torch.Tensor, givens: torch.Tensor,
                     z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Energy per sample (B,) and the decoded probabilities (B, 81, 9) at latent z (B, 81, Z)."""
    probs = torch.softmax(model.decode(z_context, z, givens), dim=-1)  # (B, 81, 9)
    z_pred = model.predictor(z_context, z)  # (B, 81, Z)
    z_target = model.target_latent(probs)  # (B, 81, Z)
    energy = latent_energy(z_pred, z_target)
    return energy + model.cfg.constraint_weight * model.constraint(probs), probs


class EnergyFunction(nn.Module):
    """Module whose forward is the inference energy: what `functional_call` and export trace.

    Parameter names are the model's prefixed with "model.".
    """

    def __init__(self, model: SudokuJEPA):
        super().__init__()
        self.model = model

    def forward(self, z_context: torch.Tensor, givens: torch.Tensor,
                z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return inference_energy(self.model, z_context, givens, z)


@torch.no_grad()
def energy_gap(model: SudokuJEPA, z_context: torch.Tensor, givens: torch.Tensor,
               solution: torch.Tensor, corrupt_cells: int = 8,
               generator: torch.Generator | None = None,
               constraint: bool = True) -> float:
    """Mean inference energy of a corrupted solution minus that of the true one (> 0 is good).

    Evaluated at z = T(grid) with the grid itself as the decode, i.e. the latent energy of the
    predictor's view of the grid plus (unless constraint=False) the constraint penalty.
    """
    B = solution.shape[0]
    empty = 1.0 - givens.sum(-1)  # (B, 81)
    scores = torch.rand(B, 81, generator=generator).to(empty.device) * empty
    idx = scores.topk(corrupt_cells, dim=1).indices  # (B, k) empty cells to corrupt
    wrong = torch.randint(1, 9, (B, corrupt_cells), generator=generator).to(empty.device)
    digits = solution.argmax(-1)  # (B, 81)
    picked = digits.gather(1, idx)
    corrupted_digits = digits.scatter(1, idx, (picked + wrong) % 9)
    corrupted = torch.nn.functional.one_hot(corrupted_digits, 9).float()

    def energy_of(grid: torch.Tensor) -> torch.Tensor:
        z = model.target_latent(grid)
        e = latent_energy(model.predictor(z_context, z), z)
        if not constraint:
            return e
        return e + model.cfg.constraint_weight * model.constraint(grid)

    return float((energy_of(corrupted) - energy_of(solution)).mean())
