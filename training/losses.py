"""Training losses: latent energy, VICReg on z_context, decode cross-entropy, constraint.

Every term is returned separately so it can be logged; `total` is their weighted sum.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from model.energy import latent_energy
from model.network import SudokuJEPA


@dataclass
class LossWeights:
    energy: float = 1.0
    vicreg: float = 0.02
    ce: float = 1.0
    constraint: float = 0.05


def decode_cross_entropy(logits: torch.Tensor, solution: torch.Tensor,
                         empty: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over empty cells only. logits (..., B, 81, 9); solution (B, 81) digit
    index 0..8 (the (row, col, digit) target layout: argmax over the last axis = solution);
    empty (B, 81) float 1 for blank cells. Given cells' logits do not matter."""
    lead = logits.shape[:-3]
    target = solution.expand(*lead, *solution.shape)  # (..., B, 81)
    ce = F.cross_entropy(logits.reshape(-1, 9).float(), target.reshape(-1), reduction="none")
    mask = empty.expand(*lead, *empty.shape).reshape(-1)
    return (ce * mask).sum() / mask.sum().clamp(min=1.0)


def vicreg(z: torch.Tensor, eps: float = 1e-4) -> tuple[torch.Tensor, torch.Tensor]:
    """Variance (hinge on std >= 1) and covariance (off-diagonal^2 / D) of z (B, 81, D),
    every cell of every sample taken as one observation: keeps z_context from collapsing."""
    x = z.reshape(-1, z.shape[-1]).float()  # (N, D)
    x = x - x.mean(dim=0)
    std = torch.sqrt(x.var(dim=0) + eps)
    var_loss = F.relu(1.0 - std).mean()
    cov = (x.t() @ x) / max(x.shape[0] - 1, 1)  # (D, D)
    off = cov - torch.diag(torch.diag(cov))
    cov_loss = (off**2).sum() / x.shape[-1]
    return var_loss, cov_loss


def constraint_loss(model: SudokuJEPA, probs: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of the unit/digit constraint penalty, per unit-digit pair."""
    return model.constraint(probs.float()).mean() / 243.0


def compute_losses(model: SudokuJEPA, out: dict[str, torch.Tensor], solution: torch.Tensor,
                   empty: torch.Tensor, weights: LossWeights) -> dict[str, torch.Tensor]:
    """All loss terms for one batch. `out` from SudokuJEPA.forward; solution (B, 81) 0..8."""
    losses: dict[str, torch.Tensor] = {}
    ce = decode_cross_entropy(out["logits"], solution, empty)  # from the inference start point
    if "noisy_logits" in out:  # JEPA: the decoder also reads noisy targets
        ce = 0.5 * (ce + decode_cross_entropy(out["noisy_logits"], solution, empty))
    losses["loss_ce"] = ce
    var_loss, cov_loss = vicreg(out["z_context"])
    losses["loss_vicreg"] = var_loss + cov_loss
    probs = torch.softmax(out["logits"][-1].float(), dim=-1)
    losses["loss_constraint"] = constraint_loss(model, probs)
    if "z_pred" in out:
        z_t = out["z_target"].detach().float()
        pred = latent_energy(out["z_pred"].float(), z_t).mean() / 81.0
        start = latent_energy(out["z_start"].float(), z_t).mean() / 81.0
        losses["loss_energy"] = pred + start
    else:
        losses["loss_energy"] = torch.zeros((), device=ce.device)
    losses["loss"] = (weights.energy * losses["loss_energy"]
                      + weights.vicreg * losses["loss_vicreg"]
                      + weights.ce * losses["loss_ce"]
                      + weights.constraint * losses["loss_constraint"])
    return losses
