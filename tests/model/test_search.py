"""Exact solver: correctness on shared benchmark samples, statuses, counters, caller ordering."""

from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from model.board import PuzzleError, is_valid_solution, parse_grid
from model.puzzle_io import read_puzzles
from model.search import propagate_only, solve, solve_many

BENCHMARKS = Path(__file__).resolve().parents[3] / "shared" / "benchmarks"
PUZZLE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
SOLUTION = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"


def sample(name: str, count: int = 50) -> list[np.ndarray]:
    """First `count` puzzles of a shared benchmark file (evaluation only: validity checks)."""
    path = BENCHMARKS / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    return [r.puzzle for r in islice(read_puzzles(path), count)]


@pytest.mark.parametrize("name", ["puzzles2_17_clue.txt", "puzzles3_magictour_top1465.txt"])
def test_benchmark_sample_is_solved_uniquely_and_validly(name):
    puzzles = sample(name)
    for puzzle in puzzles:
        result = solve(puzzle)
        assert result.status == "unique"
        assert len(result.solutions) == 1
        assert is_valid_solution(result.solutions[0], puzzle)
    solutions, nodes = solve_many(np.stack(puzzles))
    assert all(is_valid_solution(s, p) for s, p in zip(solutions, puzzles, strict=True))
    assert (nodes >= 1).all()


def test_singles_puzzle_needs_no_guess():
    result = solve(parse_grid(PUZZLE))
    assert result.status == "unique" and result.guesses == 0 and result.nodes == 1
    assert "".join(map(str, result.solutions[0])) == SOLUTION
    assert propagate_only(parse_grid(PUZZLE))


def test_empty_grid_has_multiple_solutions_up_to_the_limit():
    result = solve(np.zeros(81, dtype=np.int8), limit=3)
    assert result.status == "multiple" and len(result.solutions) == 3
    assert all(is_valid_solution(s) for s in result.solutions)
    assert len({s.tobytes() for s in result.solutions}) == 3
    assert result.guesses > 0 and not propagate_only(np.zeros(81, dtype=np.int8))


def test_limit_one_stops_at_the_first_solution():
    result = solve(np.zeros(81, dtype=np.int8), limit=1)
    assert result.status == "unique" and len(result.solutions) == 1


def test_consistent_givens_without_completion_is_no_solution():
    grid = np.zeros(81, dtype=np.int8)
    grid[1:9] = np.arange(1, 9)  # r1c1 can only be 9 ...
    grid[36] = 9  # ... but r5c1 holds 9
    result = solve(grid)
    assert result.status == "no-solution" and result.solutions == []


def test_puzzle_with_two_solutions_is_multiple():
    solution = parse_grid(SOLUTION)
    # a 2x2 rectangle over two boxes whose digits swap pairwise keeps the grid valid
    for r1 in range(9):
        for r2 in range(r1 + 1, 9):
            if r1 // 3 != r2 // 3:
                continue
            for c1 in range(9):
                for c2 in range(c1 + 1, 9):
                    a, b = solution[9 * r1 + c1], solution[9 * r1 + c2]
                    if solution[9 * r2 + c1] == b and solution[9 * r2 + c2] == a:
                        puzzle = solution.copy()
                        puzzle[[9 * r1 + c1, 9 * r1 + c2, 9 * r2 + c1, 9 * r2 + c2]] = 0
                        assert solve(puzzle).status == "multiple"
                        return
    pytest.fail("no swappable rectangle in the test grid")


def test_preference_orders_cells_and_digits():
    target = parse_grid(SOLUTION)
    preference = np.zeros((81, 9))
    preference[np.arange(81), target - 1] = 1.0  # the target's digits first
    result = solve(np.zeros(81, dtype=np.int8), limit=1, preference=preference)
    assert (result.solutions[0] == target).all()
    assert result.nodes == result.guesses + 1  # no dead end: every guess was right
    anti = solve(np.zeros(81, dtype=np.int8), limit=1, preference=-preference)
    assert not (anti.solutions[0] == target).all()


def test_non_finite_preferences_still_terminate_correctly():
    preference = np.full((81, 9), -np.inf)
    preference[::2] = np.nan
    result = solve(parse_grid(PUZZLE.replace("5", ".")), preference=preference)
    assert result.status in ("unique", "multiple")
    assert all(is_valid_solution(s) for s in result.solutions)


def test_bad_input_raises_puzzle_error():
    with pytest.raises(PuzzleError, match="wrong length"):
        solve(np.zeros(80, dtype=np.int8))
    with pytest.raises(PuzzleError, match="bad value 12 at index 3"):
        solve(np.array([0, 0, 0, 12] + [0] * 77))
    clash = np.zeros(81, dtype=np.int8)
    clash[[0, 4]] = 3
    with pytest.raises(PuzzleError, match="r1c1 and r1c5 both hold 3 in row 1"):
        solve(clash)
    with pytest.raises(ValueError, match="preference must have shape"):
        solve(np.zeros(81, dtype=np.int8), preference=np.zeros((81, 8)))
