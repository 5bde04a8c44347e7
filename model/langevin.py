"""The solve: chains of (optionally noisy) steps, the energy measured at each; the lowest wins.

The algorithm (the ONNX runtime reproduces exactly this; see docs/ARCHITECTURE.md):
1. `model.prepare`: the shallow context encoder, once per puzzle: s_0 and the steps' context;
   chains 1.. add start noise s_0 <- s_0 + noise * randn / sqrt(Z); chain 0 starts clean.
2. for t in 0..steps-1: s <- `model.solve_step` (a gradient step s - step_size * dE/ds, or the
   recurrent model's update) + noise_t, with
   noise_t = noise_schedule(t, steps, noise) * randn / sqrt(Z) (annealed to 0); energy_t and
   probs_t are measured at s before the update.
3. one more evaluation at the final s (trace entry `steps`).
4. reject_rises (off by default): a chain whose new state has a higher energy than its kept
   one stays where it was (its next proposal: the kept state's move plus the new noise), so
   the energy each chain shows never rises (IRED's rule). It freezes a noise-free chain at its
   first refused step, which costs the recurrent model accuracy: measured, hence off.
5. winner: for each puzzle, the (step, chain) state with the lowest energy over the whole trace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

from model.units import puzzle_onehot

if TYPE_CHECKING:
    from model.network import SudokuJEPA


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
    energies: list[torch.Tensor] = field(default_factory=list)  # per step (B, chains), kept
    trace_probs: list[torch.Tensor] = field(default_factory=list)  # per step (B, chains, 81, 9)
    rejected: torch.Tensor | None = None  # (B,) steps of the winning chain that were refused
    # snapshots[n] = (grid (B, 81), energy (B,)): the winner had the solve stopped after n steps
    snapshots: dict[int, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)


@torch.no_grad()
def langevin_solve(model: SudokuJEPA, puzzle: torch.Tensor, steps: int | None = None,
                   chains: int = 1, step_size: float | None = None, noise: float = 0.0,
                   seed: int = 0, trace: bool = False, reject_rises: bool = False,
                   snapshot_at: tuple[int, ...] = ()) -> LangevinResult:
    """Solve puzzles (B, 81) int (0 = blank) by descent on E; see the module docstring.

    steps / step_size default to the model's eval_steps and learned step size. snapshot_at: step
    counts n < steps at which to record the answer a solve of n steps would give (valid without
    noise, whose schedule depends on the total): one long solve scores many lengths."""
    if not model.cfg.jepa:
        raise ValueError("langevin_solve: the baseline model (jepa=False) has no energy to descend")
    steps = model.cfg.eval_steps if steps is None else steps
    eta = model.default_step_size() if step_size is None else step_size
    gen = torch.Generator().manual_seed(seed)
    givens1 = puzzle_onehot(puzzle)  # (B, 81, 9)
    B, C, Z = puzzle.shape[0], chains, model.cfg.z_dim
    _, context, s = model.prepare(givens1)
    context = context.repeat_interleave(C, dim=0)  # (B*C, 81, ...)
    s = s.repeat_interleave(C, dim=0)  # (B*C, 81, Z)
    givens = givens1.repeat_interleave(C, dim=0)  # (B*C, 81, 9)
    start_noise = torch.randn(B * C, 81, Z, generator=gen) * noise / math.sqrt(Z)
    start_noise.view(B, C, 81, Z)[:, 0] = 0.0  # chain 0 starts clean
    s = s + start_noise
    all_e, all_p = [], []
    best_e = torch.full((B * C,), math.inf)
    best_p = torch.zeros(B * C, 81, 9)
    best_t = torch.zeros(B * C, dtype=torch.long)
    kept: tuple[torch.Tensor, ...] | None = None  # (s, energy, probs, move without noise)
    refused = torch.zeros(B * C, dtype=torch.long)
    snapshots: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    for t in range(steps + 1):
        if t < steps:
            eps = torch.randn(B * C, 81, Z, generator=gen) / math.sqrt(Z)
            eps = eps * noise_schedule(t, steps, noise)
            s_next, e, p = model.solve_step(context, givens, s, eta, eps)
        else:
            eps = torch.zeros_like(s)
            (e, p), s_next = model.measure(context, givens, s), s
        if reject_rises and kept is not None:  # a chain never shows a higher energy
            worse = e > kept[1]
            refused += worse.long()
            w3 = worse.view(-1, 1, 1)
            s, e = torch.where(w3, kept[0], s), torch.where(worse, kept[1], e)
            p = torch.where(w3, kept[2], p)
            s_next = torch.where(w3, kept[3] + eps, s_next)
        kept = (s, e, p, s_next - eps)
        better = e < best_e
        best_e = torch.where(better, e, best_e)
        best_p[better] = p[better]
        best_t[better] = t
        if t in snapshot_at:
            snapshots[t] = _winner(best_e, best_p, B, C)
        all_e.append(e.view(B, C))  # energies per step are small; probs only with trace
        if trace:
            all_p.append(p.view(B, C, 81, 9))
        s = s_next
    chain_e = best_e.view(B, C)
    best_chain = chain_e.argmin(dim=1)
    rows = torch.arange(B)
    probs = best_p.view(B, C, 81, 9)[rows, best_chain]
    return LangevinResult(
        probs=probs, grid=probs.argmax(-1) + 1, energy=chain_e[rows, best_chain],
        best_chain=best_chain, best_step=best_t.view(B, C)[rows, best_chain],
        energies=all_e, trace_probs=all_p, rejected=refused.view(B, C)[rows, best_chain],
        snapshots=snapshots)


def _winner(best_e: torch.Tensor, best_p: torch.Tensor, B: int, C: int,
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """(grid (B, 81), energy (B,)) of each puzzle's lowest-energy chain so far."""
    chain_e = best_e.view(B, C)
    chain = chain_e.argmin(dim=1)
    rows = torch.arange(B)
    return best_p.view(B, C, 81, 9)[rows, chain].argmax(-1) + 1, chain_e[rows, chain].clone()
