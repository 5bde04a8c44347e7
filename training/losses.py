"""Training losses of the solve: decode cross-entropy at every step, the JEPA latent
prediction, VICReg on z_context, the contrastive energy term, the energy-rise penalty, and for the
recurrent model the fit of the learned energy to the latent distance |s_t - s*|^2.

Every term is returned separately so it can be logged; `total` is their weighted sum.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from model.energy import rule_penalty
from model.network import SudokuJEPA


@dataclass
class LossWeights:
    ce: float = 1.0  # decode cross-entropy, averaged over every step of the unroll
    energy: float = 0.05  # JEPA latent prediction: |s_T - sg(s*)|^2 per cell
    vicreg: float = 0.02  # against collapse of z_context
    contrastive: float = 0.1  # E(s*) below E(latents of a corrupted grid)
    descent: float = 1.0  # penalty on steps that raise the energy
    constraint: float = 0.05  # rule penalty of the final decode
    fit: float = 1.0  # recurrent model: the learned energy fitted to |s_t - s*|^2


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
    """Mean over the batch of the unit/digit rule penalty, per unit-digit pair."""
    return rule_penalty(probs.float(), model.context_encoder.mix.unit_sum).mean() / 243.0


def compute_losses(model: SudokuJEPA, out: dict[str, torch.Tensor], solution: torch.Tensor,
                   empty: torch.Tensor, weights: LossWeights) -> dict[str, torch.Tensor]:
    """All loss terms for one batch. `out` from SudokuJEPA.forward; solution (B, 81) 0..8."""
    zero = torch.zeros((), device=out["logits"].device)
    losses: dict[str, torch.Tensor] = {}
    losses["loss_ce"] = decode_cross_entropy(out["logits"], solution, empty)
    var_loss, cov_loss = vicreg(out["z_context"])
    losses["loss_vicreg"] = var_loss + cov_loss
    probs = torch.softmax(out["logits"][-1].float(), dim=-1)
    losses["loss_constraint"] = constraint_loss(model, probs)
    losses["loss_energy"] = zero
    losses["loss_contrastive"] = zero
    losses["loss_descent"] = zero
    losses["loss_fit"] = zero
    if "fit" in out:  # per cell and latent axis, so the scale does not depend on the model size
        pred, dist = out["fit"]
        scale = 81.0 * out["z_final"].shape[-1]
        losses["loss_fit"] = (((pred - dist.detach()) / scale) ** 2).mean()
    if "z_target" in out:  # the latent prediction: where the solve ends vs T(solution)
        diff = out["z_final"].float() - out["z_target"].detach().float()
        losses["loss_energy"] = (diff * diff).mean()  # per latent axis: size-independent
    if "energy_negative" in out:  # right grids lower than wrong ones, by a margin of 1
        gap = out["energy_negative"] - out["energy_target"]
        losses["loss_contrastive"] = F.softplus(1.0 - gap).mean()
    if "energies" in out:  # every step should lower E: penalise rises (per cell)
        e = out["energies"]
        losses["loss_descent"] = F.relu(e[1:] - e[:-1]).mean() / 81.0
    losses["loss"] = (weights.ce * losses["loss_ce"]
                      + weights.energy * losses["loss_energy"]
                      + weights.vicreg * losses["loss_vicreg"]
                      + weights.contrastive * losses["loss_contrastive"]
                      + weights.descent * losses["loss_descent"]
                      + weights.constraint * losses["loss_constraint"]
                      + weights.fit * losses["loss_fit"])
    return losses
