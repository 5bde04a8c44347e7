"""Langevin dynamics on the per-cell latent z over N chains; the lowest energy wins.

The algorithm (the ONNX runtime reproduces exactly this; see docs/ARCHITECTURE.md):
1. z_context = E(puzzle) with `eval_iters` iterations (once, outside the loop), repeated per chain.
2. z_0 = normalize(project(z_context)); chains 1.. add start noise:
   z_0 <- normalize(z_0 + noise * randn / sqrt(Z)); chain 0 starts clean.
3. for t in 0..steps-1:  (z, energy_t, probs_t) via `langevin_step` with
   noise_t = noise_schedule(t, steps, noise) * randn / sqrt(Z), i.e.
   z <- normalize(z - step_size * dE/dz + noise_t); energy_t, probs_t are measured at z before
   the update.
4. one more energy evaluation at the final z (trace entry `steps`).
5. winner: for each puzzle, the (step, chain) state with the lowest energy over the whole trace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch.func import functional_call, grad

from model.energy import EnergyFunction
from model.network import SudokuJEPA, l2_normalize, puzzle_onehot


def langevin_step(params: dict[str, torch.Tensor], energy_fn: EnergyFunction,
                  z_context: torch.Tensor, givens: torch.Tensor, z: torch.Tensor,
                  step_size: float | torch.Tensor, noise: torch.Tensor,
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One pure Langevin update. Shapes: z_context (N, 81, D), givens (N, 81, 9), z (N, 81, Z).

    params: `dict(energy_fn.named_parameters())` (names prefixed "model."), passed explicitly so
    the step is a pure function of its inputs (make_fx / ONNX export trace it). noise (N, 81, Z)
    is the already-scaled additive noise of this step.
    Returns (z_new (N, 81, Z), energy per chain (N,) at z, probs (N, 81, 9) decoded at z).
    """

    def total_energy(z_: torch.Tensor):
        energy, probs = functional_call(energy_fn, params, (z_context, givens, z_))
        return energy.sum(), (energy, probs)

    dz, (energy, probs) = grad(total_energy, has_aux=True)(z)
    z_new = l2_normalize(z - step_size * dz + noise)
    return z_new, energy, probs


def noise_schedule(step: int, steps: int, noise: float) -> float:
    """Annealed noise scale: linear from `noise` at step 0 down to 0 at the last step."""
    return noise * (1.0 - step / max(steps, 1))


@dataclass
class LangevinResult:
    probs: torch.Tensor  # (B, 81, 9) the winning state's probabilities (givens one-hot)
    grid: torch.Tensor  # (B, 81) int64 digits 1..9
    energy: torch.Tensor  # (B,) the winner's energy
    best_chain: torch.Tensor  # (B,) chain index of the winner
    best_step: torch.Tensor  # (B,) trace step of the winner
    energies: list[torch.Tensor] = field(default_factory=list)  # per step (B, chains)
    trace_probs: list[torch.Tensor] = field(default_factory=list)  # per step (B, chains, 81, 9)


@torch.no_grad()
def langevin_solve(model: SudokuJEPA, puzzle: torch.Tensor, steps: int = 20, chains: int = 8,
                   step_size: float = 0.5, noise: float = 0.3, seed: int = 0,
                   iters: int | None = None, trace: bool = False) -> LangevinResult:
    """Solve puzzles (B, 81) int (0 = blank) by Langevin descent on z; see the module docstring."""
    if not model.cfg.jepa:
        raise ValueError("langevin_solve: the baseline model (jepa=False) has no latent to descend")
    gen = torch.Generator().manual_seed(seed)
    givens1 = puzzle_onehot(puzzle)  # (B, 81, 9)
    B, C, Z = puzzle.shape[0], chains, model.cfg.z_dim
    z_ctx = model.encode(givens1, iters)[-1].repeat_interleave(C, dim=0)  # (B*C, 81, D)
    givens = givens1.repeat_interleave(C, dim=0)  # (B*C, 81, 9)
    z = model.start_latent(z_ctx)  # (B*C, 81, Z)
    start_noise = torch.randn(B * C, 81, Z, generator=gen) * noise / math.sqrt(Z)
    start_noise.view(B, C, 81, Z)[:, 0] = 0.0  # chain 0 starts clean
    z = l2_normalize(z + start_noise)

    energy_fn = EnergyFunction(model)
    params = dict(energy_fn.named_parameters())
    all_e, all_p = [], []
    with torch.enable_grad():
        for t in range(steps + 1):
            if t < steps:
                eps = torch.randn(B * C, 81, Z, generator=gen) / math.sqrt(Z)
                eps = eps * noise_schedule(t, steps, noise)
                z, e, p = langevin_step(params, energy_fn, z_ctx, givens, z, step_size, eps)
            else:
                e, p = energy_fn(z_ctx, givens, z)
            all_e.append(e.detach().view(B, C))
            all_p.append(p.detach().view(B, C, 81, 9))
    energies = torch.stack(all_e, dim=1)  # (B, T, C)
    flat = energies.reshape(B, -1).argmin(dim=1)  # (B,)
    best_step, best_chain = flat // C, flat % C
    probs_all = torch.stack(all_p, dim=1)  # (B, T, C, 81, 9)
    probs = probs_all[torch.arange(B), best_step, best_chain]  # (B, 81, 9)
    return LangevinResult(
        probs=probs, grid=probs.argmax(-1) + 1, energy=energies.reshape(B, -1).min(dim=1).values,
        best_chain=best_chain, best_step=best_step,
        energies=all_e if trace else [], trace_probs=all_p if trace else [])
