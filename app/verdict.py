"""The words at the end of a run: solved or not, by whom, how fast, at what energy.

Qt-free, so the wording of every outcome is tested without a window.
"""

from __future__ import annotations

import numpy as np

from model import board
from model.verified import VerifiedResult

GREEN, RED, ORANGE, GREY = "#1b7f3b", "#c0221b", "#b35c00", "#555555"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _figures(steps: int, ms: float, energy: float | None) -> str:
    parts = [_plural(max(0, steps - 1), "step"), f"{ms:.0f} ms"]
    if energy is not None:
        parts.append(f"final energy {energy:.4f}")
    return " · ".join(parts)


def describe_outcome(outcome, puzzle: np.ndarray, solution: np.ndarray | None = None):
    """(html text, colour, grid to show or None, probs or None, source codes or None).
    With the puzzle's `solution`, an unsolved grid also says how many cells are wrong: a grid
    with 4 conflicting cells may have 28 wrong ones."""
    last, neural = outcome.last, outcome.neural
    if neural is not None:  # the lowest-energy state of the run
        energy, neural_grid, probs = float(neural.energy), neural.grid, neural.probs
    elif last is not None:
        energy, neural_grid, probs = float(last.best_energy), last.grid, last.probs
    else:
        energy, neural_grid, probs = None, None, None
    if neural_grid is not None:
        neural_grid = np.asarray(neural_grid, dtype=np.int8)
    figures = _figures(outcome.steps, outcome.compute_ms, energy)
    neural_conflicts = 0 if neural_grid is None else int(board.conflicts(neural_grid).sum())
    if outcome.stopped:
        return f"Stopped after {figures}", GREY, neural_grid, probs, None
    verified = outcome.verified
    if verified is not None:
        status, by = verified.status, verified.by
        if status in ("solved", "multiple"):
            nodes = int(verified.nodes_guided)
            how = f"finished by {by}, {_plural(nodes, 'node')}"
            if by == "search":
                how += f" (the network's grid had {neural_conflicts} conflicting cells)"
            if status == "solved":
                text = f"<b>Solved</b>: {how} · {figures}"
                colour = GREEN
            else:
                text = f"<b>Solved, but not the only solution</b>: {how} · {figures}"
                colour = ORANGE
            return text, colour, verified.grid, probs, verified.source
        if status == "no-solution":
            text = f"<b>No solution</b>: no grid completes these givens · {figures}"
            return text, RED, neural_grid, probs, None
        return f"<b>Refused</b>: {verified.message}", RED, None, None, None
    if neural_grid is None:
        return "<b>No steps</b> came back from the model", RED, None, None, None
    if board.is_valid_solution(neural_grid, puzzle):
        return f"<b>Solved</b> (valid grid, by the network alone) · {figures}", GREEN, \
            neural_grid, probs, None
    blanks = int(np.count_nonzero(neural_grid == 0))
    detail = _plural(neural_conflicts, "conflicting cell") + (f", {blanks} blank" if blanks else "")
    if solution is not None:
        wrong = int(np.count_nonzero((puzzle == 0) & (neural_grid != 0)
                                     & (neural_grid != np.asarray(solution))))
        detail += f", {_plural(wrong, 'wrong cell')}"
    return f"<b>Not solved</b>: {detail} · {figures}", RED, neural_grid, probs, None


def describe_search_only(result: VerifiedResult):
    """The verdict of a model-free exact search: (text, colour, grid, source)."""
    ms = result.ms
    if result.status == "solved":
        text = (f"<b>Solved</b> by exact search alone (no model), "
                f"{_plural(result.nodes_guided, 'node')} · {ms:.0f} ms")
        return text, GREEN, result.grid, result.source
    if result.status == "multiple":
        return (f"<b>More than one solution</b>: showing one, found by exact search · {ms:.0f} ms",
                ORANGE, result.grid, result.source)
    if result.status == "no-solution":
        return "<b>No solution</b>: no grid completes these givens", RED, None, None
    return f"<b>Refused</b>: {result.message}", RED, None, None
