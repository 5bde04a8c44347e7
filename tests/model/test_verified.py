"""Verified mode never shows a wrong grid: it finishes wrong neural answers with exact search."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import board, search
from model.generator import generate_puzzles, random_solution
from model.verified import (
    SOURCE_BLANK,
    SOURCE_GIVEN,
    SOURCE_NEURAL,
    SOURCE_SEARCH,
    VerifiedSettings,
    finish_from_neural,
    neural_result_from_steps,
    solve_verified,
)

# A hard puzzle (magictour style, needs guessing) with exactly one solution, written out here so
# the tests never read the evaluation-only benchmark files.
HARD = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"


def neural_result(puzzle: np.ndarray, grid: np.ndarray, probs: np.ndarray):
    """A NeuralResult as the runtime would return it, with a grid we choose."""
    from model.runtime import NeuralResult

    valid = board.is_valid_solution(grid, puzzle)
    return NeuralResult(
        grid=grid.astype(np.int8), probs=probs.astype(np.float32), valid=valid, energy=1.0,
        energy_trace=[2.0, 1.0], steps=1, ms=1.0, any_chain_valid=valid, initial_valid=False,
    )


def one_hot(grid: np.ndarray) -> np.ndarray:
    return np.eye(9, dtype=np.float32)[grid.astype(int) - 1]  # (81, 9)


@pytest.fixture(scope="module")
def hard():
    puzzle = board.parse_grid(HARD)
    solutions = search.solve(puzzle, limit=2).solutions
    assert len(solutions) == 1
    return puzzle, solutions[0]


def corrupt(solution: np.ndarray, puzzle: np.ndarray, cells: int, seed: int = 0) -> np.ndarray:
    """The solution with `cells` empty cells changed to another digit (so the grid is wrong)."""
    rng = np.random.default_rng(seed)
    wrong = solution.copy()
    for i in rng.choice(np.flatnonzero(puzzle == 0), size=cells, replace=False):
        wrong[i] = wrong[i] % 9 + 1
    return wrong


def test_wrong_neural_grid_is_finished_by_search(hard):
    puzzle, solution = hard
    wrong = corrupt(solution, puzzle, cells=6)
    result = finish_from_neural(puzzle, neural_result(puzzle, wrong, one_hot(wrong)))
    assert result.status == "solved" and result.by == "search"
    assert np.array_equal(result.grid, solution)
    assert board.is_valid_solution(result.grid, puzzle)
    empty = puzzle == 0
    assert result.shared_with_neural == int((wrong == solution)[empty].sum())
    assert np.all(result.source[puzzle > 0] == SOURCE_GIVEN)
    assert np.all((result.source == SOURCE_NEURAL) == (empty & (wrong == solution)))
    assert np.all((result.source == SOURCE_SEARCH) == (empty & (wrong != solution)))
    assert result.nodes_plain == search.solve(puzzle, limit=1).nodes
    assert result.solutions == [result.grid]


def test_good_preference_needs_fewer_nodes_than_plain(hard):
    puzzle, solution = hard
    wrong = corrupt(solution, puzzle, cells=3)
    probs = 0.8 * one_hot(solution) + 0.2 / 9  # the model's probabilities point to the answer
    result = finish_from_neural(puzzle, neural_result(puzzle, wrong, probs))
    assert result.by == "search" and np.array_equal(result.grid, solution)
    assert result.nodes_guided < result.nodes_plain


def test_misleading_preference_still_finds_the_answer(hard):
    puzzle, solution = hard
    wrong = corrupt(solution, puzzle, cells=40, seed=1)
    result = finish_from_neural(puzzle, neural_result(puzzle, wrong, one_hot(wrong)))
    assert result.status == "solved" and np.array_equal(result.grid, solution)


def test_valid_neural_grid_is_accepted_and_proved_unique(hard):
    puzzle, solution = hard
    result = finish_from_neural(puzzle, neural_result(puzzle, solution, one_hot(solution)))
    assert result.status == "solved" and result.by == "neural"
    assert result.nodes_guided == 0 and result.nodes_check > 0
    assert result.shared_with_neural == int((puzzle == 0).sum())
    assert np.all(result.source[puzzle == 0] == SOURCE_NEURAL)


def test_valid_neural_grid_of_a_multi_solution_puzzle_is_reported_multiple(hard):
    puzzle, solution = hard
    loose = puzzle.copy()
    loose[np.flatnonzero(puzzle)[:4]] = 0  # fewer givens: several solutions
    assert search.solve(loose, limit=2).status == "multiple"
    result = finish_from_neural(loose, neural_result(loose, solution, one_hot(solution)))
    assert result.status == "multiple" and result.by == "neural"
    assert len(result.solutions) == 2
    assert np.array_equal(result.solutions[0], solution)
    assert not np.array_equal(result.solutions[0], result.solutions[1])
    assert all(board.is_valid_solution(s, loose) for s in result.solutions)
    data = result.to_json()
    assert data["status"] == "multiple" and len(data["solutions"]) == 2


def test_without_a_model_it_is_plain_exact_search(hard):
    puzzle, solution = hard
    result = solve_verified(None, puzzle)
    assert result.status == "solved" and result.by == "search" and result.neural is None
    assert np.array_equal(result.grid, solution)
    assert result.nodes_guided == result.nodes_plain
    assert np.all(result.source[puzzle == 0] == SOURCE_SEARCH)


def test_consistent_givens_without_completion_is_no_solution(hard):
    puzzle, solution = hard
    bad = puzzle.copy()
    for cell in np.flatnonzero(puzzle == 0):  # a wrong digit that clashes with no given
        for digit in range(1, 10):
            bad[cell] = digit
            if digit != solution[cell] and not board.conflicts(bad).any():
                break
        else:
            bad[cell] = 0
            continue
        break
    result = solve_verified(None, bad)
    assert result.status == "no-solution" and result.grid is None and result.solutions == []
    assert result.by == "none"
    assert np.all(result.source[bad == 0] == SOURCE_BLANK)


def test_clashing_givens_are_invalid_and_named(hard):
    puzzle, _ = hard
    clash = puzzle.copy()
    clash[1] = clash[0]  # r1c1 holds 4 in HARD: now r1c2 does too
    result = solve_verified(None, clash)
    assert result.status == "invalid" and result.grid is None
    assert "r1c1" in result.message and "r1c2" in result.message


@pytest.mark.parametrize("bad", [np.zeros(80, dtype=np.int8), np.full(81, 10, dtype=np.int8)])
def test_malformed_puzzle_raises_puzzle_error(bad):
    with pytest.raises(board.PuzzleError):
        solve_verified(None, bad)


def test_text_puzzle_is_accepted(hard):
    puzzle, solution = hard
    assert np.array_equal(solve_verified(None, HARD).grid, solution)


def test_json_form_names_every_cell_source(hard):
    puzzle, solution = hard
    wrong = corrupt(solution, puzzle, cells=2)
    data = finish_from_neural(puzzle, neural_result(puzzle, wrong, one_hot(wrong))).to_json()
    assert data["grid"] == board.format_grid(solution)
    assert len(data["source"]) == 81 and set(data["source"]) <= set("gns")
    assert data["source"].count("s") == 2
    assert data["neural"]["valid"] is False


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    blanks=st.integers(30, 70),
    kind=st.sampled_from(["plain", "wrong-given", "clash"]),
    guided=st.booleans(),
)
def test_property_answer_is_valid_or_the_right_status(seed, blanks, kind, guided):
    """Random puzzles (unique or not), contradictory and clashing ones, random 'neural' guesses."""
    rng = np.random.default_rng(seed)
    solution = random_solution(rng)
    puzzle = solution.copy()
    puzzle[rng.choice(81, size=blanks, replace=False)] = 0
    if kind != "plain":
        cell = int(rng.choice(np.flatnonzero(puzzle == 0)))
        puzzle[cell] = solution[cell] % 9 + 1  # a wrong digit: may clash, may leave no completion
        if kind == "clash":
            peer = int(rng.choice(board.PEERS[cell]))
            puzzle[peer] = puzzle[cell]
    probs = rng.random((81, 9)).astype(np.float32)
    guess = (probs.argmax(axis=1) + 1).astype(np.int8)
    guess[puzzle > 0] = puzzle[puzzle > 0]
    neural = neural_result(puzzle, guess, probs) if guided else None
    result = finish_from_neural(puzzle, neural)

    clashing = board.conflicts(puzzle).any()
    if clashing:
        assert result.status == "invalid"
        return
    truth = search.solve(puzzle, limit=2)
    expected = {"unique": "solved", "multiple": "multiple", "no-solution": "no-solution"}
    assert result.status == expected[truth.status]
    assert all(board.is_valid_solution(s, puzzle) for s in result.solutions)
    if result.status == "solved":
        assert np.array_equal(result.grid, truth.solutions[0])
    if result.status == "multiple":
        assert len(result.solutions) == 2
        assert not np.array_equal(*result.solutions)


def test_neural_result_from_steps_rechecks_the_rules(hard):
    from model.runtime import DescentStep

    puzzle, solution = hard
    wrong = corrupt(solution, puzzle, cells=1)

    def step(k: int, grid: np.ndarray) -> DescentStep:
        return DescentStep(
            step=k, probs=one_hot(grid), grid=grid, energies=np.array([3.0 - k]), best_chain=0,
            best_energy=3.0 - k, violations=int(board.conflicts(grid).sum()),
            changed=np.zeros(81, dtype=bool),
        )

    neural = neural_result_from_steps(puzzle, [step(0, wrong), step(1, solution)], ms=5.0)
    assert neural.valid and not neural.initial_valid
    assert neural.energy_trace == [3.0, 2.0] and neural.steps == 1
    result = finish_from_neural(puzzle, neural)
    assert result.by == "neural" and result.ms >= 5.0


class ScriptedDescent:
    """Stands in for EnergyModel.descend: wrong at step 0, right at step 1, never asked for 2."""

    def __init__(self, puzzle: np.ndarray, solution: np.ndarray):
        self.puzzle, self.solution, self.asked = puzzle, solution, 0

    def descend(self, puzzle, settings=None):
        from model.runtime import DescentStep

        wrong = corrupt(self.solution, self.puzzle, cells=2)
        for k, grid in enumerate([wrong, self.solution, self.solution]):
            self.asked = k
            if k == 2:
                raise AssertionError("the descent went on after a valid grid")
            yield DescentStep(
                step=k, probs=one_hot(grid), grid=grid, energies=np.array([1.0]), best_chain=0,
                best_energy=1.0 - k, violations=0, changed=np.zeros(81, dtype=bool),
            )


def test_early_stop_ends_the_descent_at_the_first_valid_grid(hard):
    puzzle, solution = hard
    model = ScriptedDescent(puzzle, solution)
    result = solve_verified(model, puzzle, VerifiedSettings(early_stop=True))
    assert model.asked == 1
    assert result.status == "solved" and result.by == "neural"
    assert result.neural.steps == 1 and not result.neural.initial_valid


def test_tiny_model_end_to_end_never_wrong(tiny_onnx_model):
    """An (almost) untrained model is wrong on hard puzzles; verified mode still is not."""
    from model.runtime import EnergyModel

    model = EnergyModel.load(tiny_onnx_model, provider="cpu")
    made = generate_puzzles(6, givens=(20, 30), difficulty="hard", seed=11)
    by = []
    for k, item in enumerate(made):
        result = solve_verified(model, item.puzzle, VerifiedSettings(early_stop=k % 2 == 0))
        assert result.status == "solved"
        assert np.array_equal(result.grid, item.solution)
        assert result.neural is not None and result.neural_ms > 0
        by.append(result.by)
    assert "search" in by  # the tiny model got at least one wrong, and search fixed it
