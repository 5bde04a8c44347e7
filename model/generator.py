"""Random Sudoku puzzles with a unique solution, a target number of givens and a difficulty grade.

A solution grid comes from the exact solver filling an empty board with random digit preferences,
then a random symmetry transform. Cells are then removed in random order, each removal kept only if
the solution stays unique (tested cheaply: "is there a solution where this cell differs?"), until
the drawn number of givens is reached or no cell can go (a minimal puzzle, ~20-26 givens).
Everything draws from the caller's `numpy.random.Generator`, so a seed reproduces a puzzle set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.search import (
    _LOWBIT_DIGIT,
    _PEERS,
    _POPCOUNT,
    _UNITS,
    _dig,
    _search,
    _singles_only,
    solve,
)

__all__ = [
    "DIFFICULTIES",
    "GeneratedPuzzle",
    "augment",
    "generate_puzzle",
    "generate_puzzles",
    "grade",
    "random_solution",
]

DIFFICULTIES = ("singles", "hard")  # solvable by naked/hidden singles alone, or not
_MODES = {None: 0, "any": 0, "singles": 1, "hard": 2}
_MAX_ATTEMPTS = 1000
_DIAGONAL_BOXES = np.array(  # (27,) cells of boxes 1, 5 and 9
    [r * 9 + c for b in (0, 4, 8) for r in range(3 * (b // 3), 3 * (b // 3) + 3)
     for c in range(3 * (b % 3), 3 * (b % 3) + 3)]
)


@dataclass
class GeneratedPuzzle:
    puzzle: np.ndarray  # (81,) int8, 0 = blank
    solution: np.ndarray  # (81,) int8
    givens: int
    difficulty: str  # "singles" | "hard"
    guesses: int  # digits the plain exact search tried (0 for "singles")


def random_solution(rng: np.random.Generator) -> np.ndarray:
    """A random complete valid grid `(81,)` int8."""
    # The three diagonal boxes share no unit: fill them with random permutations, then let the
    # solver complete the grid trying digits in a random order per cell.
    seed = np.zeros(81, dtype=np.int8)
    seed[_DIAGONAL_BOXES] = np.argsort(rng.random((3, 9)), axis=1).ravel() + 1
    preference = rng.random((81, 9))  # (81, 9) random digit order per cell
    solutions = np.zeros((1, 81), dtype=np.int8)
    counters = np.zeros(2, dtype=np.int64)
    _search(seed, 1, preference, True, np.empty(0, dtype=np.int32), -1, 0,
            solutions, counters, _PEERS, _UNITS, _POPCOUNT, _LOWBIT_DIGIT)
    grid = solutions[0]
    return augment(grid, grid, rng)[1]


def augment(
    puzzle: np.ndarray, solution: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Apply one random validity-preserving symmetry to both grids `(..., 81)`.

    Digit relabelling, row swaps within bands, band swaps, column swaps within stacks, stack swaps
    and an optional transpose: the result is a valid puzzle with the same number of solutions.
    """
    draws = rng.random(34)  # one call: random permutations as argsorts of uniform draws
    bands = 3 * np.argsort(draws[0:3])  # (3,) first row of each band, in new order
    rows = (bands[:, None] + np.argsort(draws[3:12].reshape(3, 3), axis=1)).ravel()  # (9,)
    stacks = 3 * np.argsort(draws[12:15])
    cols = (stacks[:, None] + np.argsort(draws[15:24].reshape(3, 3), axis=1)).ravel()  # (9,)
    source = rows[:, None] * 9 + cols[None, :]  # (9, 9) source cell of each destination cell
    if draws[33] < 0.5:
        source = source.T
    source = source.reshape(81)
    digits = np.zeros(10, dtype=np.int8)  # 0 stays blank
    digits[1:] = np.argsort(draws[24:33]) + 1
    puzzle = np.asarray(puzzle)
    solution = np.asarray(solution)
    return digits[puzzle[..., source]], digits[solution[..., source]]


def grade(puzzle: np.ndarray) -> tuple[str, int]:
    """`("singles" | "hard", guesses)` for a puzzle with a solution."""
    singles = bool(_singles_only(np.ascontiguousarray(puzzle, dtype=np.int8), _PEERS, _UNITS))
    guesses = 0 if singles else solve(puzzle, limit=1).guesses
    return ("singles" if singles else "hard"), guesses


def generate_puzzle(
    rng: np.random.Generator,
    givens: tuple[int, int] = (25, 35),
    difficulty: str | None = None,
    minimal: bool = False,
) -> GeneratedPuzzle:
    """One puzzle with a unique solution and `givens[0] <= givens <= givens[1]` givens.

    `difficulty`: None/"any", "singles" (naked + hidden singles solve it) or "hard" (they don't).
    `minimal=True` removes cells until none can go (a minimal puzzle, typically 20-26 givens);
    a low `givens[0]` (e.g. 17) has the same effect for draws below what the grid allows.
    Raises ValueError when the range/difficulty cannot be met after many attempts.
    """
    lo, hi = int(givens[0]), int(givens[1])
    if not 0 <= lo <= hi <= 81:
        raise ValueError(f"givens range must satisfy 0 <= lo <= hi <= 81, got {givens}")
    if difficulty not in _MODES:
        choices = ", ".join(map(repr, _MODES))
        raise ValueError(f"difficulty must be one of {choices}, got {difficulty!r}")
    mode = _MODES[difficulty]
    for _ in range(_MAX_ATTEMPTS):
        solution = random_solution(rng)
        order = rng.permutation(81).astype(np.int32)
        target = lo if minimal else int(rng.integers(lo, hi + 1))
        puzzle = _dig(solution, order, target, lo, mode, _PEERS, _UNITS, _POPCOUNT, _LOWBIT_DIGIT)
        count = int(np.count_nonzero(puzzle))
        if not lo <= count <= hi:
            continue
        grade_name, guesses = grade(puzzle)
        if mode and grade_name != difficulty:
            continue
        return GeneratedPuzzle(puzzle, solution, count, grade_name, guesses)
    raise ValueError(
        f"could not generate a {difficulty or 'any'} puzzle with {lo}-{hi} givens "
        f"in {_MAX_ATTEMPTS} attempts (unique puzzles need >= 17 givens; hard ones usually < 35)"
    )


def generate_puzzles(
    count: int,
    givens: tuple[int, int] = (25, 35),
    difficulty: str | None = None,
    seed: int = 0,
    minimal: bool = False,
) -> list[GeneratedPuzzle]:
    """`count` puzzles from `numpy.random.default_rng(seed)`: the same seed gives the same list."""
    rng = np.random.default_rng(seed)
    return [generate_puzzle(rng, givens, difficulty, minimal) for _ in range(count)]

