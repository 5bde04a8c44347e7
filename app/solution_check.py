"""Right and wrong, not just conflicts: the puzzle's solution (by exact search) and the solver
cells that differ from it. Qt-free.

A grid can break no rule and still be wrong, and a grid with 4 conflicting cells may have 30
wrong ones; the solution says which. The exact search takes well under a millisecond for a
proper puzzle, so it runs on demand; puzzles with fewer than 17 givens (no unique solution is
possible, and a search could wander) or clashing givens have no solution to check against.
"""

from __future__ import annotations

import numpy as np

from model import board, search

MIN_GIVENS = 17  # no proper Sudoku has fewer


def known_solution(puzzle: np.ndarray) -> np.ndarray | None:
    """The unique solution (81,) int8, or None (too few givens, clashing, none or several)."""
    grid = np.asarray(puzzle, dtype=np.int8)
    if int(np.count_nonzero(grid)) < MIN_GIVENS:
        return None
    try:
        result = search.solve(grid, limit=2)
    except board.PuzzleError:
        return None
    return result.solutions[0].copy() if result.status == "unique" else None


def wrong_cells(grid: np.ndarray, solution: np.ndarray, puzzle: np.ndarray) -> np.ndarray:
    """(81,) bool: the solver's filled cells (not givens) whose digit is not the solution's."""
    grid = np.asarray(grid)
    return (np.asarray(puzzle) == 0) & (grid != 0) & (grid != np.asarray(solution))


def wrong_count(grid: np.ndarray, solution: np.ndarray | None, puzzle: np.ndarray) -> int | None:
    """How many solver cells are wrong; None without a solution to compare with."""
    if solution is None:
        return None
    return int(np.count_nonzero(wrong_cells(grid, solution, puzzle)))
