"""The JEPA energy model for Sudoku, named as in I-JEPA: context encoder, EMA target encoder,
predictor (here: the solve itself), and the plain recurrent baseline.

A solve is a sequence of states s_0, s_1, ..., s_T (per-cell latents, (B, 81, Z)):
- s_0 comes from a shallow embedding (`encoder_layers` <= 2 message-passing layers), so no
  hidden encoder reasons before step 1; the decoded probabilities of s_t are the answer at step
  t, and the energy E(puzzle, s_t) (model/energy.py) is measured at every step;
- `update="descent"` (family A): s_{t+1} = s_t - eta * dE/ds + noise_t, a gradient step on E;
  `update="recurrent"` (family B, the shipped model): s_{t+1} = the context encoder's own
  weight-tied update of s_t, with E fitted along the solve. That step is not a gradient step;
- the EMA target encoder maps the full solution grid to target latents s*; training pulls the
  solve's end towards s* (the latent prediction) and makes s* lower in energy than the latents
  of corrupted grids (the contrastive term).

`jepa=False` is the free weight-tied recurrence (no energy, no latent target) that the descent
is compared against: the context encoder run for `iters` iterations, decoded at each.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from model.energy import DescentEnergy, descent_step, enforce_givens, rule_penalty
from model.units import (  # noqa: F401 - re-exported: the network's public inputs
    UnitMixer,
    candidate_features,
    grid_features,
    peer_adjacency,
    puzzle_onehot,
    unit_membership,
)


@dataclass
class ModelConfig:
    """Everything needed to rebuild the network; saved inside every checkpoint and ONNX file."""

    jepa: bool = True  # False: the free recurrence baseline (no energy; decoder on h)
    update: str = "descent"  # "descent": s - eta dE/ds (family A); "recurrent": the encoder's
    #                          weight-tied update, with E trained to fall along it (family B)
    d_model: int = 96  # per-cell width D of the context / target encoders
    mlp_hidden: int = 192  # hidden width of the encoder update MLP
    encoder_layers: int = 2  # message-passing layers of the (shallow) context encoder
    z_dim: int = 64  # per-cell state width Z of the descent
    energy_hidden: int = 192  # hidden units H of the energy
    quad: float = 1.0  # weight of |s|^2 / 2 in the energy (keeps it bounded below)
    constraint_weight: float = 0.5  # weight of the Sudoku rule penalty in the energy
    step_size: float = 0.5  # initial descent step (learned)
    steps: int = 16  # descent steps unrolled in training (with gradient)
    steps_jitter: int = 8  # training draws steps in [steps - j, steps + j]
    prefix_steps: int = 32  # training may first run up to this many steps without gradient
    eval_steps: int = 64  # default descent steps at inference
    noise: float = 0.05  # state noise per step: training draws up to this; inference default
    # the baseline (jepa=False) only:
    iters: int = 16  # weight-tied iterations in training
    eval_iters: int = 32  # ... at inference
    supervised_iters: int = 8  # decode loss over the last N iterations
    iters_jitter: int = 0  # training draws iterations in [iters - j, iters + j]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class StructuredEncoder(nn.Module):
    """Weight-tied row/column/box message passing: h <- LN(h + MLP([h, rows, cols, boxes, x])).

    The MLP's first layer is applied in parts, each where it is cheapest: to the 27 unit means
    (not to 81 copies of them), and to the input embedding x once.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        D, H = cfg.d_model, cfg.mlp_hidden
        self.mix = UnitMixer()
        self.embed_in = nn.Linear(18, D)
        self.pos = nn.Parameter(torch.randn(81, D) * 0.02)
        self.unit_embed = nn.Parameter(torch.randn(27, D) * 0.02)
        self.mix_cell = nn.Linear(D, H)  # first update layer, part applied to h
        self.mix_row = nn.Linear(D, H, bias=False)  # ... to row means
        self.mix_col = nn.Linear(D, H, bias=False)  # ... to column means
        self.mix_box = nn.Linear(D, H, bias=False)  # ... to box means
        self.mix_input = nn.Linear(D, H, bias=False)  # ... to the input embedding
        self.out = nn.Linear(H, D)
        self.norm = nn.LayerNorm(D)
        self.project = nn.Linear(D, cfg.z_dim)  # h -> the descent's state (s_0, or s*)

    def embed(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 81, 18) -> (h_0 (B, 81, D), x_mix (B, 81, H)): the start and the constant input
        part of every update."""
        u = self.unit_embed
        position = self.pos + self.mix.spread(u[None, 0:9], u[None, 9:18], u[None, 18:27])[0]
        x = self.embed_in(features) + position  # (B, 81, D)
        return x, self.mix_input(x)

    def update(self, h: torch.Tensor, x_mix: torch.Tensor) -> torch.Tensor:
        """One weight-tied iteration (the recurrent model's solve step)."""
        m = self.mix.means(h)  # (B, 27, D)
        pre = (self.mix_cell(h) + x_mix + self.mix.spread(
            self.mix_row(m[:, 0:9]), self.mix_col(m[:, 9:18]), self.mix_box(m[:, 18:27])))
        return self.norm(h + self.out(F.gelu(pre)))

    def forward(self, features: torch.Tensor, iters: int, keep: int = 1) -> list[torch.Tensor]:
        """(B, 81, 18) -> the states of the last `keep` iterations, each (B, 81, D)."""
        h, x_mix = self.embed(features)
        states = []
        for i in range(iters):
            h = self.update(h, x_mix)
            if i >= iters - keep:
                states.append(h)
        return states or [h]


class SudokuJEPA(nn.Module):
    """Context encoder, target encoder (EMA, no gradient), and the energy the descent runs on.

    The target encoder is a deep copy of the context encoder with requires_grad False; it moves
    only through `ema_update`.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.register_buffer("peers", peer_adjacency(), persistent=False)  # (81, 81)
        self.context_encoder = StructuredEncoder(cfg)
        if cfg.jepa:
            if cfg.update not in ("descent", "recurrent"):
                raise ValueError(f"ModelConfig.update: unknown update {cfg.update!r}")
            if cfg.update == "recurrent" and cfg.z_dim != cfg.d_model:
                raise ValueError("ModelConfig: the recurrent update needs z_dim == d_model")
            self.energy = DescentEnergy(cfg.d_model, cfg.z_dim, cfg.energy_hidden, cfg.quad,
                                        cfg.constraint_weight, cfg.step_size)
            self.target_encoder = copy.deepcopy(self.context_encoder)
            for p in self.target_encoder.parameters():
                p.requires_grad_(False)
        else:
            self.decoder = nn.Linear(cfg.d_model, 9)

    # --- pieces used by training, inference and export
    def encode(self, givens: torch.Tensor, iters: int | None = None,
               keep: int = 1) -> list[torch.Tensor]:
        """(B, 81, 9) givens one-hot -> z_context: the encoder states of the last `keep` layers.

        The JEPA model always runs its `encoder_layers`; the baseline `iters` (default
        eval_iters)."""
        feats = candidate_features(givens, self.peers)  # (B, 81, 18)
        if self.cfg.jepa:
            n = self.cfg.encoder_layers
        else:
            n = self.cfg.eval_iters if iters is None else iters
        return self.context_encoder(feats, n, keep)

    def prepare(self, givens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, 81, 9) givens -> (z_context, context, s_0): once per puzzle, before the steps.

        `context` is every step's constant input: the energy's context bias, and for the
        recurrent update also the encoder's input mix (concatenated on the last axis).
        """
        feats = candidate_features(givens, self.peers)  # (B, 81, 18)
        enc = self.context_encoder
        h, x_mix = enc.embed(feats)
        for _ in range(self.cfg.encoder_layers):
            h = enc.update(h, x_mix)
        z_context = h
        if self.cfg.update == "recurrent":
            context = torch.cat([x_mix, self.energy.context_bias(z_context)], dim=-1)
            return z_context, context, z_context
        return z_context, self.energy.context_bias(z_context), self.start_state(z_context)

    def _split(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Recurrent model: context -> (encoder input mix, energy context bias)."""
        H = self.cfg.mlp_hidden
        return context[..., :H], context[..., H:]

    def solve_step(self, context: torch.Tensor, givens: torch.Tensor, s: torch.Tensor,
                   step_size: torch.Tensor | float, noise: torch.Tensor,
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step of the solve: (s_next, energy at s (B,), probs at s (B, 81, 9)).

        descent: s - step_size * dE/ds + noise. recurrent: s + step_size * (update(s) - s) +
        noise (step_size 1 is the trained update; E is measured, not followed).
        """
        if self.cfg.update == "recurrent":
            x_mix, x_e = self._split(context)
            energy, probs = self.energy.energy_and_probs(x_e, givens, s)
            moved = self.context_encoder.update(s, x_mix)
            return s + step_size * (moved - s) + noise, energy, probs
        return descent_step(self.energy, context, givens, s, step_size, noise)

    def measure(self, context: torch.Tensor, givens: torch.Tensor,
                s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(energy (B,), probs (B, 81, 9)) at s without a step: the trace's last entry."""
        x_e = self._split(context)[1] if self.cfg.update == "recurrent" else context
        return self.energy.energy_and_probs(x_e, givens, s)

    def default_step_size(self) -> float:
        if self.cfg.update == "recurrent":
            return 1.0
        return float(self.energy.step_size().detach())

    def start_state(self, z_context: torch.Tensor) -> torch.Tensor:
        """s_0 (B, 81, Z) of the descent model: the state before the first step."""
        return self.context_encoder.project(z_context)

    @torch.no_grad()
    def target_state(self, grid: torch.Tensor) -> torch.Tensor:
        """s* = T(grid): (B, 81, 9) one-hot grid -> target latents (B, 81, Z), no gradient."""
        enc = self.target_encoder
        h = enc(grid_features(grid), self.cfg.encoder_layers, 1)[-1]
        return h if self.cfg.update == "recurrent" else enc.project(h)

    def decode_baseline(self, h: torch.Tensor, givens: torch.Tensor) -> torch.Tensor:
        return enforce_givens(self.decoder(h), givens)

    # --- training forward (one call so DistributedDataParallel sees it)
    def forward(self, givens: torch.Tensor, solution: torch.Tensor | None = None,
                steps: int | None = None, prefix: int = 0, step_scale: float = 1.0,
                noise: float = 0.0, negative: torch.Tensor | None = None,
                iters: int | None = None) -> dict[str, torch.Tensor]:
        """Training outputs. givens/solution/negative (B, 81, 9) one-hot grids.

        JEPA: run `prefix` steps without gradient, then `steps` with it; returns the logits and
        energies of every step with gradient, the final state, the target latents of the
        solution and the energies at them and at the negative grid's latents. The recurrent
        model's energy terms see detached states (the energy is fitted to the dynamics; the
        dynamics learn from the decode and the latent prediction).
        Baseline: logits of the last `supervised_iters` of `iters` iterations.
        """
        cfg = self.cfg
        if not cfg.jepa:
            n = cfg.iters if iters is None else iters
            states = self.encode(givens, n, min(cfg.supervised_iters, n))
            return {"z_context": states[-1],
                    "logits": torch.stack([self.decode_baseline(h, givens) for h in states])}
        recurrent = cfg.update == "recurrent"
        z_context, context, s = self.prepare(givens)
        if recurrent:  # the energy head learns from detached inputs
            x_mix = self._split(context)[0]
            x_e = self.energy.context_bias(z_context.detach())
            eta: torch.Tensor | float = 1.0
        else:
            eta = self.energy.step_size() * step_scale
        sigma = noise / math.sqrt(cfg.z_dim)  # the runtime's scale: noise * randn / sqrt(Z)
        if prefix > 0:
            with torch.no_grad():
                for _ in range(prefix):
                    s = self.solve_step(context, givens, s, eta, sigma * torch.randn_like(s))[0]
        logits, energies, states = [], [], []
        for _ in range(steps if steps is not None else cfg.steps):
            last = s
            if recurrent:
                s = self.context_encoder.update(s, x_mix) + sigma * torch.randn_like(s)
            else:
                s, e, _ = self.solve_step(context, givens, s, eta, sigma * torch.randn_like(s))
                energies.append(e)
            logits.append(self.energy.logits(last, givens))
            states.append(last)
        logits.append(self.energy.logits(s, givens))
        states.append(s)
        out = {"z_context": z_context, "logits": torch.stack(logits), "z_final": s}
        target = self.target_state(solution) if solution is not None else None
        if recurrent:  # the energy head sees a quarter of the batch: a cheap, unbiased fit
            k = max(1, givens.shape[0] // 4)
            flat = torch.cat([st[:k] for st in states]).detach()  # ((T + 1) * k, 81, Z)
            T1 = len(states)
            learned = self.energy.learned(x_e[:k].repeat(T1, 1, 1), flat)
            probs = torch.softmax(self.energy.logits(flat, givens[:k].repeat(T1, 1, 1)), dim=-1)
            rules = rule_penalty(probs, self.energy.mix.unit_sum)
            out["energies"] = (learned + cfg.constraint_weight * rules).view(T1, k)
            if target is not None:
                dist = ((flat - target[:k].repeat(T1, 1, 1)) ** 2).sum(dim=(1, 2))
                out["fit"] = torch.stack([learned, dist]).view(2, T1, k)
        else:
            e_final = self.measure(context, givens, s)[0]
            out["energies"] = torch.stack([*energies, e_final])
            x_e = context
        if target is not None:
            out["z_target"] = target
            out["energy_target"] = self.energy.energy(x_e, givens, target)
            if negative is not None:
                out["energy_negative"] = self.energy.energy(x_e, givens,
                                                            self.target_state(negative))
        return out


@torch.no_grad()
def ema_update(target: nn.Module, online: nn.Module, momentum: float) -> None:
    """target <- momentum * target + (1 - momentum) * online, parameter by parameter."""
    for t, o in zip(target.parameters(), online.parameters(), strict=True):
        t.mul_(momentum).add_(o.detach(), alpha=1.0 - momentum)


def ema_momentum(step: int, total_steps: int, start: float = 0.996, end: float = 1.0) -> float:
    """Linear momentum ramp start -> end over the run (a pure function of step: resumable)."""
    frac = min(max(step / max(total_steps, 1), 0.0), 1.0)
    return start + (end - start) * frac


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
