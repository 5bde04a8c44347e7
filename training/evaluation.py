"""Validation and evaluation: accuracy by test-time steps, the energy monitors, and the
steps table of `sudoku-jepa eval` (accuracy at 1, 4, 16, ... steps: "think longer")."""

from __future__ import annotations

import time

import numpy as np
import torch

from model.langevin import langevin_solve
from model.network import SudokuJEPA, puzzle_onehot

STEPS_TABLE = (1, 4, 16, 64, 256, 1024)


@torch.no_grad()
def evaluate(model: SudokuJEPA, sets: dict[str, tuple[np.ndarray, np.ndarray]],
             device: torch.device, iters: int | None = None, batch: int = 256) -> dict:
    """Cell and puzzle accuracy (empty cells) per set from one decode (no descent), and their
    means as val_cell_acc / val_puzzle_acc."""
    was_training = model.training
    model.eval()
    out: dict[str, float] = {}
    for name, (puzzles, solutions) in sets.items():
        cells = correct_cells = solved = 0
        for i in range(0, len(puzzles), batch):
            p = torch.as_tensor(puzzles[i:i + batch], device=device).long()
            s = torch.as_tensor(solutions[i:i + batch], device=device).long()
            pred = predict(model, p, iters)
            empty = p == 0
            ok = (pred == s) | ~empty
            correct_cells += int(((pred == s) & empty).sum())
            cells += int(empty.sum())
            solved += int(ok.all(dim=1).sum())
        out[f"val_{name}_cell_acc"] = correct_cells / max(cells, 1)
        out[f"val_{name}_puzzle_acc"] = solved / max(len(puzzles), 1)
    names = list(sets)
    out["val_cell_acc"] = float(np.mean([out[f"val_{n}_cell_acc"] for n in names]))
    out["val_puzzle_acc"] = float(np.mean([out[f"val_{n}_puzzle_acc"] for n in names]))
    model.train(was_training)
    return out


def iteration_choices(cfg) -> list[int]:
    """Test-time step counts validation tries: descent steps for the energy model (trained
    count, eval_steps, 4x that), encoder iterations for the baseline."""
    if cfg.jepa:
        return sorted({cfg.steps, cfg.eval_steps, 4 * cfg.eval_steps})
    return sorted({cfg.iters, cfg.eval_iters, 2 * cfg.eval_iters})


def evaluate_choices(model: SudokuJEPA, sets: dict, device: torch.device,
                     choices: list[int]) -> dict:
    """`evaluate` at each step count; the row reports the best count (puzzle acc, then
    cell acc) as val_iters, plus val_puzzle_acc_at_<n> for every count."""
    best, results = None, {}
    for n in choices:
        r = evaluate(model, sets, device, iters=n)
        results[n] = r
        if best is None or (r["val_puzzle_acc"], r["val_cell_acc"]) > (
                results[best]["val_puzzle_acc"], results[best]["val_cell_acc"]):
            best = n
    row = {**results[best], "val_iters": best}
    for n, r in results.items():
        row[f"val_puzzle_acc_at_{n}"] = r["val_puzzle_acc"]
        row[f"val_cell_acc_at_{n}"] = r["val_cell_acc"]
    return row


@torch.no_grad()
def predict(model: SudokuJEPA, puzzles: torch.Tensor, iters: int | None = None) -> torch.Tensor:
    """(B, 81) puzzles -> (B, 81) digits 1..9: the energy model after `iters` noise-free descent
    steps (one chain), the baseline after `iters` iterations."""
    if model.cfg.jepa:
        return langevin_solve(model, puzzles, steps=iters).grid
    givens = puzzle_onehot(puzzles)
    h = model.encode(givens, iters)[-1]
    return model.decode_baseline(h, givens).argmax(-1) + 1


def corrupt(solution: torch.Tensor, puzzle: torch.Tensor, cells: int,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, 81) solutions 1..9 -> copies with `cells` empty cells changed to another digit."""
    B = solution.shape[0]
    scores = torch.rand(B, 81, generator=generator) * (puzzle == 0).float()
    idx = scores.topk(cells, dim=1).indices  # (B, k)
    shift = torch.randint(1, 9, (B, cells), generator=generator)
    picked = solution.gather(1, idx) - 1
    return solution.scatter(1, idx, (picked + shift) % 9 + 1)


@torch.no_grad()
def monitors(model: SudokuJEPA, sets: dict, device: torch.device, size: int) -> dict:
    """Collapse monitor (z_context variance); for the energy model, the energy gap between
    corrupted and true solutions and the share of noise-free steps on which the energy rose."""
    puzzles, solutions = next(iter(sets.values()))
    p = torch.as_tensor(puzzles[:size], device=device).long()
    s = torch.as_tensor(solutions[:size], device=device).long()
    givens = puzzle_onehot(p)
    if model.cfg.jepa:
        h, context, _ = model.prepare(givens)  # (B, 81, D) z_context, and the steps' context
    else:
        h = model.encode(givens, model.cfg.iters)[-1]
    out = {"z_context_var": float(h.reshape(-1, h.shape[-1]).var(dim=0).mean())}
    if model.cfg.jepa:
        gen = torch.Generator().manual_seed(1234)
        wrong = corrupt(s, p, 8, gen)
        e_true = model.measure(context, givens, model.target_state(puzzle_onehot(s)))[0]
        e_wrong = model.measure(context, givens, model.target_state(puzzle_onehot(wrong)))[0]
        out["energy_gap"] = float((e_wrong - e_true).mean())
        r = langevin_solve(model, p, steps=model.cfg.eval_steps, reject_rises=False)
        e = torch.stack(r.energies, dim=1)[:, :, 0]  # (B, T + 1)
        out["energy_rise_frac"] = rises(e) / max(e[:, 1:].numel(), 1)
        out["step_size"] = model.default_step_size()
    return out


def rises(energies: torch.Tensor) -> int:
    """Steps of (B, T + 1) energy traces that rose by more than float jitter (1e-4 relative)."""
    e = energies
    return int((e[:, 1:] > e[:, :-1] + 1e-4 * e[:, :-1].abs()).sum())


def auroc(scores_right: np.ndarray, scores_wrong: np.ndarray) -> float | None:
    """P(a right grid's energy < a wrong grid's energy), ties half: the energy as a verdict.
    None when one side is empty."""
    if len(scores_right) == 0 or len(scores_wrong) == 0:
        return None
    right = np.asarray(scores_right, float)[:, None]
    wrong = np.asarray(scores_wrong, float)[None, :]
    return float(((right < wrong).sum() + 0.5 * (right == wrong).sum()) / (right.size * wrong.size))


@torch.no_grad()
def steps_table(model: SudokuJEPA, puzzles: np.ndarray, solutions: np.ndarray,
                steps: tuple[int, ...] = STEPS_TABLE, chains: int = 1, noise: float = 0.0,
                step_size: float | None = None, batch: int = 128, seed: int = 0,
                reject_rises: bool = False) -> list[dict]:
    """One row per step count: puzzle and cell accuracy (empty cells), ms per puzzle; for the
    energy model also the share of steps on which the winner's energy rose (above 1e-4
    relative), the share of its moves refused for raising it (reject_rises), and the AUROC of
    the final energy (right vs wrong grids).

    Each count is its own solve of that many steps; without noise a solve of n steps is the
    first n steps of a longer one, so one solve of max(steps) scores them all (ms is then the
    long solve's time, reported on its own row only)."""
    if not model.cfg.jepa:
        return [_baseline_row(model, puzzles, solutions, n, batch) for n in steps]
    runs = [tuple(sorted(steps))] if noise == 0.0 else [(n,) for n in steps]
    rows = []
    for run in runs:
        n_max = run[-1]
        start = time.perf_counter()
        stats = {n: {"solved": 0, "right": 0, "e_right": [], "e_wrong": []} for n in run}
        cells = rise_count = refused = moves = 0
        for i in range(0, len(puzzles), batch):
            p = torch.as_tensor(puzzles[i:i + batch]).long()
            s = torch.as_tensor(solutions[i:i + batch]).long()
            empty = p == 0
            r = langevin_solve(model, p, steps=n_max, chains=chains, step_size=step_size,
                               noise=noise, seed=seed, reject_rises=reject_rises,
                               snapshot_at=run[:-1])
            snaps = {**r.snapshots, n_max: (r.grid, r.energy)}
            e = torch.stack(r.energies, 1)  # (B, T + 1, C)
            e = e.gather(2, r.best_chain.view(-1, 1, 1).expand(-1, e.shape[1], 1))[..., 0]
            rise_count += rises(e)
            refused += int(r.rejected.sum())
            moves += e[:, 1:].numel()
            cells += int(empty.sum())
            for n in run:
                grid, energy = snaps[n]
                ok = ((grid == s) | ~empty).all(dim=1)
                stats[n]["solved"] += int(ok.sum())
                stats[n]["right"] += int(((grid == s) & empty).sum())
                stats[n]["e_right"] += energy[ok].tolist()
                stats[n]["e_wrong"] += energy[~ok].tolist()
        ms = 1000 * (time.perf_counter() - start) / max(len(puzzles), 1)
        for n in run:
            st = stats[n]
            rows.append({
                "steps": n, "puzzles": len(puzzles),
                "puzzle_acc": st["solved"] / max(len(puzzles), 1),
                "cell_acc": st["right"] / max(cells, 1),
                "ms_per_puzzle": ms if n == n_max else None,
                "energy_rise_frac": rise_count / max(moves, 1) if n == n_max else None,
                "rejected_frac": refused / max(moves, 1) if n == n_max else None,
                "energy_auroc": auroc(np.array(st["e_right"]), np.array(st["e_wrong"]))})
    return sorted(rows, key=lambda row: row["steps"])


def _baseline_row(model: SudokuJEPA, puzzles: np.ndarray, solutions: np.ndarray, n: int,
                  batch: int) -> dict:
    """The free recurrence (no energy) at n iterations."""
    start = time.perf_counter()
    solved = cells = right = 0
    for i in range(0, len(puzzles), batch):
        p = torch.as_tensor(puzzles[i:i + batch]).long()
        s = torch.as_tensor(solutions[i:i + batch]).long()
        empty = p == 0
        givens = puzzle_onehot(p)
        grid = model.decode_baseline(model.encode(givens, n)[-1], givens).argmax(-1) + 1
        solved += int(((grid == s) | ~empty).all(dim=1).sum())
        right += int(((grid == s) & empty).sum())
        cells += int(empty.sum())
    return {"steps": n, "puzzles": len(puzzles), "puzzle_acc": solved / max(len(puzzles), 1),
            "cell_acc": right / max(cells, 1),
            "ms_per_puzzle": 1000 * (time.perf_counter() - start) / max(len(puzzles), 1)}
